"""Use case (part of ingest): a delivery that reports slaclock's own write-back (an echo).

A write-back (an interim reply, a note, a release of ownership...) makes the helpdesk send a webhook
back. `unecho` recognises it (`slaclock.connectors.echo.is_echo`: the author is one of the source's
``api.users``, or the note carries slaclock's mark) and rewrites its events before they are stored:

- an ``agent_replied`` or ``customer_replied`` becomes an ``updated``: slaclock's interim reply is
  neither the agent's answer nor the customer's message, so it does not achieve ``first_response``,
  start a ``next_response`` cycle (whose steps would run the actions again) or restart a clock. A
  level with ``interim_reply_answers: true`` keeps it as an agent's answer;
- the field changes are kept (the ticket IS unassigned after ``unassign``, its tags ARE added);
- every event id gets `ECHO_MARK` (``~via-slaclock``), so the ticket's history shows which events
  were slaclock's own, and a redelivery of the echo maps to the same ids (still idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from slaclock.engine import json_input
from slaclock.engine.config import Source
from slaclock.engine.events import Event, EventType

log = logging.getLogger(__name__)

ECHO_MARK = "~via-slaclock"
_REPLIES = frozenset({EventType.AGENT_REPLIED, EventType.CUSTOMER_REPLIED})


def unecho(
    source: Source, body: bytes, events: Sequence[Event], answers: Callable[[str], bool]
) -> Sequence[Event]:
    """`events` of a delivery to `source`, rewritten when the delivery is an echo (module docstring).
    `answers(ticket_id)`: whether that ticket's level counts slaclock's interim reply as an answer."""
    if not source.api_url or not events:
        return events  # a source slaclock never writes back to sends no echo
    try:
        payload = json_input.loads(body)
    except ValueError:
        return events
    from slaclock.connectors.echo import is_echo

    if not is_echo(source.provider, payload, source.api_users):
        return events
    out = []
    for e in events:
        kind = e.type
        if kind in _REPLIES:
            kind = EventType.AGENT_REPLIED if answers(e.ticket_id) else EventType.UPDATED
        out.append(replace(e, id=e.id if e.id.endswith(ECHO_MARK) else e.id + ECHO_MARK, type=kind))
    log.info("echo of slaclock's own write-back", extra={"source": source.name, "events": len(out)})
    return out
