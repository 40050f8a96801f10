"""Ports: what the use cases (slaclock.services) need from the outside world.

Adapters in `slaclock.adapters` implement them against AWS; `tests/fakes` implements them in memory.
The composition root (`slaclock.runtime.wiring`) builds the real ones once per cold start.
Methods may be added as use cases need them; keep them small and in the support domain's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from slaclock.engine.clocks import Clock, Notice, TicketState
from slaclock.engine.config import Config
from slaclock.engine.events import Event


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A ticket's folded state as stored, with its optimistic-locking version and armed check instant."""

    state: TicketState
    version: int
    next_check_at: datetime | None


class ConflictError(Exception):
    """Optimistic lock lost: someone else wrote the ticket first. Re-read and retry."""


class ConfigSource(Protocol):
    def load(self) -> Config: ...


class SecretStore(Protocol):
    def secret(self, name: str) -> str: ...


class EventStore(Protocol):
    def put_if_new(self, event: Event) -> bool:
        """Append an event; False if its id was stored before (idempotent)."""
        ...

    def ticket_events(self, ticket_id: str) -> list[Event]: ...


class TicketStore(Protocol):
    def get(self, ticket_id: str) -> StoredTicket | None: ...

    def save(
        self, state: TicketState, *, expected_version: int | None, next_check_at: datetime | None,
        clocks: Iterable[Clock],
    ) -> int:
        """Write the state (and the clock records reports query) if the stored version is still
        `expected_version` (None: must not exist). Returns the new version; raises ConflictError."""
        ...

    def due_before(self, instant: datetime) -> Iterator[str]:
        """Ticket ids whose armed check instant is <= `instant` (via an index, never a scan)."""
        ...


class NoticeLedger(Protocol):
    def claim(self, notice: Notice) -> bool:
        """Record that `notice` is being sent; False if it was recorded before (exactly once)."""
        ...

    def mark_sent(self, notice: Notice) -> None: ...


class Scheduler(Protocol):
    def arm(self, ticket_id: str, at: datetime) -> None:
        """Create or move the ticket's one-time check schedule to `at` (already rounded up)."""
        ...

    def disarm(self, ticket_id: str) -> None: ...


class Mailer(Protocol):
    def send(self, to: Iterable[str], subject: str, text: str, html: str) -> str: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


class ReportSink(Protocol):
    def put(self, key: str, body: Iterable[bytes], content_type: str) -> None: ...

    def link(self, key: str, expires_in_seconds: int) -> str: ...
