"""Freshdesk tickets with their conversations -> canonical events.

Format: the API v2 ticket, ``GET /api/v2/tickets/[id]?include=conversations,requester,stats``
(https://developers.freshdesk.com/api/#view_a_ticket), one per record, or a page of the List All
Tickets / filter answers (a JSON array of tickets; ``{"results": [...]}`` for a search). A ticket is
``{"id", "status", "priority", "source", "tags", "group_id", "responder_id", "requester_id",
"custom_fields", "created_at", "updated_at", "requester": {"email"}, "stats": {...}, "conversations":
[...]}`` with the numeric codes of that page (status 2 Open, 3 Pending, 4 Resolved, 5 Closed; priority
1-4; source 1 Email, 2 Portal, 3 Phone, 7 Chat...). ``include=conversations`` embeds at most ten
conversations: for longer tickets, put the whole list of List All Conversations of a Ticket
(``GET /api/v2/tickets/[id]/conversations``, https://developers.freshdesk.com/api/#list_all_ticket_notes)
in ``conversations``. A conversation is ``{"id", "user_id", "incoming", "private", "source" (0 reply,
2 note...), "created_at"}``.

Each ticket becomes the automation-rule webhooks (`slaclock.helpdesk.freshdesk`, the body recommended in
docs/helpdesks.md) that would have been sent, through `FreshdeskProvider.parse`, so the status, priority
and channel tables and `options.status_map` / `priority_map` / `channel_map` apply as they do live:

- ``{ticket_action:created}`` at ``created_at`` (status Open) -> ``created``;
- each public conversation in time order: by the requester (``user_id`` = ``requester_id``) or
  ``incoming`` -> ``customer_replied``, else -> ``agent_replied`` (the ``slaclock_event`` a rule per
  performer sets); private notes add nothing;
- status changes from ``stats`` (``include=stats``): ``reopened_at`` -> ``reopened``, ``resolved_at`` ->
  ``solved``, ``closed_at`` -> ``closed``, and ``pending_since`` -> ``updated`` to Pending while the
  ticket is pending now. Freshdesk's API keeps only the latest of each, not the status history, so an
  earlier resolution that was reopened is not seen. Without ``stats``, a ticket that is resolved or
  closed now gets that status change at ``updated_at``.

A webhook carries names where the API gives ids: the group's name and the agent's e-mail come from
``options.groups`` and ``options.users`` (id -> name, id -> e-mail; absent ids leave the field
unknown), the requester's e-mail from ``requester.email`` (``include=requester``). Tags and custom
fields are the ticket's current ones for every event. Freshdesk sends no ids in its webhooks, so an
imported event's id is the webhook's body hash (with the conversation id in the body): stable across
imports, never equal to a live delivery's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk._common import lookup, subject, text, to_instant
from slaclock.history import RecordError
from slaclock.history._webhook import parse_as_webhook

OPEN, PENDING, RESOLVED, CLOSED = "2", "3", "4", "5"
NOTE_SOURCE = "2"
STATUS_NAMES = {OPEN: "Open", PENDING: "Pending", RESOLVED: "Resolved", CLOSED: "Closed"}
STATS = (("reopened_at", OPEN), ("resolved_at", RESOLVED), ("closed_at", CLOSED))
"""``stats`` instants and the status each one set (``pending_since`` is handled on its own)."""


class FreshdeskTickets:
    provider = "freshdesk"
    record_keys = ("results",)

    def page(self, doc: Mapping[str, Any]) -> None:
        return None

    def events(self, record: Any, source: Source) -> list[Event]:
        if not isinstance(record, Mapping):
            raise RecordError(f"a ticket must be a JSON object, not {type(record).__name__}")
        ticket_id, created_at = text(record.get("id")), _instant(record.get("created_at"))
        if ticket_id is None or created_at is None or "status" not in record:
            raise RecordError("not a Freshdesk ticket: id, status and an ISO 8601 created_at required")
        conversations = record.get("conversations", [])
        if not isinstance(conversations, list) or not all(isinstance(c, Mapping) for c in conversations):
            raise RecordError("conversations: a list of conversations (include=conversations)")
        for c in conversations:
            if text(c.get("id")) is None or _instant(c.get("created_at")) is None:
                raise RecordError(f"conversation {c.get('id')!r}: id and an ISO 8601 created_at required")
        stats = record.get("stats") if isinstance(record.get("stats"), Mapping) else None

        base = _base(record, ticket_id, source)
        changes: list[tuple[datetime, int, str, dict[str, Any]]] = []  # (at, order, id, webhook fields)
        requester = text(record.get("requester_id"))
        facts: dict[str, dict[str, Any]] = {}  # conversation id -> its message facts (Event.reply)
        for c in conversations:
            if c.get("private") is True or text(c.get("source")) == NOTE_SOURCE:
                continue
            by_customer = c.get("incoming") is True or (
                requester is not None and text(c.get("user_id")) == requester
            )
            kind = "customer_replied" if by_customer else "agent_replied"
            at = _instant(c.get("created_at"))
            assert at is not None
            changes.append((at, 0, str(c.get("id")), {"slaclock_event": kind}))
            facts[str(c.get("id"))] = {"public": True, "author": "customer" if by_customer else "agent"}
        for at, status_code in _status_changes(record, stats):
            changes.append((at, 1, status_code, {"status": status_code}))
        changes.sort(key=lambda c: (c[0], c[1], c[2]))

        state = OPEN
        docs = [
            {**base, "triggered_event": "{ticket_action:created}", "ticket_status": state,
             "ticket_created_at": record.get("created_at")}
        ]  # fmt: skip
        for at, _, key, change in changes:
            stamp = {"ticket_updated_at": at.isoformat().replace("+00:00", "Z")}
            if "slaclock_event" in change:
                docs.append(
                    {**base, **change, **stamp, "ticket_status": state, "slaclock_conversation_id": key}
                )
                continue
            after = change["status"]
            if after == state:
                continue
            names = STATUS_NAMES.get(state, state), STATUS_NAMES.get(after, after)
            trigger = f"{{status:{{from:{names[0]},to:{names[1]}}}}}"
            docs.append({**base, **stamp, "triggered_event": trigger, "ticket_status": after})
            state = after
        out: list[Event] = []
        for doc in docs:
            parsed = parse_as_webhook(self.provider, {"freshdesk_webhook": doc}, source)
            reply = facts.get(doc.get("slaclock_conversation_id", ""))
            # added after parsing, like the subject: the body (and so the event id) stays as it was
            out.extend(parsed if reply is None else (replace(e, reply=reply) for e in parsed))
        return _with_subject(out, record)


def _with_subject(events: list[Event], record: Mapping[str, Any]) -> list[Event]:
    """`events` with the ticket's ``subject`` (the API's ``subject``) among their ticket fields.

    Added after parsing, not as the webhook's ``ticket_subject``: an imported event's id is the hash of
    the synthesised body, and a body that gained a key would give every event imported before
    slaclock read subjects a new id, so importing the same export again would count it twice."""
    errors: list[tuple[str, str]] = []
    title = subject(record, ("subject",), errors)
    if errors:
        raise RecordError("; ".join(f"{path}: {message}" for path, message in errors))
    if title is None:
        return events
    return [replace(e, ticket={**e.ticket, "subject": title}) for e in events]


def _base(record: Mapping[str, Any], ticket_id: str, source: Source) -> dict[str, Any]:
    """The webhook fields that hold the ticket's current values (the recommended body's keys)."""
    doc: dict[str, Any] = {"ticket_id": ticket_id}
    for key, api_key in (("ticket_priority", "priority"), ("ticket_source", "source")):
        if record.get(api_key) is not None:
            doc[key] = record[api_key]
    if isinstance(record.get("tags"), list):
        doc["ticket_tags"] = ",".join(str(t) for t in record["tags"])
    group = lookup(source, "groups", record.get("group_id"))
    if group is not None:
        doc["ticket_group_name"] = group
    if "responder_id" in record:
        agent = lookup(source, "users", record.get("responder_id"))
        if agent is not None or record.get("responder_id") is None:
            doc["ticket_agent_email"] = agent or ""  # present but empty: unassigned
    requester = record.get("requester")
    if isinstance(requester, Mapping) and text(requester.get("email")):
        doc["ticket_requester_email"] = requester["email"]
    company = record.get("company")
    if isinstance(company, Mapping) and text(company.get("name")):
        doc["ticket_company_name"] = company["name"]
    custom = record.get("custom_fields")
    if isinstance(custom, Mapping):
        for key, value in custom.items():
            if value is not None:
                doc[f"ticket_{key}" if str(key).startswith("cf_") else f"ticket_cf_{key}"] = value
    return doc


def _status_changes(record: Mapping[str, Any], stats: Mapping[str, Any] | None) -> list[tuple[datetime, str]]:
    now = text(record.get("status"))
    if stats is None:
        at = _instant(record.get("updated_at"))
        return [(at, now)] if at is not None and now is not None and now in (RESOLVED, CLOSED) else []
    changes = [(at, code) for key, code in STATS if (at := _instant(stats.get(key))) is not None]
    pending = _instant(stats.get("pending_since"))
    if pending is not None and now is not None and now not in (OPEN, RESOLVED, CLOSED):
        changes.append((pending, now))  # Pending, or a custom status that stops the clock (6, 7...)
    return changes


def _instant(value: Any) -> datetime | None:
    try:
        return to_instant(value)
    except ValueError:
        return None
