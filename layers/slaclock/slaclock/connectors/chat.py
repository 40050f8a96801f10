"""Chat messages of a notice: Slack (incoming webhook, Block Kit) and Microsoft Teams (workflow
webhook, Adaptive Card). Each carries the ticket, the level, the metric, the due instant in the
calendar's zone, how late (or how long left), and a link to the ticket.

Shapes and limits followed:
- Slack incoming webhooks (``text`` is the notification fallback, ``blocks`` the message):
  https://api.slack.com/messaging/webhooks
- Block Kit blocks: ``header`` (plain_text, 150 chars), ``section`` (text 3000 chars, at most 10
  ``fields`` of 2000 chars), ``actions`` with a ``button`` (text 75 chars, ``url`` 3000 chars); at most
  50 blocks: https://api.slack.com/reference/block-kit/blocks and
  https://api.slack.com/reference/block-kit/block-elements#button
- Slack mrkdwn escaping (``&`` ``<`` ``>`` become ``&amp;`` ``&lt;`` ``&gt;``):
  https://api.slack.com/reference/surfaces/formatting#escaping
- Teams workflow webhook body (a ``message`` with one Adaptive Card attachment):
  https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook
- Adaptive Card schema (``type`` AdaptiveCard, ``version`` required; TextBlock, FactSet,
  Action.OpenUrl): https://adaptivecards.io/explorer/AdaptiveCard.html ,
  https://adaptivecards.io/explorer/FactSet.html , https://adaptivecards.io/explorer/Action.OpenUrl.html
- Adaptive Card markdown subset (escaped with a backslash here):
  https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slaclock.connectors.http import Request

SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000
SLACK_BLOCKS_MAX = 50
ADAPTIVE_CARD_VERSION = "1.4"  # the version Teams renders in chats and channels
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class ChatNotice:
    """What a chat message says. `due` and `now` are aware instants; `zone` is the calendar's zone."""

    ticket: str
    ticket_url: str
    level: str
    metric: str
    step: str  # "warning", "breach", an escalation rung's name, or "met"
    due: datetime
    now: datetime
    zone: str

    def due_local(self) -> str:
        return self.due.astimezone(ZoneInfo(self.zone)).strftime("%Y-%m-%d %H:%M %Z")

    def lateness(self) -> str:
        delta = self.now - self.due
        late = delta >= timedelta(0)
        return f"{_duration(abs(delta))} {'late' if late else 'left'}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{mins}m")
    return " ".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """Slack mrkdwn's three control characters, escaped as its formatting page asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_cut(text: str, limit: int) -> str:
    """Escape, then cut at `limit` characters without splitting an entity (``&amp;``)."""
    out: list[str] = []
    size = 0
    for char in text:
        piece = slack_escape(char)
        if size + len(piece) > limit - 1:
            return "".join(out) + "…"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def slack_message(notice: ChatNotice) -> dict[str, Any]:
    """The incoming-webhook body: a header, the facts as fields, and a button to the ticket."""
    title = f"{notice.step.capitalize()}: ticket {notice.ticket}"
    facts = {
        "Ticket": notice.ticket,
        "Level": notice.level,
        "Metric": notice.metric,
        "Due": notice.due_local(),
        "When": notice.lateness(),
    }
    fields = [
        {"type": "mrkdwn", "text": _escaped_cut(f"*{name}*\n{value}", SLACK_FIELD_MAX)}
        for name, value in facts.items()
    ]
    summary = f"{title} ({notice.metric}, {notice.level}): {notice.lateness()}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _escaped_cut(summary, SLACK_TEXT_MAX)},
            "fields": fields[:SLACK_FIELDS_MAX],
        },
    ]
    if notice.ticket_url.startswith("https://") and len(notice.ticket_url) <= SLACK_URL_MAX:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open ticket"},
            "url": notice.ticket_url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": _escaped_cut(summary, SLACK_TEXT_MAX), "blocks": blocks}


def validate_slack(message: dict[str, Any]) -> list[str]:
    """Every way `message` breaks the documented Block Kit limits (an empty list: none)."""
    problems: list[str] = []
    blocks = message.get("blocks", [])
    if len(blocks) > SLACK_BLOCKS_MAX:
        problems.append(f"more than {SLACK_BLOCKS_MAX} blocks")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            text = block["text"]
            if text.get("type") != "plain_text" or len(text.get("text", "")) > SLACK_HEADER_MAX:
                problems.append(
                    f"blocks[{i}]: header must be plain_text of at most {SLACK_HEADER_MAX} characters"
                )
        elif kind == "section":
            if len(block.get("text", {}).get("text", "")) > SLACK_TEXT_MAX:
                problems.append(f"blocks[{i}]: section text over {SLACK_TEXT_MAX} characters")
            fields = block.get("fields", [])
            if len(fields) > SLACK_FIELDS_MAX or any(len(f["text"]) > SLACK_FIELD_MAX for f in fields):
                problems.append(
                    f"blocks[{i}]: at most {SLACK_FIELDS_MAX} fields of {SLACK_FIELD_MAX} characters"
                )
        elif kind == "actions":
            for element in block.get("elements", []):
                if (
                    len(element["text"]["text"]) > SLACK_BUTTON_TEXT_MAX
                    or len(element.get("url", "")) > SLACK_URL_MAX
                ):
                    problems.append(f"blocks[{i}]: button text or url too long")
        else:
            problems.append(f"blocks[{i}]: unexpected block type {kind!r}")
    return problems


_CARD_MARKDOWN = re.compile(r"([\\*_\[\]()#>`~-])")


def card_escape(text: str) -> str:
    """Text shown literally in an Adaptive Card TextBlock / FactSet (its markdown subset escaped)."""
    return _CARD_MARKDOWN.sub(r"\\\1", text)


def teams_message(notice: ChatNotice) -> dict[str, Any]:
    """The workflow-webhook body: one Adaptive Card with a title, the facts, and a link to the ticket."""
    title = f"{notice.step.capitalize()}: ticket {notice.ticket}"
    facts = [
        ("Ticket", notice.ticket),
        ("Level", notice.level),
        ("Metric", notice.metric),
        ("Due", notice.due_local()),
        ("When", notice.lateness()),
    ]
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": [
            {
                "type": "TextBlock",
                "text": card_escape(title),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {
                "type": "FactSet",
                "facts": [{"title": name, "value": card_escape(value)} for name, value in facts],
            },
        ],
    }
    if notice.ticket_url.startswith("https://"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open ticket", "url": notice.ticket_url}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def validate_teams(message: dict[str, Any]) -> list[str]:
    """Every way `message` breaks the documented workflow-webhook / Adaptive Card shape."""
    problems: list[str] = []
    if message.get("type") != "message":
        problems.append("type must be 'message'")
    attachments = message.get("attachments") or []
    if len(attachments) != 1 or attachments[0].get("contentType") != ADAPTIVE_CARD_CONTENT_TYPE:
        return [*problems, "attachments must hold one Adaptive Card"]
    card = attachments[0].get("content") or {}
    if card.get("type") != "AdaptiveCard":
        problems.append("content.type must be 'AdaptiveCard'")
    if not isinstance(card.get("version"), str):
        problems.append("content.version is required")
    for i, element in enumerate(card.get("body", [])):
        if element.get("type") == "TextBlock" and not isinstance(element.get("text"), str):
            problems.append(f"body[{i}]: TextBlock needs text")
        elif element.get("type") == "FactSet" and not all(
            isinstance(f.get("title"), str) and isinstance(f.get("value"), str)
            for f in element.get("facts", [])
        ):
            problems.append(f"body[{i}]: each fact needs title and value")
        elif element.get("type") not in ("TextBlock", "FactSet"):
            problems.append(f"body[{i}]: unexpected element {element.get('type')!r}")
    for action in card.get("actions", []):
        if action.get("type") != "Action.OpenUrl" or not isinstance(action.get("url"), str):
            problems.append("actions: Action.OpenUrl needs url")
    return problems


def slack_request(webhook_url: str, notice: ChatNotice) -> Request:
    return Request("POST", webhook_url, json_body=slack_message(notice))


def teams_request(webhook_url: str, notice: ChatNotice) -> Request:
    return Request("POST", webhook_url, json_body=teams_message(notice))
