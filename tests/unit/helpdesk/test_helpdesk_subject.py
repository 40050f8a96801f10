"""Every helpdesk provider maps the ticket's subject (its title) into the canonical ``subject`` field,
from the field its documented payload carries it in (the fixtures under tests/fixtures/<provider>/
name their source pages); a subject of the wrong type is a 400 naming its path, a huge one a 400
naming the field; a notice e-mail for a Zendesk ticket shows the subject the webhook brought; and the
history imports (tests/fixtures/exports/, each naming its API page) carry the export's subject."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import PayloadError, provider_for
from slaclock.helpdesk._common import dig
from slaclock.history import RecordError, history_format, read_file
from slaclock.services.ingest import MAX_FIELDS_BYTES, receive_webhook

from tests.fakes.world import CONFIG_DOC, World
from tests.fixtures.builders import DELETE, SECRET, body, load, source, with_, zendesk_headers

RECEIVED = {"X-Slaclock-Received-At": "2026-11-21T10:00:00Z"}
HELPSCOUT_CREATED = {"X-HelpScout-Event": "convo.created"}

# (provider, fixture, where the payload holds the subject, headers)
CARRIERS = [
    ("zendesk", "ticket_created", "detail.subject", {}),
    ("zendesk", "ticket_comment_added", "detail.subject", {}),
    ("zendesk", "trigger_agent_replied", "ticket.subject", {}),
    ("freshdesk", "ticket_created", "freshdesk_webhook.ticket_subject", RECEIVED),
    ("freshdesk", "public_note", "freshdesk_webhook.ticket_subject", RECEIVED),
    ("liveagent", "ticket_created", "subject", {}),
    ("liveagent", "ticket_resolved", "subject", {}),
    ("liveagent", "customer_replied", "ticket.subject", {}),
    ("jira", "issue_created", "issue.fields.summary", {}),
    ("jira", "comment_created", "issue.fields.summary", {}),
    ("jira", "issue_updated_status", "issue.fields.summary", {}),
    ("helpscout", "convo_created", "subject", HELPSCOUT_CREATED),
]


def _parse(provider: str, doc: Any, headers: dict[str, str], **options: Any) -> list[dict[str, Any]]:
    events = provider_for(provider).parse(headers, body(doc), source(provider, **options))
    return [e.to_dict() for e in events]


@pytest.mark.parametrize(("provider", "fixture", "path", "headers"), CARRIERS, ids=lambda v: str(v))
def test_the_parsed_subject_is_the_payloads(provider, fixture, path, headers):
    doc = load(provider, fixture)
    sent = dig(doc, path)
    assert isinstance(sent, str) and sent  # the documented payload does carry one
    (event,) = _parse(provider, doc, headers)
    assert event["ticket"]["subject"] == sent.strip()
    renamed = with_(doc, path, "  Refund not received  ")
    assert _parse(provider, renamed, headers)[0]["ticket"]["subject"] == "Refund not received"


@pytest.mark.parametrize(("provider", "fixture", "path", "headers"), CARRIERS, ids=lambda v: str(v))
def test_a_subject_that_is_not_text_is_refused_naming_its_path(provider, fixture, path, headers):
    for bad, kind in (({"text": "x"}, "an object"), (["x"], "an array"), (True, "a boolean")):
        with pytest.raises(PayloadError) as exc:
            _parse(provider, with_(load(provider, fixture), path, bad), headers)
        paths = [p for p, _ in exc.value.errors]
        if provider == "zendesk" and path.startswith("detail."):  # the event model says it its way
            assert paths == [path], exc.value.errors
        else:
            assert exc.value.errors == [(path, f"{kind} is not a string")]


@pytest.mark.parametrize(("provider", "fixture", "path", "headers"), CARRIERS, ids=lambda v: str(v))
def test_without_a_subject_the_field_stays_unknown(provider, fixture, path, headers):
    """Absent, null or blank: no ``subject`` key, so the ticket keeps the one an earlier event gave."""
    for gone in (DELETE, None, "   "):
        (event,) = _parse(provider, with_(load(provider, fixture), path, gone), headers)
        assert "subject" not in event["ticket"]


def test_zendesk_reads_the_tickets_subject_not_the_envelopes_resource_name():
    doc = load("zendesk", "ticket_status_changed")
    assert doc["subject"] == "zen:ticket:35436" and "subject" not in doc["detail"]
    (event,) = _parse("zendesk", doc, {})
    assert "subject" not in event["ticket"]


# ---------------------------------------------------------------- Intercom: title, then the message's

INTERCOM_ITEM = "data.item"


@pytest.mark.parametrize(
    ("fixture", "changes", "expected"),
    [
        ("conversation_user_created", {"title": "Invoice INV-2231", "source.subject": "Re: invoice"},
         "Invoice INV-2231"),
        ("conversation_user_created", {"source.subject": "Wrong VAT number"}, "Wrong VAT number"),
        ("conversation_admin_replied", {"title": "Refund"}, "Refund"),
        ("conversation_admin_replied_v1", {"conversation_message.subject": "Hello there"}, "Hello there"),
        ("conversation_user_created", {}, None),  # a chat: title and source.subject are ""
        ("conversation_admin_replied_v1", {}, None),
    ],
)  # fmt: skip
def test_intercom_takes_the_title_else_the_first_messages_subject(fixture, changes, expected):
    doc = load("intercom", fixture)
    for path, value in changes.items():
        doc = with_(doc, f"{INTERCOM_ITEM}.{path}", value)
    events = _parse("intercom", doc, {})
    assert events and all(e["ticket"].get("subject") == expected for e in events if e["ticket"])


def test_intercom_refuses_a_title_that_is_not_text():
    doc = with_(load("intercom", "conversation_user_created"), "data.item.title", {"a": 1})
    with pytest.raises(PayloadError) as exc:
        _parse("intercom", doc, {})
    assert exc.value.errors == [("data.item.title", "an object is not a string")]


# ---------------------------------------------------------------- through the webhook use case

ZENDESK_OPTIONS = {"users": {"20978392": "bob@client.test"}, "groups": {"98738": "billing"}}
CREATED_AT = datetime(2026, 11, 20, 15, 45, 0, 482913, tzinfo=UTC)  # ticket_created.json's "time"


def _zendesk_world() -> World:
    zendesk = {
        "provider": "zendesk",
        "secret": {"ssm_parameter": "/slaclock/zendesk-main"},
        "options": ZENDESK_OPTIONS,
    }
    doc = {**CONFIG_DOC, "sources": {**CONFIG_DOC["sources"], "zendesk-main": zendesk}}
    w = World(doc)
    w.secrets.secrets["/slaclock/zendesk-main"] = SECRET
    return w


def test_a_notice_email_for_a_zendesk_ticket_shows_the_subject_the_webhook_brought():
    w = _zendesk_world()
    payload = body(load("zendesk", "ticket_created"))
    now = CREATED_AT + timedelta(seconds=5)
    receive_webhook(w.ingest_ports, "zendesk-main", zendesk_headers(payload, now), payload, now)
    assert w.state("35436").fields["subject"] == "Wrong VAT number on invoice"
    for _ in range(6):  # warning (nobody assigned: no mail), then the breach to the billing lead
        if w.mailer.sent:
            break
        w.fire("35436")
    (mail,) = w.mailer.sent
    assert mail.subject.startswith("SLA breached: ticket 35436")
    assert "Subject: Wrong VAT number on invoice" in mail.text.splitlines()
    assert "Requester: bob@client.test" in mail.text.splitlines()
    assert "Wrong VAT number on invoice" in mail.html


def test_a_huge_subject_is_a_400_naming_the_field_and_stores_nothing():
    w = _zendesk_world()
    huge = "x" * MAX_FIELDS_BYTES
    payload = body(with_(load("zendesk", "ticket_created"), "detail.subject", huge))
    now = CREATED_AT + timedelta(seconds=5)
    with pytest.raises(PayloadError) as exc:
        receive_webhook(w.ingest_ports, "zendesk-main", zendesk_headers(payload, now), payload, now)
    ((path, message),) = exc.value.errors
    assert path == "ticket" and message.endswith(f"at most {MAX_FIELDS_BYTES} (largest: subject)")
    assert w.events.items == {} and w.tickets.get("35436") is None


# ---------------------------------------------------------------- history imports

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"


def _imported(provider: str, name: str, ticket_id: str) -> list[Event]:
    found = read_file(EXPORTS / name, history_format(provider), source(provider))
    return [e for _, got in found if isinstance(got, list) for e in got if e.ticket_id == ticket_id]


@pytest.mark.parametrize(
    ("provider", "name", "ticket_id", "every_event"),
    [
        ("zendesk", "zendesk-ticket-audits.json", "101", False),  # the Create audit only: later ones keep it
        ("freshdesk", "freshdesk-tickets-conversations.jsonl", "101", True),
        ("intercom", "intercom-conversations-parts.json", "501", True),
        ("jira", "jira-issues-changelog.json", "SUP-1", True),
        ("helpscout", "helpscout-conversations-threads.json", "501", True),
    ],
)
def test_imported_histories_carry_the_exports_subject(provider, name, ticket_id, every_event):
    events = _imported(provider, name, ticket_id)
    assert events[0].type is EventType.CREATED and events[0].ticket["subject"] == "Invoice is wrong"
    carrying = [e for e in events if e.ticket.get("subject") == "Invoice is wrong"]
    assert len(carrying) == (len([e for e in events if e.ticket]) if every_event else 1)
    assert all(e.ticket.get("subject") in (None, "Invoice is wrong") for e in events)


def _freshdesk_record() -> dict[str, Any]:
    lines = (EXPORTS / "freshdesk-tickets-conversations.jsonl").read_text(encoding="utf-8").splitlines()
    return next(r for r in map(json.loads, lines) if r.get("id") == 101)


def test_a_freshdesk_import_gives_the_ids_it_gave_before_subjects_were_read():
    record = _freshdesk_record()
    untitled = {k: v for k, v in record.items() if k != "subject"}
    titled = history_format("freshdesk").events(record, source("freshdesk"))
    before = history_format("freshdesk").events(untitled, source("freshdesk"))
    assert [e.id for e in titled] == [e.id for e in before] and len(titled) > 2
    assert [e.ticket["subject"] for e in titled] == ["Invoice is wrong"] * len(titled)
    assert all("subject" not in e.ticket for e in before)


def test_a_freshdesk_record_whose_subject_is_not_text_is_refused():
    with pytest.raises(RecordError, match="subject: an array is not a string"):
        history_format("freshdesk").events({**_freshdesk_record(), "subject": ["x"]}, source("freshdesk"))
