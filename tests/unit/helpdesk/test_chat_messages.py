"""Slack (Block Kit) and Teams (Adaptive Card) notice messages: content, documented limits, escaping,
and delivery through the one HTTP client to a loopback webhook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slaclock.connectors.chat import (
    SLACK_FIELD_MAX,
    SLACK_HEADER_MAX,
    SLACK_TEXT_MAX,
    ChatNotice,
    slack_message,
    slack_request,
    teams_message,
    teams_request,
    validate_slack,
    validate_teams,
)
from slaclock.connectors.http import HttpClient

from tests.fixtures.api_server import ApiServer, serve

server = pytest.fixture(serve)

NOTICE = ChatNotice(
    ticket="4711",
    ticket_url="https://acme.zendesk.com/agent/tickets/4711",
    level="gold",
    metric="first_response",
    step="breach",
    due=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    now=datetime(2026, 3, 2, 9, 35, tzinfo=UTC),
    zone="Europe/Berlin",
)


def test_slack_message_carries_every_fact_and_a_link() -> None:
    message = slack_message(NOTICE)
    assert validate_slack(message) == []
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Breach: ticket 4711"},
    }
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields == [
        "*Ticket*\n4711",
        "*Level*\ngold",
        "*Metric*\nfirst_response",
        "*Due*\n2026-03-02 09:00 CET",  # 08:00 UTC in the calendar's zone
        "*When*\n1h 35m late",
    ]
    button = message["blocks"][2]["elements"][0]
    assert (button["type"], button["url"]) == ("button", NOTICE.ticket_url)
    assert "1h 35m late" in message["text"]


def test_time_left_before_the_due_instant() -> None:
    early = ChatNotice(
        **{**NOTICE.__dict__, "step": "warning", "now": datetime(2026, 3, 1, 7, 59, tzinfo=UTC)}
    )
    assert early.lateness() == "1d 0h 1m left"


def test_slack_hostile_text_is_escaped_and_cannot_mention_or_link() -> None:
    hostile = ChatNotice(**{**NOTICE.__dict__, "metric": "<!channel> & <https://evil.example|click>"})
    text = slack_message(hostile)["blocks"][1]["fields"][2]["text"]
    assert text == "*Metric*\n&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert "<" not in slack_message(hostile)["text"]


def test_slack_limits_hold_for_huge_values() -> None:
    huge = ChatNotice(**{**NOTICE.__dict__, "ticket": "&" * 5000, "metric": "m" * 5000})
    message = slack_message(huge)
    assert validate_slack(message) == []
    assert len(message["blocks"][0]["text"]["text"]) == SLACK_HEADER_MAX
    assert len(message["blocks"][1]["text"]["text"]) <= SLACK_TEXT_MAX
    assert all(len(f["text"]) <= SLACK_FIELD_MAX for f in message["blocks"][1]["fields"])
    assert not message["blocks"][1]["fields"][0]["text"].endswith("&am…")  # no entity split


def test_validate_slack_names_each_broken_limit() -> None:
    broken = {
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}, {"type": "image"}]
    }
    assert validate_slack(broken) == [
        "blocks[0]: header must be plain_text of at most 150 characters",
        "blocks[1]: unexpected block type 'image'",
    ]


def test_a_non_https_ticket_link_gets_no_button() -> None:
    odd = ChatNotice(**{**NOTICE.__dict__, "ticket_url": "javascript:alert(1)"})
    assert [b["type"] for b in slack_message(odd)["blocks"]] == ["header", "section"]
    assert "actions" not in teams_message(odd)["attachments"][0]["content"]


def test_teams_card_follows_the_workflow_webhook_shape() -> None:
    message = teams_message(NOTICE)
    assert validate_teams(message) == []
    attachment = message["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {
        "Ticket": "4711",
        "Level": "gold",
        "Metric": "first\\_response",
        "Due": "2026\\-03\\-02 09:00 CET",
        "When": "1h 35m late",
    }
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open ticket", "url": NOTICE.ticket_url}]


def test_teams_hostile_markdown_is_shown_literally() -> None:
    hostile = ChatNotice(**{**NOTICE.__dict__, "metric": "[click](https://evil.example) **now**"})
    facts = teams_message(hostile)["attachments"][0]["content"]["body"][1]["facts"]
    assert facts[2]["value"] == "\\[click\\]\\(https://evil.example\\) \\*\\*now\\*\\*"


def test_validate_teams_lists_every_problem() -> None:
    assert validate_teams({"type": "note", "attachments": []}) == [
        "type must be 'message'",
        "attachments must hold one Adaptive Card",
    ]


def test_both_are_posted_as_json_to_their_webhooks(server: ApiServer) -> None:
    client = HttpClient(attempts=1)
    client.send(slack_request(server.url + "/services/T000/B000/XXX", NOTICE))
    client.send(teams_request(server.url + "/workflows/abc/triggers/manual/paths/invoke", NOTICE))
    slack, teams = server.received
    assert (slack.method, slack.path, slack.json()) == (
        "POST",
        "/services/T000/B000/XXX",
        slack_message(NOTICE),
    )
    assert teams.json() == teams_message(NOTICE)
    assert {slack.headers["content-type"], teams.headers["content-type"]} == {"application/json"}
