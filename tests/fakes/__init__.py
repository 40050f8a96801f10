"""In-memory fakes of every port in `slaclock.ports`, for unit tests of the use cases.

They keep the ports' contracts (conditional writes, versions, leases) and add switches to inject the
failures the use cases must survive: `FakeTicketStore.before_save` (a concurrent writer),
`FakeScheduler.fail_next` (throttling), `FakeMailer.fail_next` (SES refusing), `FakeTicketStore.crash`
(a Lambda dying between two writes). States are stored as JSON (`to_dict`) like the real store, so a
state that does not round-trip fails here first. Every fake is thread-safe.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.clocks import Notice, TicketState
from slaclock.engine.config import Config
from slaclock.engine.events import Event
from slaclock.engine.policy import Policy, compile_policy
from slaclock.ports import (
    MAX_RECIPIENTS_PER_MESSAGE,
    ClaimOutcome,
    ClockSnapshot,
    ConflictError,
    PartialDelivery,
    ServiceUnavailable,
    StoredTicket,
)


class Crash(Exception):  # noqa: N818 - simulates a Lambda dying
    """Raised by a fake where a test asked the process to 'die'."""


class StaticConfig:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.loads = 0
        self._policy: Policy | None = None

    def load(self) -> Config:
        self.loads += 1
        return self.config

    def policy(self) -> Policy:
        """Compiled once, as `S3ConfigStore.policy` compiles once per configuration."""
        self.loads += 1
        if self._policy is None or self._policy.config is not self.config:
            self._policy = compile_policy(self.config)
        return self._policy


class FakeSecrets:
    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self.secrets = dict(secrets or {})
        self.reads: list[str] = []

    def secret(self, name: str) -> str:
        self.reads.append(name)
        return self.secrets[name]


class FakeEventStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts = 0
        self.queries = 0
        self._lock = threading.Lock()

    def put_if_new(self, event: Event) -> bool:
        with self._lock:
            self.puts += 1
            key = (event.ticket_id, event.id)
            if key in self.items:
                return False
            self.items[key] = event.to_dict()
            return True

    def ticket_events(self, ticket_id: str) -> list[Event]:
        from slaclock.engine.events import parse_event

        with self._lock:
            self.queries += 1
            return [parse_event(d) for (tid, _), d in self.items.items() if tid == ticket_id]


@dataclass
class _TicketItem:
    state: str
    version: int
    next_check_at: datetime | None
    retry_at: datetime | None
    notified: frozenset[str] = frozenset()


class FakeTicketStore:
    def __init__(self) -> None:
        self.items: dict[str, _TicketItem] = {}
        self.clock_records: dict[tuple[str, str, int], ClockSnapshot] = {}
        self.written: list[tuple[str, str, int]] = []
        """The (ticket, metric, cycle) of every clock record written, in order (one per write)."""
        self.gets = 0
        self.saves = 0
        self.conflicts = 0
        self.before_save: Callable[[str], None] | None = None
        """Called with the ticket id before each save (outside the lock): lets a test write first."""
        self.crash = False
        """If True, the next save raises `Crash` without writing (a Lambda dying before the write)."""
        self._lock = threading.RLock()

    def get(self, ticket_id: str) -> StoredTicket | None:
        with self._lock:
            self.gets += 1
            item = self.items.get(ticket_id)
            if item is None:
                return None
            state = TicketState.from_dict(json.loads(item.state))
            # what the ticket's records are, as the DynamoDB store answers them (its list, or a query)
            records = frozenset((m, c) for tid, m, c in self.clock_records if tid == ticket_id)
            return StoredTicket(
                state, item.version, item.next_check_at, item.retry_at, item.notified, records
            )

    def save(
        self,
        state: TicketState,
        *,
        expected_version: int | None,
        next_check_at: datetime | None,
        clocks: Iterable[ClockSnapshot],
        retry_at: datetime | None = None,
        notified: Iterable[str] = (),
        removed: Iterable[tuple[str, int]] = (),
        records: Iterable[tuple[str, int]] | None = None,
    ) -> int:
        hook = self.before_save
        if hook is not None:
            hook(state.ticket_id)
        with self._lock:
            if self.crash:
                self.crash = False
                raise Crash("died before saving the ticket")
            self.saves += 1
            current = self.items.get(state.ticket_id)
            if (current.version if current else None) != expected_version:
                self.conflicts += 1
                raise ConflictError(state.ticket_id)
            version = (expected_version or 0) + 1
            self.items[state.ticket_id] = _TicketItem(
                json.dumps(state.to_dict()), version, next_check_at, retry_at, frozenset(notified)
            )
            for c in clocks:
                self.clock_records[(c.ticket_id, str(c.metric), c.cycle)] = c
                self.written.append((c.ticket_id, str(c.metric), c.cycle))
            for metric, cycle in removed:
                self.clock_records.pop((state.ticket_id, metric, cycle), None)
            held = {(m, c) for tid, m, c in self.clock_records if tid == state.ticket_id}
            if records is not None and set(records) != held:  # the use case's account must be exact
                raise AssertionError(f"records {sorted(records)} != held {sorted(held)}")
            return version

    due_parts = 4

    def due_before(self, instant: datetime, *, parts: Iterable[int] | None = None) -> Iterator[str]:
        chosen = set(range(self.due_parts) if parts is None else parts)
        with self._lock:
            due = sorted(
                (item.next_check_at, tid)
                for tid, item in self.items.items()
                if item.next_check_at is not None
                and item.next_check_at <= instant
                and self.part_of(tid) in chosen
            )
        return iter([tid for _, tid in due])

    def part_of(self, ticket_id: str) -> int:
        return zlib.crc32(ticket_id.encode("utf-8", "surrogatepass")) % self.due_parts

    # test helpers
    def armed(self, ticket_id: str) -> datetime | None:
        return self.items[ticket_id].next_check_at

    def force(self, ticket_id: str, **changes: Any) -> None:
        """Overwrite stored attributes (next_check_at, retry_at) without a version bump."""
        with self._lock:
            for name, value in changes.items():
                setattr(self.items[ticket_id], name, value)


@dataclass
class _Claim:
    claimed_until: datetime
    sent_at: datetime | None = None
    claims: int = 1
    delivered: set[str] = field(default_factory=set)


class FakeLedger:
    def __init__(self) -> None:
        self.records: dict[str, _Claim] = {}
        self._lock = threading.Lock()

    def claim(self, notice: Notice, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        with self._lock:
            record = self.records.get(notice.key)
            if record is None:
                self.records[notice.key] = _Claim(now + lease)
                return ClaimOutcome.CLAIMED
            if record.sent_at is not None:
                return ClaimOutcome.SENT
            if record.claimed_until <= now:
                record.claimed_until = now + lease
                record.claims += 1
                return ClaimOutcome.CLAIMED
            return ClaimOutcome.HELD

    def mark_sent(self, notice: Notice, *, now: datetime) -> None:
        with self._lock:
            self.records[notice.key].sent_at = now

    def mark_delivered(self, notice: Notice, addresses: Iterable[str]) -> None:
        with self._lock:
            self.records[notice.key].delivered.update(a.strip().lower() for a in addresses if a.strip())

    def delivered(self, notice: Notice) -> frozenset[str]:
        with self._lock:
            record = self.records.get(notice.key)
            return frozenset(record.delivered) if record else frozenset()

    def unsent(self) -> list[str]:
        return sorted(k for k, r in self.records.items() if r.sent_at is None)


class FakeActionLedger:
    """`ActionLedger` in memory, by action key, with the notice ledger's claim semantics."""

    def __init__(self) -> None:
        self.records: dict[str, _Claim] = {}
        self.outcomes: dict[str, str] = {}

    def claim(self, notice: Notice, key: str, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        record = self.records.get(key)
        if record is None:
            self.records[key] = _Claim(now + lease)
            return ClaimOutcome.CLAIMED
        if record.sent_at is not None:
            return ClaimOutcome.SENT
        if record.claimed_until <= now:
            record.claimed_until = now + lease
            record.claims += 1
            return ClaimOutcome.CLAIMED
        return ClaimOutcome.HELD

    def mark_done(self, notice: Notice, key: str, *, now: datetime, outcome: str) -> None:
        self.records[key].sent_at = now
        self.outcomes[key] = outcome


@dataclass
class FakeActionRunner:
    """`ActionRunner` that records each call; `fail_next` raises `error` for that many calls."""

    calls: list[Any] = field(default_factory=list)
    fail_next: int = 0
    error: Exception = field(default_factory=lambda: ServiceUnavailable("slack: gave up (429)"))

    def run(self, call: Any, *, now: datetime) -> str:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise self.error
        self.calls.append(call)
        return "hooks.example.com"


@dataclass
class FakeBreachTally:
    clocks: dict[str, set[str]] = field(default_factory=dict)
    crossed: set[str] = field(default_factory=set)

    def add(self, recipient: str, clock: str) -> frozenset[str]:
        self.clocks.setdefault(recipient, set()).add(clock)
        return frozenset(self.clocks[recipient])

    def remove(self, recipient: str, clocks: Iterable[str]) -> None:
        self.clocks.get(recipient, set()).difference_update(clocks)

    def cross(self, recipient: str) -> bool:
        if recipient in self.crossed:
            return False
        self.crossed.add(recipient)
        return True

    def reset(self, recipient: str) -> None:
        self.crossed.discard(recipient)


@dataclass
class FakeDeadLetters:
    records: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def put(self, record: Mapping[str, Any]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("sqs send_message failed: ThrottlingException")
        self.records.append(dict(record))


@dataclass
class FakeScheduler:
    """Schedules by ticket id -> armed instant. `fail_next`: how many next calls raise ServiceUnavailable."""

    schedules: dict[str, datetime] = field(default_factory=dict)
    calls: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    hints: list[bool | None] = field(default_factory=list)
    fail_next: int = 0

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("scheduler: ThrottlingException")

    def arm(self, ticket_id: str, at: datetime, *, exists: bool | None = None) -> None:
        assert at.second == 0 and at.microsecond == 0, "arm() takes a whole minute"
        self.calls.append(("arm", ticket_id, at))
        self.hints.append(exists)
        self._maybe_fail()
        self.schedules[ticket_id] = at

    def disarm(self, ticket_id: str) -> None:
        self.calls.append(("disarm", ticket_id, None))
        self._maybe_fail()
        self.schedules.pop(ticket_id, None)

    def fire(self, ticket_id: str) -> datetime:
        """The scheduler runs the schedule: it is deleted after completion; returns its instant."""
        return self.schedules.pop(ticket_id)


@dataclass
class SentMail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str


@dataclass
class FakeMailer:
    """Sends one `SentMail` per `MAX_RECIPIENTS_PER_MESSAGE` addresses, like SES. `fail_next`: how many
    next calls are refused; `fail_chunk`: the index of a message (0 = first) refused once, after the
    earlier ones of the same call were accepted (a `PartialDelivery`)."""

    sent: list[SentMail] = field(default_factory=list)
    fail_next: int = 0
    fail_chunk: int | None = None
    attempts: int = 0

    def send(self, to: Iterable[str], subject: str, text: str, html: str) -> str:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("sesv2: TooManyRequestsException")
        recipients = tuple(to)
        if not recipients:
            raise ValueError("an e-mail needs at least one recipient")
        size = MAX_RECIPIENTS_PER_MESSAGE
        for n, i in enumerate(range(0, len(recipients), size)):
            if n == self.fail_chunk:
                self.fail_chunk = None
                raise PartialDelivery("sesv2: TooManyRequestsException", recipients[:i])
            self.sent.append(SentMail(recipients[i : i + size], subject, text, html))
        return f"msg-{len(self.sent)}"


@dataclass
class FakePublisher:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_next: int = 0

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("events: ThrottlingException")
        self.events.append((detail_type, dict(detail)))


@dataclass
class FakeWebhooks:
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("webhook: 503")
        self.posts.append((url, body, dict(headers)))


class FakeSweepLeases:
    """`SweepLeases` in memory: part -> (holder, until)."""

    def __init__(self) -> None:
        self.leases: dict[int, tuple[str, datetime]] = {}

    def acquire(self, part: int, *, holder: str, now: datetime, until: datetime) -> bool:
        current = self.leases.get(part)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self.leases[part] = (holder, until)
        return True

    def release(self, part: int, *, holder: str) -> None:
        current = self.leases.get(part)
        if current is not None and current[0] == holder:
            del self.leases[part]


class FakeFanOut:
    """`SweepFanOut` that records the workers it was asked to start (`down`: refuses)."""

    def __init__(self) -> None:
        self.started: list[tuple[int, str]] = []
        self.down = False

    def continue_sweep(self, part: int, holder: str) -> None:
        if self.down:
            raise ServiceUnavailable("lambda invoke failed: TooManyRequestsException")
        self.started.append((part, holder))
