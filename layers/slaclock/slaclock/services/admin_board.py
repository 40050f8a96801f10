"""The admin API's read use cases, the ones the board shows: open clocks by time to breach, today's
compliance, and a ticket's timeline.

- `open_clocks`: the stored records of clocks not stopped (`ClockRecords.open_clocks`: one index read by
  due instant), each taken at `now` with `slaclock.engine.clocks.clock_at` (what the engine shows for the
  same events: a clock that breached since its last save is ``missed``, a paused one is due where it
  would be if it resumed now), filtered and ordered by (due instant, ticket, metric, cycle). A paused
  clock's stored due instant is never later than its due instant at `now` (it moves forward while
  paused), so reading the index up to the bound misses nothing. Pages are keyset pages: the cursor is
  the last clock's sort key, so a page never repeats or skips a clock that stays put between requests.
- `compliance_today`: the report service's own rows (`slaclock.services.report.build.report_rows`) for
  today's local day in the chosen calendar's zone, counted per (level, department): met and missed =
  decided today; open = every clock still undecided now.
- `ticket_timeline`: `slaclock.engine.timeline.build_timeline` over the stored events, its ``notices``
  merged with the notice ledger's records (see `merge_notices`) and its ``actions`` with the action
  ledger's (see `merge_actions`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, cast
from zoneinfo import ZoneInfo

from slaclock.engine import json_input
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.calendar.requester import Calendars
from slaclock.engine.clocks import clock_at
from slaclock.engine.config import Config
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event, format_instant
from slaclock.engine.policy import compile_policy
from slaclock.engine.reports import pct
from slaclock.engine.timeline import build_timeline
from slaclock.ports import ClockSnapshot, ConfigSource

ClockState = Literal["at_risk", "overdue", "open"]
MAX_OPEN_CLOCKS = 10_000
"""Open clock records one `open_clocks` request reads at most (413 beyond: narrow `within`)."""
MAX_LIMIT = 200


class OpenClockRecords(Protocol):
    """The clock records the board reads (`slaclock.adapters.dynamodb.DynamoClockSnapshots`)."""

    def open_clocks(self, until: datetime | None = None) -> Iterator[ClockSnapshot]: ...
    def query(self, start: datetime, end: datetime) -> Iterator[ClockSnapshot]: ...
    def running(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[ClockSnapshot]: ...


class TicketEvents(Protocol):
    def ticket_events(self, ticket_id: str) -> list[Event]: ...


class TicketNotices(Protocol):
    def ticket_notices(self, ticket_id: str) -> list[dict[str, Any]]: ...


class TicketActions(Protocol):
    def ticket_actions(self, ticket_id: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class BoardPorts:
    config: ConfigSource
    clocks: OpenClockRecords
    events: TicketEvents
    notices: TicketNotices
    actions: TicketActions | None = None
    """The action ledger (`slaclock.adapters.action_ledger.DynamoActionLedger`); None: every action
    the engine owes shows as ``owed``."""


class TooMuchToRead(SlaclockError):  # noqa: N818 - the HTTP condition (413)
    http_status = 413


class InvalidRequest(ValidationError):  # noqa: N818 - the HTTP condition (422)
    """A query parameter or body the route's model accepts but the use case cannot (422, every problem)."""

    http_status = 422


class TicketNotFound(SlaclockError):  # noqa: N818 - a condition (404)
    http_status = 404


# ------------------------------------------------------------------------------------ open clocks


def open_clocks(
    ports: BoardPorts,
    now: datetime,
    *,
    state: ClockState = "at_risk",
    within: timedelta = timedelta(hours=2),
    department: str | None = None,
    level: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``{"clocks": [...], "next_cursor": str | None}``: the running clocks at `now` (``at_risk``: due at
    or before now + `within`, overdue ones included; ``overdue``: missed and still running; ``open``:
    all), optionally of one `department` / `level`, ordered by due instant, `limit` per page."""
    after = decode_cursor(cursor) if cursor else None
    config = ports.config.load()
    calendars = Calendars(config.calendars)  # with the requester calendars, built once per request
    bound = None if state == "open" else now if state == "overdue" else now + within
    rows: list[tuple[tuple[str, str, str, int], dict[str, Any]]] = []
    for n, record in enumerate(ports.clocks.open_clocks(bound)):
        if n >= MAX_OPEN_CLOCKS:
            raise TooMuchToRead(
                f"more than {MAX_OPEN_CLOCKS} open clocks to read: narrow the request (a smaller within)"
            )
        if (department is not None and record.department != department) or (
            level is not None and record.level != level
        ):
            continue
        clock = _clock_now(record, config, now, calendars)
        if clock is None or clock["status"] not in ("open", "paused", "missed"):
            continue
        due = clock["due_at"]
        if bound is not None and due > format_instant(bound):
            continue
        if state == "overdue" and clock["status"] != "missed":
            continue
        key = (due, record.ticket_id, str(record.metric), record.cycle)
        if after is None or key > after:
            rows.append((key, clock))
    rows.sort(key=lambda kv: kv[0])
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "clocks": [c for _, c in page],
        "next_cursor": encode_cursor(page[-1][0]) if more and page else None,
    }


def _clock_now(
    record: ClockSnapshot, config: Config, now: datetime, calendars: Mapping[str, BusinessCalendar]
) -> dict[str, Any] | None:
    """A stored record of a running clock as the contract shows it at `now`; None when it has no due
    instant (a target it can never reach) or its calendar left the configuration."""
    cal = calendars.get(record.calendar)
    if cal is None:
        return None
    status, due, _, remaining = clock_at(
        record.status, record.due_at, record.stopped_at, record.business_seconds, record.remaining_seconds,
        record.target_seconds, record.as_of, record.counting, cal, now,
    )  # fmt: skip
    if due is None or record.stopped_at is not None:
        return None
    return {
        "ticket_id": record.ticket_id,
        "source": source_of(config, record.ticket_id),
        "metric": str(record.metric),
        "cycle": record.cycle,
        "level": record.level,
        "department": record.department,
        "group": None,
        "agent": record.agent,
        "status": status.value,
        "due_at": format_instant(due),
        "remaining_seconds": remaining,
        "time_zone": record.timezone or str(cal.timezone),
    }


def source_of(config: Config, ticket_id: str) -> str | None:
    """The webhook source a ticket id belongs to: the source whose non-empty ``ticket_prefix`` starts
    the id (the longest), else the only source when there is one; None when it cannot be told."""
    prefixed = [(len(s.ticket_prefix), name) for name, s in config.sources.items() if s.ticket_prefix]
    matches = [(n, name) for n, name in prefixed if ticket_id.startswith(config.sources[name].ticket_prefix)]
    if matches:
        return max(matches)[1]
    unprefixed = [name for name, s in config.sources.items() if not s.ticket_prefix]
    return unprefixed[0] if len(unprefixed) == 1 else None


def encode_cursor(key: tuple[str, str, str, int]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> tuple[str, str, str, int]:
    """The sort key a cursor names; `ValidationError` (422) for anything `encode_cursor` did not make."""
    try:
        value = json_input.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        due, ticket, metric, cycle = value
        if not (isinstance(due, str) and isinstance(ticket, str) and isinstance(metric, str)):
            raise TypeError
        if not isinstance(cycle, int) or isinstance(cycle, bool):
            raise TypeError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest([("cursor", "not a cursor this API returned")], "invalid request") from None
    return due, ticket, metric, cycle


# ------------------------------------------------------------------------------ today's compliance


class _ClocksOnly:
    """What `report_rows` reads of its ports (`ports.clocks` only)."""

    def __init__(self, clocks: OpenClockRecords) -> None:
        self.clocks = clocks


def compliance_today(
    ports: BoardPorts, now: datetime, *, department: str | None = None, calendar: str | None = None
) -> dict[str, Any]:
    """Today's local day (in `calendar`'s zone, default the configuration's first calendar): per
    (level, department), the clocks met and missed (decided today) and open (undecided at `now`), and
    compliance = 100 × met / (met + missed), rounded half-up to 0.01 (null when nothing was decided)."""
    from slaclock.services.report.build import report_rows
    from slaclock.services.report.spec import ReportSpec, calendar_period

    config = ports.config.load()
    if calendar is not None and calendar not in config.calendars:
        known = ", ".join(sorted(config.calendars))
        raise InvalidRequest([("calendar", f"{calendar!r} is not a calendar ({known})")], "invalid request")
    name = calendar or next(iter(config.calendars))
    zone = str(config.calendars[name].timezone)
    period = calendar_period("daily", now, zone)
    spec = ReportSpec(report_id="board", title="today", period=period, include_running=True)
    counts: dict[tuple[str, str | None], list[int]] = {}
    rows = report_rows(cast(Any, _ClocksOnly(ports.clocks)), spec, config, now)
    for row in rows:
        dept = row.department or None
        if department is not None and dept != department:
            continue
        tally = counts.setdefault((row.level, dept), [0, 0, 0])
        if row.decided_at is None:
            tally[2] += 1
        elif period.start <= row.decided_at < period.end:
            tally[0 if row.status == "met" else 1] += 1
    return {
        "date": period.start.astimezone(ZoneInfo(zone)).date().isoformat(),
        "time_zone": zone,
        "rows": [
            {
                "level": lvl,
                "department": dept,
                "met": met,
                "missed": missed,
                "open": open_,
                "compliance_pct": pct(met, met + missed) if met + missed else None,
            }
            for (lvl, dept), (met, missed, open_) in sorted(
                counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ],
    }


# ------------------------------------------------------------------------------------ the timeline


def ticket_timeline(ports: BoardPorts, ticket_id: str, now: datetime) -> dict[str, Any]:
    """The timeline document of the stored ticket at `now`, notices and actions merged with their
    ledgers' records."""
    events = [e for e in ports.events.ticket_events(ticket_id) if e.at <= now]
    if not events:
        raise TicketNotFound(f"no stored event of ticket {ticket_id!r}")
    doc = build_timeline(compile_policy(ports.config.load()), events, now)
    doc["notices"] = merge_notices(doc["notices"], ports.notices.ticket_notices(ticket_id))
    ledger = ports.actions.ticket_actions(ticket_id) if ports.actions is not None else []
    doc["actions"] = merge_actions(doc["actions"], ledger)
    return doc


def merge_notices(
    owed: Iterable[Mapping[str, Any]], ledger: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The timeline's notices: every ledger record (``sent`` at its send instant; ``claimed``, i.e.
    being sent or to be retried, at its claim instant), plus each notice the engine says is owed by now
    that the ledger has no record of (``owed``, at its step instant: its check has not run yet). Matched
    on (metric, cycle, step); in time order."""
    out: list[dict[str, Any]] = []
    recorded: set[tuple[str, int, str]] = set()
    for r in ledger:
        recorded.add((r["metric"], r["cycle"], r["step"]))
        sent = r.get("status") == "sent"
        at = r.get("sent_at") if sent else r.get("claimed_at")
        out.append(
            {
                "at": None if at is None else format_instant(at), "kind": _kind(r["step"]),
                "metric": r["metric"], "cycle": r["cycle"], "step": r["step"],
                "status": "sent" if sent else "claimed",
            }
        )  # fmt: skip
    for n in owed:
        if (n["metric"], n["cycle"], n["step"]) not in recorded:
            out.append({**n, "status": "owed"})
    return sorted(out, key=lambda n: (n["at"] or "", n["metric"], n["cycle"], n["step"]))


def _kind(step: str) -> str:
    return "escalation" if step.startswith("escalation-") else step


ActionStatus = Literal["sent", "dead_lettered", "claimed", "owed"]


def merge_actions(
    owed: Iterable[Mapping[str, Any]], ledger: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The timeline's actions, as `merge_notices` does the notices: every ledger record (``sent`` or
    ``dead_lettered`` at its done instant; ``claimed``, i.e. running or to be retried, at its claim
    instant; with its attempts), plus each action the engine owes by now that the ledger has no record
    of (``owed``, at its step instant, 0 attempts). Matched on (metric, cycle, step, index, kind); a
    record keeps the engine's target (null when the configuration no longer owes it). In time order."""
    plan = {(a["metric"], a["cycle"], a["step"], a["index"], a["kind"]): a for a in owed}
    out: list[dict[str, Any]] = []
    for r in ledger:
        key = (r["metric"], r["cycle"], r["step"], r["index"], r["kind"])
        engine = plan.pop(key, None)
        status: ActionStatus
        if r.get("status") == "sent":
            status = "dead_lettered" if r.get("outcome") == "dead_letter" else "sent"
            at = r.get("done_at")
        else:
            status, at = "claimed", r.get("claimed_at")
        out.append(
            {
                "at": None if at is None else format_instant(at), "kind": r["kind"],
                "metric": r["metric"], "cycle": r["cycle"], "step": r["step"], "index": r["index"],
                "target": None if engine is None else engine["target"],
                "status": status, "attempts": int(r.get("attempts") or 0),
            }
        )  # fmt: skip
    out.extend({**a, "status": "owed", "attempts": 0} for a in plan.values())
    return sorted(out, key=lambda a: (a["at"] or "", a["metric"], a["cycle"], a["step"], a["index"]))
