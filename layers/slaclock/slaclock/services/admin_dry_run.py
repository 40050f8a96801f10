"""``POST /admin/config/dry-run``: a proposed configuration replayed over the stored events of a period,
answering which tickets' outcomes would change and the compliance before and after.

The tickets of the period are those with a clock record decided in [`from`, `to`) (the
``clocks-by-outcome`` index, one query per UTC day) or still running now and started before `to` (the
index's ``running`` partition): every ticket whose SLA figures the period reports. Each one's stored
events (all of them, not only the period's: a clock decided in the period may have started before it)
are replayed under the configuration in force and under the proposed one, at `now`, with the same
replay and comparison as ``slaclock diff`` (`slaclock.engine.policy_diff`). Compliance before/after counts the
clock cycles decided in the period under each policy.

Bounds (a Lambda answers within its timeout): at most `MAX_DRY_RUN_DAYS` days (422 beyond) and at most
`MAX_DRY_RUN_TICKETS` tickets (413 beyond, nothing replayed: narrow the period). The proposed document
is validated whole first (422 listing every problem). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slaclock.adapters.config_file import validate_document
from slaclock.engine.config import Config
from slaclock.engine.errors import ConfigError
from slaclock.engine.events import Event, format_instant
from slaclock.engine.policy_diff import CHANGE_COLUMNS, compare
from slaclock.ports import ConfigSource
from slaclock.services.admin_board import InvalidRequest, OpenClockRecords, TicketEvents, TooMuchToRead

MAX_DRY_RUN_TICKETS = 500
MAX_DRY_RUN_DAYS = 93
MAX_CHANGES_LISTED = 1000


class _Ports(Protocol):
    config: ConfigSource
    clocks: OpenClockRecords
    events: TicketEvents


@dataclass(frozen=True, slots=True)
class DryRunRequest:
    document: Mapping[str, Any]
    start: datetime
    end: datetime


def dry_run(
    ports: _Ports, request: DryRunRequest, now: datetime, *, max_tickets: int | None = None
) -> dict[str, Any]:
    """The dry-run answer (see the module docstring and the OpenAPI document's ``DryRunAnswer``)."""
    start, end = request.start, request.end
    errors: list[tuple[str, str]] = []
    if end <= start:
        errors.append(("to", "must be after from"))
    elif end - start > timedelta(days=MAX_DRY_RUN_DAYS):
        errors.append(("to", f"the period is longer than {MAX_DRY_RUN_DAYS} days"))
    try:
        proposed: Config | None = validate_document(dict(request.document))
    except ConfigError as err:
        errors.extend((f"config.{path}" if path else "config", text) for path, text in err.errors)
        proposed = None
    if errors:
        raise InvalidRequest(errors, "invalid dry run: nothing was replayed")
    assert proposed is not None  # noqa: S101 - no error above
    tickets = period_tickets(ports.clocks, start, end, max_tickets or MAX_DRY_RUN_TICKETS)
    current = ports.config.load()
    events: list[Event] = []
    for ticket_id in sorted(tickets):
        events.extend(e for e in ports.events.ticket_events(ticket_id) if e.at <= now)
    diff, found = compare(current, proposed, events, now, period=(start, end))
    rows = [dict(zip(CHANGE_COLUMNS, change.cells(), strict=True)) for change in found]
    changed = sorted({r["ticket_id"] for r in rows})
    return {
        "from": format_instant(start),
        "to": format_instant(end),
        "now": format_instant(now),
        "tickets": len(tickets),
        "changed_tickets": changed,
        "changes": [{**r, "cycle": int(r["cycle"])} for r in rows[:MAX_CHANGES_LISTED]],
        "changes_total": len(rows),
        "before": diff.old.period_figures(),
        "after": diff.new.period_figures(),
    }


def period_tickets(clocks: OpenClockRecords, start: datetime, end: datetime, limit: int) -> set[str]:
    """The ids of the tickets with a clock decided in [start, end) or running and started before
    `end`; `TooMuchToRead` (413) as soon as there are more than `limit`."""
    found: set[str] = set()

    def add(ticket_id: str) -> None:
        found.add(ticket_id)
        if len(found) > limit:
            raise TooMuchToRead(
                f"the period holds more than {limit} tickets (a dry run replays at most that many): narrow it"
            )

    for record in clocks.query(start, end):
        add(record.ticket_id)
    for record in clocks.running():
        if record.started_at < end:
            add(record.ticket_id)
    return found
