"""`services.snapshots.clock_snapshots`: the record-ready rows a save hands the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slaclock.engine.clocks import Clock, ClockStatus
from slaclock.engine.config import Metric, load_config
from slaclock.engine.policy import compile_policy
from slaclock.services.snapshots import clock_snapshots

T0 = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)
POLICY = compile_policy(
    load_config(
        {
            "calendars": {"paris": {"timezone": "Europe/Paris", "hours": {"mon": ["09:00-18:00"]}}},
            "levels": {"standard": {"calendar": "paris", "targets": {"first_response": {"within": "4h"}}}},
            "rules": [{"name": "all", "set_level": "standard"}],
        }
    )
)


def _clock(calendar: str, status: ClockStatus = ClockStatus.OPEN, stopped: datetime | None = None) -> Clock:
    return Clock(
        ticket_id="4711", metric=Metric.FIRST_RESPONSE, cycle=1, level="standard", calendar=calendar,
        started_at=T0, due_at=T0 + timedelta(hours=4), stopped_at=stopped, status=status,
        target_seconds=14400.0, business_seconds=60.0, remaining_seconds=14340.0, as_of=T0, counting=True,
    )  # fmt: skip


def test_a_snapshot_carries_the_ticket_fields_its_calendars_zone_and_the_save_instant():
    fields = {"requester": "bob@client.test", "department": "", "assignee": 42, "status": "open"}
    (row,) = clock_snapshots(POLICY, fields, [_clock("paris")], T0 + timedelta(minutes=1))
    assert (row.requester, row.department, row.agent) == ("bob@client.test", None, "42")
    assert (row.calendar, row.timezone) == ("paris", "Europe/Paris")
    assert row.recorded_at == T0 + timedelta(minutes=1)
    assert (row.as_of, row.counting, row.decided_at) == (T0, True, None)


def test_an_unknown_calendar_has_no_zone_and_a_decided_clock_its_decision_instant():
    stop = T0 + timedelta(minutes=30)
    (row,) = clock_snapshots(POLICY, {}, [_clock("gone", ClockStatus.MET, stop)], T0)
    assert (row.timezone, row.requester, row.decided_at) == (None, None, stop)
