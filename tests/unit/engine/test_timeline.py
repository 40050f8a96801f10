"""A ticket's SLA timeline (`slaclock.engine.timeline.build_timeline`): worked examples computed by hand,
and properties against the clock engine on random tickets.

Calendar `office`: Mon-Fri 09:00-17:00 Europe/Paris with French public holidays (the `holidays`
package): Wednesday 11 November 2026 is Armistice Day, so it is closed. November 2026 is UTC+1.
2026-11-10 is a Tuesday.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.clocks import evaluate, replay_ticket
from slaclock.engine.config import Config, Metric, Predicate, Rule, SlaLevel, Target
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, EventType
from slaclock.engine.policy import compile_policy
from slaclock.engine.rules import choose_level, deciding_rule
from slaclock.engine.timeline import build_timeline

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
FR, NR, RES = Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION

OFFICE = BusinessCalendar.from_dict(
    {
        "timezone": "Europe/Paris",
        "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": {"country": "FR"},
    }
)
ALWAYS = BusinessCalendar.from_dict({"timezone": "UTC", "hours": "24x7"})
CONFIG = Config(
    calendars={"office": OFFICE, "always": ALWAYS},
    levels={
        "standard": SlaLevel(
            "standard",
            "office",
            {FR: Target(2 * H), RES: Target(8 * H, warn_at=0.25, pause_when_status=frozenset({"pending"}))},
        ),
        "urgent": SlaLevel(
            "urgent",
            "always",
            {
                FR: Target(1 * H),
                NR: Target(30 * MIN),
                RES: Target(4 * H, pause_when_status=frozenset({"on_hold"})),
            },
        ),
    },
    rules=(
        Rule("Default", None, "standard"),
        Rule("Tagged", Predicate("tags", "contains", "vip")),  # matches, sets no level
        Rule("Urgent", Predicate("priority", "is", "urgent"), "urgent", stop=True),
    ),
)
POLICY = compile_policy(CONFIG)


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


def ev(n: int, kind: EventType, at: datetime, **ticket: object) -> Event:
    return Event(f"e{n}", "T-7", kind, at, ticket)


def test_business_hours_a_pause_by_status_and_a_holiday():
    events = [
        ev(1, EventType.CREATED, paris("2026-11-10 16:00"), status="open", priority="normal"),
        ev(2, EventType.AGENT_REPLIED, paris("2026-11-10 16:30"), last_message_by="agent"),
        ev(3, EventType.UPDATED, paris("2026-11-10 16:45"), status="pending"),
        ev(4, EventType.UPDATED, paris("2026-11-11 10:00"), status="open"),  # a holiday: counts nothing
    ]
    doc = build_timeline(POLICY, list(reversed(events)), paris("2026-11-12 11:00"))
    assert doc["ticket_id"] == "T-7"
    assert doc["now"] == "2026-11-12T10:00:00Z"
    assert [(e["at"], e["type"], e["status"], e["author"]) for e in doc["events"]] == [
        ("2026-11-10T15:00:00Z", "created", "open", None),
        ("2026-11-10T15:30:00Z", "agent_replied", "open", "agent"),
        ("2026-11-10T15:45:00Z", "updated", "pending", None),
        ("2026-11-11T09:00:00Z", "updated", "open", None),
    ]
    assert doc["decisions"] == [{"at": "2026-11-10T15:00:00Z", "level": "standard", "rule": "Default"}]
    fr, res = doc["clocks"]
    # First response: 2 h from Tue 16:00 = 1 h on Tuesday, Wednesday closed, 1 h on Thursday -> Thu 10:00.
    assert fr == {
        "metric": "first_response",
        "level": "standard",
        "status": "met",
        "due_at": "2026-11-12T09:00:00Z",
        "stopped_at": "2026-11-10T15:30:00Z",
        "business_seconds": 1800.0,
        "intervals": [{"start": "2026-11-10T15:00:00Z", "end": "2026-11-10T15:30:00Z", "kind": "counted"}],
    }
    # Resolution: 45 min on Tuesday, paused while pending, 0 on the holiday, 2 h on Thursday = 2 h 45 min.
    # Due: 8 h - 45 min = 7 h 15 min after Wed 10:00, the holiday closed -> Thu 09:00 + 7 h 15 min = 16:15.
    assert res == {
        "metric": "resolution",
        "level": "standard",
        "status": "open",
        "due_at": "2026-11-12T15:15:00Z",
        "stopped_at": None,
        "business_seconds": 9900.0,
        "intervals": [
            {"start": "2026-11-10T15:00:00Z", "end": "2026-11-10T15:45:00Z", "kind": "counted"},
            {"start": "2026-11-10T15:45:00Z", "end": "2026-11-11T09:00:00Z", "kind": "paused"},
            {"start": "2026-11-11T09:00:00Z", "end": None, "kind": "counted"},
        ],
    }
    # The warning at 25 % = 2 h counted: 45 min, then 1 h 15 min from Thu 09:00 -> Thu 10:15.
    assert doc["notices"] == [
        {
            "at": "2026-11-12T09:15:00Z",
            "kind": "warning",
            "metric": "resolution",
            "cycle": 1,
            "step": "warning",
        }
    ]
    json.dumps(doc)  # JSON-ready


def test_level_decisions_name_the_rule_that_chose_them_and_solved_time_is_closed():
    t0 = datetime(2026, 11, 16, 8, tzinfo=UTC)  # Monday 09:00 in Paris
    events = [
        ev(1, EventType.CREATED, t0, status="open", priority="normal", tags=["vip"]),
        ev(2, EventType.UPDATED, t0 + 10 * MIN, priority="urgent"),  # -> urgent (24x7), adopted
        ev(3, EventType.SOLVED, t0 + 20 * MIN),
        ev(4, EventType.REOPENED, t0 + 50 * MIN),
        ev(5, EventType.UPDATED, t0 + 60 * MIN, status="on_hold"),
        ev(6, EventType.UPDATED, t0 + 60 * MIN, tags=["vip", "x"]),  # same decision: no new entry
    ]
    doc = build_timeline(POLICY, events + events[:2], t0 + 90 * MIN)  # duplicates ignored
    assert len(doc["events"]) == 6
    assert doc["decisions"] == [
        {"at": "2026-11-16T08:00:00Z", "level": "standard", "rule": "Default"},
        {"at": "2026-11-16T08:10:00Z", "level": "urgent", "rule": "Urgent"},
    ]
    res = doc["clocks"][-1]
    assert res["metric"] == "resolution" and res["level"] == "urgent" and res["status"] == "paused"
    assert [(i["start"][11:16], i["end"] and i["end"][11:16], i["kind"]) for i in res["intervals"]] == [
        ("08:00", "08:20", "counted"),
        ("08:20", "08:50", "closed"),
        ("08:50", "09:00", "counted"),
        ("09:00", None, "paused"),
    ]
    assert res["business_seconds"] == 30 * 60
    # The paused clock is due where it would be if it resumed now: 3 h 30 min after 09:30 UTC.
    assert res["due_at"] == "2026-11-16T13:00:00Z"


def test_events_after_now_are_left_out_and_no_event_is_refused():
    t0 = datetime(2026, 11, 16, 8, tzinfo=UTC)
    events = [ev(1, EventType.CREATED, t0), ev(2, EventType.SOLVED, t0 + H)]
    doc = build_timeline(POLICY, events, t0 + 30 * MIN)
    assert [e["type"] for e in doc["events"]] == ["created"]
    assert doc["clocks"][-1]["status"] == "open"
    with pytest.raises(ValidationError):
        build_timeline(POLICY, events, t0 - MIN)


def test_deciding_rule_is_the_last_applied_rule_that_sets_a_level():
    fields = {"priority": "normal", "tags": ["vip"]}
    level, applied = choose_level(CONFIG, fields, datetime(2026, 11, 16, tzinfo=UTC))
    assert (level, applied) == ("standard", ("Default", "Tagged"))
    assert deciding_rule(CONFIG, applied) == "Default"
    assert deciding_rule(CONFIG, ("Tagged",)) is None


# -- properties --------------------------------------------------------------------------------------

START = datetime(2026, 11, 9, 7, tzinfo=UTC)  # Monday 08:00 in Paris; the week holds 11 November
GRID = 5 * MIN
instants = st.integers(0, 4 * 24 * 12).map(lambda k: START + k * GRID)
fields = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["open", "pending", "on_hold", "solved"]),
        "priority": st.sampled_from(["normal", "urgent"]),
    },
)
kinds = st.sampled_from([k for k in EventType if k is not EventType.CREATED])


@st.composite
def tickets(draw: st.DrawFn) -> list[Event]:
    created = Event("e00", "T-1", EventType.CREATED, draw(instants), draw(fields))
    raws = draw(st.lists(st.tuples(kinds, instants, fields), max_size=10))
    return [created, *(Event(f"e{i + 1:02d}", "T-1", k, at, f) for i, (k, at, f) in enumerate(raws))]


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=tickets(), extra=st.integers(0, 600))
def test_counted_intervals_add_up_to_the_clocks_business_seconds(events, extra):
    now = max(e.at for e in events) + extra * GRID
    doc = build_timeline(POLICY, events, now)
    view = evaluate(POLICY, replay_ticket(POLICY, events), now)
    assert len(doc["clocks"]) == len(view.clocks)
    for row, clock in zip(doc["clocks"], view.clocks, strict=True):
        cal = CONFIG.calendars[clock.calendar]
        assert row["business_seconds"] == clock.business_seconds
        counted = timedelta(0)
        for item in row["intervals"]:
            if item["kind"] == "counted":
                counted += cal.elapsed(_t(item["start"]), now if item["end"] is None else _t(item["end"]))
        assert counted.total_seconds() == clock.business_seconds
        spans = row["intervals"]
        if clock.started_at >= (clock.stopped_at or now):
            assert spans == []
            continue
        # Contiguous from the start to the stop (or open at now while running), alternating kinds.
        assert _t(spans[0]["start"]) == clock.started_at
        for a, b in zip(spans, spans[1:], strict=False):
            assert a["end"] == b["start"] and a["kind"] != b["kind"]
        last = spans[-1]["end"]
        assert (last is None) if clock.stopped_at is None else _t(last) == clock.stopped_at
    assert [n["step"] for n in doc["notices"]] == [n.step.key for n in view.notices]
