"""Recognising the webhook a helpdesk sends back after slaclock's own write-back (an echo), so it is
not read as an agent's answer and does not trigger the action again.

Two marks, per provider, both visible in the ticket's history:
- the author: each write-back is made as the source's API user; a delivery whose actor is one of
  `api_users` (the ids, or for LiveAgent the e-mail, of those users) is an echo. Where the webhook
  names the author: Zendesk ``detail.actor_id`` / ``event.comment.author.id``
  (https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/), Jira
  ``comment.author.accountId`` / ``user.accountId``
  (https://developer.atlassian.com/server/jira/platform/webhooks/), Help Scout the newest thread's
  ``createdBy.id`` (https://developer.helpscout.com/webhooks/), Intercom the newest conversation
  part's ``author.id`` (https://developers.intercom.com/docs/references/webhooks/webhook-models),
  LiveAgent ``ticket.agent_email``.
- the note mark: every internal note starts with `NOTE_MARK`, found in the note's text where the
  webhook carries it (Zendesk, Jira, Help Scout, Intercom, and Freshdesk's
  ``ticket_latest_private_comment`` when the rule's template includes
  ``{{ticket.latest_private_comment}}``).
Freshdesk's webhook names no author: its rules take a "Performer is not <API agent>" condition
instead (docs/helpdesks.md), which keeps the echo from being sent at all.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from slaclock.connectors._base import NOTE_MARK

_TAGS = re.compile(r"<[^>]*>")


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            data = data[key] if isinstance(data, list) and -len(data) <= key < len(data) else None
        else:
            data = data.get(key) if isinstance(data, dict) else None
    return data


def _marked(text: Any) -> bool:
    return isinstance(text, str) and _TAGS.sub("", text).lstrip().startswith(NOTE_MARK)


def _authors_and_texts(provider: str, payload: Any) -> tuple[list[Any], list[Any]]:
    if provider == "zendesk":
        return (
            [_get(payload, "detail", "actor_id"), _get(payload, "event", "comment", "author", "id")],
            [_get(payload, "event", "comment", "body")],
        )
    if provider == "jira":
        return (
            [_get(payload, "comment", "author", "accountId"), _get(payload, "user", "accountId")],
            [_get(payload, "comment", "body")],
        )
    if provider == "helpscout":
        threads = _get(payload, "_embedded", "threads") or []
        newest = max(threads, key=lambda t: str(_get(t, "createdAt") or ""), default=None)
        return [_get(newest, "createdBy", "id")], [_get(newest, "body")]
    if provider == "intercom":
        part = _get(payload, "data", "item", "conversation_parts", "conversation_parts", -1)
        return [_get(part, "author", "id")], [_get(part, "body")]
    if provider == "freshdesk":
        return [], [_get(payload, "freshdesk_webhook", "ticket_latest_private_comment")]
    if provider == "liveagent":
        return [_get(payload, "ticket", "agent_email")], []
    return [], []


def is_echo(provider: str, payload: Any, api_users: Collection[str] = ()) -> bool:
    """Whether `payload` (a parsed webhook body of `provider`) reports slaclock's own write-back."""
    authors, texts = _authors_and_texts(provider, payload)
    users = {str(u) for u in api_users}
    return any(a is not None and str(a) in users for a in authors) or any(_marked(t) for t in texts)
