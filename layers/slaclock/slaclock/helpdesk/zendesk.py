"""Zendesk Support webhooks.

Authentication (https://developer.zendesk.com/documentation/webhooks/verifying/): every request carries
``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(signing secret, timestamp + raw body)) and
``X-Zendesk-Webhook-Signature-Timestamp`` (ISO 8601, e.g. ``2021-03-25T05:09:27Z``; see
https://developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/). The timestamp must
be within 5 minutes of the receive time.

Two body formats are understood:

1. Event subscriptions (https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/):
   ``{"type": "zen:event-type:ticket.status_changed", "id": ..., "time": ..., "subject": "zen:ticket:35436",
   "detail": {"id": "35436", "status": "OPEN", "priority": "HIGH", "via": {"channel": "web"},
   "assignee_id": ..., "requester_id": ..., "group_id": ..., "tags": [...]}, "event": {...}}``.
   Users and groups arrive as ids: `options.users` / `options.groups` / `options.organizations` map them
   to e-mails, departments and customer groups; unmapped ids are kept as ``custom.zendesk_*_id``.
   Non-ticket events (users, organizations...) are ignored. The ticket's subject is ``detail.subject``
   (the envelope's own ``subject`` names the resource, ``zen:ticket:<id>``, and is not read).
2. A trigger or automation body (JSON with placeholders), in the shape documented in
   docs/helpdesks.md: ``{"event": "agent_replied", "ticket": {"id": "{{ticket.id}}", ...}}``. Its
   ``{{ticket.updated_at_with_timestamp}}`` has minute precision; when the signature timestamp falls in
   that minute, it is used for the seconds. The ticket's subject is ``ticket.subject``, filled by the
   placeholder ``{{ticket.title}}`` (https://support.zendesk.com/hc/en-us/articles/4408886858138, the
   placeholders reference).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from slaclock.engine import json_input
from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import AuthError, PayloadError
from slaclock.helpdesk._common import (
    Headers,
    channel,
    check_base64_signature,
    check_window,
    dig,
    digest,
    email,
    event_type,
    load_object,
    lookup,
    make_event,
    not_an_event_type,
    peek_json,
    priority,
    put,
    pydantic_errors,
    scalar,
    source_timezone,
    status,
    string_field,
    subject,
    tag_list,
    text,
    to_instant,
)

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION = "X-Zendesk-Webhook-Invocation-Id"
EVENT_PREFIX = "zen:event-type:"
TICKET_PREFIX = "zen:event-type:ticket."


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Detail(_Model):
    id: str
    status: str | None = None
    priority: str | None = None
    via: dict[str, Any] | None = None
    tags: list[str] | None = None
    assignee_id: str | None = None
    requester_id: str | None = None
    group_id: str | None = None
    organization_id: str | None = None
    subject: str | None = None  # the ticket's subject; the envelope's own `subject` is zen:ticket:<id>


class _Envelope(_Model):
    type: str
    id: str
    time: str
    detail: _Detail
    event: dict[str, Any] = {}


class ZendeskProvider:
    name = "zendesk"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        h = Headers(headers)
        signature, timestamp = h.get(SIGNATURE), h.get(TIMESTAMP)
        if not signature:
            raise AuthError(f"missing {SIGNATURE}")
        if not timestamp:
            raise AuthError(f"missing {TIMESTAMP}")
        signed_at = to_instant(timestamp)
        if signed_at is None:
            raise AuthError(f"{TIMESTAMP} is not an ISO 8601 instant")
        check_window(signed_at, now, TIMESTAMP)
        check_base64_signature(signature, secret, timestamp.encode() + body, "sha256", SIGNATURE)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        invocation = Headers(headers).get(INVOCATION)
        if invocation:
            return f"zendesk:{invocation}"
        doc = peek_json(body)
        event_id = text(doc.get("id")) if isinstance(doc, dict) else None
        return (
            f"zendesk:{event_id}" if event_id and str(doc.get("type", "")).startswith(EVENT_PREFIX) else None
        )

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_object(body)
        if isinstance(doc.get("type"), str) and doc["type"].startswith(EVENT_PREFIX):
            return _event_subscription(doc, source)
        if isinstance(doc.get("ticket"), Mapping):
            return _trigger_body(doc, headers, body, source)
        raise PayloadError(
            [
                (
                    "body",
                    "neither a Zendesk event ('type': 'zen:event-type:...') nor a trigger body with 'ticket'",
                )
            ]
        )


# ---------------------------------------------------------------- event subscriptions


def _event_subscription(doc: dict[str, Any], source: Source) -> list[Event]:
    if not doc["type"].startswith(TICKET_PREFIX):
        return []  # user, organization, article... events say nothing about tickets
    try:
        env = _Envelope.model_validate(doc)
    except ValidationError as exc:
        raise PayloadError(pydantic_errors(exc)) from None
    at = to_instant(env.time)
    if at is None:
        raise PayloadError([("time", f"{env.time!r} is not an ISO 8601 instant")])
    kind = env.type.removeprefix(TICKET_PREFIX)
    detail = env.detail

    fields: dict[str, Any] = {}
    current = env.event.get("current")
    put(
        fields,
        "status",
        status(current if kind == "status_changed" and isinstance(current, str) else detail.status, source),
    )
    put(fields, "priority", priority(detail.priority, source))
    put(fields, "channel", channel((detail.via or {}).get("channel"), source))
    put(fields, "subject", text(detail.subject))
    if detail.tags is not None:
        fields["tags"] = tag_list(detail.tags) or []
    custom: dict[str, Any] = {}
    for name, option, value in (
        ("assignee", "users", detail.assignee_id),
        ("requester", "users", detail.requester_id),
        ("department", "groups", detail.group_id),
        ("customer_group", "organizations", detail.organization_id),
    ):
        id_field = f"{_ID_NAMES[name]}_id"
        mapped = lookup(source, option, value)
        if mapped is not None:
            fields[name] = mapped.lower() if option == "users" else mapped
        elif text(value) is not None:
            custom[f"zendesk_{id_field}"] = text(value)
        elif id_field in detail.model_fields_set:  # sent as null: unassigned, no group...
            fields[name] = None
    if custom:
        fields["custom"] = custom

    ev_type = _subscription_type(kind, env.event)
    if ev_type is None:
        return []
    reply = _comment_facts(env.event) if kind == "comment_added" else None
    return [make_event(f"zendesk:{env.id}", detail.id, ev_type, at, fields, reply)]


def _comment_facts(event: Mapping[str, Any]) -> dict[str, Any]:
    """The message facts of a ``ticket.comment_added`` event (`Event.reply`): ``comment.is_public``
    (false: an internal note) and ``comment.author.is_staff`` (true: an agent, false: an end user),
    https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/."""
    raw = event.get("comment")
    comment: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    public = comment.get("is_public")
    is_staff = dig(comment, "author.is_staff")
    return {
        "public": public if isinstance(public, bool) else None,
        "author": {True: "agent", False: "customer"}.get(is_staff) if isinstance(is_staff, bool) else None,
    }


_ID_NAMES = {
    "assignee": "assignee",
    "requester": "requester",
    "department": "group",
    "customer_group": "organization",
}
_DONE = {"solved", "closed"}


def _subscription_type(kind: str, event: Mapping[str, Any]) -> EventType | None:
    if kind == "created":
        return EventType.CREATED
    if kind == "comment_added":
        raw = event.get("comment")
        comment: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not comment.get("is_public", True):
            return EventType.UPDATED  # an internal note answers nobody
        is_staff = dig(comment, "author.is_staff")
        if is_staff is True:
            return EventType.AGENT_REPLIED
        if is_staff is False:
            return EventType.CUSTOMER_REPLIED
        return EventType.UPDATED
    if kind == "status_changed":
        now_status = str(event.get("current") or "").lower()
        before = str(event.get("previous") or "").lower()
        if now_status == "solved":
            return EventType.SOLVED
        if now_status == "closed":
            return EventType.CLOSED
        if now_status in ("deleted", "scrubbed"):
            return EventType.DELETED
        if before in _DONE:
            return EventType.REOPENED
        return EventType.UPDATED
    if kind in ("soft_deleted", "permanently_deleted", "marked_as_spam"):
        return EventType.DELETED
    if kind == "merged":
        return EventType.CLOSED  # the merged-away ticket is closed by Zendesk
    return EventType.UPDATED


# ---------------------------------------------------------------- trigger bodies


def _trigger_body(
    doc: dict[str, Any], headers: Mapping[str, str], body: bytes, source: Source
) -> list[Event]:
    ticket = doc["ticket"]
    errors: list[tuple[str, str]] = []
    tz = source_timezone(source)
    ticket_id = text(ticket.get("id"))
    if ticket_id is None:
        errors.append(("ticket.id", "required"))

    fields: dict[str, Any] = {}
    put(fields, "status", status(ticket.get("status"), source))
    put(fields, "priority", priority(ticket.get("priority"), source))
    put(fields, "channel", channel(ticket.get("via"), source))
    tags = tag_list(ticket.get("tags"))
    if tags is not None:
        fields["tags"] = tags
    put(fields, "department", text(ticket.get("group")))
    put(fields, "customer_group", text(ticket.get("organization")))
    if "assignee_email" in ticket:  # present but empty: the ticket is unassigned
        fields["assignee"] = email(ticket.get("assignee_email"))
    put(fields, "requester", email(ticket.get("requester_email")))
    put(fields, "subject", subject(ticket, ("subject",), errors, "ticket."))
    custom = ticket.get("custom")
    if isinstance(custom, Mapping):
        put(fields, "custom", {str(k): scalar(v) for k, v in custom.items()})

    raw_event = string_field(doc, "event", errors) or "auto"
    ev_type = _trigger_type(raw_event, fields.get("status"))
    if ev_type is None:
        errors.append(("event", f"{not_an_event_type(raw_event)} or 'auto'"))

    stamp_field = "created_at" if ev_type is EventType.CREATED else "updated_at"
    raw_at = ticket.get(stamp_field) or ticket.get("updated_at")
    at = to_instant(raw_at, tz)
    if at is None:
        errors.append(
            (
                f"ticket.{stamp_field}",
                "required, an ISO 8601 instant"
                if raw_at is None
                else f"{raw_at!r} is not an ISO 8601 instant",
            )
        )
    if errors or ticket_id is None or ev_type is None or at is None:
        raise PayloadError(errors)
    at = _refine_minute(at, Headers(headers).get(TIMESTAMP))

    invocation = Headers(headers).get(INVOCATION)
    event_id = f"zendesk:{invocation}" if invocation else f"zendesk:{ticket_id}:{digest(_canonical(body))}"
    return [make_event(event_id, ticket_id, ev_type, at, fields)]


def _trigger_type(raw: str, ticket_status: str | None) -> EventType | None:
    if raw.lower() != "auto":
        return event_type(raw)
    if ticket_status == "solved":
        return EventType.SOLVED
    if ticket_status == "closed":
        return EventType.CLOSED
    if ticket_status == "deleted":
        return EventType.DELETED
    return EventType.UPDATED


def _refine_minute(at: datetime, signed: str | None) -> datetime:
    """`{{ticket.updated_at_with_timestamp}}` stops at the minute; the signature timestamp (seconds) is
    used instead when it falls inside that very minute, so two changes in one minute keep their order."""
    if at.second or at.microsecond or signed is None:
        return at
    signed_at = to_instant(signed)
    if signed_at is not None and at <= signed_at < at + timedelta(minutes=1):
        return signed_at
    return at


def _canonical(body: bytes) -> str:
    try:
        return json.dumps(json_input.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return body.decode("utf-8", "replace")
