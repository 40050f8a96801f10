"""Calendars that follow the ticket (docs/clocks.md, "Calendars that follow the ticket"): a level's
``calendar_from`` field and ``calendar_map`` choose the calendar of its clocks per ticket, validated
whole; the chosen calendar is the clock's (``Clock.calendar``) and counts its business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.clocks import (
    ClockStatus,
    TicketState,
    apply_event,
    clock_outcomes,
    evaluate,
    replay_ticket,
)
from slaclock.engine.config import Metric, load_config
from slaclock.engine.errors import ConfigError
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy

FR, RES = Metric.FIRST_RESPONSE, Metric.RESOLUTION
WEEK = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
MON = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday; Paris is UTC+1, New York UTC-5 in November


def doc(**level):
    return {
        "calendars": {
            "paris-office": {"timezone": "Europe/Paris", "hours": WEEK},
            "ny-office": {"timezone": "America/New_York", "hours": WEEK},
            "always": {"timezone": "UTC", "hours": "24x7"},
        },
        "levels": {
            "standard": {
                "calendar": "paris-office",
                "targets": {"first_response": {"within": "2h"}, "resolution": {"within": "8h"}},
                **level,
            }
        },
        "rules": [{"name": "all", "set_level": "standard"}],
    }


FOLLOW = {"calendar_from": "custom.region", "calendar_map": {"US": "ny-office", "emea": "paris-office"}}
POLICY = compile_policy(load_config(doc(**FOLLOW)))


def ev(i, at, kind, ticket=None):
    return parse_event(
        {"id": f"e{i}", "ticket_id": "9", "type": kind, "at": at.isoformat(), "ticket": ticket or {}}
    )


def clock(events, metric=FR, now=MON + timedelta(days=3)):
    view = evaluate(POLICY, replay_ticket(POLICY, events), now)
    return next(c for c in view.clocks if c.metric is metric)


def test_the_map_is_validated_whole_listing_every_unknown_calendar():
    with pytest.raises(ConfigError) as err:
        load_config(
            doc(calendar_from="custom.region", calendar_map={"us": "ny", "apac": "sydney", "eu": "always"})
        )
    errors = dict(err.value.errors)
    assert set(errors) == {"levels.standard.calendar_map.us", "levels.standard.calendar_map.apac"}
    assert "unknown calendar 'sydney'" in errors["levels.standard.calendar_map.apac"]
    with pytest.raises(ConfigError) as err:
        load_config(doc(calendar_from="region"))
    assert {p for p, _ in err.value.errors} == {
        "levels.standard.calendar_from",
        "levels.standard.calendar_map",
    }


def test_hand_computed_example_from_the_docs():
    # Created Monday 16:00 Paris = 15:00Z = 10:00 New York, first response 2 business hours.
    created = MON + timedelta(hours=15)
    us = [ev(1, created, "created", {"status": "open", "custom": {"region": "us"}})]
    c = clock(us)
    assert (c.level, c.calendar) == ("standard", "ny-office")
    assert c.due_at == MON + timedelta(hours=17)  # 12:00 New York, the same day
    eu = [ev(1, created, "created", {"status": "open", "custom": {"region": "EMEA"}})]
    c = clock(eu)
    assert c.calendar == "paris-office"
    assert c.due_at == MON + timedelta(days=1, hours=9)  # 1 h Monday, 1 h Tuesday from 09:00 Paris
    other = [ev(1, created, "created", {"status": "open", "custom": {"region": "apac"}})]
    assert clock(other).calendar == "paris-office"  # not in the map: the level's calendar


def test_a_region_set_later_is_adopted_by_running_clocks_not_by_stopped_ones():
    created = MON + timedelta(hours=15)
    events = [
        ev(1, created, "created", {"status": "open"}),
        ev(2, created + timedelta(minutes=30), "agent_replied"),
        ev(3, created + timedelta(hours=1), "updated", {"custom": {"region": "us"}}),
    ]
    fr, res = clock(events, FR), clock(events, RES)
    assert fr.calendar == "paris-office" and fr.status is ClockStatus.MET  # stopped before: frozen
    assert res.calendar == "ny-office"  # running: adopts, for its whole history
    # 8 h: Monday 10:00-17:00 New York (7 h), then Tuesday 09:00-10:00 New York = 15:00Z
    assert res.due_at == MON + timedelta(days=1, hours=15)
    view = evaluate(POLICY, replay_ticket(POLICY, events), MON + timedelta(days=3))
    assert view.level == "standard"  # the configuration's name, whatever the calendar
    _, _, outcomes = clock_outcomes(POLICY, events, MON + timedelta(days=3))
    assert [o[3] for o in outcomes] == ["paris-office", "ny-office"]


def test_without_calendar_from_nothing_changes():
    plain = compile_policy(load_config(doc()))
    assert set(plain.goals) == {"standard"}
    assert set(POLICY.goals) == {"standard", "standard @ ny-office"}


@settings(max_examples=60, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 48 * 60), st.sampled_from(["us", "emea", "apac", None]),
                  st.sampled_from(["updated", "agent_replied", "solved", "reopened"])),
        max_size=8,
    ),
    order=st.randoms(use_true_random=False),
)  # fmt: skip
def test_any_order_and_duplicates_give_the_same_clocks(changes, order):
    start = MON + timedelta(hours=8)
    events = [ev(0, start, "created", {"status": "open"})]
    for i, (minutes, region, kind) in enumerate(changes, start=1):
        events.append(ev(i, start + timedelta(minutes=minutes), kind, {"custom": {"region": region}}))
    shuffled = events + events[1::2]
    order.shuffle(shuffled)
    now = MON + timedelta(days=4)
    replayed = replay_ticket(POLICY, events)
    assert evaluate(POLICY, replay_ticket(POLICY, shuffled), now) == evaluate(POLICY, replayed, now)
    state = None  # one event at a time, in order, through the stored form: the same state
    for event in sorted(events, key=lambda e: e.key):
        state = apply_event(POLICY, None if state is None else TicketState.from_dict(state.to_dict()), event)
    assert state == replayed


def test_a_level_following_a_calendar_keeps_its_responses_rules():
    config = load_config({**doc(**FOLLOW, responses={"bots": "ignore"})})
    policy = compile_policy(config)
    created = MON + timedelta(hours=15)
    events = [
        ev(1, created, "created", {"status": "open", "custom": {"region": "us"}}),
        parse_event({"id": "e2", "ticket_id": "9", "type": "agent_replied",
                     "at": (created + timedelta(minutes=5)).isoformat(), "reply": {"author": "bot"}}),
    ]  # fmt: skip
    state = replay_ticket(policy, events)
    assert state.clocks[0].level == "standard @ ny-office"
    fr = next(c for c in evaluate(policy, state, created + timedelta(hours=1)).clocks if c.metric is FR)
    assert fr.stopped_at is None  # the level's own rules, under its followed calendar too


def test_a_level_named_like_a_followed_calendar_is_refused():
    d = doc(**FOLLOW)
    d["levels"]["standard @ ny-office"] = {"calendar": "always", "targets": {"resolution": {"within": "1h"}}}
    with pytest.raises(ConfigError) as err:
        load_config(d)
    assert [p for p, _ in err.value.errors] == ["levels.standard.calendar_map.us"]
