"""LiveAgent rule webhooks (Configuration > Automation > Rules, action "HTTP request").

LiveAgent does not sign its HTTP requests (https://support.liveagent.com/038465-Rules---Predefined-actions):
the action sends the source's secret as a token, in a header ``X-Slaclock-Token: <secret>`` or
``Authorization: Bearer <secret>``.

Body: the rule's JSON template, whose ticket keys follow LiveAgent's API v3 ticket object
(https://github.com/QualityUnit/LiveAgent-api-python/blob/master/docs/Ticket.md): ``id``, ``code``,
``status`` (one-letter code), ``channel_type`` (one-letter code), ``owner_email`` (the requester),
``agent_email``, ``department`` (name) or ``departmentid``, ``tags``, ``date_created``,
``date_changed``, ``custom_fields``, ``subject`` (the ticket's subject). Either wrapped with the event
the rule stands for::

    {"event": "customer_replied", "ticket": {"id": "fp80688h", "status": "C", ...}}

or a bare ticket object (the type is then read from the status: resolved, closed, deleted, else
updated; a ticket whose ``date_created`` equals ``date_changed`` is new). Times without an offset are
read in `options.timezone` (default UTC).

Message facts (`Event.reply`): a wrapped body may carry the message group the event is about, as the
API v3 gives it (``GET /tickets/{ticketId}/messages``, a list of ``MessageGroup`` objects,
https://github.com/QualityUnit/LiveAgent-api-python/blob/master/docs/TicketsApi.md and
https://github.com/QualityUnit/LiveAgent-api-python/blob/master/docs/MessageGroup.md), under
``message_group``: its one-letter ``type`` gives ``public`` (``I`` internal, ``U`` internal offline,
``Z`` internal collapsed: false; ``3`` incoming e-mail, ``4`` outgoing e-mail, ``C`` chat, ``P`` call,
``F`` Facebook, ``W`` Twitter, ``6`` WhatsApp: true) and, for e-mail, ``author`` (``3`` incoming:
``customer``, ``4`` outgoing: ``agent``); ``via`` is the type letter as sent. A rule's own template has
no placeholder for these, so only a sender that adds the group (from the API) states them.

LiveAgent sends no event id: the id is a hash of the ticket id
and the body, so a redelivered body dedupes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType
from slaclock.helpdesk import PayloadError
from slaclock.helpdesk._common import (
    canonical_json,
    change_instant,
    channel,
    check_token,
    digest,
    email,
    event_type,
    load_object,
    lookup,
    make_event,
    not_an_event_type,
    priority,
    put,
    scalar,
    status,
    string_field,
    subject,
    tag_list,
    text,
)

# LiveAgent API v3 ticket status and channel codes (Ticket.md above; L = closed in newer versions)
# (keys are slugs, i.e. lowercase: the lookup happens after `slug`)
STATUS_CODES = {
    "i": "new", "n": "new", "t": "open", "p": "open", "c": "open", "a": "pending",
    "w": "on_hold", "r": "solved", "l": "closed", "x": "deleted", "b": "spam",
}  # fmt: skip
CHANNEL_CODES = {
    "e": "email", "b": "chat", "i": "chat", "m": "web", "q": "web", "s": "web", "c": "phone", "w": "phone",
    "f": "social", "a": "social", "t": "social", "h": "social", "j": "social", "d": "social", "n": "social",
}  # fmt: skip


class LiveAgentProvider:
    name = "liveagent"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        check_token(headers, secret)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_object(body)
        wrapped = isinstance(doc.get("ticket"), Mapping)
        ticket: Mapping[str, Any] = doc["ticket"] if wrapped else doc
        prefix = "ticket." if wrapped else ""
        errors: list[tuple[str, str]] = []
        ticket_id = text(ticket.get("id"))
        if ticket_id is None:
            errors.append((f"{prefix}id", "required"))

        ticket_status = status(ticket.get("status"), source, STATUS_CODES)
        fields = _fields(ticket, ticket_status, source)
        put(fields, "subject", subject(ticket, ("subject",), errors, prefix))

        raw_event = string_field(doc, "event", errors) if wrapped else None
        ev_type: EventType | None
        if raw_event is not None:
            ev_type = event_type(raw_event)
            if ev_type is None:
                errors.append(("event", not_an_event_type(raw_event)))
        else:
            ev_type = _by_status(ticket_status, ticket)

        stamp = "date_created" if ev_type is EventType.CREATED else "date_changed"
        at = change_instant(
            ticket, stamp, "date_changed",
            source=source, headers=headers, errors=errors, prefix=prefix, form="a date and time",
        )  # fmt: skip
        reply = _group_facts(doc.get("message_group"), errors) if wrapped else None
        if errors or ticket_id is None or ev_type is None or at is None:
            raise PayloadError(errors)
        event_id = f"liveagent:{ticket_id}:{digest(canonical_json(doc))}"
        return [make_event(event_id, ticket_id, ev_type, at, fields, reply)]


_INTERNAL_GROUPS = frozenset("IUZ")
_PUBLIC_GROUPS = frozenset("34CPFW6")
_GROUP_AUTHORS = {"3": "customer", "4": "agent"}


def _group_facts(group: Any, errors: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The message facts of an API v3 message group (see the module docstring); None without one."""
    if group is None:
        return None
    if not isinstance(group, Mapping):
        errors.append(("message_group", "must be an object (the API's MessageGroup)"))
        return None
    kind = group.get("type")
    if kind is None:
        return None
    if not isinstance(kind, str):
        errors.append(("message_group.type", "must be the group's one-letter type"))
        return None
    kind = kind.strip().upper()
    public = False if kind in _INTERNAL_GROUPS else True if kind in _PUBLIC_GROUPS else None
    return {"public": public, "author": _GROUP_AUTHORS.get(kind), "via": kind or None}


def _fields(ticket: Mapping[str, Any], ticket_status: str | None, source: Source) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    put(fields, "status", ticket_status)
    put(fields, "priority", priority(ticket.get("priority"), source))
    put(fields, "channel", channel(ticket.get("channel_type"), source, CHANNEL_CODES))
    if "tags" in ticket:
        fields["tags"] = tag_list(ticket.get("tags")) or []
    department = text(ticket.get("department")) or lookup(source, "departments", ticket.get("departmentid"))
    put(fields, "department", department)
    if "agent_email" in ticket:  # present but empty: unassigned
        fields["assignee"] = email(ticket.get("agent_email"))
    else:
        put(fields, "assignee", lookup(source, "users", ticket.get("agentid")))
    put(fields, "requester", email(ticket.get("owner_email")))
    put(fields, "customer_group", text(ticket.get("company")))
    custom: dict[str, Any] = {}
    raw_custom = ticket.get("custom_fields")
    if isinstance(raw_custom, list):  # API v3: [{"code": "plan", "value": "gold"}]
        for item in raw_custom:
            if isinstance(item, Mapping) and text(item.get("code")):
                custom[str(item["code"])] = scalar(item.get("value"))
    elif isinstance(raw_custom, Mapping):
        custom.update({str(k): scalar(v) for k, v in raw_custom.items()})
    if text(ticket.get("code")):
        custom["liveagent_code"] = text(ticket.get("code"))
    put(fields, "custom", custom)
    return fields


def _by_status(ticket_status: str | None, ticket: Mapping[str, Any]) -> EventType:
    if ticket_status == "solved":
        return EventType.SOLVED
    if ticket_status == "closed":
        return EventType.CLOSED
    if ticket_status in ("deleted", "spam"):
        return EventType.DELETED
    created, changed = text(ticket.get("date_created")), text(ticket.get("date_changed"))
    if created is not None and (changed is None or changed == created):
        return EventType.CREATED
    return EventType.UPDATED
