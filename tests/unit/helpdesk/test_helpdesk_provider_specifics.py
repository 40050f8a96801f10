"""What each provider really sends, and the cases its payloads leave open.

Freshdesk: no id and no time placeholder, so identical reply bodies are the norm; they must stay
distinct replies (dated and keyed by the stamped receive instant), while any other identical body is
one change however often it is delivered. Jira: a ``comment_created`` webhook carries a reduced issue
(no reporter) and Jira Cloud hides e-mail addresses, so a comment's author is judged by its account.
Fixtures: tests/fixtures/<provider>/ (each README names the documentation pages).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slaclock.engine.events import EventType
from slaclock.helpdesk import provider_for
from slaclock.helpdesk._common import RECEIVED_AT_HEADER

from tests.fixtures.builders import body, load, raw, source, with_

AGENT = "712020:a1b2c3d4-0000-4e5f-8a9b-0123456789ab"  # Ana, the assignee in the fixtures
CUSTOMER = "5b10ac8d82e05b22cc7d4ef5"  # Bob, a customer with an Atlassian account


def received(at: str) -> dict[str, str]:
    return {RECEIVED_AT_HEADER: at}


def freshdesk(fixture: str, at: str, payload: bytes | None = None):
    [event] = provider_for("freshdesk").parse(
        received(at), raw("freshdesk", fixture) if payload is None else payload, source("freshdesk")
    )
    return event


# ---------------------------------------------------------------- stamping


def test_stamping_replaces_a_received_at_the_caller_sent_in_any_case():
    from slaclock.helpdesk._common import stamp_received  # noqa: PLC0415 - new in this change

    stamped = stamp_received(
        {"x-slaclock-received-at": "2020-01-01T00:00:00Z", "X-SLACLOCK-RECEIVED-AT": "1", "a": "b"},
        datetime(2026, 11, 20, 16, 2, 41, 250000, tzinfo=UTC),
    )
    assert stamped == {"a": "b", "x-slaclock-received-at": "2026-11-20T16:02:41.250000Z"}


# ---------------------------------------------------------------- Freshdesk


@pytest.mark.parametrize("fixture", ["agent_replied", "customer_replied"])
def test_identical_freshdesk_reply_bodies_received_at_different_instants_are_different_replies(fixture):
    first = freshdesk(fixture, "2026-11-20T16:10:00Z")
    second = freshdesk(fixture, "2026-11-20T16:55:00Z")
    assert first.id != second.id
    assert (first.at.isoformat(), second.at.isoformat()) == (
        "2026-11-20T16:10:00+00:00",
        "2026-11-20T16:55:00+00:00",
    )
    assert first.type is second.type is EventType(fixture)


def test_the_same_freshdesk_reply_request_handled_twice_is_one_event():
    """A Lambda retry or a duplicated invocation of ONE request keeps its API Gateway receive time."""
    assert (
        freshdesk("agent_replied", "2026-11-20T16:10:00.250Z").id
        == freshdesk("agent_replied", "2026-11-20T16:10:00.250Z").id
    )


@pytest.mark.parametrize(
    "fixture", ["ticket_created", "status_resolved", "status_codes_reopened", "public_note"]
)
def test_a_freshdesk_state_change_redelivered_later_is_the_same_event(fixture):
    """Freshdesk retries a failed delivery 5, 35 and 95 minutes later with the same body."""
    first = freshdesk(fixture, "2026-11-20T16:10:00Z")
    retry = freshdesk(fixture, "2026-11-20T16:15:00Z")
    assert first.id == retry.id


def test_a_freshdesk_reply_that_carries_its_own_time_is_keyed_by_its_body():
    payload = body(
        with_(
            load("freshdesk", "agent_replied"), "freshdesk_webhook.ticket_updated_at", "2026-11-20T16:09:58Z"
        )
    )
    first = freshdesk("agent_replied", "2026-11-20T16:10:00Z", payload)
    retry = freshdesk("agent_replied", "2026-11-20T16:15:00Z", payload)
    assert first.id == retry.id and first.at.isoformat() == "2026-11-20T16:09:58+00:00"


# ---------------------------------------------------------------- Jira


def jira(fixture: str, doc=None, **options):
    payload = raw("jira", fixture) if doc is None else body(doc)
    [event] = provider_for("jira").parse({}, payload, source("jira", **options))
    return event


def test_the_jira_comment_fixture_has_no_reporter_and_no_email_as_jira_cloud_sends_it():
    doc = load("jira", "comment_created_by_atlassian_account")
    assert "reporter" not in doc["issue"]["fields"]
    assert "emailAddress" not in doc["comment"]["author"]


def test_a_jira_portal_customer_comment_is_a_customer_reply():
    assert jira("comment_created").type is EventType.CUSTOMER_REPLIED


def test_a_jira_comment_by_an_atlassian_account_not_among_the_listed_agents_is_a_customer_reply():
    event = jira("comment_created_by_atlassian_account", agents=[AGENT, "557058:other-agent"])
    assert event.type is EventType.CUSTOMER_REPLIED


def test_a_jira_comment_by_a_listed_agent_or_the_assignee_is_an_agent_reply():
    doc = load("jira", "comment_created_by_atlassian_account")
    listed = with_(doc, "comment.author.accountId", "557058:other-agent")
    assert jira("", listed, agents=[AGENT, "557058:other-agent"]).type is EventType.AGENT_REPLIED
    by_assignee = with_(doc, "comment.author.accountId", AGENT)
    assert jira("", by_assignee, agents=["557058:other-agent"]).type is EventType.AGENT_REPLIED


def test_without_an_agent_list_a_jira_atlassian_account_comment_is_an_agent_reply():
    assert jira("comment_created_by_atlassian_account").type is EventType.AGENT_REPLIED


def test_an_automation_comment_is_never_taken_for_the_customer():
    doc = with_(load("jira", "comment_created_by_atlassian_account"), "comment.author.accountType", "app")
    assert jira("", doc, agents=[AGENT]).type is EventType.AGENT_REPLIED


def test_a_jira_internal_comment_answers_nobody_even_from_a_listed_agent():
    doc = with_(load("jira", "comment_created_by_atlassian_account"), "comment.author.accountId", AGENT)
    assert jira("", with_(doc, "comment.jsdPublic", False), agents=[AGENT]).type is EventType.UPDATED


def test_the_full_issue_of_an_issue_commented_update_names_the_reporter():
    doc = load("jira", "comment_created_by_atlassian_account")
    doc = with_(doc, "webhookEvent", "jira:issue_updated")
    doc = with_(doc, "issue.fields.reporter", {"accountId": CUSTOMER, "accountType": "atlassian"})
    event = jira("", doc)
    assert event.type is EventType.CUSTOMER_REPLIED
    # the reporter's e-mail is hidden and options.users does not map it: its account id is kept
    assert event.ticket["custom"]["jira_reporter_account_id"] == CUSTOMER


# ---------------------------------------------------------------- Intercom


@pytest.mark.parametrize("created_at", [10**20, -(10**20)])
def test_an_intercom_created_at_out_of_range_is_a_payload_error_not_a_crash(created_at):
    """Without the age window nothing else bounds created_at: it must still never raise past parse."""
    from slaclock.helpdesk import PayloadError

    doc = with_(load("intercom", "conversation_admin_replied"), "created_at", created_at)
    doc = with_(doc, "data.item.conversation_parts.conversation_parts", [])
    doc = with_(doc, "data.item.updated_at", None)
    with pytest.raises(PayloadError, match="created_at"):
        provider_for("intercom").parse({}, body(doc), source("intercom"))


def test_a_single_jira_agent_written_without_brackets_is_a_list_of_one():
    assert jira("comment_created_by_atlassian_account", agents=AGENT).type is EventType.CUSTOMER_REPLIED


# ---------------------------------------------------------------- LiveAgent message groups


def test_liveagent_message_group_types_give_the_message_facts():
    from slaclock.helpdesk import PayloadError  # noqa: PLC0415

    def facts(group):
        doc = with_(load("liveagent", "internal_note"), "message_group", group)
        [event] = provider_for("liveagent").parse({}, body(doc), source("liveagent"))
        return event.reply

    note = load("liveagent", "internal_note")["message_group"]
    assert facts(note) == {"public": False, "via": "I"}
    # MessageGroup.md: 3 INCOMING_EMAIL, 4 OUTGOING_EMAIL, C CHAT; G (a tag) states nothing of a message
    assert facts({**note, "type": "3"}) == {"public": True, "author": "customer", "via": "3"}
    assert facts({**note, "type": "4"}) == {"public": True, "author": "agent", "via": "4"}
    assert facts({**note, "type": "c"}) == {"public": True, "via": "C"}
    assert facts({**note, "type": "G"}) == {"via": "G"}
    assert facts({"id": "k3nl2p0q"}) is None
    with pytest.raises(PayloadError) as err:
        facts("I")
    assert err.value.errors == [("message_group", "must be an object (the API's MessageGroup)")]
    with pytest.raises(PayloadError) as err:
        facts({**note, "type": 4})
    assert err.value.errors == [("message_group.type", "must be the group's one-letter type")]
