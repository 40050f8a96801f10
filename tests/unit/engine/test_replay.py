"""The pure replay (slaclock.engine.replay): grouping by ticket, order, `now`, memory release."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from slaclock.engine.config import load_config
from slaclock.engine.events import parse_event
from slaclock.engine.replay import Replay, group_by_ticket, latest_instant, replay, write_reports

CONFIG = {
    "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
    "levels": {"standard": {"calendar": "always", "targets": {"first_response": {"within": "1h"}}}},
    "rules": [{"name": "Everyone else", "set_level": "standard"}],
}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ev(eid, tid, type_, minutes, **ticket):
    at = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return parse_event({"id": eid, "ticket_id": tid, "type": type_, "at": at, "ticket": ticket})


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG)


EVENTS = [
    ev("b2", "B", "agent_replied", 50),
    ev("a1", "A", "created", 10, status="open"),
    ev("c1", "C", "created", 5, status="open"),
    ev("b1", "B", "created", 10, status="open"),
    ev("a2", "A", "agent_replied", 100),
]


def test_one_view_per_ticket_in_start_order_whatever_the_input_order(config):
    views = list(replay(config, EVENTS, T0 + timedelta(hours=3)))
    assert [v.ticket_id for v in views] == ["C", "A", "B"]  # earliest event, then ticket id
    assert [v.ticket_id for v in replay(config, list(reversed(EVENTS)), T0 + timedelta(hours=3))] == [
        "C", "A", "B",
    ]  # fmt: skip
    status = {v.ticket_id: v.clocks[0].status.value for v in views}
    assert status == {"A": "missed", "B": "met", "C": "missed"}


def test_now_defaults_to_the_latest_event_and_later_events_are_left_out(config):
    assert latest_instant(EVENTS) == T0 + timedelta(minutes=100)
    assert {v.now for v in replay(config, EVENTS)} == {T0 + timedelta(minutes=100)}
    run = Replay(config, EVENTS, T0 + timedelta(minutes=30))
    views = {v.ticket_id: v for v in run}
    # at 09:30 B and A have not been answered yet; their replies are in the future
    assert [c.status.value for c in views["B"].clocks] == ["open"]
    assert run.stats.events_after_now == 2
    assert run.stats.events == 3


def test_a_ticket_whose_events_are_all_after_now_does_not_exist_yet(config):
    views = list(replay(config, EVENTS, T0 + timedelta(minutes=7)))
    assert [v.ticket_id for v in views] == ["C"]


def test_each_tickets_events_are_released_once_evaluated(config):
    run = Replay(config, EVENTS)
    assert len(run) == 3
    it = iter(run)
    next(it)
    assert len(run) == 2
    list(it)
    assert len(run) == 0


def test_no_events_no_views(config):
    assert list(replay(config, [])) == []
    out = io.StringIO(newline="")
    stats = write_reports(config, replay(config, []), sla_log=out, compliance=io.StringIO())
    assert stats.tickets == 0 and out.getvalue().startswith("ticket_id,")


def test_group_by_ticket_keeps_input_order_within_a_ticket():
    groups = group_by_ticket(EVENTS)
    assert [e.id for e in groups["A"]] == ["a1", "a2"]
    assert [e.id for e in groups["B"]] == ["b2", "b1"]
