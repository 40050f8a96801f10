"""ingest_events / receive_webhook with in-memory fakes: idempotency, order, locking, crash, schedule."""

from __future__ import annotations

import copy
import json
import threading
from datetime import timedelta

import pytest
from slaclock.engine.clocks import replay_ticket
from slaclock.engine.policy import compile_policy
from slaclock.helpdesk import AuthError, PayloadError
from slaclock.ports import ConflictError
from slaclock.services.ingest import (
    MAX_BODY_BYTES,
    MAX_SAVE_ATTEMPTS,
    PayloadTooLargeError,
    UnknownSourceError,
    receive_webhook,
    with_ticket_prefix,
)

from tests.fakes import Crash
from tests.fakes.world import CONFIG_DOC, SOURCE_SECRET, T0, World, minutes


def test_a_new_ticket_is_stored_folded_and_armed_at_its_first_step_rounded_up():
    w = World()
    created = w.event("created", at=T0 + timedelta(seconds=20))
    receipt = w.deliver([created], now=T0 + minutes(1))
    assert receipt.event_ids == (created.id,)
    (outcome,) = receipt.tickets
    assert outcome.stored == outcome.folded == (created.id,)
    assert outcome.version == 1
    # warning at 10:30:20 (50% of 1 h) -> armed at the next whole minute, never early
    assert w.scheduler.schedules == {"4711": T0 + minutes(31)}
    assert w.tickets.armed("4711") == T0 + minutes(31)
    assert created.id in w.state().seen_ids
    assert {(m, n) for (_, m, n) in w.tickets.clock_records} == {("first_response", 1), ("resolution", 1)}


def test_a_duplicate_delivery_writes_nothing_and_touches_no_schedule():
    w = World()
    created = w.event("created", at=T0)
    w.deliver([created], now=T0 + minutes(1))
    puts, saves, calls = w.events.puts, w.tickets.saves, len(w.scheduler.calls)

    receipt = w.deliver([created], now=T0 + minutes(2))

    (outcome,) = receipt.tickets
    assert outcome.duplicates == (created.id,) and outcome.folded == () and outcome.schedule == "unchanged"
    assert (w.events.puts, w.tickets.saves, len(w.scheduler.calls)) == (puts, saves, calls)
    assert receipt.event_ids == (created.id,)


def test_a_repeated_id_inside_one_delivery_is_stored_once():
    w = World()
    created = w.event("created", at=T0)
    (outcome,) = w.deliver([created, created], now=T0 + minutes(1)).tickets
    assert outcome.stored == (created.id,) and len(w.events.items) == 1


def test_an_out_of_order_event_replays_the_ticket_to_the_same_state_as_in_order():
    w = World()
    created = w.event("created", at=T0)
    agent = w.event("agent_replied", at=T0 + minutes(10))
    customer = w.event("customer_replied", at=T0 + minutes(20))
    w.ingest(created, now=T0 + minutes(1))
    w.ingest(customer, now=T0 + minutes(21))
    assert w.events.queries == 0

    w.ingest(agent, now=T0 + minutes(22))  # arrives last, happened second

    assert w.events.queries == 1
    expected = replay_ticket(compile_policy(w.config), [created, agent, customer])
    assert w.state().to_dict() == expected.to_dict()


def test_an_update_that_moves_no_instant_does_not_touch_the_schedule():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    calls = len(w.scheduler.calls)
    (outcome,) = w.ingest(w.event("updated", at=T0 + minutes(5), priority="high"), now=T0 + minutes(6))
    assert outcome.schedule == "unchanged" and len(w.scheduler.calls) == calls
    assert w.tickets.saves == 2  # the state itself changed


def test_the_schedule_moves_when_the_instant_changes_and_is_disarmed_when_nothing_is_pending():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    assert w.scheduler.schedules["4711"] == T0 + minutes(30)

    (answered,) = w.ingest(w.event("agent_replied", at=T0 + minutes(5)), now=T0 + minutes(6))
    # first response met: the next instant is the resolution's due (8 h)
    assert answered.schedule == "armed" and w.scheduler.schedules["4711"] == T0 + timedelta(hours=8)

    (deleted,) = w.ingest(w.event("deleted", at=T0 + minutes(7)), now=T0 + minutes(8))
    assert deleted.schedule == "disarmed" and "4711" not in w.scheduler.schedules
    assert w.tickets.armed("4711") is None
    assert [c[0] for c in w.scheduler.calls] == ["arm", "arm", "disarm"]
    assert w.scheduler.hints == [False, True]  # a move updates the schedule it knows exists: one call


def test_a_lost_optimistic_lock_is_retried_and_no_event_is_lost():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    rival = w.event("updated", at=T0 + minutes(2), priority="high")
    mine = w.event("customer_replied", at=T0 + minutes(3))

    def concurrent_writer(ticket_id: str) -> None:
        w.tickets.before_save = None  # once
        w.ingest(rival, now=T0 + minutes(4))

    w.tickets.before_save = concurrent_writer
    (outcome,) = w.ingest(mine, now=T0 + minutes(4))

    assert outcome.attempts == 2 and w.tickets.conflicts == 1
    assert {rival.id, mine.id} <= w.state().seen_ids
    assert w.state().fields["priority"] == "high"


def test_two_threads_delivering_to_one_ticket_both_land():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    barrier = threading.Barrier(2, timeout=10)
    first_save = threading.local()

    def both_read_before_either_saves(ticket_id: str) -> None:
        if not getattr(first_save, "done", False):
            first_save.done = True
            barrier.wait()

    w.tickets.before_save = both_read_before_either_saves
    a = w.event("updated", at=T0 + minutes(2), priority="high")
    b = w.event("agent_replied", at=T0 + minutes(3))
    errors: list[BaseException] = []

    def run(event):
        try:
            w.deliver([event], now=T0 + minutes(4))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert w.tickets.conflicts == 1
    assert {a.id, b.id} <= w.state().seen_ids
    assert w.state().to_dict() == replay_ticket(compile_policy(w.config), list(_all_events(w))).to_dict()


def _all_events(w: World):
    return w.events.ticket_events("4711")


def test_contention_beyond_the_bound_raises_conflict_error():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    n = iter(range(100))

    def always_first(ticket_id: str) -> None:
        hook, w.tickets.before_save = w.tickets.before_save, None
        w.ingest(w.event("updated", at=T0 + minutes(2), priority=f"p{next(n)}"), now=T0 + minutes(3))
        w.tickets.before_save = hook

    w.tickets.before_save = always_first
    with pytest.raises(ConflictError):
        w.ingest(w.event("agent_replied", at=T0 + minutes(3)), now=T0 + minutes(4))
    assert w.tickets.conflicts == MAX_SAVE_ATTEMPTS


def test_a_lambda_dying_after_storing_the_event_still_folds_it_on_the_retry():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    reply = w.event("agent_replied", at=T0 + minutes(5))

    w.tickets.crash = True
    with pytest.raises(Crash):
        w.deliver([reply], now=T0 + minutes(6))
    assert ("4711", reply.id) in w.events.items  # stored ...
    assert reply.id not in w.state().seen_ids  # ... but not folded

    (retry,) = w.deliver([reply], now=T0 + minutes(7)).tickets  # the helpdesk redelivers

    assert retry.stored == () and retry.folded == (reply.id,)
    assert reply.id in w.state().seen_ids
    assert w.scheduler.schedules["4711"] == T0 + timedelta(hours=8)


def test_a_level_change_that_makes_a_notice_owed_now_arms_the_next_minute():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    # URGENT: first response within 10 min, retroactively: already overdue at 10:12
    w.ingest(
        w.event("updated", at=T0 + minutes(12), tags=["URGENT"]), now=T0 + minutes(12) + timedelta(seconds=30)
    )
    assert w.scheduler.schedules["4711"] == T0 + minutes(13)


def test_a_check_that_is_due_but_not_done_is_left_alone():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    # 10:30 has passed, the check has not run yet (the schedule fires within the minute)
    calls = len(w.scheduler.calls)
    (outcome,) = w.ingest(
        w.event("agent_replied", at=T0 + minutes(30)), now=T0 + minutes(30) + timedelta(seconds=10)
    )
    assert outcome.schedule == "unchanged" and len(w.scheduler.calls) == calls
    assert w.tickets.armed("4711") == T0 + minutes(30)


def test_a_pending_notice_retry_bounds_the_armed_instant():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.tickets.force("4711", next_check_at=T0 + minutes(20), retry_at=T0 + minutes(20))
    w.ingest(w.event("agent_replied", at=T0 + minutes(5)), now=T0 + minutes(6))
    assert w.tickets.armed("4711") == T0 + minutes(20)
    assert w.tickets.get("4711").retry_at == T0 + minutes(20)


def test_a_refused_schedule_is_reported_and_the_ticket_keeps_its_armed_instant():
    w = World()
    w.scheduler.fail_next = 1
    (outcome,) = w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    assert outcome.schedule == "failed"
    assert w.scheduler.schedules == {}
    assert w.tickets.armed("4711") == T0 + minutes(30)  # the sweeper's index sees it


# -- receive_webhook: the edges --------------------------------------------------------------------


def test_an_unknown_source_is_refused_before_anything_else():
    w = World()
    with pytest.raises(UnknownSourceError):
        w.deliver([w.event("created", at=T0)], now=T0, source="nope")
    assert w.secrets.reads == []


def test_a_body_over_one_megabyte_is_refused():
    w = World()
    body = b" " * (MAX_BODY_BYTES + 1)
    with pytest.raises(PayloadTooLargeError):
        receive_webhook(w.ingest_ports, "custom", w.signed(body, T0), body, T0)


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "expired timestamp", "no signature"],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(tamper):
    w = World()
    events = [w.event("created", at=T0)]
    body = json.dumps([e.to_dict() for e in events]).encode()
    if tamper == "wrong secret":
        headers = w.signed(body, T0, secret="guess")
    elif tamper == "expired timestamp":
        headers = w.signed(body, T0 - minutes(10))
    else:
        headers = {"content-type": "application/json"}
    with pytest.raises(AuthError):
        receive_webhook(w.ingest_ports, "custom", headers, body, T0)
    assert w.events.items == {} and w.tickets.items == {} and w.scheduler.calls == []


def test_a_malformed_body_names_every_problem():
    w = World()
    body = json.dumps([{"id": "e1", "ticket_id": "7", "type": "exploded", "at": "yesterday"}]).encode()
    with pytest.raises(PayloadError) as info:
        receive_webhook(w.ingest_ports, "custom", w.signed(body, T0), body, T0)
    text = "\n".join(info.value.messages())
    assert "type" in text and "at" in text
    assert w.events.items == {}


# -- ticket_prefix: one namespace per helpdesk --------------------------------------------------------


def _two_helpdesks() -> World:
    """`custom` (no prefix) and `portal` (ticket_prefix ``portal-``), both generic and signed alike."""
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"]["portal"] = {
        "provider": "generic", "secret": {"ssm_parameter": "/slaclock/portal"}, "ticket_prefix": "portal-"
    }  # fmt: skip
    w = World(doc)
    w.secrets.secrets["/slaclock/portal"] = SOURCE_SECRET
    return w


def test_the_same_ticket_id_from_two_sources_makes_two_tickets():
    w = _two_helpdesks()
    ours = w.event("created", at=T0, ticket_id="11", id="created-11")
    theirs = w.event("created", at=T0 + minutes(5), ticket_id="11", id="created-11", tags=["URGENT"])

    first = w.deliver([ours], now=T0 + minutes(1), source="custom")
    second = w.deliver([theirs], now=T0 + minutes(6), source="portal")

    assert [t.ticket_id for t in first.tickets] == ["11"]
    assert [t.ticket_id for t in second.tickets] == ["portal-11"]
    assert second.event_ids == ("created-11",)  # event ids are kept: unique per ticket already
    assert set(w.events.items) == {("11", "created-11"), ("portal-11", "created-11")}
    bare, prefixed = w.state("11"), w.state("portal-11")
    assert bare.ticket_id == "11" and prefixed.ticket_id == "portal-11"
    assert bare.seen_ids == prefixed.seen_ids == {"created-11"}  # neither saw the other's event
    assert "tags" not in bare.fields or bare.fields["tags"] == []
    assert prefixed.fields["tags"] == ["URGENT"]
    # each has its own schedule and clock records (standard warns at 10:30; urgent is due at 10:15)
    assert w.scheduler.schedules == {"11": T0 + minutes(30), "portal-11": T0 + minutes(15)}
    assert {tid for (tid, _, _) in w.tickets.clock_records} == {"11", "portal-11"}


def test_a_prefixed_sources_redelivery_and_follow_up_land_on_its_ticket():
    w = _two_helpdesks()
    created = w.event("created", at=T0, ticket_id="11")
    w.deliver([created], now=T0 + minutes(1), source="portal")
    again = w.deliver([created], now=T0 + minutes(2), source="portal")
    assert again.tickets[0].ticket_id == "portal-11" and again.tickets[0].duplicates == (created.id,)

    w.deliver(
        [w.event("agent_replied", at=T0 + minutes(3), ticket_id="11")], now=T0 + minutes(4), source="portal"
    )

    assert w.tickets.get("11") is None
    clocks = {c.metric.value: c for c in w.tickets.clock_records.values() if c.stopped_at is not None}
    assert clocks["first_response"].status.value == "met"


def test_without_a_prefix_events_are_passed_on_untouched():
    w = World()
    events = [w.event("created", at=T0, ticket_id="11")]
    assert with_ticket_prefix(events, "") is events
    (prefixed,) = with_ticket_prefix(events, "hs-")
    assert (prefixed.ticket_id, prefixed.id, prefixed.at, prefixed.ticket) == (
        "hs-11", events[0].id, events[0].at, events[0].ticket
    )  # fmt: skip


def test_clock_records_are_written_only_when_they_change():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.tickets.written.clear()
    w.ingest(w.event("updated", at=T0 + minutes(2), priority="high"), now=T0 + minutes(3))
    assert w.tickets.written == []  # nothing a record holds changed
    w.ingest(w.event("agent_replied", at=T0 + minutes(4)), now=T0 + minutes(5))
    assert w.tickets.written == [("4711", "first_response", 1)]  # met
    w.tickets.written.clear()
    w.ingest(w.event("updated", at=T0 + minutes(6), assignee="bo@example.com"), now=T0 + minutes(7))
    # reassigned: the running resolution clock follows the new agent; the met one keeps its agent
    assert w.tickets.written == [("4711", "resolution", 1)]


def test_ingest_carries_the_notice_retry_and_sent_cache_over():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.fire()  # the warning is sent and cached on the ticket
    w.ingest(w.event("updated", at=T0 + minutes(40), priority="high"), now=T0 + minutes(41))
    assert w.tickets.get("4711").notified == {"4711#first_response#1#warning"}
