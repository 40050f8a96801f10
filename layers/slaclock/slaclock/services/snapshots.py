"""Clock snapshots: the record-ready rows a ticket save hands the store (`ports.ClockSnapshot`).

A save writes, next to the ticket state, one record per CHANGED clock: the clock as evaluated, the
ticket's grouping fields at that save (``requester``, ``department``, ``assignee`` shown as
``agent``; a missing or empty field is None) and its calendar's IANA time zone (from the compiled
configuration; None when the calendar is unknown). The use case builds them, so the store maps
fields to attributes and asks nothing of the configuration.

A record whose clock is gone is deleted by the same save (`settle_records`): a late deletion or a
replay after an out-of-order event can take a cycle away, and a new configuration can drop an
agreement or a target. Left behind, such a record would stay in the reports' running partition for
ever, or count a cycle the ticket never had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.clocks import Clock, TicketState, TicketView, decided_at
from slaclock.engine.policy import Policy
from slaclock.engine.vocabulary import RECORD_FIELDS
from slaclock.ports import ClockSnapshot, RecordKey, record_key


def clock_snapshots(
    policy: Policy, fields: Mapping[str, Any], clocks: Iterable[Clock], now: datetime
) -> list[ClockSnapshot]:
    """One `ClockSnapshot` per clock of a ticket whose fields are `fields`, recorded at `now`."""
    requester, department, agent = (_text(fields.get(k)) for k in RECORD_FIELDS)
    # with the derived requester calendars (a stand-in policy of the configuration alone: its calendars)
    calendars = getattr(policy, "calendars", None) or policy.config.calendars
    out = []
    for c in clocks:
        cal = calendars.get(c.calendar)
        out.append(
            ClockSnapshot(
                ticket_id=c.ticket_id,
                requester=requester,
                department=department,
                agent=agent,
                level=c.level,
                metric=c.metric,
                cycle=c.cycle,
                started_at=c.started_at,
                due_at=c.due_at,
                stopped_at=c.stopped_at,
                status=c.status,
                business_seconds=c.business_seconds,
                remaining_seconds=c.remaining_seconds,
                target_seconds=c.target_seconds,
                calendar=c.calendar,
                timezone=None if cal is None else str(cal.timezone),
                decided_at=decided_at(c.status.value, c.due_at, c.stopped_at),
                recorded_at=now,
                as_of=c.as_of,
                counting=c.counting,
            )  # fmt: skip
        )
    return out


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def settle_records(
    held: frozenset[RecordKey], state: TicketState, view: TicketView
) -> tuple[frozenset[RecordKey], frozenset[RecordKey]]:
    """(records, removed): the clock records a ticket holds after a save of `state` evaluated as
    `view`, and those of `held` (the records it held before) the save deletes.

    A record stays while its clock shows in the view (every one is written when it first shows, see
    `missing_clocks`), or while its clock is still in the state and stopped: a clock decided under
    an earlier configuration keeps the outcome it was decided with. Any other is deleted: its clock
    left the state (a late deletion or an out-of-order event replayed the ticket without that
    cycle; an agreement left the configuration), or it still runs but no target applies to it any
    more, so nothing would ever decide that record."""
    shown = {record_key(c) for c in view.clocks}
    stopped = {record_key(c) for c in state.clocks if c.stopped_at is not None}
    removed = frozenset(k for k in held if k not in shown and k not in stopped)
    return frozenset(shown) | (held - removed), removed


def missing_clocks(held: frozenset[RecordKey], view: TicketView) -> list[Clock]:
    """The clocks of `view` the ticket holds no record of (e.g. a target the configuration gained
    for a clock already running): written by the next save whether they changed or not."""
    return [c for c in view.clocks if record_key(c) not in held]
