"""Clock snapshots: the record-ready rows a ticket save hands the store (`ports.ClockSnapshot`).

A save writes, next to the ticket state, one record per CHANGED clock: the clock as evaluated, the
ticket's grouping fields at that save (``requester``, ``department``, ``assignee`` shown as
``agent``; a missing or empty field is None) and its calendar's IANA time zone (from the compiled
configuration; None when the calendar is unknown). The use case builds them, so the store maps
fields to attributes and asks nothing of the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.clocks import Clock, decided_at
from slaclock.engine.policy import Policy
from slaclock.engine.vocabulary import RECORD_FIELDS
from slaclock.ports import ClockSnapshot


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
