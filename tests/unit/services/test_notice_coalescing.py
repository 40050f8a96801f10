"""A warning and an escalation due to the same person at the same minute are ONE e-mail, with the
exactly-once ledger kept: each notice claimed and marked sent on its own; a refused message (SES
failing on one recipient) retried for the recipients that did not get it, never repeated for those
that did; and the ticket's link in every e-mail."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta

from slaclock.ports import ServiceUnavailable

from tests.fakes.world import CONFIG_DOC, T0, World, minutes

WARNING = "4711#first_response#1#warning"
ESCALATION = "4711#first_response#1#escalation-1"


def _doc():
    doc = copy.deepcopy(CONFIG_DOC)
    standard = doc["levels"]["standard"]
    # the warning at 50 % of 1 h and the escalation 30 min before due: both at 10:30
    standard["escalations"] = [{"before_due": "30m", "notify": ["assignee", "head@example.com"]}]
    doc["sources"]["custom"]["ticket_url"] = "https://acme.example.com/agent/tickets/{ticket_number}"
    return doc


class FlakyMailer:
    """Wraps the world's fake mailer; the calls numbered in `refuse` (1 = first) raise, like SES."""

    def __init__(self, inner, refuse=()):
        self.inner, self.refuse, self.calls = inner, set(refuse), 0

    def send(self, to, subject, text, html):
        self.calls += 1
        if self.calls in self.refuse:
            raise ServiceUnavailable("sesv2: TooManyRequestsException")
        return self.inner.send(to, subject, text, html)


def _world(refuse=()):
    w = World(_doc())
    mailer = FlakyMailer(w.mailer, refuse)
    w.check_ports = dataclasses.replace(w.check_ports, mailer=mailer)
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    return w, mailer


def _received(w):
    """Per address, the notice keys of every e-mail it got (one entry per e-mail)."""
    out = {}
    for mail in w.mailer.sent:
        steps = tuple(step for step in ("warning", "escalation-1") if f"Step: {step}\n" in mail.text)
        for address in mail.to:
            out.setdefault(address, []).append(steps)
    return out


def test_one_email_for_both_notices_due_to_the_same_person_at_the_same_minute():
    w, _ = _world()
    result = w.fire()
    assert sorted(n.key for n in result.sent) == sorted([WARNING, ESCALATION])
    assert _received(w) == {
        "ana@example.com": [("warning", "escalation-1")],
        "head@example.com": [("escalation-1",)],
    }
    (both,) = [m for m in w.mailer.sent if m.to == ("ana@example.com",)]
    assert (
        both.subject.startswith("SLA warning: ticket 4711")
        and " · SLA escalation 1: ticket 4711" in both.subject
    )
    assert both.text.count("Link: https://acme.example.com/agent/tickets/4711") == 1
    assert "<a href='https://acme.example.com/agent/tickets/4711'>" in both.html
    assert w.sent_keys() == sorted([WARNING, ESCALATION])  # each notice marked on its own
    assert sorted(t for t, _ in w.publisher.events) == ["SLA Escalation", "SLA Warning"]
    again = w.check(now=T0 + minutes(31), armed_for=None)  # a retried / repeated check
    assert again.sent == () and len(w.mailer.sent) == 2


def test_ses_failing_on_the_second_recipient_retries_only_that_one():
    w, mailer = _world(refuse={2})  # ana's combined e-mail goes, head's is refused
    first = w.fire()
    assert [n.key for n in first.sent] == [WARNING] and first.pending == (ESCALATION,)
    assert w.ledger.records[ESCALATION].delivered == {"ana@example.com"}
    retry = w.check(now=first.retry_at, armed_for=first.retry_at)
    assert [n.key for n in retry.sent] == [ESCALATION] and retry.pending == ()
    assert _received(w) == {
        "ana@example.com": [("warning", "escalation-1")],
        "head@example.com": [("escalation-1",)],
    }  # nobody twice, nothing dropped
    assert w.sent_keys() == sorted([WARNING, ESCALATION])
    assert [t for t, _ in w.publisher.events] == ["SLA Warning", "SLA Escalation"]
    assert w.check(now=first.retry_at + minutes(1)).sent == ()
    assert mailer.calls == 3


def test_ses_failing_on_the_combined_email_resends_it_once_whole():
    w, _ = _world(refuse={1})  # ana's combined e-mail is refused, head's escalation goes
    first = w.fire()
    assert first.sent == () and sorted(first.pending) == sorted([WARNING, ESCALATION])
    assert w.ledger.records[ESCALATION].delivered == {"head@example.com"}
    retry = w.check(now=first.retry_at, armed_for=first.retry_at)
    assert sorted(n.key for n in retry.sent) == sorted([WARNING, ESCALATION])
    assert _received(w) == {
        "head@example.com": [("escalation-1",)],
        "ana@example.com": [("warning", "escalation-1")],
    }


def test_every_email_refused_then_both_retried_in_one_go():
    w, _ = _world(refuse={1, 2})
    first = w.fire()
    assert first.sent == () and w.mailer.sent == []
    assert w.ledger.records[ESCALATION].delivered == set()
    retry = w.check(now=first.retry_at, armed_for=first.retry_at)
    assert len(retry.sent) == 2
    assert _received(w) == {
        "ana@example.com": [("warning", "escalation-1")],
        "head@example.com": [("escalation-1",)],
    }


def test_a_notice_held_by_another_check_is_not_in_the_combined_email():
    w, _ = _world()
    armed_for = w.scheduler.fire("4711")
    notices = {n.key: n for n in _owed(w, armed_for)}
    w.ledger.claim(notices[ESCALATION], now=armed_for, lease=timedelta(minutes=5))  # another check's claim
    result = w.check(now=armed_for + timedelta(seconds=2), armed_for=armed_for)
    assert [n.key for n in result.sent] == [WARNING] and result.pending == (ESCALATION,)
    assert _received(w) == {"ana@example.com": [("warning",)]}


def test_notices_of_different_minutes_are_separate_emails():
    doc = _doc()
    doc["levels"]["standard"]["escalations"] = [{"before_due": "29m", "notify": ["assignee"]}]
    w = World(doc)
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.check(now=T0 + minutes(45))  # a late check owes both (10:30 and 10:31): two e-mails
    assert _received(w) == {"ana@example.com": [("warning",), ("escalation-1",)]}


def _owed(w, at):
    from slaclock.engine.clocks import evaluate
    from slaclock.engine.policy import compile_policy

    stored = w.tickets.get("4711")
    return evaluate(compile_policy(w.config), stored.state, at).notices
