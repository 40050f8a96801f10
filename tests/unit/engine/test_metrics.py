"""Declarative metrics (docs/clocks.md, "Metrics as definitions"; docs/configuration.md, ``metrics``):
the built-in definitions, a team's own KPI, their validation, hand-computed examples, peers' documented
examples, and the fold's order-freedom (any order, any duplicates: the same clocks)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.clocks import ClockStatus, TicketState, evaluate, replay_ticket
from slaclock.engine.config import Metric, load_config
from slaclock.engine.config.builtin_metrics import BUILTIN_METRICS
from slaclock.engine.errors import ConfigError
from slaclock.engine.policy import compile_policy

from tests.fixtures.builders import canonical_event

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)

BILLING = {
    "description": "Time in the billing group: from assignment to billing until it leaves billing",
    "start": {"field": "department", "becomes": "billing"},
    "stop": {"field": "department", "leaves": "billing"},
    "cycles": True,
}


def doc(targets, metrics=None, hours="24x7"):
    d = {
        "calendars": {"cal": {"timezone": "UTC", "hours": hours}},
        "levels": {"standard": {"calendar": "cal", "targets": targets}},
        "rules": [{"name": "all", "set_level": "standard"}],
    }
    if metrics is not None:
        d["metrics"] = metrics
    return d


def policy_of(targets, metrics=None, hours="24x7"):
    return compile_policy(load_config(doc(targets, metrics, hours)))


def ev(i, minutes, kind, ticket=None, reply=None):
    return canonical_event(i, T0 + minutes * MIN, kind, ticket, reply)


def clocks(policy, events, metric, now=T0 + 10_000 * MIN):
    view = evaluate(policy, replay_ticket(policy, events), now)
    return [(c.cycle, c.status, c.business_seconds / 60) for c in view.clocks if c.metric == metric]


# ---------------------------------------------------------------- the definitions


def test_every_builtin_is_a_definition_and_the_classic_three_keep_their_enum():
    config = load_config(doc({"first_response": {"within": "1h"}}))
    assert list(config.metrics) == list(BUILTIN_METRICS)
    assert {"periodic_update", "requester_wait", "agent_work", "first_assign"} <= set(config.metrics)
    assert config.metrics["periodic_update"].cycles and config.metrics["periodic_update"].reset is not None
    assert config.metrics["agent_work"].pause == frozenset({"pending", "on_hold"})
    # Without a target for a new metric the fold evaluates none (the fast path).
    assert compile_policy(config).metrics == ()
    assert set(Metric) == {"first_response", "next_response", "resolution"}


def test_definitions_are_validated_whole_every_error_with_its_path():
    bad = doc(
        {"first_response": {"within": "1h"}, "kpi": {"within": "1h"}, "nope": {"within": "1h"}},
        {
            "kpi": {"start": {"event": "creatd"}, "stop": {"running": "ghost"}, "cycles": "yes",
                    "pause": ["pendng"], "colour": 1},
            "Bad Name": {"start": {"event": "created"}},
            "resolution": {"start": {"event": "created"}},
            "other": {"stop": {"field": "department", "becomes": ["a"]}},
        },
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    paths = dict(err.value.errors)
    assert "unknown event type 'creatd'" in paths["metrics.kpi.start.event"]
    assert "unknown metric 'ghost'" in paths["metrics.kpi.stop.running"]
    assert "true or false" in paths["metrics.kpi.cycles"]
    assert "pendng" in paths["metrics.kpi.pause[0]"]
    assert "metrics.kpi.colour" in paths
    assert "metrics.Bad Name" in paths
    assert not any(p.startswith("metrics.resolution") for p in paths)  # a classic one may be redefined
    assert paths["metrics.other.start"].startswith("required")
    assert "single value" in paths["metrics.other.stop.becomes"]
    unknown = paths["levels.standard.targets.nope"]
    assert "unknown metric 'nope'" in unknown and "periodic_update" in unknown and "kpi" in unknown


def test_a_report_may_filter_on_a_configured_metric():
    d = doc({"billing_time": {"within": "4h"}}, {"billing_time": BILLING})
    d["reports"] = [
        {"name": "r", "period": "daily", "calendar": "cal", "filters": {"metric": ["billing_time"]}}
    ]
    assert load_config(d).reports[0].filters["metric"] == ("billing_time",)


# ---------------------------------------------------------------- hand-computed examples (docs/clocks.md)


def test_custom_kpi_billing_cycles_each_time_the_ticket_enters_billing():
    """docs/configuration.md's example: 09:00 created in sales; 09:10 to billing; 09:40 to support
    (30 min); 10:00 back to billing; solved 10:05 while in billing: the cycle keeps running (its stop
    is leaving billing), counts nothing while solved."""
    p = policy_of({"billing_time": {"within": "1h"}}, {"billing_time": BILLING})
    events = [
        ev(1, 0, "created", {"department": "sales", "status": "new"}),
        ev(2, 10, "updated", {"department": "billing"}),
        ev(3, 40, "updated", {"department": "support"}),
        ev(4, 60, "updated", {"department": "Billing"}),
        ev(5, 65, "solved"),
    ]
    got = clocks(p, events, "billing_time")
    assert got == [(1, ClockStatus.MET, 30.0), (2, ClockStatus.PAUSED, 5.0)]


def test_periodic_update_resets_on_each_public_agent_update():
    """docs/clocks.md: created 09:00; public reply 09:50 (cycle 1: 50 min, met under 1h); internal
    note 10:30 does not reset; public reply 11:20 (cycle 2: 90 min, missed); solved 11:40 (cycle 3:
    20 min, met)."""
    p = policy_of({"periodic_update": {"within": "1h"}})
    events = [
        ev(1, 0, "created", {"status": "open"}),
        ev(2, 50, "agent_replied", reply={"author": "agent", "public": True}),
        ev(3, 90, "updated", reply={"author": "agent", "public": False}),
        ev(4, 140, "agent_replied"),
        ev(5, 160, "solved"),
    ]
    assert clocks(p, events, "periodic_update") == [
        (1, ClockStatus.MET, 50.0), (2, ClockStatus.MISSED, 90.0), (3, ClockStatus.MET, 20.0),
    ]  # fmt: skip


def test_periodic_update_starts_a_new_cycle_on_reopen_and_pauses_while_pending():
    p = policy_of({"periodic_update": {"within": "1h"}})
    events = [
        ev(1, 0, "created", {"status": "open"}),
        ev(2, 20, "solved"),
        ev(3, 100, "reopened"),
        ev(4, 110, "updated", {"status": "pending"}),
        ev(5, 200, "updated", {"status": "open"}),
        ev(6, 215, "agent_replied"),
    ]
    assert clocks(p, events, "periodic_update", now=T0 + 215 * MIN) == [
        (1, ClockStatus.MET, 20.0), (2, ClockStatus.MET, 25.0), (3, ClockStatus.OPEN, 0.0),
    ]  # fmt: skip


ZENDESK_SLA = "https://support.zendesk.com/hc/en-us/articles/204770038"
"""Zendesk, "Defining and using SLA policies": requester wait time counts new, open and on-hold time;
agent work time counts new and open time; periodic update is the time between public agent comments."""
ZENDESK_METRICS = (
    "https://handbook.gitlab.com/handbook/security/customer-support-operations/zendesk/metrics-definitions"
)
"""The same definitions as GitLab's handbook quotes them ("These are Zendesk's official definitions")."""
LIVEAGENT_SLA = "https://support.liveagent.com/304582-Service-Level-Agreement-SLA"
"""LiveAgent, SLA feature overview: "First assign - time limit for assigning a ticket to an agent for
the first time ... starts counting when a ticket is created and is closed when the ticket is assigned"."""

STATUS_WALK = [  # new 09:00, open 09:30, pending 10:00, on_hold 11:00, open 11:20, solved 11:50
    ev(1, 0, "created", {"status": "new"}),
    ev(2, 30, "updated", {"status": "open"}),
    ev(3, 60, "updated", {"status": "pending"}),
    ev(4, 120, "updated", {"status": "on_hold"}),
    ev(5, 140, "updated", {"status": "open"}),
    ev(6, 170, "solved"),
]


def test_zendesk_requester_wait_and_agent_work_time():
    """Zendesk's definitions (`ZENDESK_SLA`, `ZENDESK_METRICS`) on one ticket: new 30 + open 30 +
    pending 60 + on-hold 20 + open 30 minutes. Requester wait = new + open + on-hold = 110 min; agent
    work = new + open = 90 min; resolution (everything) = 170 min."""
    p = policy_of(
        {"requester_wait": {"within": "2h"}, "agent_work": {"within": "1h"}, "resolution": {"within": "8h"}}
    )
    assert clocks(p, STATUS_WALK, "requester_wait") == [(1, ClockStatus.MET, 110.0)]
    assert clocks(p, STATUS_WALK, "agent_work") == [(1, ClockStatus.MISSED, 90.0)]
    assert clocks(p, STATUS_WALK, Metric.RESOLUTION) == [(1, ClockStatus.MET, 170.0)]


def test_requester_wait_resumes_in_the_same_cycle_on_reopen():
    p = policy_of({"requester_wait": {"within": "2h"}})
    events = [*STATUS_WALK, ev(7, 200, "customer_replied"), ev(8, 215, "solved")]
    assert clocks(p, events, "requester_wait") == [(1, ClockStatus.MISSED, 125.0)]  # 110 + 15 > 2h


def test_liveagent_first_assign():
    """LiveAgent's first assign (`LIVEAGENT_SLA`): from creation (09:00) to the first assignment
    (09:25): 25 minutes; a later reassignment starts nothing. Created already assigned: 0."""
    p = policy_of({"first_assign": {"within": "15m"}})
    events = [
        ev(1, 0, "created", {"status": "new"}),
        ev(2, 25, "updated", {"assignee": "ana@example.com"}),
        ev(3, 50, "updated", {"assignee": "bo@example.com"}),
    ]
    assert clocks(p, events, "first_assign") == [(1, ClockStatus.MISSED, 25.0)]
    assigned = [ev(1, 0, "created", {"assignee": "ana@example.com"})]
    assert clocks(p, assigned, "first_assign") == [(1, ClockStatus.MET, 0.0)]


def test_a_metric_may_start_when_another_one_runs_even_without_a_target_for_it():
    """``{running: <metric>}`` reads the clocks of a metric no level targets: it is evaluated too."""
    metrics = {
        "in_billing": {"start": {"field": "department", "becomes": "billing"},
                       "stop": {"field": "department", "leaves": "billing"}},
        "billing_reply": {"start": {"all": [{"event": "customer_replied"}, {"running": "in_billing"}]},
                          "stop": {"answers": True}, "cycles": True},
    }  # fmt: skip
    p = policy_of({"billing_reply": {"within": "1h"}}, metrics)
    events = [
        ev(1, 0, "created", {"department": "sales"}),
        ev(2, 5, "customer_replied"),  # not in billing: nothing
        ev(3, 10, "updated", {"department": "billing"}),
        ev(4, 20, "customer_replied"),
        ev(5, 35, "agent_replied"),
    ]
    assert clocks(p, events, "billing_reply") == [(1, ClockStatus.MET, 15.0)]
    assert clocks(p, events, "in_billing") == []  # no target: not an SLA clock, left out of the view


def test_a_custom_metric_survives_the_stored_state():
    p = policy_of({"billing_time": {"within": "1h"}}, {"billing_time": BILLING})
    events = [ev(1, 0, "created", {"department": "billing"}), ev(2, 30, "updated", {"department": "x"})]
    state = replay_ticket(p, events)
    again = TicketState.from_dict(state.to_dict())
    assert again == state
    assert [c.metric for c in again.clocks if c.metric == "billing_time"] == ["billing_time"]


# ---------------------------------------------------------------- any order, any duplicates


ALL_NEW = {
    "periodic_update": {"within": "1h"}, "requester_wait": {"within": "2h"}, "agent_work": {"within": "1h"},
    "first_assign": {"within": "15m"}, "billing_time": {"within": "1h"}, "first_response": {"within": "1h"},
    "next_response": {"within": "1h"}, "resolution": {"within": "8h"},
}  # fmt: skip
KINDS = ["updated", "agent_replied", "customer_replied", "solved", "reopened"]
STATUSES = ["new", "open", "pending", "on_hold"]


@st.composite
def histories(draw):
    n = draw(st.integers(1, 12))
    events = [ev(0, 0, "created", {"status": "new"})]
    for i in range(1, n + 1):
        kind = draw(st.sampled_from(KINDS))
        ticket = {}
        if draw(st.booleans()):
            ticket["status"] = draw(st.sampled_from(STATUSES))
        if draw(st.booleans()):
            ticket["department"] = draw(st.sampled_from(["billing", "support"]))
        if draw(st.booleans()):
            ticket["assignee"] = draw(st.sampled_from(["ana@example.com", "bo@example.com"]))
        reply = None
        if kind in ("agent_replied", "updated") and draw(st.booleans()):
            reply = {"author": "agent", "public": draw(st.booleans())}
        events.append(ev(i, draw(st.integers(0, 600)), kind, ticket, reply))
    return events, draw(st.randoms())


OFFICE = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
POLICY = policy_of(ALL_NEW, {"billing_time": BILLING}, hours=OFFICE)


@settings(max_examples=150, deadline=None)
@given(histories())
def test_every_metric_is_the_same_in_any_order_and_with_duplicates(drawn):
    events, rnd = drawn
    expected = replay_ticket(POLICY, events)
    shuffled = events + [rnd.choice(events) for _ in range(3)]
    rnd.shuffle(shuffled)
    assert replay_ticket(POLICY, shuffled) == expected
    now = T0 + 2000 * MIN
    assert evaluate(POLICY, replay_ticket(POLICY, shuffled), now) == evaluate(POLICY, expected, now)


def test_the_classic_clocks_are_the_same_with_or_without_the_new_metrics():
    """Adding targets for the new metrics changes nothing in the three classic clocks."""
    classic = policy_of({k: ALL_NEW[k] for k in Metric}, hours=OFFICE)
    rnd = random.Random(7)
    for _ in range(200):
        events = [ev(0, 0, "created", {"status": "new"})] + [
            ev(i, rnd.randint(0, 600), rnd.choice(KINDS), {"status": rnd.choice(STATUSES)})
            for i in range(1, 8)
        ]
        now = T0 + 900 * MIN
        a = [c for c in evaluate(classic, replay_ticket(classic, events), now).clocks]
        b = [
            c
            for c in evaluate(POLICY, replay_ticket(POLICY, events), now).clocks
            if isinstance(c.metric, Metric)
        ]
        assert [(c.metric, c.cycle, c.status, c.business_seconds) for c in a] == [
            (c.metric, c.cycle, c.status, c.business_seconds) for c in b
        ]
