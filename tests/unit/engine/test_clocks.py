"""SLA clocks (docs/clocks.md): worked examples with instants computed by hand.

Calendars: `paris-office` is Mon-Fri 09:00-17:00 Europe/Paris (November 2026: UTC+1; no holiday on the
dates used), `always` is 24x7 UTC. Instants are written as Paris wall-clock times with `paris(...)`.
2026-11-16 is a Monday, 2026-11-20 a Friday.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.clocks import (
    Clock,
    ClockStatus,
    OutOfOrderEvent,
    StepKind,
    TicketState,
    TicketView,
    apply_event,
    evaluate,
    replay_ticket,
)
from slaclock.engine.config import Config, Escalation, Metric, Not, Predicate, Rule, SlaLevel, Target
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, EventType
from slaclock.engine.policy import compile_policy

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
FR, NR, RES = Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION


def paris(text: str) -> datetime:
    """A Paris wall-clock time ('2026-11-16 09:00') as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


OFFICE = BusinessCalendar.from_dict(
    {"timezone": "Europe/Paris", "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
)
ALWAYS = BusinessCalendar.from_dict({"timezone": "UTC", "hours": "24x7"})

URGENT = SlaLevel(
    name="urgent",
    calendar="paris-office",
    targets={
        FR: Target(within=1 * H, warn_at=0.5),
        NR: Target(within=30 * MIN, warn_before=10 * MIN),
        RES: Target(within=8 * H, warn_at=0.75, pause_when_status=frozenset({"pending", "on_hold"})),
    },
    notify_warning=("assignee",),
    notify_breach=("assignee", "support-lead@example.com"),
)
STANDARD = SlaLevel(
    name="standard",
    calendar="paris-office",
    targets={FR: Target(within=8 * H), RES: Target(within=40 * H)},
)
ROUND_THE_CLOCK = SlaLevel(
    name="round_the_clock",
    calendar="always",
    targets={
        FR: Target(within=4 * H, warn_before=1 * H),
        RES: Target(within=24 * H, pause_when_status=frozenset({"pending"})),
    },
)
VIP = SlaLevel(
    name="vip",
    calendar="paris-office",
    targets={FR: Target(within=1 * H, warn_at=0.5)},
    notify_warning=("assignee",),
    notify_breach=("assignee", "lead:billing"),
    escalations=(
        Escalation(notify=("assignee",), at=0.5),
        Escalation(notify=("assignee", "lead:billing"), at=0.9),
        Escalation(notify=("lead:billing",), before_due=15 * MIN),
        Escalation(notify=("head@example.com",), after_due=2 * H, webhook="https://hooks.example.com/sla"),
        Escalation(notify=("ceo@example.com",), at=1.5),
    ),
)

CONFIG = Config(
    calendars={"paris-office": OFFICE, "always": ALWAYS},
    levels={lv.name: lv for lv in (URGENT, STANDARD, ROUND_THE_CLOCK, VIP)},
    rules=(
        Rule(name="VIP", when=Predicate("customer_group", "is", "vip"), set_level="vip", stop=True),
        Rule(name="Urgent", when=Predicate("priority", "is", "urgent"), set_level="urgent", stop=True),
        Rule(name="Phone", when=Predicate("channel", "is", "phone"), set_level="round_the_clock", stop=True),
        Rule(name="Everyone else", when=Not(Predicate("priority", "is", "unrated")), set_level="standard"),
    ),
)
POLICY = compile_policy(CONFIG)


class Ticket:
    """Builds one ticket's events: `t.add("created", paris(...), priority="urgent")`."""

    def __init__(self, ticket_id: str = "4711") -> None:
        self.ticket_id = ticket_id
        self.events: list[Event] = []

    def add(self, kind: str, at: datetime, **fields: object) -> Ticket:
        self.events.append(Event(f"e{len(self.events) + 1:03d}", self.ticket_id, EventType(kind), at, fields))
        return self

    def state(self) -> TicketState:
        return replay_ticket(POLICY, self.events)

    def view(self, now: datetime) -> TicketView:
        return evaluate(POLICY, self.state(), now)


def clock(view: TicketView, metric: Metric, cycle: int = 1) -> Clock:
    [found] = [c for c in view.clocks if c.metric is metric and c.cycle == cycle]
    return found


def owed(view: TicketView) -> list[tuple[str, datetime]]:
    """The notices owed, as (key without the ticket id, instant)."""
    return [(n.key.split("#", 1)[1], n.step.at) for n in view.notices]


# --------------------------------------------------------------------------------------------------
# first_response


def test_first_response_counts_business_time_across_the_weekend():
    # Created Friday 16:30: 30 min counted on Friday; the warning (50% = 30 min) falls exactly at the
    # closing instant, Friday 17:00 (not Monday 09:00); due after 30 more minutes on Monday: 09:30.
    t = Ticket().add("created", paris("2026-11-20 16:30"), priority="urgent", status="open")
    view = t.view(paris("2026-11-23 09:00"))
    fr = clock(view, FR)
    assert (fr.level, fr.calendar, fr.status) == ("urgent", "paris-office", ClockStatus.OPEN)
    assert fr.due_at == paris("2026-11-23 09:30")
    assert [(s.kind, s.at) for s in fr.steps] == [
        (StepKind.WARNING, paris("2026-11-20 17:00")),
        (StepKind.BREACH, paris("2026-11-23 09:30")),
    ]
    assert (fr.business_seconds, fr.remaining_seconds, fr.target_seconds) == (1800, 1800, 3600)
    assert owed(view) == [("first_response#1#warning", paris("2026-11-20 17:00"))]
    assert view.notices[0].key == "4711#first_response#1#warning"
    assert view.notices[0].step.recipients == ("assignee",)
    assert view.next_check_at == paris("2026-11-23 09:30")
    # resolution: 8 h; warning at 6 h counted = 30 min Friday + 5 h 30 Monday.
    res = clock(view, RES)
    assert (res.due_at, res.steps[0].at) == (paris("2026-11-23 16:30"), paris("2026-11-23 14:30"))


def test_first_response_met_by_the_first_agent_reply():
    t = Ticket().add("created", paris("2026-11-20 16:30"), priority="urgent")
    t.add("agent_replied", paris("2026-11-23 09:20"))
    t.add("agent_replied", paris("2026-11-23 09:40"))  # a second reply changes nothing
    view = t.view(paris("2026-11-23 12:00"))
    fr = clock(view, FR)
    assert (fr.status, fr.stopped_at, fr.business_seconds) == (
        ClockStatus.MET,
        paris("2026-11-23 09:20"),
        3000,
    )
    assert fr.due_at == paris("2026-11-23 09:30")
    assert not fr.running
    assert owed(view) == [("first_response#1#warning", paris("2026-11-20 17:00"))]
    # the only pending instant left is the resolution warning, Monday 14:30
    assert view.next_check_at == paris("2026-11-23 14:30")


def test_a_clock_met_before_its_warning_owes_no_warning():
    t = Ticket().add("created", paris("2026-11-20 16:30"), priority="urgent")
    t.add("agent_replied", paris("2026-11-20 16:50"))
    view = t.view(paris("2026-11-24 08:00"))
    fr = clock(view, FR)
    assert (fr.status, fr.business_seconds) == (ClockStatus.MET, 1200)
    assert [k for k, _ in owed(view) if k.startswith("first_response")] == []


def test_late_reply_stays_missed_and_owes_the_steps_before_its_stop():
    t = Ticket().add("created", paris("2026-11-20 16:30"), priority="urgent")
    t.add("agent_replied", paris("2026-11-23 10:00"))
    view = t.view(paris("2026-11-23 12:00"))
    fr = clock(view, FR)
    assert (fr.status, fr.stopped_at) == (ClockStatus.MISSED, paris("2026-11-23 10:00"))
    assert (fr.business_seconds, fr.remaining_seconds) == (5400, -1800)
    assert owed(view) == [
        ("first_response#1#warning", paris("2026-11-20 17:00")),
        ("first_response#1#breach", paris("2026-11-23 09:30")),
    ]
    breach = view.notices[1]
    assert breach.step.recipients == ("assignee", "support-lead@example.com")
    assert (breach.level, breach.due_at, breach.cycle) == ("urgent", paris("2026-11-23 09:30"), 1)


def test_round_the_clock_level_on_a_24x7_calendar():
    # a 4 h target from 15:00 is due 19:00 the same day on a 24x7 calendar.
    t = Ticket().add("created", datetime(2026, 11, 16, 15, tzinfo=UTC), channel="phone")
    view = t.view(datetime(2026, 11, 16, 18, 30, tzinfo=UTC))
    fr = clock(view, FR)
    assert (fr.level, fr.calendar) == ("round_the_clock", "always")
    assert fr.due_at == datetime(2026, 11, 16, 19, tzinfo=UTC)
    assert fr.steps[0].at == datetime(2026, 11, 16, 18, tzinfo=UTC)  # warn_before 1 h
    assert fr.business_seconds == 3.5 * 3600
    assert owed(view) == [("first_response#1#warning", datetime(2026, 11, 16, 18, tzinfo=UTC))]
    assert view.next_check_at == datetime(2026, 11, 16, 19, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Exact boundaries


@pytest.fixture
def monday_urgent() -> Ticket:
    """Urgent ticket created Monday 09:00: first_response warning 09:30, due 10:00."""
    return Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")


def test_a_step_is_owed_from_its_exact_instant(monday_urgent):
    warning = paris("2026-11-16 09:30")
    before = monday_urgent.view(warning - US)
    assert owed(before) == []
    assert before.next_check_at == warning
    at = monday_urgent.view(warning)
    assert owed(at) == [("first_response#1#warning", warning)]
    assert at.next_check_at == paris("2026-11-16 10:00")


def test_at_the_due_instant_the_breach_is_owed_and_the_clock_still_open(monday_urgent):
    due = paris("2026-11-16 10:00")
    view = monday_urgent.view(due)
    fr = clock(view, FR)
    assert (fr.status, fr.remaining_seconds) == (ClockStatus.OPEN, 0)
    assert ("first_response#1#breach", due) in owed(view)
    assert view.next_check_at == paris("2026-11-16 15:00")  # resolution warning: 6 h counted
    after = clock(monday_urgent.view(due + US), FR)
    assert after.status is ClockStatus.MISSED
    assert after.running


def test_a_reply_exactly_at_the_due_instant_is_met_without_breach(monday_urgent):
    monday_urgent.add("agent_replied", paris("2026-11-16 10:00"))
    view = monday_urgent.view(paris("2026-11-16 11:00"))
    assert clock(view, FR).status is ClockStatus.MET
    assert owed(view) == [("first_response#1#warning", paris("2026-11-16 09:30"))]


def test_a_reply_exactly_at_the_warning_instant_owes_nothing(monday_urgent):
    monday_urgent.add("agent_replied", paris("2026-11-16 09:30"))
    view = monday_urgent.view(paris("2026-11-16 11:00"))
    assert clock(view, FR).status is ClockStatus.MET
    assert owed(view) == []


# --------------------------------------------------------------------------------------------------
# Pauses


def test_resolution_pauses_while_pending_and_projects_its_due_from_now():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:40"))
    t.add("updated", paris("2026-11-16 11:00"), status="pending")
    paused = t.view(paris("2026-11-16 15:00"))
    res = clock(paused, RES)
    assert (res.status, res.business_seconds) == (ClockStatus.PAUSED, 2 * 3600)
    # 6 h left if it resumed now (Monday 15:00): 2 h Monday + 4 h Tuesday -> Tuesday 13:00
    assert res.due_at == paris("2026-11-17 13:00")
    assert paused.next_check_at is None  # nothing pending while paused
    assert owed(paused) == [("first_response#1#warning", paris("2026-11-16 09:30"))]

    t.add("customer_replied", paris("2026-11-17 10:00"), status="open")
    view = t.view(paris("2026-11-17 12:00"))
    res = clock(view, RES)
    # 2 h Monday + resumed Tuesday 10:00: warning (6 h) at 14:00, due (8 h) at 16:00
    assert (res.status, res.business_seconds) == (ClockStatus.OPEN, 4 * 3600)
    assert [s.at for s in res.steps] == [paris("2026-11-17 14:00"), paris("2026-11-17 16:00")]
    nr = clock(view, NR)  # the customer's message waits: 30 min, warning 10 min before
    assert (nr.started_at, nr.due_at, nr.status) == (
        paris("2026-11-17 10:00"),
        paris("2026-11-17 10:30"),
        ClockStatus.MISSED,
    )
    assert owed(view)[1:] == [
        ("next_response#1#warning", paris("2026-11-17 10:20")),
        ("next_response#1#breach", paris("2026-11-17 10:30")),
    ]
    assert view.next_check_at == paris("2026-11-17 14:00")


def test_pause_on_a_24x7_calendar():
    t = Ticket().add("created", datetime(2026, 11, 16, 0, tzinfo=UTC), channel="phone", status="open")
    t.add("updated", datetime(2026, 11, 16, 6, tzinfo=UTC), status="pending")
    t.add("updated", datetime(2026, 11, 16, 18, tzinfo=UTC), status="open")
    res = clock(t.view(datetime(2026, 11, 16, 20, tzinfo=UTC)), RES)
    assert res.business_seconds == 8 * 3600
    assert res.due_at == datetime(2026, 11, 17, 12, tzinfo=UTC)  # 6 h + 18 h after 18:00


def test_a_status_outside_the_pause_set_does_not_pause():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("updated", paris("2026-11-16 10:00"), status="waiting_on_vendor")
    res = clock(t.view(paris("2026-11-16 12:00")), RES)
    assert (res.status, res.business_seconds) == (ClockStatus.OPEN, 3 * 3600)


def test_first_response_ignores_the_resolution_pause_set():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="pending")
    fr = clock(t.view(paris("2026-11-16 09:45")), FR)
    assert (fr.status, fr.business_seconds) == (ClockStatus.OPEN, 45 * 60)
    assert clock(t.view(paris("2026-11-16 09:45")), RES).status is ClockStatus.PAUSED


# --------------------------------------------------------------------------------------------------
# Solve and reopen


def test_reopened_resolution_resumes_without_counting_the_solved_interval():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("solved", paris("2026-11-16 12:00"))
    solved = t.view(paris("2026-11-16 15:00"))
    res = clock(solved, RES)
    assert (res.status, res.stopped_at, res.business_seconds) == (
        ClockStatus.MET,
        paris("2026-11-16 12:00"),
        3 * 3600,
    )
    assert res.due_at == paris("2026-11-16 17:00")  # had it kept counting from its stop
    assert solved.fields["status"] == "solved"
    assert solved.next_check_at is None

    t.add("reopened", paris("2026-11-17 09:00"))
    view = t.view(paris("2026-11-17 11:00"))
    res = clock(view, RES)
    assert (res.status, res.stopped_at, res.cycle) == (ClockStatus.OPEN, None, 1)
    assert res.business_seconds == 5 * 3600
    assert [s.at for s in res.steps] == [paris("2026-11-17 12:00"), paris("2026-11-17 14:00")]
    assert view.fields["status"] == "open"
    assert view.next_check_at == paris("2026-11-17 12:00")
    assert [c.metric for c in view.clocks] == [FR, RES]  # reopening starts no response cycle


def test_a_customer_reply_reopens_a_solved_ticket_and_waits_for_an_answer():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("solved", paris("2026-11-16 12:00"))
    t.add("customer_replied", paris("2026-11-17 09:00"))
    view = t.view(paris("2026-11-17 09:15"))
    assert view.fields["status"] == "open"
    assert clock(view, RES).stopped_at is None
    nr = clock(view, NR)
    assert (nr.started_at, nr.due_at) == (paris("2026-11-17 09:00"), paris("2026-11-17 09:30"))


def test_an_explicit_status_keeps_a_customer_reply_from_reopening():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("solved", paris("2026-11-16 12:00"))
    t.add("customer_replied", paris("2026-11-17 09:00"), status="solved")
    view = t.view(paris("2026-11-17 09:15"))
    assert clock(view, RES).stopped_at == paris("2026-11-16 12:00")
    assert [c.metric for c in view.clocks] == [FR, RES]


def test_solving_achieves_the_waiting_response_clock():
    early = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent")
    early.add("solved", paris("2026-11-16 09:20"))
    fr = clock(early.view(paris("2026-11-16 12:00")), FR)
    assert (fr.status, fr.stopped_at) == (ClockStatus.MET, paris("2026-11-16 09:20"))
    late = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent")
    late.add("closed", paris("2026-11-16 10:30"))
    view = late.view(paris("2026-11-16 12:00"))
    assert clock(view, FR).status is ClockStatus.MISSED
    assert view.fields["status"] == "closed"


def test_a_ticket_created_solved_stops_at_once():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="solved")
    view = t.view(paris("2026-11-16 12:00"))
    assert [(c.metric, c.status, c.stopped_at) for c in view.clocks] == [
        (FR, ClockStatus.MET, paris("2026-11-16 09:00")),
        (RES, ClockStatus.MET, paris("2026-11-16 09:00")),
    ]
    assert view.next_check_at is None


def test_closing_a_solved_ticket_keeps_the_solve_instant():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("solved", paris("2026-11-16 12:00"))
    t.add("closed", paris("2026-11-19 12:00"))
    assert clock(t.view(paris("2026-11-20 12:00")), RES).stopped_at == paris("2026-11-16 12:00")


def test_an_update_to_a_solved_status_solves_and_another_status_reopens():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("updated", paris("2026-11-16 10:00"), status="solved")
    assert clock(t.view(paris("2026-11-16 11:00")), RES).stopped_at == paris("2026-11-16 10:00")
    t.add("updated", paris("2026-11-16 11:00"), status="open")
    res = clock(t.view(paris("2026-11-16 12:00")), RES)
    assert (res.stopped_at, res.business_seconds) == (None, 2 * 3600)


# --------------------------------------------------------------------------------------------------
# next_response cycles


def test_next_response_cycles_one_per_waiting_customer_message():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("customer_replied", paris("2026-11-16 09:05"))  # before any agent reply: first_response waits
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("customer_replied", paris("2026-11-16 09:30"))  # cycle 1
    t.add("customer_replied", paris("2026-11-16 09:35"))  # still waiting: no new cycle
    t.add("agent_replied", paris("2026-11-16 09:50"))  # cycle 1 met, exactly at its warning instant
    t.add("customer_replied", paris("2026-11-16 10:00"))  # cycle 2
    t.add("agent_replied", paris("2026-11-16 10:45"))  # cycle 2 missed (due 10:30)
    view = t.view(paris("2026-11-16 12:00"))
    cycles = [c for c in view.clocks if c.metric is NR]
    assert [(c.cycle, c.started_at, c.stopped_at, c.status) for c in cycles] == [
        (1, paris("2026-11-16 09:30"), paris("2026-11-16 09:50"), ClockStatus.MET),
        (2, paris("2026-11-16 10:00"), paris("2026-11-16 10:45"), ClockStatus.MISSED),
    ]
    assert clock(view, FR).stopped_at == paris("2026-11-16 09:10")
    assert [k for k, _ in owed(view) if k.startswith("next")] == [
        "next_response#2#warning",
        "next_response#2#breach",
    ]


def test_a_level_without_the_metric_tracks_no_next_response():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="normal")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("customer_replied", paris("2026-11-16 09:30"))
    view = t.view(paris("2026-11-16 12:00"))
    assert view.level == "standard"
    assert [c.metric for c in view.clocks] == [FR, RES]


# --------------------------------------------------------------------------------------------------
# deleted


def test_deleted_cancels_running_clocks_and_keeps_finished_ones():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("customer_replied", paris("2026-11-16 09:30"))
    t.add("deleted", paris("2026-11-16 09:55"))
    t.add("customer_replied", paris("2026-11-16 10:00"))  # after deletion: no new cycle
    t.add("reopened", paris("2026-11-16 10:05"))
    view = t.view(paris("2026-11-16 12:00"))
    assert view.deleted and view.fields["deleted"] is True
    statuses = [(c.metric, c.cycle, c.status, c.stopped_at) for c in view.clocks]
    assert statuses == [
        (FR, 1, ClockStatus.MET, paris("2026-11-16 09:10")),
        (NR, 1, ClockStatus.CANCELLED, paris("2026-11-16 09:55")),
        (RES, 1, ClockStatus.CANCELLED, paris("2026-11-16 09:55")),
    ]
    assert not any(c.running for c in view.clocks)
    # the next_response warning (09:50) was owed before the deletion; its breach (10:00) never is
    assert owed(view) == [("next_response#1#warning", paris("2026-11-16 09:50"))]
    assert view.next_check_at is None


def test_a_ticket_deleted_before_its_creation_gets_no_clock():
    t = Ticket().add("deleted", paris("2026-11-16 09:00"))
    t.add("created", paris("2026-11-16 09:05"), priority="urgent")
    view = t.view(paris("2026-11-16 12:00"))
    assert view.deleted and view.clocks == () and view.level == "urgent"


# --------------------------------------------------------------------------------------------------
# Creation


def test_events_before_created_only_merge_fields():
    t = Ticket().add("updated", paris("2026-11-16 08:00"), department="billing")
    t.add("agent_replied", paris("2026-11-16 08:30"))
    t.add("created", paris("2026-11-16 09:00"), priority="urgent")
    view = t.view(paris("2026-11-16 09:40"))
    assert view.fields == {"department": "billing", "priority": "urgent"}
    fr = clock(view, FR)
    assert (fr.started_at, fr.status) == (paris("2026-11-16 09:00"), ClockStatus.OPEN)


def test_without_a_created_event_no_clock_runs():
    t = Ticket().add("updated", paris("2026-11-16 08:00"), priority="urgent")
    t.add("customer_replied", paris("2026-11-16 09:00"))
    view = t.view(paris("2026-11-17 09:00"))
    assert (view.level, view.matched_rules, view.clocks, view.next_check_at) == (
        "urgent",
        ("Urgent",),
        (),
        None,
    )


def test_a_second_created_event_only_merges_fields():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent")
    t.add("created", paris("2026-11-16 09:30"), department="billing")
    view = t.view(paris("2026-11-16 09:40"))
    assert clock(view, FR).started_at == paris("2026-11-16 09:00")
    assert len(view.clocks) == 2


def test_events_at_one_instant_are_folded_in_id_order():
    at = paris("2026-11-16 10:00")
    base = Event("a", "9", EventType.CREATED, paris("2026-11-16 09:00"), {"priority": "urgent"})
    reply = Event("b", "9", EventType.AGENT_REPLIED, at, {})
    solve = Event("c", "9", EventType.SOLVED, at, {})
    view = evaluate(POLICY, replay_ticket(POLICY, [solve, reply, base]), at)
    assert clock(view, FR).stopped_at == at and clock(view, RES).stopped_at == at


# --------------------------------------------------------------------------------------------------
# Retroactive level change


def test_a_running_clock_adopts_the_new_level_for_its_whole_history():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="normal", status="open")
    t.add("updated", paris("2026-11-16 09:45"), priority="urgent")
    view = t.view(paris("2026-11-16 09:59"))
    fr = clock(view, FR)
    assert (fr.level, fr.due_at, fr.adopted_at) == (
        "urgent",
        paris("2026-11-16 10:00"),
        paris("2026-11-16 09:45"),
    )
    assert owed(view) == []  # the urgent warning (09:30) fell before the change: skipped
    assert view.next_check_at == paris("2026-11-16 10:00")
    assert owed(t.view(paris("2026-11-16 10:00"))) == [("first_response#1#breach", paris("2026-11-16 10:00"))]
    res = clock(view, RES)
    assert (res.level, res.due_at) == ("urgent", paris("2026-11-16 17:00"))


def test_a_new_due_in_the_past_owes_the_breach_at_once_but_no_warning():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="normal", status="open")
    t.add("updated", paris("2026-11-16 10:30"), priority="urgent")  # standard due 17:00: not breached
    view = t.view(paris("2026-11-16 10:30"))
    fr = clock(view, FR)
    assert (fr.level, fr.status) == ("urgent", ClockStatus.MISSED)
    assert owed(view) == [("first_response#1#breach", paris("2026-11-16 10:00"))]


def test_an_event_s_level_applies_before_its_own_lifecycle_effect():
    # The reply at 10:30 also raises the priority: the first response is judged under urgent (due
    # 10:00, late), not under standard (due 17:00).
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="normal", status="open")
    t.add("agent_replied", paris("2026-11-16 10:30"), priority="urgent")
    view = t.view(paris("2026-11-16 11:00"))
    fr = clock(view, FR)
    assert (fr.level, fr.status, fr.due_at) == ("urgent", ClockStatus.MISSED, paris("2026-11-16 10:00"))
    assert owed(view) == [("first_response#1#breach", paris("2026-11-16 10:00"))]


def test_a_met_clock_is_frozen_on_its_level():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="normal", status="open")
    t.add("agent_replied", paris("2026-11-16 09:20"))
    t.add("updated", paris("2026-11-16 09:45"), priority="urgent")
    view = t.view(paris("2026-11-16 12:00"))
    fr = clock(view, FR)
    assert (fr.level, fr.status, fr.due_at) == ("standard", ClockStatus.MET, paris("2026-11-16 17:00"))
    assert clock(view, RES).level == "urgent"
    assert [k for k, _ in owed(view) if k.startswith("first")] == []


def test_a_breached_clock_is_frozen_on_its_level_forever():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("updated", paris("2026-11-16 10:30"), priority="normal")  # first_response breached at 10:00
    t.add("updated", paris("2026-11-16 11:00"), customer_group="vip")
    view = t.view(paris("2026-11-16 12:00"))
    fr = clock(view, FR)
    assert (fr.level, fr.status, fr.adopted_at) == ("urgent", ClockStatus.MISSED, paris("2026-11-16 09:00"))
    assert ("first_response#1#breach", paris("2026-11-16 10:00")) in owed(view)
    assert view.level == "vip"
    # resolution was not breached: it followed to standard, then to vip, which has no resolution target
    assert [c.metric for c in view.clocks] == [FR]


def test_a_change_exactly_at_the_old_due_instant_is_adopted():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("updated", paris("2026-11-16 10:00"), priority="normal")
    view = t.view(paris("2026-11-16 10:05"))
    fr = clock(view, FR)
    assert (fr.level, fr.status, fr.due_at) == ("standard", ClockStatus.OPEN, paris("2026-11-16 17:00"))
    assert owed(view) == []  # the urgent warning 09:30 was urgent's; now standard rules the clock


def test_adopting_a_level_on_another_calendar_recounts_from_the_start():
    t = Ticket().add("created", paris("2026-11-20 16:00"), priority="normal")
    t.add("updated", paris("2026-11-20 16:30"), channel="phone")
    fr = clock(t.view(paris("2026-11-20 16:45")), FR)
    assert (fr.level, fr.calendar) == ("round_the_clock", "always")
    assert fr.due_at == paris("2026-11-20 20:00")  # 4 h of 24x7 time from Friday 16:00
    assert fr.steps[0].at == paris("2026-11-20 19:00")


def test_a_solved_resolution_is_frozen_and_keeps_its_level_after_reopening():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open")
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("solved", paris("2026-11-16 10:00"))
    t.add("updated", paris("2026-11-16 11:00"), priority="normal")
    t.add("reopened", paris("2026-11-17 09:00"))
    view = t.view(paris("2026-11-17 10:00"))
    res = clock(view, RES)
    assert (view.level, res.level, res.status) == ("standard", "urgent", ClockStatus.OPEN)
    assert res.due_at == paris("2026-11-17 16:00")  # 1 h Monday + 7 h Tuesday


def test_no_level_means_no_clock_until_a_level_comes():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="unrated", status="open")
    assert t.view(paris("2026-11-16 09:40")).clocks == ()
    assert t.view(paris("2026-11-16 09:40")).level is None
    t.add("updated", paris("2026-11-16 10:00"), priority="urgent")
    view = t.view(paris("2026-11-16 10:00"))
    fr = clock(view, FR)
    assert (fr.level, fr.started_at, fr.due_at) == (
        "urgent",
        paris("2026-11-16 09:00"),
        paris("2026-11-16 10:00"),
    )
    assert owed(view) == [("first_response#1#breach", paris("2026-11-16 10:00"))]


def test_a_level_unknown_to_the_configuration_leaves_the_clock_out():
    state = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent").state()
    narrowed = Config(calendars=CONFIG.calendars, levels={"standard": STANDARD}, rules=CONFIG.rules)
    assert evaluate(compile_policy(narrowed), state, paris("2026-11-16 12:00")).clocks == ()


# --------------------------------------------------------------------------------------------------
# Escalation ladder


def test_escalation_ladder_instants_recipients_and_webhook():
    t = Ticket().add("created", paris("2026-11-20 16:30"), customer_group="vip")
    view = t.view(paris("2026-11-23 10:00"))
    fr = clock(view, FR)
    assert [(s.key, s.at) for s in fr.steps] == [
        ("warning", paris("2026-11-20 17:00")),
        ("escalation-1", paris("2026-11-20 17:00")),  # at 50%
        ("escalation-3", paris("2026-11-23 09:15")),  # 15 min before due
        ("escalation-2", paris("2026-11-23 09:24")),  # at 90% (54 min)
        ("breach", paris("2026-11-23 09:30")),
        ("escalation-5", paris("2026-11-23 10:00")),  # at 150% (1 h 30)
        ("escalation-4", paris("2026-11-23 11:30")),  # 2 h after due
    ]
    by_key = {s.key: s for s in fr.steps}
    assert by_key["breach"].recipients == ("assignee", "lead:billing")
    assert by_key["escalation-2"].recipients == ("assignee", "lead:billing")
    assert by_key["escalation-4"].webhook == "https://hooks.example.com/sla"
    assert by_key["escalation-4"].kind is StepKind.ESCALATION and by_key["escalation-4"].index == 3
    assert [k for k, _ in owed(view)] == [
        "first_response#1#warning",
        "first_response#1#escalation-1",
        "first_response#1#escalation-3",
        "first_response#1#escalation-2",
        "first_response#1#breach",
        "first_response#1#escalation-5",
    ]
    assert view.next_check_at == paris("2026-11-23 11:30")
    assert evaluate(POLICY, t.state(), paris("2026-11-23 11:31")).next_check_at is None


# --------------------------------------------------------------------------------------------------
# Incremental fold and stored state


def test_apply_event_refuses_an_event_that_sorts_before_the_last_one():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent")
    t.add("agent_replied", paris("2026-11-16 09:20"))
    state = apply_event(POLICY, apply_event(POLICY, None, t.events[0]), t.events[1])
    late = Event("e000", "4711", EventType.UPDATED, paris("2026-11-16 09:10"), {"status": "pending"})
    with pytest.raises(OutOfOrderEvent):
        apply_event(POLICY, state, late)
    assert apply_event(POLICY, state, t.events[0]) is state  # a repeated id is ignored
    assert state == replay_ticket(POLICY, t.events + t.events[:1])


def test_apply_event_refuses_another_tickets_event():
    state = Ticket().add("created", paris("2026-11-16 09:00")).state()
    with pytest.raises(ValidationError):
        apply_event(
            POLICY,
            state,
            Event("x", "other", EventType.UPDATED, paris("2026-11-16 10:00"), {}),
        )


def test_replay_refuses_nothing_and_mixed_tickets():
    with pytest.raises(ValidationError):
        replay_ticket(POLICY, [])
    events = [
        Event("a", "1", EventType.CREATED, paris("2026-11-16 09:00"), {}),
        Event("b", "2", EventType.CREATED, paris("2026-11-16 09:00"), {}),
    ]
    with pytest.raises(ValidationError):
        replay_ticket(POLICY, events)


def test_state_round_trips_through_compact_json():
    t = Ticket().add("created", paris("2026-11-16 09:00"), priority="urgent", status="open", tags=["x"],
                     custom={"plan": "gold"})  # fmt: skip
    t.add("agent_replied", paris("2026-11-16 09:10"))
    t.add("updated", paris("2026-11-16 09:20"), status="pending")
    t.add("customer_replied", paris("2026-11-16 09:30"), status="open")
    t.add("updated", paris("2026-11-16 10:30"), priority="normal")
    t.add("deleted", paris("2026-11-16 11:00"))
    state = t.state()
    text = json.dumps(state.to_dict(), separators=(",", ":"))
    assert len(text) < 1500
    back = TicketState.from_dict(json.loads(text))
    assert back == state
    now = paris("2026-11-16 12:00")
    assert evaluate(POLICY, back, now) == evaluate(POLICY, state, now)


def test_from_dict_rejects_a_document_that_is_not_a_state():
    with pytest.raises(ValidationError):
        TicketState.from_dict({"v": 1, "ticket_id": "1"})
    with pytest.raises(ValidationError):
        TicketState.from_dict({"v": 99})


def test_rules_that_read_the_event_instant_run_on_every_event():
    # `older_than` compares a date field with the event's instant (created_at is 08:00 Paris; the
    # ticket is exactly 1 h old at its creation event, 1 h 30 at the reply): an event that changes no field
    # can still change the level, and replay must see it as apply_event does.
    aging = Config(
        calendars=CONFIG.calendars,
        levels=CONFIG.levels,
        rules=(
            Rule("Old", Predicate("created_at", "older_than", 1 * H), "urgent", stop=True),
            Rule("Everyone else", None, "standard"),
        ),
    )
    events = [
        Event("a", "7", EventType.CREATED, paris("2026-11-16 09:00"), {"created_at": "2026-11-16T07:00:00Z"}),
        Event("b", "7", EventType.CUSTOMER_REPLIED, paris("2026-11-16 09:30"), {}),
    ]
    state = replay_ticket(compile_policy(aging), events)
    assert (state.level, state.matched_rules) == ("urgent", ("Old",))
    assert state == apply_event(
        compile_policy(aging), apply_event(compile_policy(aging), None, events[0]), events[1]
    )
    assert clock(evaluate(compile_policy(aging), state, paris("2026-11-16 09:45")), FR).level == "urgent"
