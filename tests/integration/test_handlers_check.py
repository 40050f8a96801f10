# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""functions/check on moto: scheduler payloads in; SES e-mails, EventBridge events, the notice ledger and
the re-armed schedule read back."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from slaclock.helpdesk import signing

from tests.events.builders import LambdaContext
from tests.fakes.world import ESCALATION_URL, T0, WEBHOOK_SECRET
from tests.integration._handlers import Pipeline, pipeline, ses_outage  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


def created(p: Pipeline) -> None:
    p.now = T0 + MIN
    assert p.deliver(p.event("created", at=T0))[0] == 202
    assert p.armed_for() == "2026-11-20T10:30:00Z"


def notice_item(p: Pipeline, step: str = "warning", metric: str = "first_response") -> dict:
    (item,) = [i for i in p.items(prefix="N#") if i["sk"] == f"N#{metric}#1#{step}"]
    return item


def test_the_warning_fires_once_by_email_and_event_and_the_breach_is_armed(pipeline: Pipeline):
    p = pipeline
    created(p)

    result = p.fire()

    assert result["sent"] == ["4711#first_response#1#warning"] and not result["stale"]
    (mail,) = p.emails()
    assert mail.destinations["ToAddresses"] == ["ana@example.com"]
    assert mail.source == p.aws.sender
    assert mail.subject == "SLA warning: ticket 4711, first response due in 29 min"
    assert "Fri 20 Nov 2026 11:00 UTC" in mail.body
    (event,) = p.bus_events()
    assert event["source"] == "slaclock" and event["detail-type"] == "SLA Warning"
    assert event["detail"]["ticket_id"] == "4711" and event["detail"]["step"] == "warning"
    assert notice_item(p)["status"] == "sent"
    assert p.armed_for() == "2026-11-20T11:00:00Z"
    assert p.ticket_item()["next_check_at"].startswith("2026-11-20T11:00:00")


def test_the_breach_reaches_the_lead_and_the_escalation_posts_a_signed_webhook(pipeline: Pipeline):
    p = pipeline
    created(p)
    p.fire()
    p.fire()  # breach at 11:00
    p.fire()  # escalation 30 min after due, with a webhook

    breach = p.emails()[1]
    assert breach.destinations["ToAddresses"] == ["ana@example.com", "billing-lead@example.com"]
    assert [e["detail-type"] for e in p.bus_events()] == ["SLA Warning", "SLA Breached", "SLA Escalation"]
    (url, body, headers) = p.posts[0]
    assert url == ESCALATION_URL
    signing.verify(WEBHOOK_SECRET, headers, body, p.now)
    assert json.loads(body)["step"] == "escalation-1"
    clock = [i for i in p.items(prefix="C#") if i["sk"] == "C#first_response#00001"][0]
    assert clock["status"] == "missed" and clock["outcome_day"] == "2026-11-20"
    assert p.armed_for() == "2026-11-20T18:00:00Z"  # the resolution's due instant


def test_a_repeated_firing_sends_nothing_twice(pipeline: Pipeline):
    p = pipeline
    created(p)
    p.fire()
    again = p.check_at("4711", T0 + 30 * MIN)
    assert again["sent"] == [] and len(p.emails()) == 1 and len(p.bus_events()) == 1


def test_a_stale_firing_after_an_answer_does_nothing(pipeline: Pipeline):
    p = pipeline
    created(p)
    p.now = T0 + 10 * MIN
    p.deliver(p.event("agent_replied", at=T0 + 9 * MIN))
    assert p.armed_for() == "2026-11-20T18:00:00Z"
    version = p.ticket_item()["version"]

    p.now = T0 + 30 * MIN + 2 * timedelta(seconds=1)
    result = p.check_at("4711", T0 + 30 * MIN)  # the old firing arrives anyway

    assert result["stale"] and result["sent"] == []
    assert p.emails() == [] and p.bus_events() == [] and p.items(prefix="N#") == []
    assert p.ticket_item()["version"] == version
    assert p.armed_for() == "2026-11-20T18:00:00Z"


def test_a_stale_firing_after_a_deletion_does_nothing(pipeline: Pipeline):
    p = pipeline
    created(p)
    p.now = T0 + 10 * MIN
    p.deliver(p.event("deleted", at=T0 + 9 * MIN))
    assert p.schedule() is None
    p.now = T0 + 31 * MIN
    result = p.check_at("4711", T0 + 30 * MIN)
    assert result["sent"] == [] and p.emails() == [] and p.schedule() is None


def test_a_firing_for_an_unknown_ticket_does_nothing(pipeline: Pipeline):
    result = pipeline.check_at("ghost", T0)
    assert result["stale"] and pipeline.emails() == []


def test_a_malformed_payload_is_a_function_error(pipeline: Pipeline):
    with pytest.raises(Exception, match="armed_for"):
        pipeline.check.lambda_handler({"ticket_id": "4711"}, LambdaContext("check"))


def test_ses_failing_keeps_the_notice_claimed_then_it_is_sent_exactly_once(pipeline: Pipeline, ses_outage):
    p = pipeline
    created(p)

    failed = p.fire()

    assert failed["sent"] == [] and failed["pending"] == ["4711#first_response#1#warning"]
    assert p.emails() == [] and p.bus_events() == []
    assert notice_item(p)["status"] == "claimed"
    # retried when the 5-minute lease ends (10:30:02 + 5 min -> 10:36), before the breach at 11:00
    assert p.armed_for() == "2026-11-20T10:36:00Z"
    assert p.ticket_item()["retry_at"].startswith("2026-11-20T10:36:00")

    ses_outage["on"] = False
    retried = p.fire()

    assert retried["sent"] == ["4711#first_response#1#warning"]
    assert len(p.emails()) == 1 and notice_item(p)["status"] == "sent"
    assert "retry_at" not in p.ticket_item() or p.ticket_item()["retry_at"] is None
    assert p.armed_for() == "2026-11-20T11:00:00Z"
    p.fire()
    assert [m.subject.split(":")[0] for m in p.emails()] == ["SLA warning", "SLA breached"]
