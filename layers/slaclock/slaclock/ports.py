"""Ports: what the use cases (slaclock.services) need from the outside world.

Adapters in `slaclock.adapters` implement them against AWS; `tests/fakes` implements them in memory.
The composition root (`slaclock.runtime.wiring`) builds the real ones once per cold start.
Methods may be added as use cases need them; keep them small and in the support domain's words.

Errors: adapters translate their SDK's errors into the ones below, so a use case can tell a refusal it
recovers from (`ServiceUnavailable`: the ticket's stored `next_check_at` stays authoritative and the
sweeper catches up) from a bug. Anything else an adapter raises is treated as a server fault.

All instants crossing a port are aware datetimes; adapters store and return them in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from slaclock.engine.clocks import ClockStatus, Notice, TicketState
from slaclock.engine.config import Config, Metric
from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import Event
from slaclock.engine.policy import Policy

RecordKey = tuple[str, int]
"""A clock record's identity within its ticket: (metric name as stored, cycle)."""


def record_key(clock: Any) -> RecordKey:
    """The `RecordKey` of a clock, clock record or snapshot (anything with ``metric`` and ``cycle``)."""
    return str(clock.metric), clock.cycle


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A ticket's folded state as stored, with its optimistic-locking version and armed check instant.

    `next_check_at`: the instant the ticket's one-time schedule is (or should be) armed for, already
    rounded up to the whole minute; None when nothing is pending. The sweeper's index is on it.
    `retry_at`: when a claimed-but-unsent notice must be tried again (a send failed, or another
    check held its lease); None when no notice is pending. When set, `next_check_at <= retry_at`.
    Ingest carries `retry_at` over unchanged and never arms the schedule later than it.
    `notified`: keys (`Notice.key`) of the notices known to be sent, a cache of the `NoticeLedger`
    kept on the ticket so a check does not claim them again (one conditional write and one read
    saved per past notice and per check). The ledger stays the authority: a key missing here is
    claimed, and the ledger answers SENT. Ingest carries it over unchanged.
    `records`: the (metric, cycle) of every clock record the store holds for the ticket, so a save
    can delete the records whose clock is gone (`services.snapshots.settle_records`).
    """

    state: TicketState
    version: int
    next_check_at: datetime | None
    retry_at: datetime | None = None
    notified: frozenset[str] = frozenset()
    records: frozenset[RecordKey] = frozenset()


class ConflictError(SlaclockError):
    """Optimistic lock lost: someone else wrote the ticket first. Re-read and retry."""

    http_status = 503  # the sender retries


class ServiceUnavailable(SlaclockError):  # noqa: N818 - named after the condition, like HTTP 503
    http_status = 503

    """An outside service refused after the client's own retries (throttling, 5xx, timeout).

    Raised by `Scheduler`, `Mailer`, `EventPublisher` and `WebhookPoster` instead of SDK errors
    (botocore `ClientError` with a throttling/5xx code, `urllib3` MaxRetryError, ...). The message
    names the service and the error code only: never a recipient, a body or a ticket field.
    """


#: The most addresses one e-mail carries (SES: 50 across To, Cc and Bcc). A `Mailer` sends a longer
#: list as several messages, and one of them can be refused after others were accepted.
MAX_RECIPIENTS_PER_MESSAGE = 50


class PartialDelivery(ServiceUnavailable):  # noqa: N818 - a condition, like ServiceUnavailable
    """A send of several messages stopped part-way: `delivered` (the addresses of the messages that
    were accepted) got the e-mail, the others did not. The message names the error code only."""

    def __init__(self, message: str, delivered: tuple[str, ...]) -> None:
        super().__init__(message)
        self.delivered = delivered


class QuotaExceeded(ServiceUnavailable):
    """A service quota (a count, not a rate) is used up: EventBridge Scheduler's number of schedules
    (``ServiceQuotaExceededException``). Retrying soon does not help; the use case reports it (the
    functions count ``ScheduleQuotaExceeded``, alarmed in template.yaml) and the sweeper keeps the
    ticket's checks running from the table until the quota is raised or schedules are freed."""


class ConfigSource(Protocol):
    def load(self) -> Config:
        """The configuration in force (the adapter caches it for a few minutes per container)."""
        ...

    def policy(self) -> Policy:
        """The configuration in force, compiled (`slaclock.engine.policy.compile_policy`) ONCE per
        configuration: the same object for every request until another configuration is loaded."""
        ...


class SecretStore(Protocol):
    def secret(self, name: str) -> str:
        """The secret called `name`: an SSM parameter name (``/slaclock/zendesk-main``, SecureString,
        decrypted) or a Secrets Manager ARN (``arn:aws:secretsmanager:...``). Cached per container."""
        ...


class EventStore(Protocol):
    def put_if_new(self, event: Event) -> bool:
        """Append an event; False if its id was stored before (idempotent, conditional write).

        The event id is unique per ticket (the store keys on (ticket_id, id)). A False answer does NOT
        mean the event was folded into the ticket: a Lambda may have died between the two writes, so
        ingest folds by the state's own record of seen ids, never by this answer.
        """
        ...

    def ticket_events(self, ticket_id: str) -> list[Event]:
        """Every stored event of the ticket (any order; one query). Used only to replay a ticket when
        an event arrives out of order."""
        ...


class TicketStore(Protocol):
    def get(self, ticket_id: str) -> StoredTicket | None:
        """The stored ticket, or None. Eventually consistent reads are fine: `save` is conditional."""
        ...

    def save(
        self,
        state: TicketState,
        *,
        expected_version: int | None,
        next_check_at: datetime | None,
        clocks: Iterable[ClockSnapshot],
        retry_at: datetime | None = None,
        notified: Iterable[str] = (),
        removed: Iterable[RecordKey] = (),
        records: Iterable[RecordKey] | None = None,
    ) -> int:
        """Write the state if the stored version is still `expected_version` (None: must not exist).

        Returns the new version (expected_version + 1, or 1); raises ConflictError otherwise.
        `next_check_at` (rounded up to the minute, or None) is what `due_before` indexes; `retry_at`
        and `notified` are stored as given (see `StoredTicket`; `get` returns them, `notified` as a
        frozenset, empty when never written). `clocks` are only the clock records that CHANGED
        (the use case filters them and builds them record-ready, `services.snapshots`): upsert one
        record per (ticket_id, metric, cycle). Ingest passes
        none when only the ticket fields moved, so a webhook costs as few writes as possible.
        `removed`: the records to delete in the same write (their clock is gone). `records`: every
        record the ticket holds after this save, as `get` returns them; None: not given (the store
        then finds them itself when it is next read).
        """
        ...

    due_parts: int
    """How many partitions the due index has (the sweeper drains each with its own worker)."""

    def due_before(self, instant: datetime, *, parts: Iterable[int] | None = None) -> Iterator[str]:
        """Ticket ids whose `next_check_at` is <= `instant`, oldest first (via an index, never a
        scan; paginated lazily, so a caller that stops early reads only what it used). `parts`: only
        those partitions of the index (0 .. `due_parts` - 1; None: all), merged oldest first."""
        ...


class SweepLeases(Protocol):
    """Who drains which partition of the due index: at most one sweeper invocation per partition.

    A lease is one conditional write; it ends by itself at `until`, so a worker that dies frees its
    partition for the next scheduled sweep."""

    def acquire(self, part: int, *, holder: str, now: datetime, until: datetime) -> bool:
        """Hold partition `part` for `holder` until `until` if nobody else holds it at `now` (no lease,
        a lease ended at or before `now`, or `holder`'s own: renewed). False if another holder has it."""
        ...

    def release(self, part: int, *, holder: str) -> None:
        """End `holder`'s lease of `part` now (nothing happens if someone else holds it)."""
        ...


class SweepFanOut(Protocol):
    def continue_sweep(self, part: int, holder: str) -> None:
        """Start another sweeper invocation (asynchronously) that drains partition `part` under the
        lease `holder` holds. Raises ServiceUnavailable if it could not be started."""
        ...


class ClaimOutcome(StrEnum):
    """The answer of `NoticeLedger.claim`."""

    CLAIMED = "claimed"
    """This caller holds the notice's lease: send it, then `mark_sent`."""
    SENT = "sent"
    """Sent before: nothing to do."""
    HELD = "held"
    """Another caller claimed it and its lease has not ended: leave it; check again after the lease."""


class NoticeLedger(Protocol):
    """Records each notice (`Notice.key`) so it is e-mailed exactly once.

    A claim is a lease: the record stores `claimed_until`. A sender that dies (or whose e-mail
    fails) leaves the notice claimed-but-unsent; once the lease ends, the next check or sweep claims
    it again and sends it. The remaining window for a duplicate is a sender dying between the e-mail
    and `mark_sent` (at-least-once there, by choice: a lost warning is worse than a repeated one).
    """

    def claim(self, notice: Notice, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        """Atomically (one conditional write): if the notice has no record, or an unsent record whose
        `claimed_until` <= `now`, set `claimed_until = now + lease` and return CLAIMED. Otherwise
        return SENT if it was marked sent, else HELD."""
        ...

    def mark_sent(self, notice: Notice, *, now: datetime) -> None:
        """Record that the notice was delivered at `now` (it is never claimed again)."""
        ...

    def mark_delivered(self, notice: Notice, addresses: Iterable[str]) -> None:
        """Record that `addresses` got the notice's e-mail while others did not yet (a
        `PartialDelivery`); they are added to what is recorded already."""
        ...

    def delivered(self, notice: Notice) -> frozenset[str]:
        """The addresses recorded by `mark_delivered` (lower-cased), empty if none."""
        ...


class ActionRejected(SlaclockError):  # noqa: N818 - a condition, like ServiceUnavailable
    """An action's receiver refused it for good (a 4xx other than 429, missing credentials, an action
    the provider cannot do): retrying the same call cannot help. Names the host and status only."""


@dataclass(frozen=True, slots=True)
class ActionCall:
    """One outgoing action (slack, teams or a helpdesk write-back), ready to send.

    `ticket`: the id the helpdesk knows (the source's `ticket_prefix` removed); `provider`, `api_url`
    and `api_secret`: the ticket's source (None for a chat message); `params`: the action's validated
    parameters; `text`: the rendered template (internal_note, reply), else None; `values`: every
    template variable's value (chat messages show them)."""

    kind: str
    ticket: str
    params: Mapping[str, Any]
    values: Mapping[str, str]
    notice: Notice
    zone: str
    text: str | None = None
    provider: str | None = None
    api_url: str | None = None
    api_secret: str | None = None


class ActionRunner(Protocol):
    def run(self, call: ActionCall, *, now: datetime) -> str:
        """Send `call` (retries with backoff on 429/5xx, Retry-After honoured, within a bounded time);
        returns the target it acted on (a host, never a path). Raises ServiceUnavailable when it gave
        up, `ActionRejected` when the receiver refused."""
        ...


class ActionLedger(Protocol):
    """Records each owed action (`slaclock.engine.action_plan.ActionDue.key`) so it runs exactly once,
    with a lease like the `NoticeLedger`'s (same semantics: CLAIMED / SENT / HELD)."""

    def claim(self, notice: Notice, key: str, *, now: datetime, lease: timedelta) -> ClaimOutcome: ...

    def mark_done(self, notice: Notice, key: str, *, now: datetime, outcome: str) -> None:
        """Record the action as finished (`outcome`: ``sent`` or ``dead_letter``); never claimed again."""
        ...


class BreachTally(Protocol):
    """Per recipient of a breach threshold (``notify_when_breached_at_least``): the clocks it was told
    are breached (``<ticket>#<metric>#<cycle>``) and whether it was told of the current crossing."""

    def add(self, recipient: str, clock: str) -> frozenset[str]:
        """Add `clock` (idempotent) and return every clock recorded for `recipient`."""
        ...

    def remove(self, recipient: str, clocks: Iterable[str]) -> None:
        """Forget `clocks` (no longer breached and open)."""
        ...

    def cross(self, recipient: str) -> bool:
        """Mark the crossing told; True for the one caller that changed it (a conditional write)."""
        ...

    def reset(self, recipient: str) -> None:
        """The count fell below the threshold: the next crossing is told again."""
        ...


class DeadLetters(Protocol):
    def put(self, record: Mapping[str, Any]) -> None:
        """Keep an action that gave up or was refused (ids, kind, host, error; no personal data) for an
        operator to inspect and redrive. Raises ServiceUnavailable."""
        ...


class Scheduler(Protocol):
    """One EventBridge Scheduler one-time schedule per ticket (named from the ticket id)."""

    def arm(self, ticket_id: str, at: datetime, *, exists: bool | None = None) -> None:
        """Create or move the ticket's one-time check schedule to `at` (already rounded up to the
        whole minute). Its target input is exactly
        ``{"ticket_id": ticket_id, "armed_for": format_instant(at)}``. Raises ServiceUnavailable.

        `exists` is a hint that saves a call: True when the caller believes the schedule exists (the
        ticket had an armed instant still in the future: try an update first), False/None otherwise
        (try a create first). Either way the adapter falls back to the other call."""
        ...

    def disarm(self, ticket_id: str) -> None:
        """Delete the ticket's schedule; a missing schedule is not an error. Raises ServiceUnavailable."""
        ...


class Mailer(Protocol):
    def send(self, to: Iterable[str], subject: str, text: str, html: str) -> str:
        """Send one e-mail (plain text and HTML bodies) to every address in `to`, as one message per
        `MAX_RECIPIENTS_PER_MESSAGE` addresses; returns the provider's (first) message id. Raises
        ServiceUnavailable if it was not accepted, `PartialDelivery` if some messages were."""
        ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Put one event (source ``slaclock``) on the bus. Raises ServiceUnavailable."""
        ...


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST `body` to `url` with `headers`, retrying transient failures (connection errors, 429,
        5xx) with backoff. Raises ServiceUnavailable when it still fails."""
        ...


class ReportSink(Protocol):
    def put(self, key: str, body: Iterable[bytes], content_type: str) -> None: ...

    def link(self, key: str, expires_in_seconds: int) -> str: ...


class LinkIssuer(Protocol):
    def link(self, key: str, expires_at: datetime) -> str:
        """A URL that downloads object `key` until `expires_at` (aware), however long the credentials
        of whoever issued it live (see `slaclock.services.report.links`)."""
        ...


@dataclass(frozen=True, slots=True)
class ClockSnapshot:
    """One stored SLA clock record (one per ticket, metric and cycle) as of the ticket's last save:
    the source of the SLA log's rows (docs/reports.md), written by `TicketStore.save` and read by
    `ClockSnapshotStore`. (`engine.reports.SlaLogRow` is the other type: a line of the log, evaluated
    at a report's instant; `engine.clocks.ClockRecord` is what the fold keeps of a cycle.) `agent` is
    the ticket's assignee; `timezone` the IANA zone of `calendar` (None if unknown when it was saved).
    `decided_at`: the instant its outcome was decided (met: `stopped_at`; missed: `due_at`), None while
    undecided (read back: as the store indexed it). `status`, `due_at`,
    `business_seconds` and `remaining_seconds` of a running clock are as of `as_of` (the instant its
    ticket was evaluated for the save; None in records written before it was stored), when it was
    `counting` or not: `slaclock.engine.clocks.clock_at` gives them at any later instant."""

    ticket_id: str
    requester: str | None
    department: str | None
    agent: str | None
    level: str
    metric: Metric | str
    cycle: int
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    status: ClockStatus
    business_seconds: float
    remaining_seconds: float
    target_seconds: float
    calendar: str
    timezone: str | None
    decided_at: datetime | None
    recorded_at: datetime
    as_of: datetime | None = None
    counting: bool = False


class ClockSnapshotStore(Protocol):
    """The clock records reports read (written by `TicketStore.save`)."""

    def query(self, start: datetime, end: datetime) -> Iterator[ClockSnapshot]:
        """Decided records whose `decided_at` is in [start, end), in `decided_at` order; streamed
        (paginated index queries, never a scan), so memory stays flat in the row count."""
        ...

    def running(self, start: datetime | None = None, end: datetime | None = None) -> Iterator[ClockSnapshot]:
        """Records still undecided at their last save (open or paused clocks), by due instant as of
        that save; with `start` and `end`, only those whose due instant is in [start, end)."""
        ...


# --- reports (issue 5) ----------------------------------------------------------------------------
# The report function's job records and work queue (slaclock.services.report). Implemented by
# slaclock.adapters.dynamodb.report_jobs (DynamoDB item ``R#<id>``/``JOB``, SQS) and tests/fakes/reports.py.


class ReportJobStatus(StrEnum):
    """Lifecycle of a report job: queued -> running -> done, or failed (retried while the queue
    redelivers; a later attempt may still finish it)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReportJob:
    """One report, scheduled or on demand, as stored.

    `spec`: the validated request as a JSON-able mapping (`slaclock.services.report.ReportSpec`).
    `keys`: the object keys written (``reports/<name or id>/<period>/...``), once uploaded.
    `figures`: the headline numbers of the built report (JSON-able; see the service), once built:
    a retry after a failed e-mail re-sends from them instead of building the report again.
    `error`: a short reason when failed (an error class and code, never a ticket field).
    `claimed_until`: end of the current builder's lease (None when nobody builds it).
    """

    id: str
    status: ReportJobStatus
    spec: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    keys: tuple[str, ...] = ()
    figures: Mapping[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    claimed_until: datetime | None = None


class ReportJobStore(Protocol):
    def create(self, job: ReportJob) -> bool:
        """Store a new job; False (and nothing written) if a job with this id exists (conditional
        write: a schedule that fires twice creates its report once)."""
        ...

    def get(self, job_id: str) -> ReportJob | None:
        """The job, or None (strongly consistent)."""
        ...

    def claim(self, job_id: str, *, now: datetime, lease: timedelta) -> ReportJob | None:
        """Atomically mark the job running for `lease` if it is not done and no other builder holds
        an unexpired lease; returns the claimed job (attempts + 1), or None if it cannot be claimed."""
        ...

    def save_built(
        self, job_id: str, *, now: datetime, keys: tuple[str, ...], figures: Mapping[str, Any]
    ) -> None:
        """Record the uploaded keys and the figures (status stays running until `finish`)."""
        ...

    def finish(self, job_id: str, *, now: datetime) -> None:
        """Mark the job done and release the lease."""
        ...

    def fail(self, job_id: str, *, now: datetime, error: str) -> None:
        """Mark the job failed with a short reason and release the lease."""
        ...


class ReportQueue(Protocol):
    def submit(self, job_id: str) -> None:
        """Ask for the job to be built asynchronously (one message naming the job id). Raises
        ServiceUnavailable when the queue refuses."""
        ...
