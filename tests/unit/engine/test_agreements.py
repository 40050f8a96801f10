"""Several agreements per ticket (docs/configuration.md, ``agreements``; docs/clocks.md, "Several
agreements"): each chooses its own level with its own rules, runs its own clocks beside the customer's
(named ``<metric>@<agreement>``), and is folded exactly and order-free like the customer's.

The worked example is Zendesk's group SLA ("ownership time"): "Ownership time measures the length of
time the ticket is assigned to a group. It starts when a group is assigned ... and stops when the
ticket is reassigned to another group or solved", a new clock per group and per reopen.
Source: https://support.zendesk.com/hc/en-us/articles/5322445643802 (Defining and using group SLA
policies); the policy shape (ordered, filter per group, one ownership target per policy):
https://developer.zendesk.com/api-reference/ticketing/business-rules/group_sla_policies
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.clocks import (
    ClockStatus,
    OutOfOrderEvent,
    TicketState,
    apply_event,
    evaluate,
    replay_ticket,
)
from slaclock.engine.config import agreement_of, load_config
from slaclock.engine.errors import ConfigError
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)

OWNERSHIP = {  # Zendesk's ownership time, as a definition
    "description": "From a group's assignment until the ticket is reassigned or solved",
    "start": {
        "all": [
            {"field": "department", "op": "exists", "value": True},
            {"not": {"field": "solved", "op": "is", "value": True}},
        ]
    },
    "reset": {"changes": "department"},
    "stop": {"field": "solved", "op": "is", "value": True},
    "cycles": True,
}


def doc(**extra):
    d = {
        "calendars": {"cal": {"timezone": "UTC", "hours": "24x7"}},
        "metrics": {"ownership_time": OWNERSHIP},
        "levels": {"standard": {"calendar": "cal", "targets": {"resolution": {"within": "8h"}}}},
        "rules": [{"name": "all", "set_level": "standard"}],
        "agreements": {
            "group_sla": {
                "description": "Each group's own target for holding a ticket",
                "levels": {
                    "tier1_1h": {"calendar": "cal", "targets": {"ownership_time": {"within": "1h"}}},
                    "tier2_4h": {"calendar": "cal", "targets": {"ownership_time": {"within": "4h"}}},
                },
                "rules": [
                    {
                        "name": "tier 1",
                        "when": {"field": "department", "op": "is", "value": "tier1"},
                        "set_level": "tier1_1h",
                        "stop": True,
                    },
                    {
                        "name": "tier 2",
                        "when": {"field": "department", "op": "is", "value": "tier2"},
                        "set_level": "tier2_4h",
                        "stop": True,
                    },
                ],
            }
        },
    }
    d.update(extra)
    return d


POLICY = compile_policy(load_config(doc()))


def ev(i, minutes, kind, **ticket):
    return parse_event(
        {
            "id": f"e{i}",
            "ticket_id": "7",
            "type": kind,
            "at": (T0 + minutes * MIN).isoformat(),
            "ticket": ticket,
        }
    )


def rows(policy, events, now=T0 + 10_000 * MIN):
    view = evaluate(policy, replay_ticket(policy, events), now)
    return [(str(c.metric), c.cycle, c.level, c.status, c.business_seconds / 60) for c in view.clocks]


HISTORY = [
    ev(1, 0, "created", department="tier1"),
    ev(2, 30, "updated", department="tier2"),  # tier 1 held it 30 min: met (1h)
    ev(3, 300, "solved"),  # tier 2 held it 270 min: missed (4h); the customer's resolution: met (8h)
]


# ---------------------------------------------------------------- hand-computed examples


def test_zendesk_group_sla_each_group_is_judged_by_its_own_target_beside_the_customer_sla():
    assert rows(POLICY, HISTORY) == [
        ("resolution", 1, "standard", ClockStatus.MET, 300),
        ("ownership_time@group_sla", 1, "tier1_1h", ClockStatus.MET, 30),
        ("ownership_time@group_sla", 2, "tier2_4h", ClockStatus.MISSED, 270),
    ]


def test_a_reopened_ticket_starts_a_new_ownership_cycle_for_its_group():
    events = [*HISTORY, ev(4, 400, "reopened"), ev(5, 410, "solved")]
    assert rows(POLICY, events)[-1] == ("ownership_time@group_sla", 3, "tier2_4h", ClockStatus.MET, 10)


def test_a_ticket_no_rule_of_an_agreement_matches_runs_none_of_its_clocks():
    events = [ev(1, 0, "created", department="sales"), ev(2, 60, "solved")]
    assert rows(POLICY, events) == [("resolution", 1, "standard", ClockStatus.MET, 60)]


def test_notices_name_the_agreement_in_their_key_and_a_clock_names_its_agreement():
    view = evaluate(POLICY, replay_ticket(POLICY, HISTORY), T0 + 10_000 * MIN)
    keys = [n.key for n in view.notices]
    assert keys == ["7#ownership_time@group_sla#2#breach"]
    assert [agreement_of(c.metric) for c in view.clocks][1:] == [("ownership_time", "group_sla")] * 2
    assert agreement_of(view.clocks[0].metric) == ("resolution", "customer")


def test_without_agreements_the_state_is_stored_as_before():
    plain = doc()
    del plain["agreements"]
    policy = compile_policy(load_config(plain))
    stored = replay_ticket(policy, HISTORY).to_dict()
    assert "agreements" not in stored
    assert all("@" not in c[0] for c in stored["clocks"])


# ---------------------------------------------------------------- state, incremental fold, order


def test_the_stored_state_round_trips_and_one_event_at_a_time_equals_the_replay():
    state: TicketState | None = None
    for event in HISTORY:
        state = apply_event(POLICY, state, event)
        state = TicketState.from_dict(state.to_dict())
    assert state == replay_ticket(POLICY, HISTORY)
    assert state.agreements == (("group_sla", "tier2_4h", ("tier 2",)),)


def test_an_agreement_new_to_a_stored_ticket_makes_the_fold_replay_it():
    plain = doc()
    del plain["agreements"]
    before = replay_ticket(compile_policy(load_config(plain)), HISTORY[:1])
    with pytest.raises(OutOfOrderEvent):
        apply_event(POLICY, before, HISTORY[1])


@st.composite
def histories(draw):
    n = draw(st.integers(1, 8))
    events = [ev(0, 0, "created", department=draw(st.sampled_from(["tier1", "tier2", "sales"])))]
    at = 0
    for i in range(1, n):
        at += draw(st.integers(0, 120))
        kind = draw(st.sampled_from(["updated", "solved", "reopened", "customer_replied", "agent_replied"]))
        ticket = (
            {"department": draw(st.sampled_from(["tier1", "tier2", "sales"]))} if kind == "updated" else {}
        )
        events.append(ev(i, at, kind, **ticket))
    return events, draw(st.randoms(use_true_random=False))


@settings(max_examples=60, deadline=None)
@given(histories())
def test_every_agreement_is_the_same_in_any_order_and_with_duplicates(drawn):
    events, rnd = drawn
    expected = rows(POLICY, events)
    shuffled = events + rnd.sample(events, k=min(2, len(events)))
    rnd.shuffle(shuffled)
    assert rows(POLICY, shuffled) == expected
    state = None
    for event in sorted(events, key=lambda e: e.key):
        state = apply_event(POLICY, state, event)
    assert state == replay_ticket(POLICY, events)


def test_the_customer_clocks_are_the_same_with_or_without_agreements():
    plain = doc()
    del plain["agreements"]
    policy = compile_policy(load_config(plain))
    rnd = random.Random(7)
    for _ in range(30):
        events = [ev(0, 0, "created", department="tier1")]
        for i in range(1, 6):
            kind = rnd.choice(["updated", "solved", "reopened", "customer_replied", "agent_replied"])
            events.append(ev(i, i * rnd.randint(1, 90), kind, department=rnd.choice(["tier1", "tier2"])))
        customer = [r for r in rows(POLICY, events) if "@" not in r[0]]
        assert customer == rows(policy, events)


# ---------------------------------------------------------------- validation


def test_agreements_are_validated_whole_every_error_with_its_path():
    bad = doc()
    bad["agreements"] = {
        "customer": {"levels": {}, "rules": []},
        "Ops Team": {"levels": {}, "rules": []},
        "ola": {
            "levels": {"standard": {"calendar": "cal", "targets": {"resolution": {"within": "1h"}}}},
            "rules": [{"name": "r", "set_level": "gold"}],
            "owner": "x",
        },
        "empty": {"description": 3},
    }
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    got = {path: msg for path, msg in e.value.errors}
    assert "not 'customer'" in got["agreements.customer"]
    assert "lower case letters" in got["agreements.Ops Team"]
    assert "also customer's" in got["agreements.ola.levels.standard"]
    assert got["agreements.ola.rules[0].set_level"] == "unknown level 'gold' (levels: standard)"
    assert got["agreements.ola.owner"].startswith("unknown key")
    assert got["agreements.empty.levels"] == "required"
    assert got["agreements.empty.rules"] == "required"
    assert "must be a string" in got["agreements.empty.description"]


def test_an_agreement_need_not_give_every_ticket_a_level_but_the_customer_must():
    config = load_config(doc())  # the group_sla rules have no catch-all: fine
    assert set(config.agreements) == {"group_sla"}
    assert config.level("tier2_4h") is config.agreements["group_sla"].levels["tier2_4h"]
    assert config.level_names() == ("standard", "tier1_1h", "tier2_4h")


def test_a_report_may_group_and_filter_by_agreement():
    config = load_config(
        doc(reports=[{"name": "ola", "period": "daily", "calendar": "cal", "group_by": ["agreement"],
                      "filters": {"agreement": ["group_sla"], "metric": ["ownership_time@group_sla"]}}])
    )  # fmt: skip
    assert config.reports[0].group_by == ("agreement",)
    with pytest.raises(ConfigError) as e:
        load_config(doc(reports=[{"name": "x", "period": "daily", "calendar": "cal",
                                  "filters": {"agreement": ["billing"]}}]))  # fmt: skip
    ((path, msg),) = e.value.errors
    assert path == "reports[0].filters.agreement[0]" and "unknown agreement 'billing'" in msg
