"""Help Scout webhooks (Manage > Apps > Webhooks).

Authentication (https://developer.helpscout.com/webhooks/): ``X-HelpScout-Signature`` =
base64(HMAC-SHA1(secret key, raw body)). Help Scout signs no timestamp and retries failed deliveries
for hours, so there is no age check: a replayed request reproduces the same event ids, which are
deduplicated.

The event is the ``X-HelpScout-Event`` header (``convo.created``, ``convo.customer.reply.created``,
``convo.agent.reply.created``, ``convo.status``, ``convo.assigned``, ``convo.tags``, ``convo.deleted``,
...); the body is the conversation (https://developer.helpscout.com/webhooks/objects/conversation),
``{"id": ...}`` alone for ``convo.deleted``. Both the Mailbox API 2.0 shape (``assignee``,
``primaryCustomer``, ``mailboxId``, ``userUpdatedAt``, ``_embedded.threads``) and the older one (``owner``,
``customer``, ``mailbox``, ``modifiedAt``) are read. Non-conversation events are ignored. The ticket's
subject is the conversation's ``subject`` (both shapes).

Help Scout has no priority. A closed conversation reopens when the customer writes, so ``closed`` is
read as status ``solved`` (override with `options.status_map`). `options.mailboxes` maps mailbox ids to
departments (the 1.0 shape carries the name).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import PayloadError
from slaclock.helpdesk._common import (
    Headers,
    canonical_json,
    channel,
    check_base64_signature,
    dig,
    digest,
    email,
    load_object,
    lookup,
    make_event,
    put,
    received_at,
    scalar,
    signature_header,
    status,
    subject,
    tag_list,
    text,
    to_instant,
)

SIGNATURE = "X-HelpScout-Signature"
EVENT = "X-HelpScout-Event"
STATES = {"active": "open", "closed": "solved"}
REPLY_THREADS = {"convo.customer.reply.created": "customer", "convo.agent.reply.created": "reply"}
TYPES = {
    "convo.created": EventType.CREATED,
    "convo.customer.reply.created": EventType.CUSTOMER_REPLIED,
    "convo.agent.reply.created": EventType.AGENT_REPLIED,
    "convo.deleted": EventType.DELETED,
}


class HelpScoutProvider:
    name = "helpscout"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        check_base64_signature(signature_header(headers, SIGNATURE), secret, body, "sha1", SIGNATURE)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None  # Help Scout sends none; event ids carry the idempotency

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        event_name = (Headers(headers).get(EVENT) or "").strip()
        if not event_name:
            raise PayloadError([(f"header {EVENT}", "required: names the Help Scout event")])
        if not event_name.startswith("convo."):
            return []  # customers, ratings, beacon chats, tags say nothing about a conversation's SLA
        doc = load_object(body)
        conversation_id = text(doc.get("id"))
        if conversation_id is None:
            raise PayloadError([("id", "required: the conversation id")])

        if event_name == "convo.deleted":
            at = _updated_at(doc) or received_at(headers)
            if at is None:
                raise PayloadError(
                    [("body", "no instant: the webhook function must add X-Slaclock-Received-At")]
                )
            return [
                make_event(f"helpscout:{conversation_id}:deleted", conversation_id, EventType.DELETED, at, {})
            ]

        fields = _fields(doc, source)
        ev_type = TYPES.get(event_name) or _status_type(event_name, fields.get("status"))
        thread = _latest_thread(doc, REPLY_THREADS.get(event_name))
        thread_id = text(thread.get("id")) if thread else None

        if ev_type is EventType.CREATED:
            at = to_instant(doc.get("createdAt"))
            event_id = f"helpscout:{conversation_id}:created"
        elif thread_id is not None and thread is not None:
            at = to_instant(thread.get("createdAt"))
            event_id = f"helpscout:{conversation_id}:thread:{thread_id}"
        else:
            at = None
            if ev_type is EventType.CUSTOMER_REPLIED:
                at = to_instant(dig(doc, "customerWaitingSince.time"))
            if ev_type is EventType.SOLVED:
                at = to_instant(doc.get("closedAt"))
            at = at or _updated_at(doc)
            event_id = f"helpscout:{conversation_id}:{event_name}:{digest(canonical_json(doc))}"
        at = at or _updated_at(doc) or to_instant(doc.get("createdAt"))
        if at is None:
            raise PayloadError([("userUpdatedAt", "required: no instant found in the conversation")])
        return [make_event(event_id, conversation_id, ev_type, at, fields, MESSAGE_FACTS.get(event_name))]


MESSAGE_FACTS: Mapping[str, Mapping[str, Any]] = {
    "convo.agent.reply.created": {"public": True, "author": "agent"},
    "convo.customer.reply.created": {"public": True, "author": "customer"},
    "convo.note.created": {"public": False, "author": "agent"},
}
"""The message facts (`Event.reply`) each Help Scout event states by its name: a reply is seen by the
customer, a note only by the team (https://developer.helpscout.com/webhooks/, event types)."""


def _updated_at(doc: Mapping[str, Any]) -> datetime | None:
    for key in ("userUpdatedAt", "userModifiedAt", "modifiedAt"):
        t = to_instant(doc.get(key))
        if t is not None:
            return t
    return None


def _status_type(event_name: str, conversation_status: str | None) -> EventType:
    if event_name != "convo.status":
        return EventType.UPDATED
    if conversation_status in ("solved", "closed"):
        return EventType.SOLVED if conversation_status == "solved" else EventType.CLOSED
    if conversation_status == "open":
        return EventType.REOPENED  # back to active: from closed, or from pending (a no-op for the clocks)
    if conversation_status == "spam":
        return EventType.DELETED
    return EventType.UPDATED


def _latest_thread(doc: Mapping[str, Any], thread_type: str | None) -> Mapping[str, Any] | None:
    if thread_type is None:
        return None
    threads = dig(doc, "_embedded.threads")
    if not isinstance(threads, list):
        return None
    matching = [t for t in threads if isinstance(t, Mapping) and t.get("type") == thread_type]
    if not matching:
        return None
    return max(
        matching,
        key=lambda t: (to_instant(t.get("createdAt")) or datetime.min.replace(tzinfo=UTC), str(t.get("id"))),
    )


def _fields(doc: Mapping[str, Any], source: Source) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    put(fields, "subject", subject(doc, ("subject",), errors))
    if errors:
        raise PayloadError(errors)
    put(fields, "status", status(doc.get("status"), source, STATES))
    put(fields, "channel", channel(doc.get("type") or dig(doc, "source.type"), source))
    if "tags" in doc:
        fields["tags"] = tag_list(doc.get("tags")) or []
    for key in ("assignee", "owner"):
        if key in doc:
            person = doc.get(key)
            fields["assignee"] = (
                email(dig(person, "email")) or lookup(source, "users", dig(person, "id")) if person else None
            )
            break
    requester = email(dig(doc, "primaryCustomer.email")) or email(dig(doc, "customer.email"))
    if requester is None and dig(doc, "createdBy.type") == "customer":
        requester = email(dig(doc, "createdBy.email"))
    put(fields, "requester", requester)
    custom: dict[str, Any] = {}
    mailbox = text(dig(doc, "mailbox.name")) or lookup(source, "mailboxes", doc.get("mailboxId"))
    if mailbox is not None:
        fields["department"] = mailbox
    elif text(doc.get("mailboxId")) is not None:
        custom["helpscout_mailbox_id"] = text(doc.get("mailboxId"))
    custom_fields = doc.get("customFields")
    if isinstance(custom_fields, list):
        for item in custom_fields:
            if isinstance(item, Mapping) and text(item.get("name")):
                value = item.get("text") if item.get("text") not in (None, "") else item.get("value")
                custom[str(item["name"])] = scalar(value)
    if text(doc.get("number")) is not None:
        custom["helpscout_number"] = text(doc.get("number"))
    put(fields, "custom", custom)
    return fields
