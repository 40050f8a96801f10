"""Help Scout conversations with their threads -> canonical events.

Format: the Mailbox API 2.0 conversations, ``GET /v2/conversations?embed=threads`` (a page
``{"_embedded": {"conversations": [...]}}``,
https://developer.helpscout.com/mailbox-api/endpoints/conversations/list/) or one conversation with
``GET /v2/conversations/{id}?embed=threads``; threads as in
https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/list/: ``{"id", "type"
(customer, reply, note, lineitem...), "status" (active, pending, closed, spam; the conversation's status
as this thread left it), "createdAt", "createdBy": {"type"}}``.

Each conversation becomes the webhooks Help Scout would have sent
(https://developer.helpscout.com/webhooks/), through `HelpScoutProvider.parse`:

- ``convo.created`` at ``createdAt`` (status active) -> ``created``; the earliest thread is the message
  that opened the conversation and adds nothing;
- each later ``customer`` thread: ``convo.customer.reply.created`` -> ``customer_replied``, each ``reply``
  thread: ``convo.agent.reply.created`` -> ``agent_replied`` (ids ``helpscout:<id>:thread:<thread id>``,
  the webhook's own); notes and line items add no reply;
- a thread whose ``status`` differs from the status before it: ``convo.status`` -> ``solved``,
  ``closed``, ``reopened`` or ``updated``.

The conversation's other fields (mailbox, tags, assignee, customer, custom fields) are taken as they
are now, for every event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk._common import dig, text, to_instant
from slaclock.history import RecordError
from slaclock.history._webhook import parse_as_webhook

EVENT = "X-HelpScout-Event"
REPLIES = {"customer": "convo.customer.reply.created", "reply": "convo.agent.reply.created"}
STATUSES = {"active", "pending", "closed", "spam"}


class HelpScoutConversations:
    provider = "helpscout"
    record_keys = ("_embedded.conversations",)

    def page(self, doc: Mapping[str, Any]) -> None:
        return None

    def events(self, record: Any, source: Source) -> list[Event]:
        if not isinstance(record, Mapping):
            raise RecordError(f"a conversation must be a JSON object, not {type(record).__name__}")
        if text(record.get("id")) is None or to_instant(record.get("createdAt")) is None:
            raise RecordError("not a Help Scout conversation: id and an ISO 8601 createdAt required")
        threads = dig(record, "_embedded.threads")
        if not isinstance(threads, list) or not all(isinstance(t, Mapping) for t in threads):
            raise RecordError("_embedded.threads: required, a list of threads (embed=threads)")
        for t in threads:
            if to_instant(t.get("createdAt")) is None or text(t.get("id")) is None:
                raise RecordError(f"thread {t.get('id')!r}: id and an ISO 8601 createdAt required")
        ordered = sorted(threads, key=lambda t: (_instant(t.get("createdAt")), str(t.get("id"))))
        base = {k: v for k, v in record.items() if k != "_embedded"}

        state = "active"
        out = self._send("convo.created", {**base, "status": state}, source)
        for i, thread in enumerate(ordered):
            new_state = str(thread.get("status") or "").lower()
            after = new_state if new_state in STATUSES else state
            at = thread.get("createdAt")
            doc = {**base, "status": after, "userUpdatedAt": at, "_embedded": {"threads": [thread]}}
            event = REPLIES.get(str(thread.get("type")))
            if i > 0 and event is not None:
                out.extend(self._send(event, doc, source))
            if after != state:
                out.extend(self._send("convo.status", {**doc, "_embedded": {"threads": []}}, source))
            state = after
        return out

    def _send(self, event: str, doc: dict[str, Any], source: Source) -> list[Event]:
        return parse_as_webhook(self.provider, doc, source, {EVENT: event})


def _instant(value: Any) -> datetime:
    return to_instant(value) or datetime.min.replace(tzinfo=UTC)
