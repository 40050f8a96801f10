"""run_check with in-memory fakes: notices exactly once, stale firings, SES failures, integrations."""

from __future__ import annotations

import json
from datetime import timedelta

from slaclock.engine.clocks import StepKind
from slaclock.engine.policy import compile_policy
from slaclock.helpdesk import signing

from tests.fakes.world import ESCALATION_URL, T0, WEBHOOK_SECRET, World, minutes

SECOND = timedelta(seconds=1)


def created_world() -> World:
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    return w


def test_the_warning_firing_emails_publishes_marks_sent_and_rearms_for_the_breach():
    w = created_world()
    result = w.fire(now=T0 + minutes(30) + 3 * SECOND)

    assert [n.key for n in result.sent] == ["4711#first_response#1#warning"]
    assert result.count(StepKind.WARNING) == 1 and result.lateness_seconds == 3
    (mail,) = w.mailer.sent
    assert mail.to == ("ana@example.com",)
    assert "4711" in mail.subject and "first response" in mail.subject
    assert "Fri 20 Nov 2026 11:00 UTC" in mail.text and "due in 29 min" in mail.text
    assert "Requester: bob@client.test" in mail.text.splitlines()  # from the ticket's fields
    assert "<table>" in mail.html
    assert [t for t, _ in w.publisher.events] == ["SLA Warning"]
    assert w.sent_keys() == ["4711#first_response#1#warning"]
    assert w.scheduler.schedules == {"4711": T0 + minutes(60)}
    assert w.tickets.armed("4711") == T0 + minutes(60) and result.next_check_at == T0 + minutes(60)


def test_the_breach_goes_to_the_assignee_and_the_departments_lead():
    w = created_world()
    w.fire()
    w.fire()
    breach = w.mailer.sent[-1]
    assert breach.to == ("ana@example.com", "billing-lead@example.com")
    assert "overdue" in breach.text or "due now" in breach.text
    assert [t for t, _ in w.publisher.events] == ["SLA Warning", "SLA Breached"]
    assert w.tickets.clock_records[("4711", "first_response", 1)].status == "missed"


def test_an_escalation_posts_a_signed_webhook_and_its_own_detail_type():
    w = created_world()
    for _ in range(3):
        w.fire()
    (url, body, headers) = w.webhooks.posts[0]
    assert url == ESCALATION_URL
    sent_at = T0 + minutes(90) + 2 * SECOND
    signing.verify(WEBHOOK_SECRET, headers, body, sent_at)  # raises if the signature is wrong
    detail = json.loads(body)
    assert detail["type"] == "SLA Escalation" and detail["step"] == "escalation-1"
    assert detail["seconds_past_due"] == 30 * 60 + 2
    assert w.publisher.events[-1][0] == "SLA Escalation"
    assert w.mailer.sent[-1].to == ("head@example.com",)
    assert "@" not in json.dumps(detail)  # no e-mail address in integrations


def test_a_repeated_firing_sends_nothing_twice():
    w = created_world()
    armed_for = w.scheduler.schedules["4711"]
    w.fire()
    again = w.check(now=armed_for + 30 * SECOND, armed_for=armed_for)
    assert again.sent == () and again.stale
    assert len(w.mailer.sent) == 1 and len(w.publisher.events) == 1


def test_a_stale_firing_after_the_ticket_was_answered_does_nothing():
    w = created_world()
    armed_for = w.scheduler.schedules["4711"]
    w.ingest(w.event("agent_replied", at=T0 + minutes(10)), now=T0 + minutes(11))
    assert w.scheduler.schedules["4711"] == T0 + timedelta(hours=8)
    saves = w.tickets.saves

    result = w.check(now=armed_for + 2 * SECOND, armed_for=armed_for)  # the old schedule fires anyway

    assert result.stale and result.sent == ()
    assert w.mailer.sent == [] and w.publisher.events == [] and w.ledger.records == {}
    assert w.tickets.saves == saves
    assert w.scheduler.schedules["4711"] == T0 + timedelta(hours=8)


def test_a_stale_firing_after_the_ticket_was_deleted_does_nothing():
    w = created_world()
    armed_for = w.scheduler.schedules["4711"]
    w.ingest(w.event("deleted", at=T0 + minutes(10)), now=T0 + minutes(11))
    result = w.check(now=armed_for + 2 * SECOND, armed_for=armed_for)
    assert result.stale and result.sent == () and w.mailer.sent == []
    assert "4711" not in w.scheduler.schedules


def test_a_check_for_an_unknown_ticket_does_nothing():
    w = World()
    result = w.check("nope", now=T0, armed_for=T0)
    assert not result.found and w.mailer.sent == [] and w.scheduler.calls == []


def test_a_lambda_clock_lagging_the_scheduler_still_sees_the_armed_step():
    w = created_world()
    armed_for = w.scheduler.fire("4711")
    result = w.check(now=armed_for - 2 * SECOND, armed_for=armed_for)
    assert [n.step.kind for n in result.sent] == [StepKind.WARNING]


def test_ses_failing_leaves_the_notice_claimed_and_it_is_sent_once_after_the_lease():
    w = created_world()
    w.mailer.fail_next = 1
    first = w.fire(now=T0 + minutes(30) + 2 * SECOND)
    assert first.sent == () and first.pending == ("4711#first_response#1#warning",)
    assert w.ledger.unsent() == ["4711#first_response#1#warning"]
    # retried at the end of the 5-minute lease, before the breach at 11:00
    assert first.retry_at == T0 + minutes(36) and w.scheduler.schedules["4711"] == T0 + minutes(36)
    assert w.tickets.get("4711").retry_at == T0 + minutes(36)

    early = w.check(now=T0 + minutes(33), armed_for=None)  # e.g. a sweep inside the lease
    assert early.sent == () and early.pending and w.mailer.attempts == 1

    retry = w.fire()
    assert [n.key for n in retry.sent] == ["4711#first_response#1#warning"]
    assert len(w.mailer.sent) == 1 and w.ledger.unsent() == []
    assert retry.retry_at is None and w.tickets.get("4711").retry_at is None
    assert w.scheduler.schedules["4711"] == T0 + minutes(60)

    w.fire()  # the breach: the warning is not sent again
    assert [m.subject.split(":")[0] for m in w.mailer.sent] == ["SLA warning", "SLA breached"]


def test_a_claim_held_by_another_check_is_not_sent_but_rechecked_after_the_lease():
    w = created_world()
    notice_time = T0 + minutes(30) + SECOND
    from slaclock.engine.clocks import evaluate

    (notice,) = evaluate(compile_policy(w.config), w.state(), notice_time).notices
    w.ledger.claim(notice, now=notice_time, lease=timedelta(minutes=5))  # a check that then died
    result = w.fire(now=notice_time + SECOND)
    assert result.sent == () and result.pending == (notice.key,) and w.mailer.sent == []
    assert w.tickets.armed("4711") == T0 + minutes(36)
    later = w.fire()
    assert [n.key for n in later.sent] == [notice.key] and len(w.mailer.sent) == 1


def test_a_failed_integration_is_counted_and_never_repeats_the_email():
    w = created_world()
    w.publisher.fail_next = 1
    result = w.fire()
    assert result.integration_failures == 1 and len(result.sent) == 1
    w.check(now=T0 + minutes(45), armed_for=None)
    assert len(w.mailer.sent) == 1


def test_a_webhook_that_keeps_failing_is_counted_once():
    w = created_world()
    w.webhooks.fail_next = 1
    results = [w.fire() for _ in range(3)]
    assert results[-1].integration_failures == 1 and w.webhooks.posts == []
    assert len(w.mailer.sent) == 3


def test_a_notice_with_no_resolvable_recipient_is_still_published_and_recorded():
    w = World()
    # the warning goes to `assignee`, there is none, and the department has no lead to stand in
    w.ingest(w.event("created", at=T0, status="open", department="sales"), now=T0 + minutes(1))
    result = w.fire()
    assert len(result.sent) == 1 and w.mailer.sent == [] and w.publisher.events[0][0] == "SLA Warning"
    assert result.unaddressed == 1  # counted (metric NoticesWithoutRecipient, alarmed), not silent


def test_a_ticket_written_during_its_check_is_checked_again_without_resending():
    w = created_world()

    def webhook_lands(ticket_id: str) -> None:
        w.tickets.before_save = None
        w.ingest(w.event("updated", at=T0 + minutes(30), priority="high"), now=T0 + minutes(30) + SECOND)

    w.tickets.before_save = webhook_lands
    result = w.fire()
    assert result.attempts == 2 and len(w.mailer.sent) == 1
    assert w.state().fields["priority"] == "high"
    assert w.tickets.armed("4711") == T0 + minutes(60)


def test_a_refused_rearm_is_reported_and_the_saved_instant_stays_for_the_sweeper():
    w = created_world()
    w.scheduler.fail_next = 1
    result = w.fire()
    assert result.schedule == "failed" and "4711" not in w.scheduler.schedules
    assert w.tickets.armed("4711") == T0 + minutes(60)


def test_notices_known_as_sent_are_not_claimed_again():
    w = created_world()
    w.fire()  # warning
    assert w.tickets.get("4711").notified == {"4711#first_response#1#warning"}
    claims = []
    real_claim = w.ledger.claim

    def spy(notice, **kwargs):
        claims.append(notice.key)
        return real_claim(notice, **kwargs)

    w.ledger.claim = spy  # type: ignore[method-assign]
    w.fire()  # breach: only the breach is claimed
    assert claims == ["4711#first_response#1#breach"]


def test_a_sent_notice_missing_from_the_ticket_cache_is_learnt_from_the_ledger():
    w = created_world()
    w.fire()
    w.tickets.force("4711", notified=frozenset())  # e.g. a save lost to a concurrent writer
    result = w.check(now=T0 + minutes(31), armed_for=None)
    assert result.sent == () and len(w.mailer.sent) == 1
    assert w.tickets.get("4711").notified == {"4711#first_response#1#warning"}
