"""The event store: append-only, idempotent events of each ticket."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import QueryError

from slaclock.adapters.dynamodb.keys import EVENT, expires_at, instant_key, ticket_pk
from slaclock.adapters.dynamodb.models import put_new, reraise, table_models
from slaclock.engine.events import Event, parse_event


def _utcnow() -> datetime:
    """Real time: the default `now` of the store (the composition root passes its own clock)."""
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------ events


class DynamoEventStore:
    """Implements `slaclock.ports.EventStore`."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        now: Callable[[], datetime] = _utcnow,
        retention: timedelta | None = None,
    ) -> None:
        self.models = table_models(table_name, region, host)
        self._now = now
        self.retention = retention

    def put_if_new(self, event: Event) -> bool:
        """Append `event` (one conditional PutItem); False if an event with this id is stored for
        this ticket already (whatever its content)."""
        stored_at = self._now()
        item = self.models.event(
            ticket_pk(event.ticket_id),
            EVENT + event.id,
            event=json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False),
            at=instant_key(event.at),
            stored_at=instant_key(stored_at),
            expires_at=expires_at(stored_at, self.retention),
        )
        return put_new(item, "put event")

    def ticket_events(self, ticket_id: str) -> list[Event]:
        """Every stored event of the ticket, in (`at`, `id`) order (one paginated Query)."""
        item_cls = self.models.event
        try:
            docs = [
                json.loads(item.event)
                for item in item_cls.query(
                    ticket_pk(ticket_id), item_cls.sk.startswith(EVENT), consistent_read=True
                )
            ]
        except QueryError as err:
            reraise(err, "query events")
        events = [parse_event(d) for d in docs]
        return sorted(events, key=lambda e: e.key)
