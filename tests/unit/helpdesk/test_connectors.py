"""Each connector against a loopback server speaking its provider's documented API: method, path,
auth header and body of every write-back compared with the documented request in
`tests/fixtures/connectors/<provider>.json` (each call names its documentation page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slaclock.connectors import (
    CAPABILITIES,
    CONNECTORS,
    WRITE_BACKS,
    CredentialsError,
    UnsupportedActionError,
    connector,
)
from slaclock.connectors.http import HttpClient, RejectedError

from tests.fixtures.api_server import Answer, ApiServer, serve

FIXTURES = Path(__file__).parents[2] / "fixtures" / "connectors"
server = pytest.fixture(serve)

TICKET = {"jira": "SUP-7"}
FIELD = {"freshdesk": "cf_region", "jira": "customfield_10050", "intercom": "region", "liveagent": "region"}


def documented(provider: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{provider}.json").read_text())
    return data


def run(conn: Any, provider: str, action: str) -> None:
    ticket = TICKET.get(provider, "123")
    args: dict[str, tuple[Any, ...]] = {
        "add_tags": (["sla-breach"],),
        "set_priority": ("urgent",),
        "set_field": (FIELD.get(provider, "360001"), "EU"),
        "internal_note": ("We are on it",),
        "unassign": (),
        "reply": ("We are on it",),
    }
    getattr(conn, action)(ticket, *args[action])


CASES = [(p, a) for p in sorted(CONNECTORS) for a in sorted(documented(p)["calls"])]


@pytest.mark.parametrize(("provider", "action"), CASES)
def test_each_write_back_sends_the_documented_request(server: ApiServer, provider: str, action: str) -> None:
    doc = documented(provider)
    calls = doc["calls"][action]
    server.answer(*(Answer(status=c.get("status", 200), body=c.get("answer", {})) for c in calls))
    conn = connector(provider, server.url, json.dumps(doc["auth"]["secret"]), HttpClient(attempts=1))

    run(conn, provider, action)

    assert [(r.method, r.path) for r in server.received] == [(c["method"], c["path"]) for c in calls]
    for got, want in zip(server.received, calls, strict=True):
        assert want["source"].startswith("https://")
        if "form" in want:
            assert got.headers["content-type"] == "application/x-www-form-urlencoded"
            assert got.form() == want["form"]
        else:
            assert got.json() == want["json"]
            if want["json"] is not None:
                assert got.headers["content-type"] == "application/json"
        if "authorization" in doc["auth"]:
            assert got.headers["authorization"] == doc["auth"]["authorization"]
        for key, value in doc["auth"].get("headers", {}).items():
            assert got.headers[key] == value


def test_capabilities_are_exactly_the_documented_actions() -> None:
    for provider in CONNECTORS:
        assert frozenset(documented(provider)["calls"]) == CAPABILITIES[provider], provider
        assert CAPABILITIES[provider] <= WRITE_BACKS


@pytest.mark.parametrize(
    ("provider", "action"),
    [(p, a) for p in sorted(CONNECTORS) for a in sorted(WRITE_BACKS - CAPABILITIES[p])],
)
def test_an_action_the_provider_cannot_do_sends_nothing(
    server: ApiServer, provider: str, action: str
) -> None:
    conn = connector(provider, server.url, json.dumps(documented(provider)["auth"]["secret"]), HttpClient())
    with pytest.raises(UnsupportedActionError, match=provider):
        run(conn, provider, action)
    assert server.received == []


def test_a_hostile_ticket_id_stays_inside_its_path_segment(server: ApiServer) -> None:
    conn = connector("zendesk", server.url, json.dumps(documented("zendesk")["auth"]["secret"]), HttpClient())
    conn.unassign("1/../../users/me?x=")
    assert server.received[0].path == "/api/v2/tickets/1%2F..%2F..%2Fusers%2Fme%3Fx%3D"


@pytest.mark.parametrize(
    "secret", ["not json", "[]", '{"email": "a@b.example"}', '{"email": "a@b.example", "api_token": ""}']
)
def test_a_secret_without_what_the_provider_needs_is_refused_without_its_value(secret: str) -> None:
    with pytest.raises(CredentialsError) as err:
        connector("zendesk", "http://127.0.0.1:9", secret, HttpClient())
    assert "a@b.example" not in str(err.value)


def test_an_unknown_priority_is_refused_before_any_call(server: ApiServer) -> None:
    conn = connector("zendesk", server.url, json.dumps(documented("zendesk")["auth"]["secret"]), HttpClient())
    with pytest.raises(UnsupportedActionError, match="priority"):
        conn.set_priority("123", "asap")
    assert server.received == []


def test_a_4xx_answer_is_rejected_at_once(server: ApiServer) -> None:
    server.answer(Answer(status=422, body={"error": "RecordInvalid"}))
    conn = connector("zendesk", server.url, json.dumps(documented("zendesk")["auth"]["secret"]), HttpClient())
    with pytest.raises(RejectedError) as err:
        conn.unassign("123")
    assert err.value.status == 422
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>maintenance</html>", "Expecting value"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 64 levels"),  # a RecursionError inside json before
        (b'{"tags": ' + b"9" * 5000 + b"}", "an integer of 5000 digits (at most 38)"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_an_answer_that_is_not_json_is_rejected_by_name_and_nothing_more_is_sent(
    server: ApiServer, body: bytes, reason: str
) -> None:
    """Freshdesk's add_tags reads the ticket's tags first (GET), then writes them (PUT): a broken GET
    answer stops it there, as a refusal naming why, without quoting the answer."""
    server.answer(Answer(status=200, body=body))
    secret = json.dumps(documented("freshdesk")["auth"]["secret"])
    conn = connector("freshdesk", server.url, secret, HttpClient())
    with pytest.raises(RejectedError) as err:
        conn.add_tags("123", ["sla-breach"])
    assert str(err.value) == f"answer 200 is not JSON: {reason}" and err.value.status == 200
    assert [r.method for r in server.received] == ["GET"]


@pytest.mark.parametrize(
    ("provider", "path", "key"),
    [
        ("freshdesk", "/api/v2/tickets/123/notes", "body"),
        ("intercom", "/conversations/123/reply", "body"),
        ("helpscout", "/v2/conversations/123/notes", "text"),
    ],
)
def test_markup_in_a_note_is_shown_not_rendered_where_the_body_is_html(
    server: ApiServer, provider: str, path: str, key: str
) -> None:
    conn = connector(provider, server.url, json.dumps(documented(provider)["auth"]["secret"]), HttpClient())
    conn.internal_note("123", '<img src=x onerror="alert(1)"> & more')
    (got,) = server.received
    assert got.path == path
    assert got.json()[key] == '[slaclock] &lt;img src=x onerror="alert(1)"&gt; &amp; more'


def test_zendesk_and_jira_bodies_are_plain_text_and_sent_as_written(server: ApiServer) -> None:
    for provider in ("zendesk", "jira"):
        conn = connector(
            provider, server.url, json.dumps(documented(provider)["auth"]["secret"]), HttpClient()
        )
        conn.reply("123", "<b>5 < 6</b>")
    zendesk, jira = (r.json() for r in server.received)
    assert zendesk["ticket"]["comment"]["body"] == "<b>5 < 6</b>"
    assert jira["body"] == "<b>5 < 6</b>"
