"""How each provider's events map to canonical event types (the tables in docs/helpdesks.md), built as
variants of the sample payloads."""

from __future__ import annotations

import pytest
from slaclock.engine.events import EventType
from slaclock.helpdesk import provider_for

from tests.fixtures.builders import DELETE, body, load, source, with_

E = EventType


STAMPED = {"X-Slaclock-Received-At": "2026-11-20T16:30:05Z"}  # as the webhook function sends every parse


def events(provider, doc, headers=None, **options):
    return provider_for(provider).parse(STAMPED | (headers or {}), body(doc), source(provider, **options))


def kinds(provider, doc, headers=None, **options):
    return [e.type for e in events(provider, doc, headers, **options)]


# ---------------------------------------------------------------- zendesk

ZEN_COMMENT = load("zendesk", "ticket_comment_added")
ZEN_STATUS = load("zendesk", "ticket_status_changed")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (with_(ZEN_COMMENT, "event.comment.author.is_staff", False), E.CUSTOMER_REPLIED),
        (with_(ZEN_COMMENT, "event.comment.is_public", False), E.UPDATED),  # internal note
        (with_(ZEN_COMMENT, "event.comment.author", DELETE), E.UPDATED),
        (with_(ZEN_STATUS, "event", {"current": "OPEN", "previous": "SOLVED"}), E.REOPENED),
        (with_(ZEN_STATUS, "event", {"current": "PENDING", "previous": "OPEN"}), E.UPDATED),
        (with_(ZEN_STATUS, "event", {"current": "CLOSED", "previous": "SOLVED"}), E.CLOSED),
        (with_(ZEN_STATUS, "type", "zen:event-type:ticket.soft_deleted"), E.DELETED),
        (with_(ZEN_STATUS, "type", "zen:event-type:ticket.marked_as_spam"), E.DELETED),
        (with_(ZEN_STATUS, "type", "zen:event-type:ticket.merged"), E.CLOSED),
        (with_(ZEN_STATUS, "type", "zen:event-type:ticket.priority_changed"), E.UPDATED),
    ],
    ids=[
        "end-user-comment",
        "private-note",
        "unknown-author",
        "solved-to-open",
        "open-to-pending",
        "solved-to-closed",
        "soft-deleted",
        "spam",
        "merged",
        "priority",
    ],
)
def test_zendesk_event_subscription_types(doc, expected):
    assert kinds("zendesk", doc) == [expected]


def test_zendesk_status_changed_reads_the_new_status_from_the_event():
    doc = with_(with_(ZEN_STATUS, "event", {"current": "HOLD", "previous": "OPEN"}), "detail.status", "OPEN")
    (event,) = events("zendesk", doc)
    assert event.ticket["status"] == "on_hold"


ZEN_TRIGGER = load("zendesk", "trigger_agent_replied")


@pytest.mark.parametrize(
    ("event", "status", "expected"),
    [
        ("auto", "Solved", E.SOLVED),
        ("auto", "Closed", E.CLOSED),
        ("auto", "Pending", E.UPDATED),
        (DELETE, "Solved", E.SOLVED),
        ("customer_replied", "Open", E.CUSTOMER_REPLIED),
        ("REOPENED", "Open", E.REOPENED),
    ],
)
def test_zendesk_trigger_bodies_name_their_event_or_let_the_status_decide(event, status, expected):
    doc = with_(with_(ZEN_TRIGGER, "event", event), "ticket.status", status)
    assert kinds("zendesk", doc) == [expected]


def test_zendesk_trigger_created_events_take_the_creation_time():
    doc = with_(ZEN_TRIGGER, "event", "created")
    (event,) = events("zendesk", doc)
    assert event.at.isoformat() == "2026-11-20T15:45:00+00:00"


@pytest.mark.parametrize(
    ("signed", "expected"),
    [
        ("2026-11-20T16:02:41Z", "2026-11-20T16:02:41+00:00"),
        ("2026-11-20T16:03:00Z", "2026-11-20T16:02:00+00:00"),  # a retry a minute later: keep the minute
        (None, "2026-11-20T16:02:00+00:00"),
    ],
)
def test_zendesk_trigger_times_take_their_seconds_from_the_signature_only_within_the_minute(signed, expected):
    headers = {"x-zendesk-webhook-signature-timestamp": signed} if signed else {}
    (event,) = events("zendesk", ZEN_TRIGGER, headers)
    assert event.at.isoformat() == expected


def test_zendesk_trigger_with_an_empty_assignee_unassigns():
    (event,) = events("zendesk", with_(ZEN_TRIGGER, "ticket.assignee_email", ""))
    assert event.ticket["assignee"] is None


def test_zendesk_bodies_of_neither_shape_are_refused():
    from slaclock.helpdesk import PayloadError

    with pytest.raises(PayloadError, match="neither a Zendesk event"):
        events("zendesk", {"hello": "world"})


# ---------------------------------------------------------------- freshdesk

FRESH = load("freshdesk", "status_resolved")


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("{status:{from:Open,to:Closed}}", E.CLOSED),
        ("{status:{from:Resolved,to:Open}}", E.REOPENED),
        ("{status:{from:5,to:2}}", E.REOPENED),
        ("{status:{from:Open,to:Pending}}", E.UPDATED),
        ("{priority:{from:Low,to:Urgent}}", E.UPDATED),
        ("{ticket_action:created}", E.CREATED),
        ("{ticket_action:deleted}", E.DELETED),
        ("{note_type:private}", E.UPDATED),
    ],
)
def test_freshdesk_triggered_events(trigger, expected):
    doc = with_(
        with_(FRESH, "freshdesk_webhook.triggered_event", trigger), "freshdesk_webhook.ticket_status", "Open"
    )
    assert kinds("freshdesk", doc) == [expected]


def test_freshdesk_rules_can_name_the_event_themselves():
    doc = with_(FRESH, "freshdesk_webhook.slaclock_event", "agent_replied")
    assert kinds("freshdesk", doc) == [E.AGENT_REPLIED]


def test_freshdesk_numeric_codes_and_custom_statuses_are_normalised():
    doc = with_(
        with_(FRESH, "freshdesk_webhook.ticket_status", "7"), "freshdesk_webhook.ticket_priority", "1"
    )
    doc = with_(with_(doc, "freshdesk_webhook.ticket_source", "7"), "freshdesk_webhook.triggered_event", "")
    (event,) = events("freshdesk", doc)
    assert (event.ticket["status"], event.ticket["priority"], event.ticket["channel"]) == (
        "on_hold",
        "low",
        "chat",
    )


def test_a_source_status_map_overrides_the_built_in_table():
    doc = with_(FRESH, "freshdesk_webhook.ticket_status", "Waiting on Third Party")
    doc = with_(doc, "freshdesk_webhook.triggered_event", "{priority:{from:Low,to:High}}")
    (default,) = events("freshdesk", doc)
    (mapped,) = events("freshdesk", doc, status_map={"waiting on third party": "pending"})
    assert (default.ticket["status"], mapped.ticket["status"]) == ("on_hold", "pending")


def test_an_unknown_status_is_kept_as_a_lowercase_slug():
    doc = with_(FRESH, "freshdesk_webhook.ticket_status", "Awaiting Legal Review")
    doc = with_(doc, "freshdesk_webhook.triggered_event", "{priority:{from:Low,to:High}}")
    (event,) = events("freshdesk", doc)
    assert event.ticket["status"] == "awaiting_legal_review"


# ---------------------------------------------------------------- liveagent

LIVE = load("liveagent", "ticket_resolved")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("X", "deleted", E.DELETED),
        ("B", "spam", E.DELETED),
        ("L", "closed", E.CLOSED),
        ("W", "on_hold", E.UPDATED),
        ("A", "pending", E.UPDATED),
        ("C", "open", E.UPDATED),
    ],
)
def test_liveagent_bare_tickets_take_their_type_from_the_status_code(code, status, expected):
    (event,) = events("liveagent", with_(LIVE, "status", code))
    assert (event.type, event.ticket["status"]) == (expected, status)


def test_liveagent_times_without_offset_are_read_in_the_source_time_zone():
    (utc,) = events("liveagent", LIVE)
    (paris,) = events("liveagent", LIVE, timezone="Europe/Paris")
    assert (utc.at - paris.at).total_seconds() == 3600


def test_an_unknown_time_zone_option_is_named():
    from slaclock.helpdesk import PayloadError

    with pytest.raises(
        PayloadError, match="source.options.timezone: 'Mars/Olympus' is not an IANA time zone"
    ):
        events("liveagent", LIVE, timezone="Mars/Olympus")


# ---------------------------------------------------------------- intercom

REPLIED = load("intercom", "conversation_admin_replied")
OPTIONS = {"users": {"9608799": "ana@example.com"}, "teams": {"5017691": "billing"}}


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("conversation.user.replied", [E.CUSTOMER_REPLIED]),
        ("conversation.admin.opened", [E.REOPENED]),
        ("conversation.admin.snoozed", [E.UPDATED]),
        ("conversation.admin.assigned", [E.UPDATED]),
        ("conversation.admin.noted", [E.UPDATED]),
        ("conversation.operator.replied", [E.UPDATED]),  # a bot's answer is not a teammate's
        ("conversation.deleted", [E.DELETED]),
        ("conversation.admin.single.created", [E.CREATED, E.AGENT_REPLIED]),
        ("conversation.read", []),
        ("contact.user.created", []),
        ("ticket.created", []),
    ],
)
def test_intercom_topics(topic, expected):
    assert kinds("intercom", with_(REPLIED, "topic", topic), **OPTIONS) == expected


def test_intercom_user_replies_use_the_customers_part():
    customer_part = {
        "type": "conversation_part",
        "id": "37358430000",
        "part_type": "comment",
        "created_at": 1795190600,
        "author": {"id": "696205460674dbb9050aa7fd", "type": "user", "email": "bob@client.test"},
    }
    parts = [*REPLIED["data"]["item"]["conversation_parts"]["conversation_parts"], customer_part]
    doc = with_(
        with_(REPLIED, "topic", "conversation.user.replied"),
        "data.item.conversation_parts.conversation_parts",
        parts,
    )
    (event,) = events("intercom", doc)
    assert (event.id, event.at.isoformat()) == (
        "intercom:215472621202693:part:37358430000",
        "2026-11-20T16:03:20+00:00",
    )


def test_intercom_admin_initiated_conversations_count_the_first_message_as_the_reply():
    created, reply = events("intercom", with_(REPLIED, "topic", "conversation.admin.single.created"))
    assert created.at == reply.at
    assert created.key < reply.key  # created sorts first at the same instant
    assert reply.id == "intercom:215472621202693:part:3381828792"


def test_intercom_priorities_and_snoozed_state():
    doc = with_(with_(REPLIED, "data.item.priority", "not_priority"), "data.item.state", "snoozed")
    (event,) = events("intercom", doc)
    assert (event.ticket["priority"], event.ticket["status"]) == ("normal", "on_hold")


def test_the_same_intercom_part_from_two_apps_is_one_event():
    other_app = with_(with_(REPLIED, "id", "notif_ffffffff-0000-4000-8000-000000000000"), "app_id", "other")
    assert [e.id for e in events("intercom", REPLIED)] == [e.id for e in events("intercom", other_app)]


# ---------------------------------------------------------------- jira

COMMENT = load("jira", "comment_created")
RESOLVED = load("jira", "issue_updated_resolved")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (with_(COMMENT, "comment.author.accountType", "atlassian"), E.AGENT_REPLIED),
        (
            with_(with_(COMMENT, "comment.author.accountType", "atlassian"), "comment.jsdPublic", False),
            E.UPDATED,
        ),
        (
            with_(
                with_(RESOLVED, "changelog.items.1.fromString", "Resolved"),
                "issue.fields.status",
                {"name": "Waiting for support", "statusCategory": {"key": "indeterminate"}},
            ),
            E.REOPENED,
        ),
        (
            with_(
                with_(
                    RESOLVED,
                    "changelog.items",
                    [
                        {
                            "field": "resolution",
                            "from": "10000",
                            "fromString": "Done",
                            "to": None,
                            "toString": None,
                        }
                    ],
                ),
                "issue.fields.status",
                {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            ),
            E.REOPENED,
        ),
        (
            with_(RESOLVED, "issue.fields.status", {"name": "Closed", "statusCategory": {"key": "done"}}),
            E.CLOSED,
        ),
        (
            with_(
                RESOLVED,
                "changelog.items",
                [{"field": "priority", "fromString": "High", "toString": "Highest"}],
            ),
            E.UPDATED,
        ),
        (with_(RESOLVED, "webhookEvent", "jira:issue_deleted"), E.DELETED),
    ],
    ids=[
        "agent-comment",
        "internal-comment",
        "status-reopened",
        "resolution-cleared",
        "closed",
        "priority",
        "deleted",
    ],
)
def test_jira_types(doc, expected):
    assert kinds("jira", doc) == [expected]


def test_an_issue_updated_carrying_a_comment_is_the_same_event_as_comment_created():
    updated = with_(
        with_(COMMENT, "webhookEvent", "jira:issue_updated"), "issue_event_type_name", "issue_commented"
    )
    assert [e.id for e in events("jira", updated)] == [e.id for e in events("jira", COMMENT)]


@pytest.mark.parametrize("event", ["worklog_created", "comment_deleted", "jira:version_released"])
def test_other_jira_events_are_ignored(event):
    assert events("jira", with_(COMMENT, "webhookEvent", event)) == []


def test_jira_custom_status_names_fall_back_to_their_category():
    doc = with_(
        RESOLVED,
        "issue.fields.status",
        {"name": "Escalated to L2", "statusCategory": {"key": "indeterminate"}},
    )
    doc = with_(doc, "changelog.items", [{"field": "priority"}])
    (event,) = events("jira", doc)
    assert (event.ticket["status"], event.ticket["custom"]["jira_status"]) == ("open", "Escalated to L2")


def test_jira_hidden_emails_map_through_the_users_option():
    doc = with_(RESOLVED, "issue.fields.assignee.emailAddress", DELETE)
    (unmapped,) = events("jira", doc)
    (mapped,) = events("jira", doc, users={"5b10ac8d82e05b22cc7d4ef5": "ana@example.com"})
    assert "assignee" not in unmapped.ticket
    assert unmapped.ticket["custom"]["jira_assignee_account_id"] == "5b10ac8d82e05b22cc7d4ef5"
    assert mapped.ticket["assignee"] == "ana@example.com"


# ---------------------------------------------------------------- help scout

CLOSED = load("helpscout", "convo_status_closed")


@pytest.mark.parametrize(
    ("event", "status", "expected"),
    [
        ("convo.status", "active", [E.REOPENED]),
        ("convo.status", "pending", [E.UPDATED]),
        ("convo.status", "spam", [E.DELETED]),
        ("convo.assigned", "active", [E.UPDATED]),
        ("convo.tags", "active", [E.UPDATED]),
        ("convo.note.created", "active", [E.UPDATED]),
        ("customer.created", "active", []),
        ("satisfaction.ratings", "active", []),
    ],
)
def test_help_scout_events(event, status, expected):
    assert kinds("helpscout", with_(CLOSED, "status", status), {"X-HelpScout-Event": event}) == expected


def test_help_scout_closed_can_be_read_as_closed_instead_of_solved():
    (event,) = events(
        "helpscout", CLOSED, {"X-HelpScout-Event": "convo.status"}, status_map={"closed": "closed"}
    )
    assert (event.type, event.ticket["status"]) == (E.CLOSED, "closed")


def test_help_scout_legacy_conversations_are_read_too():
    legacy = {
        "id": 291938,
        "number": 349,
        "type": "chat",
        "status": "active",
        "isDraft": False,
        "owner": {
            "id": 2,
            "firstName": "Ana",
            "lastName": "Agent",
            "email": "ana@example.com",
            "type": "user",
        },
        "mailbox": {"id": 13, "name": "Billing"},
        "customer": {
            "id": 29418,
            "firstName": "Bob",
            "lastName": "Client",
            "email": "bob@client.test",
            "type": "customer",
        },
        "createdAt": "2026-11-20T15:45:00Z",
        "modifiedAt": "2026-11-20T16:00:00Z",
        "tags": ["URGENT", "vip"],
    }
    (event,) = events("helpscout", legacy, {"X-HelpScout-Event": "convo.assigned"})
    assert event.to_dict()["at"] == "2026-11-20T16:00:00Z"
    assert event.ticket == {
        "status": "open",
        "channel": "chat",
        "tags": ["URGENT", "vip"],
        "assignee": "ana@example.com",
        "requester": "bob@client.test",
        "department": "Billing",
        "custom": {"helpscout_number": "349"},
    }
