"""Intercom conversations with their parts -> canonical events.

Format: the REST API's "Retrieve a conversation", ``GET /conversations/{id}``
(https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/retrieveconversation;
the object as in https://developers.intercom.com/docs/references/2.2/rest-api/conversations/conversation-model/),
one per record, or a page ``{"type": "conversation.list", "conversations": [...]}`` of such
conversations. A conversation is ``{"id", "created_at" (unix seconds), "source": {"id", "type",
"author": {"type", "email"}}, "state", "priority", "admin_assignee_id", "team_assignee_id", "tags",
"custom_attributes", "conversation_parts": {"conversation_parts": [...]}}``; a part is ``{"id",
"part_type" (comment, note, assignment, close, open, snoozed, unsnoozed...), "created_at", "author":
{"type" (admin, user, lead, contact, bot)}}``
(https://developers.intercom.com/docs/references/1.0/rest-api/conversations/conversation-part-model).
Intercom returns at most 500 parts per conversation.

Each conversation becomes the webhook notifications Intercom would have sent
(https://developers.intercom.com/docs/references/2.5/webhooks/webhook-models), through
`IntercomProvider.parse`, so `options.users` / `options.teams` and the state and priority tables apply
as they do live, and the event ids are the webhook's own (``intercom:<id>:created``,
``intercom:<id>:part:<part id>``): importing a history after live webhooks adds no duplicate.

- ``conversation.user.created`` at ``created_at`` -> ``created``; ``conversation.admin.single.created``
  when a teammate's message opened it (``source.author.type`` admin) -> ``created`` and ``agent_replied``;
- each part in time order: a ``comment`` by an admin -> ``conversation.admin.replied``
  (``agent_replied``), by a user, lead or contact -> ``conversation.user.replied``
  (``customer_replied``); ``close`` -> ``conversation.admin.closed`` (``solved``), ``open`` ->
  ``conversation.admin.opened`` (``reopened``); ``snoozed``, ``unsnoozed``, ``note`` and ``assignment``
  -> ``updated``. Bot comments and other part types add nothing.

The state each event carries is rebuilt from the parts (a close closes, an open or a customer's comment
opens, a snooze snoozes); a part's own ``state``, where the API version returns it, wins. The other
fields (assignee, team, priority, tags, custom attributes) are the conversation's current ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk._common import dig, text, to_instant
from slaclock.history import RecordError
from slaclock.history._webhook import parse_as_webhook

CUSTOMERS = {"user", "lead", "contact"}
STATES = {"open", "closed", "snoozed"}
PART_TOPICS = {  # part_type -> (topic, state after it; None: unchanged)
    "close": ("conversation.admin.closed", "closed"),
    "open": ("conversation.admin.opened", "open"),
    "snoozed": ("conversation.admin.snoozed", "snoozed"),
    "unsnoozed": ("conversation.admin.unsnoozed", "open"),
    "timer_unsnooze": ("conversation.admin.unsnoozed", "open"),
    "note": ("conversation.admin.noted", None),
    "assignment": ("conversation.admin.assigned", None),
}


class IntercomConversations:
    provider = "intercom"
    record_keys = ("conversations",)

    def page(self, doc: Mapping[str, Any]) -> None:
        return None

    def events(self, record: Any, source: Source) -> list[Event]:
        if not isinstance(record, Mapping):
            raise RecordError(f"a conversation must be a JSON object, not {type(record).__name__}")
        conversation_id, created = text(record.get("id")), _unix(record.get("created_at"))
        if conversation_id is None or created is None:
            raise RecordError("not an Intercom conversation: id and a unix created_at required")
        parts = dig(record, "conversation_parts.conversation_parts")
        if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
            raise RecordError(
                "conversation_parts.conversation_parts: required, a list of parts (Retrieve a conversation)"
            )
        for p in parts:
            if text(p.get("id")) is None or _unix(p.get("created_at")) is None:
                raise RecordError(f"part {p.get('id')!r}: id and a unix created_at required")
        ordered = sorted(parts, key=lambda p: (_unix(p.get("created_at")), str(p.get("id"))))
        base = {k: v for k, v in record.items() if k != "conversation_parts"}

        state = "open"
        by_admin = dig(record, "source.author.type") == "admin"
        topic = "conversation.admin.single.created" if by_admin else "conversation.user.created"
        out = self._send(topic, f"{conversation_id}:created", created, {**base, "state": state}, source)
        for part in ordered:
            part_topic, after = _topic(part)
            if part_topic is None:
                continue
            own = str(part.get("state") or "")
            state = own if own in STATES else after or state
            at = _unix(part.get("created_at"))
            assert at is not None
            listed = {"type": "conversation_part.list", "conversation_parts": [part]}
            item = {**base, "state": state, "updated_at": at, "conversation_parts": listed}
            out.extend(self._send(part_topic, f"{conversation_id}:{part.get('id')}", at, item, source))
        return out

    def _send(self, topic: str, key: str, at: int, item: dict[str, Any], source: Source) -> list[Event]:
        note = {"type": "notification_event", "id": f"notif_import_{key}", "topic": topic,
                "created_at": at, "data": {"type": "notification_event_data", "item": item}}  # fmt: skip
        return parse_as_webhook(self.provider, note, source)


def _topic(part: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The notification a part would have triggered and the state after it."""
    kind = part.get("part_type")
    if kind == "comment":
        author = dig(part, "author.type")
        if author == "admin":
            return "conversation.admin.replied", None
        if author in CUSTOMERS:
            return "conversation.user.replied", "open"  # a customer's message reopens the conversation
        return None, None
    return PART_TOPICS.get(str(kind), (None, None))


def _unix(value: Any) -> int | None:
    """Unix seconds of an instant the API gives as a number (or, tolerated, an ISO 8601 string)."""
    try:
        at: datetime | None = to_instant(value)
    except ValueError:
        return None
    return None if at is None else int(at.timestamp())
