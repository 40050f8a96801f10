"""Echo recognition: the webhook each provider sends after slaclock's own write-back (built from the
provider's documented webhook fixtures under tests/fixtures/<provider>/, changed only where the echo
differs: the author is the API user, or the note carries slaclock's mark) is an echo; the agent's
and the customer's own deliveries are not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from slaclock.connectors import NOTE_MARK, is_echo

FIXTURES = Path(__file__).parents[2] / "fixtures"
API_USER = {"zendesk": "900000000001", "jira": "557058:api-user", "helpscout": "4242", "intercom": "7777"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def zendesk_echo(note: bool) -> Any:
    body = load("zendesk/ticket_comment_added.json")
    if note:
        body["event"]["comment"].update(body=f"{NOTE_MARK} Breach of first_response", is_public=False)
    else:
        body["detail"]["actor_id"] = API_USER["zendesk"]
        body["event"]["comment"]["author"]["id"] = int(API_USER["zendesk"])
    return body


def jira_echo(note: bool) -> Any:
    body = load("jira/comment_created.json")
    if note:
        body["comment"].update(body=f"{NOTE_MARK} Breach of first_response", jsdPublic=False)
    else:
        body["comment"]["author"]["accountId"] = API_USER["jira"]
    return body


def helpscout_echo(note: bool) -> Any:
    body = load("helpscout/convo_agent_reply.json")
    newest = body["_embedded"]["threads"][0]
    if note:
        newest.update(type="note", body=f"<p>{NOTE_MARK} Breach of first_response</p>")
    else:
        newest["createdBy"]["id"] = int(API_USER["helpscout"])
    return body


def intercom_echo(note: bool) -> Any:
    body = load("intercom/conversation_admin_replied.json")
    part = body["data"]["item"]["conversation_parts"]["conversation_parts"][-1]
    if note:
        part.update(part_type="note", body=f"<p>{NOTE_MARK} Breach of first_response</p>")
    else:
        part["author"]["id"] = API_USER["intercom"]
    return body


ECHOES = {"zendesk": zendesk_echo, "jira": jira_echo, "helpscout": helpscout_echo, "intercom": intercom_echo}
ORIGINALS = {
    "zendesk": "zendesk/ticket_comment_added.json",
    "jira": "jira/comment_created.json",
    "helpscout": "helpscout/convo_agent_reply.json",
    "intercom": "intercom/conversation_admin_replied.json",
    "freshdesk": "freshdesk/agent_replied.json",
    "liveagent": "liveagent/customer_replied.json",
}


@pytest.mark.parametrize("provider", sorted(ECHOES))
@pytest.mark.parametrize("note", [False, True], ids=["reply-by-api-user", "marked-note"])
def test_the_echo_of_a_write_back_is_recognised(provider: str, note: bool) -> None:
    assert is_echo(provider, ECHOES[provider](note), api_users=[API_USER[provider]])


@pytest.mark.parametrize("provider", sorted(ORIGINALS))
def test_an_agents_or_customers_own_delivery_is_not_an_echo(provider: str) -> None:
    assert not is_echo(provider, load(ORIGINALS[provider]), api_users=list(API_USER.values()))


def test_without_the_api_user_configured_a_reply_is_not_taken_for_an_echo() -> None:
    assert not is_echo("zendesk", zendesk_echo(note=False))


def test_the_mark_only_counts_at_the_start_of_the_note() -> None:
    body = copy.deepcopy(zendesk_echo(note=True))
    body["event"]["comment"]["body"] = f"Customer pasted {NOTE_MARK} into the reply"
    assert not is_echo("zendesk", body)


def test_freshdesk_marked_private_comment_and_liveagent_api_user() -> None:
    fd = load("freshdesk/agent_replied.json")
    fd["freshdesk_webhook"]["ticket_latest_private_comment"] = f"<div>{NOTE_MARK} Breach</div>"
    assert is_echo("freshdesk", fd)
    la = load("liveagent/customer_replied.json")
    assert is_echo("liveagent", la, api_users=["ana@example.com"])


@pytest.mark.parametrize(
    "payload", [None, [], "x", {"data": {"item": {"conversation_parts": 3}}}, {"_embedded": {"threads": [1]}}]
)
def test_hostile_shapes_are_not_echoes_and_do_not_raise(payload: Any) -> None:
    for provider in ORIGINALS:
        assert not is_echo(provider, payload, api_users=["1"])


# -- ingest: an echo delivery is never read as the agent's answer ----------------------------------

EVENT_NAMES = {"helpscout": "convo.agent.reply.created"}


def deliver(provider: str, *payloads: Any, answers: bool = False) -> list[Any]:
    """`payloads` POSTed in turn, signed as `provider` signs, to a source of that provider that writes
    back as its API user; the events the last one stored."""
    from datetime import UTC, datetime

    from slaclock_local.helpdesks import signed_headers

    from tests.fakes.world import CONFIG_DOC, SOURCE_SECRET, World

    doc = copy.deepcopy(CONFIG_DOC)
    api = {
        "url": "https://helpdesk.example.com",
        "secret": {"secrets_manager": "x"},
        "users": [API_USER[provider]],
    }
    doc["sources"] = {
        "hd": {"provider": provider, "secret": {"ssm_parameter": "/slaclock/custom"}, "api": api}
    }
    for level in doc["levels"].values():
        level["interim_reply_answers"] = answers
    w = World(doc)
    from slaclock.services.ingest import receive_webhook

    now = datetime(2026, 12, 1, tzinfo=UTC)
    for payload in payloads:
        body = json.dumps(payload).encode()
        headers = signed_headers(provider, SOURCE_SECRET, body, now, event=EVENT_NAMES.get(provider))
        receipt = receive_webhook(w.ingest_ports, "hd", {k.lower(): v for k, v in headers.items()}, body, now)
    ids = set(receipt.event_ids)
    return [e for t in receipt.tickets for e in w.events.ticket_events(t.ticket_id) if e.id in ids]


@pytest.mark.parametrize("provider", sorted(ECHOES))
@pytest.mark.parametrize("note", [False, True], ids=["reply-by-api-user", "marked-note"])
def test_ingest_stores_an_echo_as_an_update_marked_as_slaclocks(provider: str, note: bool) -> None:
    original = deliver(provider, load(ORIGINALS[provider]))
    assert {"agent_replied", "customer_replied"} & {e.type.value for e in original}  # a reply, read as one
    echoed = deliver(provider, ECHOES[provider](note))
    assert len(echoed) == len(original)
    assert {e.type.value for e in echoed} == {"updated"}  # neither an answer nor a customer's message
    assert all(e.id.endswith("~via-slaclock") for e in echoed)


def test_a_level_may_count_the_interim_reply_as_the_answer() -> None:
    original = load(ORIGINALS["zendesk"])
    echoed = deliver("zendesk", original, ECHOES["zendesk"](False), answers=True)
    assert "agent_replied" in [e.type.value for e in echoed]
    assert all(e.id.endswith("~via-slaclock") for e in echoed)
