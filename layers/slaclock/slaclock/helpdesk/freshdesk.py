"""Freshdesk automation-rule webhooks ("Trigger webhook" action).

Freshdesk does not sign webhooks
(https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules):
the rule's webhook action sends the source's secret as a token: a custom header
``X-Slaclock-Token: <secret>`` or ``Authorization: Bearer <secret>``, or the action's "Requires
authentication" with the secret as password (or as API key, which Freshdesk sends as ``<key>:X``).

Body: the ``freshdesk_webhook`` object of Freshdesk's "Advanced" JSON content, with the placeholders
of the recommended body in docs/helpdesks.md (keys as in Freshdesk's "Simple" content, which sends the
same object; a bare object without the wrapper is read the same way)::

    {"freshdesk_webhook": {"ticket_id": "{{ticket.id}}", "triggered_event": "{{triggered_event}}",
      "slaclock_event": "agent_replied", "ticket_status": "{{ticket.status}}",
      "ticket_priority": "{{ticket.priority}}", "ticket_source": "{{ticket.source}}",
      "ticket_tags": "{{ticket.tags}}", "ticket_group_name": "{{ticket.group.name}}",
      "ticket_agent_email": "{{ticket.agent.email}}", "ticket_requester_email": "{{ticket.requester.email}}",
      "ticket_company_name": "{{ticket.company.name}}", "ticket_subject": "{{ticket.subject}}",
      "ticket_cf_plan": "{{ticket.cf_plan}}"}}

The event type comes from ``slaclock_event`` when the rule sets one (needed to tell an agent's reply
from a customer's: one rule per performer), else from ``triggered_event`` (``{ticket_action:created}``,
``{status:{from:X,to:Y}}``, ...).

The ticket's subject is ``ticket_subject`` (placeholder ``{{ticket.subject}}``), the key Zulip's
Freshdesk integration documents for the same template
(https://github.com/zulip/zulip/blob/main/zerver/webhooks/freshdesk/doc.md).

Times: Freshdesk has no placeholder for when a change happened, so an event is dated by when the
request reached slaclock (``X-Slaclock-Received-At``, stamped by the webhook function from API
Gateway's ``requestContext.timeEpoch``). ``ticket_updated_at`` / ``ticket_created_at``, if a sender
adds them, take precedence. Ids: Freshdesk sends none; see `_event_id`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType, format_instant
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
    make_event,
    not_an_event_type,
    priority,
    put,
    received_at,
    scalar,
    status,
    string_field,
    subject,
    tag_list,
    text,
)

# Freshdesk's numeric codes, as sent in triggered_event and by the API
STATUS_CODES = {"2": "open", "3": "pending", "4": "solved", "5": "closed", "6": "pending", "7": "on_hold"}
PRIORITY_CODES = {"1": "low", "2": "normal", "3": "high", "4": "urgent"}
SOURCE_CODES = {"1": "email", "2": "web", "3": "phone", "7": "chat", "9": "web", "10": "email"}

REPLIES = frozenset({EventType.AGENT_REPLIED, EventType.CUSTOMER_REPLIED})

_TRIGGER = re.compile(r"^\{\s*(?P<key>[a-z_]+)\s*:\s*(?P<value>.*)\}$", re.IGNORECASE | re.DOTALL)
_CHANGE = re.compile(r"^\{\s*from\s*:(?P<from>.*?),\s*to\s*:(?P<to>.*)\}$", re.IGNORECASE | re.DOTALL)


class FreshdeskProvider:
    name = "freshdesk"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        check_token(headers, secret)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None  # Freshdesk sends none; event ids carry the idempotency

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_object(body)
        data = doc.get("freshdesk_webhook", doc)
        prefix = "freshdesk_webhook." if "freshdesk_webhook" in doc else ""
        if not isinstance(data, Mapping):
            raise PayloadError([("freshdesk_webhook", "must be an object")])
        errors: list[tuple[str, str]] = []
        ticket_id = text(data.get("ticket_id"))
        if ticket_id is None:
            errors.append((f"{prefix}ticket_id", "required"))

        fields = _fields(data, source)
        put(fields, "subject", subject(data, ("ticket_subject",), errors, prefix))
        ev_type = _event_type(data, fields.get("status"), source, errors, prefix)

        stamp = "ticket_created_at" if ev_type is EventType.CREATED else "ticket_updated_at"
        at = change_instant(
            data, stamp, "ticket_updated_at", source=source, headers=headers, errors=errors, prefix=prefix
        )
        if errors or ticket_id is None or ev_type is None or at is None:
            raise PayloadError(errors)
        event_id = _event_id(ticket_id, doc, data, ev_type, headers)
        return [make_event(event_id, ticket_id, ev_type, at, fields, _note_facts(data))]


def _note_facts(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The message facts (`Event.reply`) a body states: a "Note is added" rule's ``{{triggered_event}}``
    is ``{note_type:public}`` or ``{note_type:private}`` (the form Zulip's Freshdesk integration
    documents, https://github.com/zulip/zulip/blob/main/zerver/webhooks/freshdesk/doc.md), so
    ``public`` is true or false; nothing else in a rule body says who wrote a message or how."""
    trigger = data.get("triggered_event")
    match = _TRIGGER.match(trigger) if isinstance(trigger, str) else None
    if match is None or match["key"].lower() != "note_type":
        return None
    visibility = match["value"].strip().lower()
    return {"public": {"public": True, "private": False}.get(visibility)}


def _event_id(
    ticket_id: str, doc: Any, data: Mapping[str, Any], ev_type: EventType, headers: Mapping[str, str]
) -> str:
    """``freshdesk:<ticket>:<hash of the body>``, and for a reply whose body carries no time of its own,
    ``:<received instant>`` after it.

    Freshdesk sends no delivery or comment id and no time placeholder, so two replies on one ticket
    often have identical bodies (nothing in a "Reply is sent" body changes between replies). Those
    must stay two replies: merging them would drop an answer (a breach that did not happen) or a
    customer's message (a breach never measured). So a reply is dated and identified by its receive
    instant; the price is that a redelivery of a reply (Freshdesk retries only after slaclock failed
    to answer, 5, 35 and 95 minutes later) counts as one more reply, which changes nothing unless the
    other side wrote in between. Every other kind (created, status changes, updates) describes a state:
    an identical body is the same change, so it is one event however often it is delivered.
    """
    key = f"freshdesk:{ticket_id}:{digest(canonical_json(doc))}"
    if ev_type not in REPLIES or data.get("ticket_updated_at"):
        return key
    received = received_at(headers)
    return key if received is None else f"{key}:{format_instant(received)}"


def _fields(data: Mapping[str, Any], source: Source) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    put(fields, "status", status(data.get("ticket_status"), source, STATUS_CODES))
    put(fields, "priority", priority(data.get("ticket_priority"), source, PRIORITY_CODES))
    put(fields, "channel", channel(data.get("ticket_source"), source, SOURCE_CODES))
    if "ticket_tags" in data:
        fields["tags"] = tag_list(data.get("ticket_tags")) or []
    put(fields, "department", text(data.get("ticket_group_name")))
    if "ticket_agent_email" in data:  # present but empty: unassigned
        fields["assignee"] = email(data.get("ticket_agent_email"))
    put(fields, "requester", email(data.get("ticket_requester_email") or data.get("requester_email")))
    put(fields, "customer_group", text(data.get("ticket_company_name")))
    custom = {
        key.removeprefix("ticket_cf_"): scalar(value)
        for key, value in data.items()
        if key.startswith("ticket_cf_")
    }
    put(fields, "custom", custom)
    return fields


def _event_type(
    data: Mapping[str, Any],
    ticket_status: str | None,
    source: Source,
    errors: list[tuple[str, str]],
    prefix: str,
) -> EventType | None:
    explicit = string_field(data, "slaclock_event", errors, prefix)
    if explicit is not None:
        ev_type = event_type(explicit)
        if ev_type is None:
            errors.append((f"{prefix}slaclock_event", not_an_event_type(explicit)))
        return ev_type
    trigger = string_field(data, "triggered_event", errors, prefix)
    match = _TRIGGER.match(trigger) if trigger else None
    if match is None:
        return _by_status(ticket_status)
    key, value = match["key"].lower(), match["value"].strip()
    if key == "ticket_action":
        action = value.lower()
        if action == "created":
            return EventType.CREATED
        if action in ("deleted", "spam"):
            return EventType.DELETED
        return EventType.UPDATED
    if key == "status":
        change = _CHANGE.match(value)
        if change is None:
            return _by_status(ticket_status)
        before = status(change["from"].strip(), source, STATUS_CODES)
        after = status(change["to"].strip(), source, STATUS_CODES)
        if after in ("solved", "closed"):
            return EventType.SOLVED if after == "solved" else EventType.CLOSED
        if before in ("solved", "closed"):
            return EventType.REOPENED
        return EventType.UPDATED
    return EventType.UPDATED


def _by_status(ticket_status: str | None) -> EventType:
    if ticket_status == "solved":
        return EventType.SOLVED
    if ticket_status == "closed":
        return EventType.CLOSED
    return EventType.UPDATED
