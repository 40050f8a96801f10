"""Intercom webhook notifications (Developer Hub > your app > Webhooks).

Authentication (https://developers.intercom.com/docs/webhooks/): ``X-Hub-Signature: sha1=<hex
HMAC-SHA1(app client secret, raw body)>``. Intercom signs no timestamp, and it delivers late on purpose:
it pauses a failing endpoint's notifications for 15 minutes, throttles them under its rate limits, and
keeps retrying for days before it suspends a subscription
(https://developers.intercom.com/docs/webhooks/webhook-notifications). So no age window is applied (a
5-minute one refused genuine delayed notifications): a notification is accepted whatever its
``created_at``, and replay protection rests on ids. A replayed notification carries the same
notification id and conversation part ids, so it reproduces event ids slaclock already has, which are
deduplicated.

Body (https://developers.intercom.com/docs/references/2.5/webhooks/webhook-models)::

    {"type": "notification_event", "id": "notif_...", "topic": "conversation.admin.replied",
     "created_at": 1553291112, "data": {"type": "notification_event_data", "item": {<conversation>}}}

Conversation topics become events (table in docs/helpdesks.md); ``ping`` and non-conversation topics are
ignored. Both the 1.x conversation (``user``, ``assignee`` with e-mails) and the 2.x one (``source``,
``admin_assignee_id``, ``team_assignee_id``, ``priority``) are read; admin and team ids map to e-mails
and departments through `options.users` and `options.teams`.

The ticket's subject is the conversation's ``title`` (2.x; set by a teammate or Fin), else its first
message's subject: ``source.subject`` (2.x) or ``conversation_message.subject`` (1.x), which Intercom
fills for e-mail conversations and leaves empty (``""``, read as no subject) for chats.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import PayloadError
from slaclock.helpdesk._common import (
    channel,
    check_hex_signature,
    dig,
    email,
    load_object,
    lookup,
    make_event,
    peek_json,
    priority,
    put,
    pydantic_errors,
    scalar,
    signature_header,
    status,
    subject,
    tag_list,
    text,
    to_instant,
)

SIGNATURE = "X-Hub-Signature"

STATE = {"closed": "solved", "snoozed": "on_hold"}  # a closed conversation reopens on a reply: solved
PRIORITIES = {"priority": "high", "not_priority": "normal"}
SOURCE_TYPES = {
    "conversation": "chat",
    "push": "chat",
    "chat": "chat",
    "phone_call": "phone",
    "sms": "social",
}
CUSTOMER_AUTHORS = {"user", "lead", "contact"}

TOPIC_TYPES = {
    "conversation.user.created": EventType.CREATED,
    "conversation.admin.single.created": EventType.CREATED,
    "conversation.user.replied": EventType.CUSTOMER_REPLIED,
    "conversation.admin.replied": EventType.AGENT_REPLIED,
    "conversation.admin.closed": EventType.SOLVED,
    "conversation.admin.opened": EventType.REOPENED,
    "conversation.deleted": EventType.DELETED,
}
IGNORED_TOPICS = {"conversation.read"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Data(_Model):
    item: dict[str, Any]


class _Notification(_Model):
    id: str
    topic: StrictStr  # a number is not a topic (the model coerces numbers for ids)
    created_at: int
    data: _Data


class IntercomProvider:
    name = "intercom"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        check_hex_signature(signature_header(headers, SIGNATURE), secret, body, "sha1", SIGNATURE)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        doc = peek_json(body)
        notification = text(doc.get("id")) if isinstance(doc, dict) else None
        return f"intercom:{notification}" if notification else None

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_object(body)
        topic = doc.get("topic")
        if isinstance(topic, str) and (
            topic == "ping" or not topic.startswith("conversation") or topic in IGNORED_TOPICS
        ):
            return []
        try:
            note = _Notification.model_validate(doc)
        except ValidationError as exc:
            raise PayloadError(pydantic_errors(exc)) from None
        item = note.data.item
        conversation_id = text(item.get("id"))
        if conversation_id is None:
            raise PayloadError([("data.item.id", "required")])
        fields = _fields(item, source)
        ev_type = TOPIC_TYPES.get(note.topic, EventType.UPDATED)
        fallback = to_instant(note.created_at)
        if fallback is None:  # out of datetime's range: no longer checked by an age window
            raise PayloadError([("created_at", f"{note.created_at!r} is not a unix time")])

        if ev_type is EventType.CREATED:
            at = to_instant(item.get("created_at")) or fallback
            events = [make_event(f"intercom:{conversation_id}:created", conversation_id, ev_type, at, fields)]
            if note.topic == "conversation.admin.single.created":  # opened by a teammate's message
                message_id = (
                    text(dig(item, "source.id")) or text(dig(item, "conversation_message.id")) or "first"
                )
                reply_id = f"intercom:{conversation_id}:part:{message_id}"
                events.append(make_event(reply_id, conversation_id, EventType.AGENT_REPLIED, at, {}))
            return events
        if ev_type is EventType.DELETED:
            at = to_instant(item.get("updated_at")) or fallback
            return [make_event(f"intercom:{conversation_id}:deleted", conversation_id, ev_type, at, fields)]

        part = _latest_part(item, note.topic)
        part_id = text(part.get("id")) if part else None
        at = (
            (to_instant(part.get("created_at")) if part else None)
            or to_instant(item.get("updated_at"))
            or fallback
        )
        event_id = f"intercom:{conversation_id}:part:{part_id}" if part_id else f"intercom:{note.id}"
        return [make_event(event_id, conversation_id, ev_type, at, fields, _part_facts(part))]


_AUTHOR_TYPES = {"admin": "agent", "team": "agent", "bot": "bot", "user": "customer", "lead": "customer"}
"""A conversation part's ``author.type`` as a message author (`Event.reply`)."""
_MESSAGE_PARTS = frozenset({"comment", "note"})


def _part_facts(part: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The message facts of the conversation part a notification is about, when it is a message
    (``part_type`` comment or note): ``public`` false for a note (seen by teammates only), ``author``
    from ``author.type`` (admin, bot, user, lead), https://developers.intercom.com/docs/references/2.5/
    webhooks/webhook-models (the conversation part model)."""
    if part is None or part.get("part_type") not in _MESSAGE_PARTS:
        return None
    return {
        "public": part.get("part_type") == "comment",
        "author": _AUTHOR_TYPES.get(str(dig(part, "author.type"))),
    }


def _latest_part(item: Mapping[str, Any], topic: str) -> Mapping[str, Any] | None:
    """The conversation part the notification is about: the last one, preferring a comment by the
    right side for reply topics."""
    raw = dig(item, "conversation_parts.conversation_parts")
    parts: list[Mapping[str, Any]] = (
        [p for p in raw if isinstance(p, Mapping)] if isinstance(raw, list) else []
    )
    wanted = {"conversation.admin.replied": {"admin"}, "conversation.user.replied": CUSTOMER_AUTHORS}.get(
        topic
    )
    replies = [
        p for p in parts if p.get("part_type") == "comment" and dig(p, "author.type") in (wanted or ())
    ]
    if replies:
        return replies[-1]
    return parts[-1] if parts else None


_SUBJECT_PATHS = ("title", "source.subject", "conversation_message.subject")


def _fields(item: Mapping[str, Any], source: Source) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    put(fields, "subject", subject(item, _SUBJECT_PATHS, errors, "data.item."))
    if errors:
        raise PayloadError(errors)
    put(fields, "status", status(item.get("state"), source, STATE))
    put(fields, "priority", priority(item.get("priority"), source, PRIORITIES))
    put(fields, "channel", channel(dig(item, "source.type"), source, SOURCE_TYPES))
    tags = dig(item, "tags.tags")
    if isinstance(tags, list):
        fields["tags"] = tag_list(tags) or []
    custom: dict[str, Any] = {}

    # assignee: 1.x sends the admin object, 2.x an id; "nobody_admin" / null means unassigned
    if isinstance(item.get("assignee"), Mapping):
        assignee = item["assignee"]
        is_admin = assignee.get("type") == "admin" and text(assignee.get("id")) is not None
        fields["assignee"] = (
            (email(assignee.get("email")) or lookup(source, "users", assignee.get("id")))
            if is_admin
            else None
        )
    elif "admin_assignee_id" in item:
        admin_id = item.get("admin_assignee_id")
        fields["assignee"] = lookup(source, "users", admin_id) if admin_id not in (None, 0, "0") else None
        if fields["assignee"] is None and text(admin_id) not in (None, "0"):
            del fields["assignee"]  # assigned, but to an admin the source does not map: leave it unknown
            custom["intercom_admin_assignee_id"] = text(admin_id)
    if "team_assignee_id" in item and text(item.get("team_assignee_id")) not in (None, "0"):
        team = lookup(source, "teams", item.get("team_assignee_id"))
        if team is not None:
            fields["department"] = team
        else:
            custom["intercom_team_assignee_id"] = text(item.get("team_assignee_id"))

    requester = email(dig(item, "user.email"))
    if requester is None and dig(item, "source.author.type") in CUSTOMER_AUTHORS:
        requester = email(dig(item, "source.author.email"))
    put(fields, "requester", requester)

    attributes = item.get("custom_attributes")
    if isinstance(attributes, Mapping):
        custom.update({str(k): scalar(v) for k, v in attributes.items() if scalar(v) is not None})
    put(fields, "custom", custom)
    return fields
