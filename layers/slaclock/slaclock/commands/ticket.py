"""`slaclock ticket ID`: one ticket's SLA timeline, "why is this one breached?".

Two sources, one document (`slaclock.engine.timeline.build_timeline`):

- ``--config FILE --events FILE [--now T]``: a replay of an events file (JSON Lines or a JSON array,
  ``-`` for standard input); only the events of ticket ID are used, and ``--now`` defaults to the
  latest of them.
- ``--api URL``: ``GET URL/admin/tickets/ID/timeline`` of a deployed stack's HTTP API (its base URL,
  without ``/admin``), signed with AWS Signature Version 4 for ``execute-api`` with the credentials
  botocore finds (environment, profile, SSO, instance role) and ``--region`` (default: the URL's
  Region when it is an ``execute-api`` address, else ``$AWS_REGION`` / the profile's).

Prints the timeline as text (default) or, with ``--json``, the document itself, to ``--out`` (default
``-``, standard output). Exit status: 0; 1 when the ticket has no event, a file cannot be read or the
API refuses; 2 for a bad command-line value.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


class _FatalError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    try:
        doc = _from_api(args) if args.api else _from_events(args)
        text = json.dumps(doc, indent=2) + "\n" if args.json else render_text(doc)
        _write(args.out, text)
    except _FatalError as e:
        sys.stderr.write(f"slaclock ticket: {e}\n")
        return e.code
    return 0


# -- from an events file ------------------------------------------------------------------------------


def _from_events(args: argparse.Namespace) -> dict[str, Any]:
    from slaclock.commands._io import Progress, ReadStats, _load_config, _parse_now, read_events
    from slaclock.commands._io import _FatalError as ReplayFatal
    from slaclock.engine.errors import SlaclockError
    from slaclock.engine.policy import compile_policy
    from slaclock.engine.timeline import build_timeline

    if not args.config or not args.events:
        raise _FatalError("--config and --events are both needed without --api", code=2)
    try:
        now = _parse_now(args.now)
        config = _load_config(args.config)
        problems: list[str] = []
        events = read_events(
            Path(args.events),
            strict=False,
            report=problems.append,
            progress=Progress(sys.stderr, enabled=False),
            stats=ReadStats(),
        )
    except ReplayFatal as e:
        raise _FatalError(str(e), e.code) from None
    except SlaclockError as e:  # an invalid configuration: every error
        raise _FatalError(str(e)) from None
    for line in problems:
        sys.stderr.write(f"warning: {line}\n")
    mine = [e for e in events if e.ticket_id == args.ticket_id]
    if not mine:
        raise _FatalError(f"ticket {args.ticket_id!r} has no event in --events {args.events}")
    if now is None:
        now = max(e.at for e in mine)
    try:
        return build_timeline(compile_policy(config), mine, now)
    except SlaclockError as e:
        raise _FatalError(f"--now {args.now}: {e}" if args.now else str(e)) from None


# -- from the admin API -------------------------------------------------------------------------------

_EXECUTE_API = re.compile(r"^https://[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(/|$)")


def timeline_url(api: str, ticket_id: str) -> str:
    """The timeline route of ticket `ticket_id` under the HTTP API base URL `api`."""
    from urllib.parse import quote

    return f"{api.rstrip('/')}/admin/tickets/{quote(ticket_id, safe='')}/timeline"


def signed_get(url: str, region: str | None, timeout: float = 30.0) -> tuple[int, bytes]:
    """GET `url` signed with SigV4 (service ``execute-api``); (status, body). Raises `_FatalError` without
    credentials or when the server cannot be reached."""
    import urllib.error
    import urllib.request

    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    session = botocore.session.get_session()
    credentials = session.get_credentials()
    if credentials is None:
        raise _FatalError("--api: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)")
    match = _EXECUTE_API.match(url)
    region = region or (match.group(1) if match else None) or session.get_config_variable("region")
    if not region:
        raise _FatalError("--api: no Region: give --region or set AWS_REGION")
    request = AWSRequest(method="GET", url=url, headers={"Accept": "application/json"})
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    prepared = urllib.request.Request(url, headers=dict(request.headers.items()), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310 - http(s) only
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as e:
        return int(e.code), bytes(e.read())
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise _FatalError(f"--api {url}: cannot reach it ({reason})") from None


def _from_api(args: argparse.Namespace) -> dict[str, Any]:
    if not re.match(r"^https?://", args.api):
        raise _FatalError(f"--api: {args.api!r} is not an http(s) URL", code=2)
    if args.events or args.now:
        raise _FatalError("--api reads the stored timeline: --events and --now are for a replay", code=2)
    url = timeline_url(args.api, args.ticket_id)
    status, body = signed_get(url, args.region or os.environ.get("AWS_REGION"))
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if status != 200:
        message = doc.get("message") if isinstance(doc, dict) else None
        raise _FatalError(f"--api: {url} answered {status}" + (f": {message}" if message else ""))
    if not isinstance(doc, dict) or not isinstance(doc.get("clocks"), list):
        raise _FatalError(f"--api: {url} did not answer a timeline document")
    return doc


# -- output -------------------------------------------------------------------------------------------


def _write(out: str, text: str) -> None:
    """`text` to `out` (``-``: standard output). A file is written whole or not at all."""
    if out == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(out)
    part = path.with_name(path.name + ".part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise _FatalError(f"--out {out}: {e.strerror or e}") from None
    except BaseException:  # Ctrl-C: no partial file
        part.unlink(missing_ok=True)
        raise


def _hms(seconds: float) -> str:
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    h, rest = divmod(abs(total), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}h {m:02d}m" + (f" {s:02d}s" if s else "")


def _short(at: str | None) -> str:
    """An ISO instant as ``2026-11-10 15:00Z`` (seconds kept when not zero)."""
    if at is None:
        return "now"
    t = datetime.fromisoformat(at)
    return t.strftime("%Y-%m-%d %H:%M" + (":%S" if t.second or t.microsecond else "")) + "Z"


def render_text(doc: dict[str, Any]) -> str:
    """The timeline document as text for a terminal: events, level decisions, clocks with their
    counted / paused / closed intervals (instants in UTC, business time as ``1h 30m``), notices and
    actions."""
    out: list[str] = [f"Ticket {doc['ticket_id']} as of {_short(doc['now'])}", "", "Events"]
    for e in doc["events"]:
        extra = f"  by {e['author']}" if e.get("author") else ""
        out.append(f"  {_short(e['at']):<18} {e['type']:<17} {e.get('status') or '-':<10}{extra}".rstrip())
    out += ["", "Level decisions"]
    for d in doc["decisions"]:
        rule = f"rule {d['rule']!r}" if d.get("rule") else "no rule sets a level"
        out.append(f"  {_short(d['at']):<18} {d.get('level') or '(none)':<17} {rule}")
    out += ["", "Clocks"]
    if not doc["clocks"]:
        out.append("  (none)")
    for c in doc["clocks"]:
        due = _short(c["due_at"]) if c.get("due_at") else "-"
        stopped = f", stopped {_short(c['stopped_at'])}" if c.get("stopped_at") else ""
        out.append(
            f"  {c['metric']} ({c['level']}): {c['status'].upper()}, due {due}{stopped}, "
            f"{_hms(c['business_seconds'])} business time counted"
        )
        for i in c["intervals"]:
            out.append(f"    {i['kind']:<8} {_short(i['start'])} -> {_short(i['end'])}")
    out += ["", "Notices"]
    if not doc["notices"]:
        out.append("  (none)")
    for n in doc["notices"]:
        # from the API a notice also says what the ledger holds of it: sent, claimed, or owed (no record)
        status = f", {n['status']}" if n.get("status") else ""
        out.append(f"  {_short(n['at']):<18} {n['kind']:<11} {n['metric']}  ({n.get('step') or '-'}{status})")
    out += ["", "Actions"]
    actions = doc.get("actions") or []  # absent from the answer of an API older than actions
    if not actions:
        out.append("  (none)")
    for a in actions:
        # from the API an action also says what the ledger holds of it: sent, dead_lettered, claimed
        # (running or to be retried) or owed (no record), and how many attempts were made
        tries = a.get("attempts")
        status = f", {a['status']}" if a.get("status") else ""
        status += f", {tries} attempt{'' if tries == 1 else 's'}" if tries else ""
        target = f" -> {a['target']}" if a.get("target") else ""
        out.append(
            f"  {_short(a['at']):<18} {a['kind']:<11} {a['metric']}  "
            f"({a['step']} #{a['index']}{status}){target}"
        )
    return "\n".join(out) + "\n"
