"""What counts as a response (docs/clocks.md, "What counts as a response"): the ``responses`` rules of
the configuration and of a level, the message facts each provider maps (docs/helpdesks.md), and the
fold's order-freedom with them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.clocks import ClockStatus, TicketState, apply_event, evaluate, replay_ticket
from slaclock.engine.config import Metric, Responses, load_config
from slaclock.engine.errors import ConfigError, EventError
from slaclock.engine.events import Event, EventType, parse_event
from slaclock.engine.policy import compile_policy, judge
from slaclock.helpdesk import provider_for

from tests.fixtures.builders import body, canonical_event, load, source, with_

FR, NR = Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


def doc(responses=None, level_responses=None):
    d = {
        "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
        "levels": {
            "standard": {
                "calendar": "always",
                "targets": {"first_response": {"within": "1h"}, "next_response": {"within": "30m"}},
            },
            "vip": {"calendar": "always", "targets": {"first_response": {"within": "15m"}}},
        },
        "rules": [
            {"name": "vip", "when": {"field": "tags", "op": "contains", "value": "vip"}, "set_level": "vip"},
            {"name": "rest", "set_level": "standard", "stop": False},
        ],
    }
    d["rules"] = [d["rules"][1], d["rules"][0]]  # catch-all first, vip over it
    if responses is not None:
        d["responses"] = responses
    if level_responses is not None:
        d["levels"]["vip"]["responses"] = level_responses
    return d


def ev(i, minutes, kind, ticket=None, reply=None):
    return canonical_event(i, T0 + minutes * MIN, kind, ticket, reply)


def first_response(policy, events, now=T0 + 120 * MIN):
    view = evaluate(policy, replay_ticket(policy, events), now)
    return next(c for c in view.clocks if c.metric is FR)


# ---------------------------------------------------------------- the configuration


def test_responses_are_validated_whole_listing_every_error():
    bad = doc({"bots": "never", "robots": "ignore"}, {"internal_notes": True})
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    paths = dict(err.value.errors)
    assert set(paths) == {"responses.bots", "responses.robots", "levels.vip.responses.internal_notes"}
    assert "neither count nor ignore" in paths["responses.bots"]
    assert "did you mean" in paths["responses.robots"] or "allowed" in paths["responses.robots"]


def test_without_rules_the_policy_judges_nothing_and_the_type_decides():
    policy = compile_policy(load_config(doc()))
    assert policy.responses == {}
    # A bot's agent_replied still answers; an internal note (updated) still does not.
    bot = [ev(1, 0, "created"), ev(2, 5, "agent_replied", reply={"author": "bot", "public": True})]
    assert first_response(policy, bot).stopped_at == T0 + 5 * MIN
    note = [ev(1, 0, "created"), ev(2, 5, "updated", reply={"author": "agent", "public": False})]
    assert first_response(policy, note).stopped_at is None


def test_a_level_overrides_the_top_level_kind_by_kind():
    config = load_config(doc({"bots": "ignore", "internal_notes": "count"}, {"internal_notes": "ignore"}))
    policy = compile_policy(config)
    assert policy.responses["standard"] == Responses(internal_notes=True, bots=False)
    assert policy.responses["vip"] == Responses(internal_notes=False, bots=False)
    assert policy.responses[None] == config.responses


# ---------------------------------------------------------------- the rules in the fold


def test_an_ignored_bot_reply_leaves_the_first_response_waiting_for_a_person():
    policy = compile_policy(load_config(doc({"bots": "ignore"})))
    events = [
        ev(1, 0, "created"),
        ev(2, 1, "agent_replied", reply={"author": "bot", "public": True}),
        ev(3, 40, "agent_replied", reply={"author": "agent", "public": True}),
    ]
    clock = first_response(policy, events)
    assert clock.stopped_at == T0 + 40 * MIN
    assert clock.status is ClockStatus.MET


def test_an_internal_note_counts_when_the_rules_say_so_and_only_for_its_level():
    policy = compile_policy(load_config(doc({"internal_notes": "count"}, {"internal_notes": "ignore"})))
    note = {"author": "agent", "public": False}
    standard = [ev(1, 0, "created"), ev(2, 10, "updated", reply=note)]
    assert first_response(policy, standard).stopped_at == T0 + 10 * MIN
    vip = [ev(1, 0, "created", {"tags": ["vip"]}), ev(2, 10, "updated", reply=note)]
    clock = first_response(policy, vip)
    assert clock.level == "vip"
    assert clock.stopped_at is None
    assert clock.status is ClockStatus.MISSED  # 15 min target, nobody answered


def test_ignore_wins_over_count_and_a_customer_message_is_never_judged():
    rules = Responses(bots=True, auto_replies=False)
    assert judge(rules, {"author": "bot"}, False) is True
    assert judge(rules, {"author": "bot", "auto_reply": True}, True) is False
    assert judge(rules, {"author": "agent"}, True) is True  # no rule applies: the type decides
    assert judge(rules, {"author": "agent"}, False) is False
    policy = compile_policy(load_config(doc({"bots": "count", "internal_notes": "count"})))
    assert policy.answers("standard", {"author": "customer", "public": False}, False) is False


def test_an_auto_acknowledgement_and_a_side_conversation_can_be_ignored():
    policy = compile_policy(load_config(doc({"auto_replies": "ignore", "side_conversations": "ignore"})))
    events = [
        ev(1, 0, "created"),
        ev(2, 0, "agent_replied", reply={"author": "automation", "auto_reply": True}),
        ev(3, 5, "agent_replied", reply={"author": "agent", "side_conversation": True}),
        ev(4, 20, "agent_replied", reply={"author": "agent", "public": True}),
    ]
    assert first_response(policy, events).stopped_at == T0 + 20 * MIN


def test_next_response_follows_the_same_rules():
    policy = compile_policy(load_config(doc({"bots": "ignore"})))
    events = [
        ev(1, 0, "created"),
        ev(2, 5, "agent_replied", reply={"author": "agent"}),
        ev(3, 10, "customer_replied", reply={"author": "customer"}),
        ev(4, 11, "agent_replied", reply={"author": "bot"}),
        ev(5, 30, "agent_replied", reply={"author": "agent"}),
    ]
    view = evaluate(policy, replay_ticket(policy, events), T0 + 60 * MIN)
    nr = next(c for c in view.clocks if c.metric is NR)
    assert (nr.started_at, nr.stopped_at) == (T0 + 10 * MIN, T0 + 30 * MIN)


# ---------------------------------------------------------------- any order, any duplicates

REPLIES = st.fixed_dictionaries(
    {},
    optional={
        "author": st.sampled_from(["agent", "customer", "bot", "automation"]),
        "public": st.booleans(),
        "auto_reply": st.booleans(),
        "side_conversation": st.booleans(),
    },
)
RULES = st.fixed_dictionaries(
    {},
    optional={k: st.sampled_from(["count", "ignore"]) for k in Responses.__slots__},  # type: ignore[attr-defined]
)
MESSAGES = st.lists(
    st.tuples(
        st.integers(1, 90),
        st.sampled_from(["agent_replied", "customer_replied", "updated", "solved", "reopened"]),
        st.one_of(st.none(), REPLIES),
        st.booleans(),
    ),
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(rules=RULES, level_rules=RULES, messages=MESSAGES, order=st.randoms(use_true_random=False))
def test_any_order_and_any_duplicates_give_the_same_clocks(rules, level_rules, messages, order):
    policy = compile_policy(load_config(doc(rules, level_rules)))
    events = [ev(0, 0, "created")]
    for i, (minutes, kind, reply, vip) in enumerate(messages, start=1):
        events.append(ev(i, minutes, kind, {"tags": ["vip"]} if vip else None, reply))
    shuffled = events + [events[i] for i in range(0, len(events), 2)]
    order.shuffle(shuffled)
    now = T0 + 200 * MIN
    replayed = replay_ticket(policy, events)
    assert evaluate(policy, replay_ticket(policy, shuffled), now) == evaluate(policy, replayed, now)
    state = None  # one event at a time, in order, through the stored form: the same state
    for event in sorted(events, key=lambda e: e.key):
        state = apply_event(policy, None if state is None else TicketState.from_dict(state.to_dict()), event)
    assert state == replayed


# ---------------------------------------------------------------- canonical events


def test_reply_facts_round_trip_and_are_checked():
    event = ev(2, 5, "agent_replied", reply={"author": "bot", "public": True, "via": "answer_bot"})
    assert parse_event(event.to_dict()) == event
    assert "reply" not in ev(3, 5, "agent_replied").to_dict()  # stored events stay as they were
    with pytest.raises(EventError) as err:
        parse_event({**event.to_dict(), "reply": {"author": "robot", "public": "yes", "mood": 1}})
    assert {p for p, _ in err.value.errors} == {"reply.author", "reply.public", "reply.mood"}


# ---------------------------------------------------------------- what each provider maps


def parsed(provider: str, payload: dict, **options) -> Event:
    (event,) = provider_for(provider).parse({}, body(payload), source(provider, **options))
    return event


def test_zendesk_internal_note_is_an_update_with_public_false():
    # ticket.comment_added (developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/)
    note = with_(load("zendesk", "ticket_comment_added"), "event.comment.is_public", False)
    event = parsed("zendesk", note)
    assert (event.type, event.reply) == (EventType.UPDATED, {"public": False, "author": "agent"})
    customer = with_(load("zendesk", "ticket_comment_added"), "event.comment.author.is_staff", False)
    assert parsed("zendesk", customer).reply == {"public": True, "author": "customer"}


def test_intercom_bot_and_note_parts_carry_their_author_and_visibility():
    # conversation part model: part_type comment | note, author.type admin | bot | user | lead
    # (developers.intercom.com/docs/references/2.5/webhooks/webhook-models)
    doc_ = load("intercom", "conversation_admin_replied")
    bot = with_(with_(doc_, "topic", "conversation.operator.replied"),
                "data.item.conversation_parts.conversation_parts.0.author.type", "bot")  # fmt: skip
    event = parsed("intercom", bot)
    assert (event.type, event.reply) == (EventType.UPDATED, {"public": True, "author": "bot"})
    note = with_(with_(doc_, "topic", "conversation.admin.noted"),
                 "data.item.conversation_parts.conversation_parts.0.part_type", "note")  # fmt: skip
    assert parsed("intercom", note).reply == {"public": False, "author": "agent"}


def test_jira_app_comment_is_an_automation_and_internal_comment_is_not_public():
    # comment.author.accountType (atlassian | app | customer), comment.jsdPublic
    doc_ = load("jira", "comment_created")
    app = with_(doc_, "comment.author.accountType", "app")
    assert parsed("jira", app).reply == {"public": True, "author": "automation"}
    internal = with_(doc_, "comment.jsdPublic", False)
    event = parsed("jira", internal)
    assert event.type is EventType.UPDATED and event.reply["public"] is False


def test_generic_mapping_reads_reply_facts():
    mapping = {"ticket_id": "t", "type": "k", "at": "at", "reply.author": "who", "reply.public": "pub"}
    payload = {"t": "9", "k": "agent_replied", "at": "2026-11-16T09:00:00Z", "who": "bot", "pub": True}
    event = parsed("generic", payload, mapping=mapping)
    assert event.reply == {"author": "bot", "public": True}
    assert json.loads(json.dumps(event.to_dict()))["reply"] == {"author": "bot", "public": True}
