"""Who a notice reaches: every recipient once across a partly refused multi-message send, and nobody
left out of an unassigned ticket's notice (the level's fallback, else the department's lead; a notice
with no address at all is counted, not silent)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from slaclock.engine.errors import ConfigError
from slaclock.ports import MAX_RECIPIENTS_PER_MESSAGE
from slaclock.runtime import observability
from slaclock.services.notify import resolve_recipients

from tests.fakes.world import CONFIG_DOC, NEW_TICKET, T0, World, minutes

MANY = [f"agent{n:03d}@example.com" for n in range(120)]  # three SES messages: 50 + 50 + 20


def doc_with(**level_changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"].update(level_changes)
    return doc


def delivered_to(w: World) -> list[str]:
    return [address for mail in w.mailer.sent for address in mail.to]


# ------------------------------------------------------------------------- more than 50 recipients


def test_a_later_refused_message_is_retried_for_its_own_recipients_only():
    w = World(doc_with(notify={"warning": MANY, "breach": ["assignee"]}))
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.mailer.fail_chunk = 1  # SES accepts the first 50, then throttles the second message

    first = w.fire(now=T0 + minutes(30))
    assert first.pending == ("4711#first_response#1#warning",) and not first.sent
    assert delivered_to(w) == MANY[:50]

    retry = w.check(now=first.retry_at)  # the lease has ended: the retry claims it again
    assert [n.key for n in retry.sent] == ["4711#first_response#1#warning"]
    assert sorted(delivered_to(w)) == sorted(MANY)  # each address exactly once
    assert len(delivered_to(w)) == len(set(delivered_to(w))) == 120
    assert [len(m.to) for m in w.mailer.sent] == [50, 50, 20]
    assert w.check(now=retry.retry_at or first.retry_at + minutes(10)).sent == ()


def test_a_partial_delivery_is_recorded_case_insensitively_with_the_ledger():
    spelled = [a.upper() if n % 2 else a for n, a in enumerate(MANY)]
    w = World(doc_with(notify={"warning": spelled, "breach": ["assignee"]}))
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.mailer.fail_chunk = 2
    first = w.fire(now=T0 + minutes(30))
    (record,) = w.ledger.records.values()
    assert record.delivered == {a.lower() for a in MANY[:100]}
    w.check(now=first.retry_at)
    assert len(delivered_to(w)) == 120 and {a.lower() for a in delivered_to(w)} == set(MANY)


def test_fifty_recipients_are_one_message_and_never_read_the_delivered_record(monkeypatch):
    w = World(doc_with(notify={"warning": MANY[:MAX_RECIPIENTS_PER_MESSAGE], "breach": ["assignee"]}))
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))

    def unexpected(notice: Any) -> frozenset[str]:
        raise AssertionError("one message needs no delivered record")

    monkeypatch.setattr(w.ledger, "delivered", unexpected)
    w.fire(now=T0 + minutes(30))
    assert [len(m.to) for m in w.mailer.sent] == [50]


# ------------------------------------------------------------------------------ unassigned tickets


def unassigned_world(doc: dict[str, Any], **fields: Any) -> World:
    w = World(doc)
    ticket = {**NEW_TICKET, "assignee": None, **fields}
    w.ingest(w.event("created", at=T0, **ticket), now=T0 + minutes(1))
    return w


def test_an_unassigned_tickets_warning_goes_to_the_levels_unassigned_recipients():
    w = unassigned_world(doc_with(unassigned=["triage@example.com", "lead:billing"]))
    result = w.fire(now=T0 + minutes(30))
    assert [n.step.kind.value for n in result.sent] == ["warning"]
    (mail,) = w.mailer.sent
    assert mail.to == ("triage@example.com", "billing-lead@example.com")
    assert result.unaddressed == 0


def test_without_an_unassigned_list_the_departments_lead_is_told():
    w = unassigned_world(CONFIG_DOC)  # department: billing, which has a lead
    w.fire(now=T0 + minutes(30))
    (mail,) = w.mailer.sent
    assert mail.to == ("billing-lead@example.com",)


def test_an_agent_id_instead_of_an_address_also_falls_back():
    w = unassigned_world(CONFIG_DOC, assignee="agent-42")
    w.fire(now=T0 + minutes(30))
    assert w.mailer.sent[0].to == ("billing-lead@example.com",)


def test_a_notice_nobody_can_receive_is_counted_and_alarmed_not_silent(monkeypatch):
    w = unassigned_world(CONFIG_DOC, department="nowhere")  # no lead for that department
    result = w.fire(now=T0 + minutes(30))
    assert w.mailer.sent == []
    assert result.unaddressed == 1 and len(result.sent) == 1  # recorded: a retry cannot find anyone
    counted: dict[str, float] = {}
    monkeypatch.setattr(observability, "count", lambda name, n: counted.__setitem__(name, n))
    observability.record_check(result)
    assert counted["NoticesWithoutRecipient"] == 1


def test_an_assigned_ticket_is_not_sent_to_the_fallback():
    w = World(doc_with(unassigned=["triage@example.com"]))
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.fire(now=T0 + minutes(30))
    assert w.mailer.sent[0].to == ("ana@example.com",)


def test_resolve_recipients_keeps_literal_and_lead_tokens_whatever_the_assignee():
    leads = {"billing": ["lea@x.test"], "sales": ["sam@x.test"]}
    fields = {"department": "sales"}
    assert resolve_recipients(["assignee", "boss@x.test"], fields, leads) == ("sam@x.test", "boss@x.test")
    assert resolve_recipients(["assignee"], fields, leads, ("lead:billing",)) == ("lea@x.test",)
    assert resolve_recipients(["assignee"], {}, leads) == ()


def test_unassigned_must_name_someone_else_than_the_assignee():
    with pytest.raises(ConfigError) as caught:
        World(doc_with(unassigned=["assignee"]))
    assert [p for p, _ in caught.value.errors] == ["levels.standard.unassigned"]
    with pytest.raises(ConfigError) as caught:
        World(doc_with(unassigned="triage@example.com"))
    assert [p for p, _ in caught.value.errors] == ["levels.standard.unassigned"]
