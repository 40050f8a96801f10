"""Zendesk ticket audits -> canonical events.

Format: the Ticket Audits API (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/),
``GET /api/v2/tickets/{ticket_id}/audits`` or ``GET /api/v2/ticket_audits``: a page ``{"audits": [...]}``,
optionally with sideloaded ``"users": [{"id", "role"}]`` (``?include=users``). An audit is ``{"id",
"ticket_id", "created_at", "author_id", "via": {"channel"}, "events": [...]}``; its events are described
in the Ticket Audit events reference
(https://developer.zendesk.com/documentation/ticketing/reference-guides/ticket-audit-events-reference):
``Create`` and ``Change`` (``field_name``, ``value``, ``previous_value``) and ``Comment`` (``public``,
``author_id``). Other event types (notifications, CCs, SLA target changes...) are ignored.

Each audit becomes the Zendesk event-subscription document(s) a live webhook would have delivered
(https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/) and goes through
`ZendeskProvider.parse`, so `options.users` / `groups` / `organizations` and the status, priority and
channel tables apply exactly as they do live:

- an audit with ``Create`` events: ``ticket.created`` with the fields they set (channel from the audit's
  ``via.channel``) -> ``created``;
- a public ``Comment``: ``ticket.comment_added`` -> ``agent_replied`` or ``customer_replied``. The author
  is staff when the sideloaded users give them the role ``agent`` or ``admin``, a customer when their
  role is ``end-user``; without users, the ticket's requester (known from its ``Create`` audit, or a
  ``requester_id`` change) is the customer and anyone else staff. A private comment -> ``updated``;
- ``Change`` events: ``ticket.status_changed`` when the status changed (-> ``solved``, ``closed``,
  ``reopened`` or ``updated``), else one update carrying the changed fields -> ``updated``.

Event ids are ``zendesk:audit:<audit id>:<n>`` (``n`` orders the events of one audit: a reply before a
status change made in the same update). Tickets' requesters are the only state kept between records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk._common import text
from slaclock.history import RecordError
from slaclock.history._webhook import parse_as_webhook

DETAIL_FIELDS = {
    "status": "status",
    "priority": "priority",
    "tags": "tags",
    "assignee_id": "assignee_id",
    "requester_id": "requester_id",
    "group_id": "group_id",
    "organization_id": "organization_id",
    "subject": "subject",
}
"""Audit ``field_name`` -> the webhook ``detail`` field it sets."""

STAFF_ROLES = {"agent", "admin"}


class ZendeskAudits:
    provider = "zendesk"
    record_keys = ("audits",)

    def __init__(self) -> None:
        self._requesters: dict[str, str] = {}
        self._roles: dict[str, str] = {}

    def page(self, doc: Mapping[str, Any]) -> None:
        """Remember the sideloaded users' roles (``"users": [{"id": 7, "role": "end-user"}]``)."""
        users = doc.get("users")
        if isinstance(users, list):
            for user in users:
                if isinstance(user, Mapping) and text(user.get("id")) and text(user.get("role")):
                    self._roles[str(text(user.get("id")))] = str(text(user.get("role"))).lower()

    def events(self, record: Any, source: Source) -> list[Event]:
        if not isinstance(record, Mapping):
            raise RecordError(f"an audit must be a JSON object, not {type(record).__name__}")
        if isinstance(record.get("audits"), list):  # a page of its own inside a JSON array
            self.page(record)
            out: list[Event] = []
            for audit in record["audits"]:
                out.extend(self.events(audit, source))
            return out
        audit_id, ticket_id = text(record.get("id")), text(record.get("ticket_id"))
        at = record.get("created_at")
        missing = [n for n, v in (("id", audit_id), ("ticket_id", ticket_id), ("created_at", at)) if not v]
        if missing:
            raise RecordError(f"not a ticket audit: {', '.join(missing)} required")
        raw_events = record.get("events")
        if not isinstance(raw_events, list):
            raise RecordError("events: required, a list")
        assert audit_id is not None and ticket_id is not None

        created, changed, status_change, comment = _collect(raw_events)
        requester = text(created.get("requester_id")) or text(changed.get("requester_id"))
        if requester is not None:
            self._requesters[ticket_id] = requester

        out = []
        docs = self._documents(record, ticket_id, created, changed, status_change, comment)
        for n, doc in enumerate(docs, 1):
            doc["id"] = f"audit:{audit_id}:{n}"  # the provider prefixes "zendesk:"
            out.extend(parse_as_webhook(self.provider, doc, source))
        return out

    def _documents(
        self,
        record: Mapping[str, Any],
        ticket_id: str,
        created: dict[str, Any],
        changed: dict[str, Any],
        status_change: tuple[Any, Any] | None,
        comment: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """The event-subscription documents a live webhook would have sent for this audit, in order."""
        at = record.get("created_at")
        docs: list[dict[str, Any]] = []
        if created:
            via = record.get("via")
            detail = {**created, "id": ticket_id}
            if isinstance(via, Mapping) and via.get("channel") is not None:
                detail["via"] = {"channel": via.get("channel")}
            docs.append(_doc("created", detail, {}, at))
        elif comment is not None:
            is_public = comment.get("public") is not False
            author = text(comment.get("author_id")) or text(record.get("author_id"))
            staff = self._is_staff(ticket_id, author)
            event = {"comment": {"is_public": is_public, "author": {"is_staff": staff}}}
            docs.append(_doc("comment_added", {"id": ticket_id}, event, at))
        if changed and not created:
            detail = {**changed, "id": ticket_id}
            if status_change is not None:
                current, previous = status_change
                docs.append(_doc("status_changed", detail, {"current": current, "previous": previous}, at))
            else:
                kind = "priority_changed" if "priority" in changed else "tags_changed"
                docs.append(_doc(kind, detail, {}, at))
        return docs

    def _is_staff(self, ticket_id: str, author: str | None) -> bool | None:
        """True/False when the author's role (or the ticket's requester) says; None when unknown."""
        if author is None:
            return None
        role = self._roles.get(author)
        if role is not None:
            return role in STAFF_ROLES
        requester = self._requesters.get(ticket_id)
        if requester is None:
            return None
        return author != requester


def _collect(
    raw_events: list[Any],
) -> tuple[dict[str, Any], dict[str, Any], tuple[Any, Any] | None, Mapping[str, Any] | None]:
    """(fields set by Create events, fields set by Change events, (status, previous status) if it
    changed, the audit's first Comment) as webhook ``detail`` fields."""
    created: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    status_change: tuple[Any, Any] | None = None
    comment: Mapping[str, Any] | None = None
    for ev in raw_events:
        if not isinstance(ev, Mapping):
            continue
        kind, name = ev.get("type"), ev.get("field_name")
        if kind == "Create" and name in DETAIL_FIELDS:
            created[DETAIL_FIELDS[name]] = ev.get("value")
        elif kind == "Change" and name in DETAIL_FIELDS:
            changed[DETAIL_FIELDS[name]] = ev.get("value")
            if name == "status":
                status_change = (ev.get("value"), ev.get("previous_value"))
        elif kind == "Comment" and comment is None:
            comment = ev
    return created, changed, status_change, comment


def _doc(kind: str, detail: dict[str, Any], event: dict[str, Any], at: Any) -> dict[str, Any]:
    return {"type": f"zen:event-type:ticket.{kind}", "time": at, "detail": detail, "event": event}
