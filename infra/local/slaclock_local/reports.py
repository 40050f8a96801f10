"""Reports in the local stack: through the report function when the template has one, else a local
replay of the stored events. Either way the result is three files in the stack's S3 bucket and
presigned links that download (with curl, a browser...) while the stack runs.

    links = report_links(stack, ticket_ids, period={"from": "2026-11-09", "to": "2026-11-13"},
                         calendar="paris-office", group_by=("level",))
    links.via        # "report function (POST /reports)" or "local replay (no report function ...)"
    links.files      # {"sla_log.csv": url, "compliance.csv": url, "summary.html": url}

`via_api` asks ``POST /reports`` over HTTP (exactly as a manager's script would) and polls
``GET /reports/{id}`` while the stack's scheduler delivers the queued job to the function. `via_replay`
reads each ticket's stored events from DynamoDB, replays them with the engine (`slaclock replay`'s
code) at the clock's now, uploads the files under ``reports/local-replay/...`` and presigns them.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slaclock.engine.events import format_instant

from slaclock_local.client import request_json

if TYPE_CHECKING:
    from slaclock_local.stack import LocalStack

__all__ = ["ReportLinks", "report_links", "via_api", "via_replay"]

FILES = ("sla_log.csv", "compliance.csv", "summary.html")
LINK_SECONDS = 3600


@dataclass
class ReportLinks:
    via: str
    files: dict[str, str]
    report_id: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _http(method: str, url: str, body: Any, region: str) -> tuple[int, Any]:
    """The reports API is IAM-authorised: signed with the local credentials, as a manager's script signs."""
    from slaclock_local.stack import ACCESS_KEY

    return request_json(method, url, body, sign_as=(ACCESS_KEY, region))


def has_report_api(stack: LocalStack) -> bool:
    return any(r.route_key == "POST /reports" for r in stack.routes())


def via_api(stack: LocalStack, request: dict[str, Any], *, timeout_seconds: float = 60.0) -> ReportLinks:
    """``POST /reports`` then poll ``GET /reports/{id}`` until done or failed (real seconds)."""
    status, answer = _http("POST", f"{stack.front_url}/reports", request, stack.region)
    if status != 202 or not isinstance(answer, dict) or "id" not in answer:
        raise RuntimeError(f"POST /reports answered {status}: {answer}")
    report_id = str(answer["id"])
    deadline = time.monotonic() + timeout_seconds
    while True:
        if stack.scheduler is not None:
            stack.scheduler.wake()
        status, doc = _http("GET", f"{stack.front_url}/reports/{report_id}", None, stack.region)
        if status == 200 and isinstance(doc, dict) and doc.get("status") in ("done", "failed"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"report {report_id} not done after {timeout_seconds:.0f} s: {doc}")
        time.sleep(0.2)
    if doc.get("status") != "done":
        raise RuntimeError(f"report {report_id} failed: {doc.get('error')}")
    files = {name: info["url"] for name, info in (doc.get("files") or {}).items()}
    return ReportLinks("report function (POST /reports, GET /reports/{id})", files, report_id, doc)


def via_replay(
    stack: LocalStack,
    ticket_ids: Iterable[str],
    *,
    group_by: Sequence[str] = ("level",),
    title: str = "SLA report (local replay)",
) -> ReportLinks:
    """The engine's replay of the tickets' stored events at the clock's now, uploaded and presigned."""
    from slaclock.adapters.dynamodb import DynamoEventStore
    from slaclock.engine.replay import Replay, write_reports

    now = stack.now()
    store = DynamoEventStore(stack.environment["SLACLOCK_TABLE"])
    events = [e for tid in dict.fromkeys(ticket_ids) for e in store.ticket_events(tid)]
    replay = Replay(stack.config, events, now)
    buffers = {name: io.StringIO(newline="") for name in FILES}
    write_reports(
        stack.config, replay, sla_log=buffers["sla_log.csv"], compliance=buffers["compliance.csv"],
        summary=buffers["summary.html"], group_by=group_by, title=title,
        subtitle=f"{len(events)} events of {len(set(ticket_ids))} tickets replayed at {format_instant(now)}",
        now=now, stats=replay.stats,
    )  # fmt: skip
    bucket = stack.environment["SLACLOCK_REPORT_BUCKET"]
    prefix = f"reports/local-replay/{now:%Y-%m-%dT%H%M%SZ}"
    s3 = stack.client("s3")
    files = {}
    for name, buffer in buffers.items():
        key = f"{prefix}/{name}"
        content_type = "text/html; charset=utf-8" if name.endswith(".html") else "text/csv; charset=utf-8"
        s3.put_object(
            Bucket=bucket, Key=key, Body=buffer.getvalue().encode("utf-8"), ContentType=content_type
        )
        files[name] = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=LINK_SECONDS
        )
    return ReportLinks("local replay of the stored events", files)


def report_links(
    stack: LocalStack,
    ticket_ids: Iterable[str],
    *,
    period: Mapping[str, str],
    calendar: str,
    group_by: Sequence[str] = ("level",),
    title: str = "SLA report",
) -> ReportLinks:
    """The report of `period` (``{"from", "to"}``: dates or instants, read in `calendar`'s zone, as
    ``POST /reports`` takes them): through the report function when the template routes
    ``POST /reports``, else by local replay of the tickets' events (said in `via`)."""
    ids = list(ticket_ids)
    if has_report_api(stack):
        request = {
            "period": dict(period),
            "calendar": calendar,
            "group_by": list(group_by),
            "title": title,
            "include_running": True,
        }
        try:
            return via_api(stack, request)
        except Exception as err:  # noqa: BLE001 - the demo falls back and says why
            links = via_replay(stack, ids, group_by=group_by, title=title)
            links.note = f"the report function did not deliver ({err}); replayed locally instead"
            return links
    links = via_replay(stack, ids, group_by=group_by, title=title)
    links.note = "template.yaml routes no POST /reports (no report function): replayed locally instead"
    return links
