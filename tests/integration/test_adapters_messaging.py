"""SES v2 mailer and EventBridge publisher against moto (sender identity created from template.yaml)."""

from __future__ import annotations

import json

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from slaclock.adapters.events import SLA_BREACHED, SLA_WARNING, EventBridgePublisher
from slaclock.adapters.ses import SesMailer
from slaclock.ports import ServiceUnavailable

pytestmark = pytest.mark.integration


def sent(aws):
    return ses_backends[DEFAULT_ACCOUNT_ID][aws.region].sent_messages


def test_an_email_is_sent_from_the_configured_sender_with_both_bodies(aws):
    mailer = SesMailer(sender=aws.env["SLACLOCK_SENDER"], client=aws.client("sesv2"))
    message_id = mailer.send(
        ["ana@example.com", "lead@example.com", "ana@example.com"],
        "SLA warning: ticket 4711",
        "Ticket 4711 is due at 16:45 (Europe/Paris).",
        "<p>Ticket <b>4711</b> is due at 16:45 (Europe/Paris).</p>",
    )
    (msg,) = sent(aws)
    assert msg.id == message_id
    assert msg.source == aws.sender
    assert msg.destinations["ToAddresses"] == ["ana@example.com", "lead@example.com"]
    assert msg.subject == "SLA warning: ticket 4711"
    assert "<b>4711</b>" in msg.body  # moto keeps the HTML body when both are given


def test_the_request_carries_subject_text_and_html(aws, monkeypatch):
    mailer = SesMailer(sender=aws.sender, client=aws.client("sesv2"))
    seen = {}
    original = mailer.client.send_email

    def spy(**params):
        seen.update(params)
        return original(**params)

    monkeypatch.setattr(mailer.client, "send_email", spy)
    mailer.send(["ana@example.com"], "Subject é", "plain text", "<p>html</p>")
    simple = seen["Content"]["Simple"]
    assert simple["Subject"]["Data"] == "Subject é"
    assert simple["Body"]["Text"]["Data"] == "plain text"
    assert simple["Body"]["Html"]["Data"] == "<p>html</p>"
    assert seen["FromEmailAddress"] == aws.sender


def test_more_than_fifty_recipients_go_in_chunks(aws):
    mailer = SesMailer(sender=aws.sender, client=aws.client("sesv2"))
    mailer.send([f"agent{n}@example.com" for n in range(120)], "s", "t", "<p>h</p>")
    assert [len(m.destinations["ToAddresses"]) for m in sent(aws)] == [50, 50, 20]


def test_a_refused_email_is_service_unavailable_and_names_no_address(aws):
    mailer = SesMailer(sender="not-verified@elsewhere.test", client=aws.client("sesv2"))
    with pytest.raises(ServiceUnavailable) as info:
        mailer.send(["ana@example.com"], "s", "t", "<p>h</p>")
    assert "MessageRejected" in str(info.value)
    assert "@" not in str(info.value)
    assert sent(aws) == []


def test_no_recipient_is_a_programming_error(aws):
    with pytest.raises(ValueError, match="recipient"):
        SesMailer(sender=aws.sender, client=aws.client("sesv2")).send(["", " "], "s", "t", "h")


# ------------------------------------------------------------------------------------------ events


@pytest.fixture
def subscriber(aws):
    """An integration's rule on the bus: slaclock's SLA events into an SQS queue."""
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="integration")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["slaclock"], "detail-type": [SLA_WARNING, SLA_BREACHED]}
    events.put_rule(
        Name="sla-events", EventPattern=json.dumps(pattern), EventBusName=aws.env["SLACLOCK_EVENT_BUS"]
    )
    events.put_targets(Rule="sla-events", Targets=[{"Id": "q", "Arn": arn}])

    def received():
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def test_sla_events_reach_a_rule_matching_source_and_detail_type(aws, subscriber):
    publisher = EventBridgePublisher(bus_name=aws.env["SLACLOCK_EVENT_BUS"], client=aws.client("events"))
    publisher.publish(SLA_BREACHED, {"ticket_id": "4711", "metric": "first_response", "late_seconds": 60})
    (event,) = subscriber()
    assert event["source"] == "slaclock"
    assert event["detail-type"] == "SLA Breached"
    assert event["detail"] == {"ticket_id": "4711", "metric": "first_response", "late_seconds": 60}


def test_a_failed_entry_is_service_unavailable(aws, monkeypatch):
    publisher = EventBridgePublisher(client=aws.client("events"))
    monkeypatch.setattr(
        publisher.client,
        "put_events",
        lambda **_: {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "x"}],
        },
    )
    with pytest.raises(ServiceUnavailable, match="ThrottlingException"):
        publisher.publish(SLA_WARNING, {"ticket_id": "4711"})
