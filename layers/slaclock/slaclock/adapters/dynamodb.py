"""DynamoDB adapters (pynamodb): events, ticket state, SLA clock records, the notice ledger.

ONE table (template.yaml `SlaTable`), one item collection per ticket; docs/architecture.md has the
diagram and the reasoning. Keys (``<tid>`` is the ticket id as given, any Unicode):

    item            pk          sk                          GSI keys (sparse)
    ticket state    T#<tid>     STATE                       due-checks: due_shard=due#<0..3>, next_check_at
    event           T#<tid>     E#<event id>                -
    clock record    T#<tid>     C#<metric>#<cycle:05d>      clocks-by-outcome: outcome_day, outcome_at
                                                            open-clocks: open_part=open, open_due
    notice          T#<tid>     N#<metric>#<cycle>#<step>   -
    sweep lease     SWEEP#<n>   LEASE                       -   (one per due-checks shard)

- Events are append-only and idempotent: put with ``attribute_not_exists(pk)``; the key holds the
  event id only, so a redelivery with the same id is refused whatever else it carries. A ticket's
  events come back with one Query on ``begins_with(sk, "E#")`` and are sorted by (`at`, `id`) here.
- The ticket state is versioned: `save` puts it with ``attribute_not_exists(pk)`` (new ticket) or
  ``version = :expected``; a failed condition raises `ConflictError`. The state JSON is
  zlib-compressed above 512 bytes (`state_z`), which keeps a typical ticket item under 1 KiB, i.e. 1 WCU
  per save and 1 RCU per strongly consistent read.
- Changed clock records are written in the SAME TransactWriteItems as the state (all or nothing, and
  only by the writer whose version condition held). A save with no changed clock is a plain PutItem.
- The sweeper's "armed check instant <= now" is a Query per shard of the sparse `due-checks` index
  (KEYS_ONLY), merged in time order: never a Scan. Four shards spread the index's writes.
- Clock records carry the SLA-log fields; a decided clock (met: at its stop; missed: at its due
  instant) is indexed under its outcome's UTC day, so a report reads a date range with one Query per
  day. Clocks not yet decided sit in the ``running`` partition; cancelled ones leave the index.
- Open clocks (not stopped, not cancelled, with a due instant) are also indexed in the sparse
  `open-clocks` index (``open_part = "open"``, ``open_due`` = the due instant as of the save), which the
  admin API's at-risk list reads by due instant (`DynamoClockRecords.open_clocks`); a stopped clock's
  save drops the two attributes, so it leaves the index.
- Notices: `claim` is one conditional UpdateItem (a lease); see `DynamoNoticeLedger`.
- Lifetime (the table's TTL attribute ``expires_at``, epoch seconds; `retention` of each adapter,
  template parameter ``RetentionDays``): an event expires `retention` after it was stored, a clock
  record `retention` after its outcome was decided (a cancelled one after it was recorded; a running
  one never), a notice `retention` after it was sent (a claimed, unsent one never). The ticket state
  never expires. ``retention=None``: nothing expires.
- Sweep leases: which sweeper invocation drains which due shard; one conditional PutItem
  (`DynamoSweepLeases`).

Instants are stored as fixed-width ISO 8601 UTC strings (``2026-11-20T15:45:00.000000Z``) so that
string order is time order. No pynamodb item ever leaves this module: everything is mapped to engine
or port types.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    GetError,
    PutError,
    PynamoDBException,
    QueryError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from slaclock.adapters import _aws
from slaclock.engine.clocks import Clock, ClockStatus, Notice, TicketState, decided_at
from slaclock.engine.config import Metric
from slaclock.engine.events import Event, parse_event
from slaclock.ports import ClaimOutcome, ConfigSource, ConflictError, SlaLogRow, StoredTicket
from slaclock.runtime import clock as runtime_clock

TICKET = "T#"
STATE = "STATE"
EVENT = "E#"
CLOCK = "C#"
NOTICE = "N#"
DUE_INDEX = "due-checks"
OUTCOME_INDEX = "clocks-by-outcome"
OPEN_INDEX = "open-clocks"
OPEN_PART = "open"
DUE_SHARDS = 4
RUNNING = "running"
#: State JSON longer than this is stored zlib-compressed (keeps a typical ticket item under 1 KiB).
COMPRESS_OVER = 512
#: DynamoDB's limit of items in one TransactWriteItems.
MAX_TRANSACTION_ITEMS = 100
#: Cancellation reasons of a TransactWriteItems that mean "try again later" (the AWS API reference,
#: TransactWriteItems > TransactionCanceledException): the whole transaction wrote nothing.
TRANSIENT_CANCELLATIONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_key(t: datetime) -> str:
    """Fixed-width ISO 8601 UTC (microseconds always present): string order == time order."""
    if t.tzinfo is None:
        raise ValueError(f"{t.isoformat()} is naive: pass an aware datetime")
    return t.astimezone(UTC).strftime(_KEY_FORMAT)


def parse_instant_key(text: str) -> datetime:
    return datetime.strptime(text, _KEY_FORMAT).replace(tzinfo=UTC)


def expires_at(t: datetime, retention: timedelta | None) -> int | None:
    """The TTL value (whole epoch seconds, DynamoDB's TTL format) of an item that lives `retention`
    after `t`; None (no TTL attribute: never expires) without a retention."""
    return None if retention is None else int((t + retention).timestamp())


def _opt_key(t: datetime | None) -> str | None:
    return None if t is None else instant_key(t)


def _opt_instant(text: str | None) -> datetime | None:
    return None if text is None else parse_instant_key(text)


def ticket_pk(ticket_id: str) -> str:
    return TICKET + ticket_id


def due_shard(ticket_id: str) -> str:
    """The due-checks partition of a ticket: stable, ``due#0`` .. ``due#3``."""
    digest = hashlib.sha256(ticket_id.encode("utf-8", "surrogatepass")).digest()
    return f"due#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS}"


def clock_sk(metric: Metric | str, cycle: int) -> str:
    return f"{CLOCK}{Metric(metric).value}#{cycle:05d}"


def notice_sk(notice: Notice) -> str:
    return f"{NOTICE}{notice.metric.value}#{notice.cycle}#{notice.step.key}"


# --------------------------------------------------------------------------------------- the models


@dataclass(frozen=True)
class TableModels:
    """The pynamodb model classes bound to one table name (built once per table, per container)."""

    ticket: Any
    event: Any
    clock: Any
    notice: Any
    connection: Connection
    lease: Any


def model_meta(table_name: str, region: str | None, host: str | None, max_retry_attempts: int = 5) -> Any:
    """A new pynamodb ``Meta`` class binding a model to `table_name` (one per model: pynamodb writes
    its defaults into the class it is given)."""
    attrs = {
        "table_name": table_name,
        "region": region,
        "host": host,
        "max_retry_attempts": max_retry_attempts,
    }
    return type("Meta", (), attrs)


@lru_cache(maxsize=16)
def table_models(
    table_name: str, region: str | None = None, host: str | None = None, max_retry_attempts: int = 5
) -> TableModels:
    """Model classes for `table_name` (the name comes from settings at run time, never from code).

    Retries: pynamodb's clients use botocore's ``standard`` retry mode with `max_retry_attempts`."""

    class DueIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = DUE_INDEX
            projection = KeysOnlyProjection()

        due_shard = UnicodeAttribute(hash_key=True)
        next_check_at = UnicodeAttribute(range_key=True)

    class OutcomeIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = OUTCOME_INDEX
            projection = AllProjection()

        outcome_day = UnicodeAttribute(hash_key=True)
        outcome_at = UnicodeAttribute(range_key=True)

    class OpenIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = OPEN_INDEX
            projection = AllProjection()

        open_part = UnicodeAttribute(hash_key=True)
        open_due = UnicodeAttribute(range_key=True)

    class TicketItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        ticket_id = UnicodeAttribute()
        version = NumberAttribute()
        state = UnicodeAttribute(null=True)
        state_z = BinaryAttribute(null=True, legacy_encoding=False)
        next_check_at = UnicodeAttribute(null=True)
        due_shard = UnicodeAttribute(null=True)
        retry_at = UnicodeAttribute(null=True)
        notified = UnicodeSetAttribute(null=True)
        saved_at = UnicodeAttribute()
        due_index = DueIndex()

    class EventItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        event = UnicodeAttribute()
        at = UnicodeAttribute()
        stored_at = UnicodeAttribute()
        expires_at = NumberAttribute(null=True)

    class ClockItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        ticket_id = UnicodeAttribute()
        requester = UnicodeAttribute(null=True)
        department = UnicodeAttribute(null=True)
        agent = UnicodeAttribute(null=True)
        level = UnicodeAttribute()
        metric = UnicodeAttribute()
        cycle = NumberAttribute()
        calendar = UnicodeAttribute()
        time_zone = UnicodeAttribute(null=True)
        started_at = UnicodeAttribute()
        due_at = UnicodeAttribute(null=True)
        stopped_at = UnicodeAttribute(null=True)
        status = UnicodeAttribute()
        target_seconds = NumberAttribute()
        business_seconds = NumberAttribute()
        remaining_seconds = NumberAttribute()
        as_of = UnicodeAttribute(null=True)
        counting = BooleanAttribute(null=True)
        outcome_day = UnicodeAttribute(null=True)
        outcome_at = UnicodeAttribute(null=True)
        ticket_version = NumberAttribute()
        recorded_at = UnicodeAttribute()
        expires_at = NumberAttribute(null=True)
        outcome_index = OutcomeIndex()
        open_part = UnicodeAttribute(null=True)
        open_due = UnicodeAttribute(null=True)
        open_index = OpenIndex()

    class NoticeItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        notice_key = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        claimed_until = UnicodeAttribute(null=True)
        claimed_at = UnicodeAttribute(null=True)
        sent_at = UnicodeAttribute(null=True)
        attempts = NumberAttribute(null=True)
        delivered = UnicodeSetAttribute(null=True)
        expires_at = NumberAttribute(null=True)

    class LeaseItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        holder = UnicodeAttribute()
        leased_until = UnicodeAttribute()

    connection = Connection(region=region, host=host, max_retry_attempts=max_retry_attempts)
    return TableModels(TicketItem, EventItem, ClockItem, NoticeItem, connection, LeaseItem)


def failed_condition(err: PynamoDBException) -> bool:
    """True when a conditional write was refused because its condition did not hold."""
    return err.cause_response_code == "ConditionalCheckFailedException"


def reraise(err: PynamoDBException, operation: str) -> NoReturn:
    """Throttling / service faults after retries -> ServiceUnavailable; anything else propagates."""
    cause = err.cause
    if cause is not None and _aws.is_transient(cause):
        raise _aws.unavailable("dynamodb", operation, cause) from err
    if err.cause_response_code in _aws.TRANSIENT_CODES:
        raise _aws.unavailable("dynamodb", operation, code=err.cause_response_code) from err
    raise err


def put_new(item: Any, operation: str) -> bool:
    """Put `item` unless an item with its key is stored already (one PutItem conditioned on
    ``attribute_not_exists(pk)``): True if written, False if the key was taken (nothing is written,
    whatever the stored item holds)."""
    try:
        item.save(condition=type(item).pk.does_not_exist())
    except PutError as err:
        if failed_condition(err):
            return False
        reraise(err, operation)
    return True


def _utcnow() -> datetime:
    return runtime_clock.now()


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


# ------------------------------------------------------------------------------------------ tickets


class DynamoTicketStore:
    """Implements `slaclock.ports.TicketStore`; also writes the clock records (`SlaLogRow` source).

    `config_source` (optional) names each clock record's calendar time zone; without it the record
    has the calendar's name only."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        config_source: ConfigSource | None = None,
        consistent_read: bool = True,
        now: Callable[[], datetime] = _utcnow,
        retention: timedelta | None = None,
    ) -> None:
        self.models = table_models(table_name, region, host)
        self.config_source = config_source
        self.consistent_read = consistent_read
        self._now = now
        self.retention = retention

    # -- read

    def get(self, ticket_id: str) -> StoredTicket | None:
        """The stored ticket or None (one GetItem; strongly consistent by default, so a retry after a
        ConflictError sees the winner's write)."""
        item_cls = self.models.ticket
        try:
            item = item_cls.get(ticket_pk(ticket_id), STATE, consistent_read=self.consistent_read)
        except item_cls.DoesNotExist:
            return None
        except GetError as err:
            reraise(err, "get ticket")
        if item.state_z is not None:
            doc = json.loads(zlib.decompress(item.state_z).decode("utf-8"))
        else:
            doc = json.loads(item.state)
        return StoredTicket(
            state=TicketState.from_dict(doc),
            version=int(item.version),
            next_check_at=_opt_instant(item.next_check_at),
            retry_at=_opt_instant(item.retry_at),
            notified=frozenset(item.notified or ()),
        )

    # -- write

    def save(
        self,
        state: TicketState,
        *,
        expected_version: int | None,
        next_check_at: datetime | None,
        clocks: Iterable[Clock],
        retry_at: datetime | None = None,
        notified: Iterable[str] = (),
    ) -> int:
        """Write the state if the stored version is still `expected_version` (None: must not exist),
        with the given (changed) clock records in the same transaction. Returns the new version;
        raises `ConflictError` if someone else wrote first. `retry_at` and `notified` (notice keys known
        as sent) are stored as given."""
        new_version = 1 if expected_version is None else expected_version + 1
        m = self.models
        item = self._ticket_item(state, new_version, next_check_at, retry_at, notified)
        condition = (
            m.ticket.pk.does_not_exist() if expected_version is None else m.ticket.version == expected_version
        )
        clock_items = [self._clock_item(c, state, new_version) for c in clocks]
        if not clock_items:
            try:
                item.save(condition=condition)
            except PutError as err:
                if failed_condition(err):
                    raise ConflictError(f"ticket version {expected_version} is stale") from err
                reraise(err, "save ticket")
            return new_version
        first, rest = clock_items[: MAX_TRANSACTION_ITEMS - 1], clock_items[MAX_TRANSACTION_ITEMS - 1 :]
        self._transact(item, condition, first, expected_version)
        # More than 99 changed records (a very long ticket): the rest go in further transactions, each
        # guarded by "the state is still the version just written", so a later writer is never undone.
        for i in range(0, len(rest), MAX_TRANSACTION_ITEMS - 1):
            self._transact(None, m.ticket.version == new_version, rest[i : i + MAX_TRANSACTION_ITEMS - 1],
                           expected_version, ticket_id=state.ticket_id)  # fmt: skip
        return new_version

    def _transact(
        self, item: Any, condition: Any, clock_items: list[Any], expected_version: int | None,
        ticket_id: str | None = None,
    ) -> None:  # fmt: skip
        m = self.models
        try:
            with TransactWrite(connection=m.connection) as tx:
                if item is None:
                    assert ticket_id is not None
                    tx.condition_check(m.ticket, ticket_pk(ticket_id), STATE, condition=condition)
                else:
                    tx.save(item, condition=condition)
                for c in clock_items:
                    tx.save(c)
        except TransactWriteError as err:
            codes = [r.code if r is not None else None for r in err.cancellation_reasons]
            if codes and codes[0] == "ConditionalCheckFailed" or "TransactionConflict" in codes:
                raise ConflictError(f"ticket version {expected_version} is stale") from err
            throttled = next((c for c in codes if c in TRANSIENT_CANCELLATIONS), None)
            if throttled is not None:
                # TransactionCanceledException is not retried by botocore: its reasons say "try again"
                raise _aws.unavailable("dynamodb", "save ticket", code=throttled) from err
            reraise(err, "save ticket")

    def _ticket_item(
        self,
        state: TicketState,
        version: int,
        next_check_at: datetime | None,
        retry_at: datetime | None,
        notified: Iterable[str] = (),
    ) -> Any:
        text = json.dumps(state.to_dict(), separators=(",", ":"), ensure_ascii=False)
        raw = text.encode("utf-8")
        compressed = len(raw) > COMPRESS_OVER
        return self.models.ticket(
            ticket_pk(state.ticket_id),
            STATE,
            ticket_id=state.ticket_id,
            version=version,
            state=None if compressed else text,
            state_z=zlib.compress(raw, 6) if compressed else None,
            next_check_at=_opt_key(next_check_at),
            due_shard=None if next_check_at is None else due_shard(state.ticket_id),
            retry_at=_opt_key(retry_at),
            notified=set(notified) or None,  # DynamoDB has no empty set: absent means none
            saved_at=instant_key(self._now()),
        )

    def _time_zone(self, calendar: str) -> str | None:
        if self.config_source is None:
            return None
        try:
            return str(self.config_source.load().calendars[calendar].timezone)
        except Exception:  # noqa: BLE001 - the zone is informative; a missing one must not block a save
            return None

    def _clock_item(self, clock: Clock, state: TicketState, ticket_version: int) -> Any:
        fields: Mapping[str, Any] = getattr(state, "fields", {}) or {}
        day, at = _outcome(clock)
        still_open = clock.stopped_at is None and clock.status is not ClockStatus.CANCELLED
        open_due = _opt_key(clock.due_at) if still_open else None
        recorded_at = self._now()
        return self.models.clock(
            ticket_pk(clock.ticket_id),
            clock_sk(clock.metric, clock.cycle),
            ticket_id=clock.ticket_id,
            requester=_text(fields.get("requester")),
            department=_text(fields.get("department")),
            agent=_text(fields.get("assignee")),
            level=clock.level,
            metric=clock.metric.value,
            cycle=clock.cycle,
            calendar=clock.calendar,
            time_zone=self._time_zone(clock.calendar),
            started_at=instant_key(clock.started_at),
            due_at=_opt_key(clock.due_at),
            stopped_at=_opt_key(clock.stopped_at),
            status=clock.status.value,
            target_seconds=clock.target_seconds,
            business_seconds=clock.business_seconds,
            remaining_seconds=clock.remaining_seconds,
            as_of=_opt_key(clock.as_of),
            counting=clock.counting,
            outcome_day=day,
            outcome_at=at,
            open_part=None if open_due is None else OPEN_PART,
            open_due=open_due,
            ticket_version=ticket_version,
            recorded_at=instant_key(recorded_at),
            expires_at=_clock_expiry(clock, recorded_at, self.retention),
        )

    # -- the sweeper's index

    due_parts = DUE_SHARDS

    def due_before(
        self, instant: datetime, *, parts: Iterable[int] | None = None, page_size: int = 500
    ) -> Iterator[str]:
        """Ticket ids whose armed check instant is <= `instant`, oldest first: one lazily paginated
        Query per shard of the `due-checks` index (`parts`: only those shards), merged by (instant,
        ticket id). Never a Scan. A page of the KEYS_ONLY index is ~100 bytes a ticket."""
        bound = instant_key(instant)
        chosen = range(DUE_SHARDS) if parts is None else sorted(set(parts))
        shards = [self._due_shard_items(f"due#{n}", bound, page_size) for n in chosen]
        for _, ticket_id in heapq.merge(*shards):
            yield ticket_id

    def _due_shard_items(self, shard: str, bound: str, page_size: int) -> Iterator[tuple[str, str]]:
        item_cls = self.models.ticket
        try:
            for item in item_cls.due_index.query(shard, item_cls.next_check_at <= bound, page_size=page_size):
                yield item.next_check_at, item.pk[len(TICKET) :]
        except QueryError as err:
            reraise(err, "query due checks")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _clock_expiry(clock: Clock, recorded_at: datetime, retention: timedelta | None) -> int | None:
    """A decided clock record lives `retention` after its outcome, a cancelled one after it was
    recorded; a running one has no expiry (it stays in the reports' ``running`` partition)."""
    if clock.status is ClockStatus.CANCELLED:
        return expires_at(recorded_at, retention)
    decided = decided_at(clock.status.value, clock.due_at, clock.stopped_at)
    return None if decided is None else expires_at(decided, retention)


def _outcome(clock: Clock) -> tuple[str | None, str | None]:
    """(outcome_day, outcome_at) of a clock record: a decided clock is indexed under the UTC day of its
    outcome (met: its stop; missed: its due instant), and so is a clock still counting at its due
    instant (its breach is owed: saved by the check that fires for it, it is missed from then on unless
    an event stops it at that very instant, which re-saves it); an undecided one in the ``running``
    partition (sorted by due instant); a cancelled one not at all (it leaves the reports).

    A running clock that breaches while counting without being saved again is still found on its due
    day by reports: they read the ``running`` partition by due instant (`DynamoClockRecords.running`
    with bounds) and evaluate each record at their own instant (`engine.clocks.clock_at`)."""
    if clock.status is ClockStatus.CANCELLED:
        return None, None
    decided = decided_at(clock.status.value, clock.due_at, clock.stopped_at)
    if decided is None and clock.counting and clock.due_at is not None and clock.as_of is not None:
        decided = clock.due_at if clock.due_at <= clock.as_of else None
    if decided is not None:
        key = instant_key(decided)
        return key[:10], key
    return RUNNING, instant_key(clock.due_at or clock.started_at)


# ----------------------------------------------------------------------------------- clock records


class DynamoClockRecords:
    """Implements `slaclock.ports.ClockRecordStore`: the SLA-log rows reports read."""

    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self.models = table_models(table_name, region, host)

    def query(self, start: datetime, end: datetime, *, page_size: int = 500) -> Iterator[SlaLogRow]:
        """Decided clock records whose outcome instant is in [`start`, `end`), in outcome order.

        One Query per UTC day of the range on the `clocks-by-outcome` index (``outcome_day = d AND
        outcome_at BETWEEN ...``), each lazily paginated: a generator with flat memory."""
        if end <= start:
            return
        lo, hi = instant_key(start), instant_key(end - timedelta(microseconds=1))
        day = start.astimezone(UTC).date()
        last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
        while day <= last:
            yield from self._partition(day.isoformat(), lo, hi, page_size)
            day += timedelta(days=1)

    def running(
        self, start: datetime | None = None, end: datetime | None = None, *, page_size: int = 500
    ) -> Iterator[SlaLogRow]:
        """Clock records not decided at their last save (open or paused), by due instant; with
        `start` and `end`, only those whose due instant (as of that save) is in [`start`, `end`)."""
        if start is None or end is None:
            yield from self._partition(RUNNING, None, None, page_size)
            return
        if end <= start:
            return
        lo, hi = instant_key(start), instant_key(end - timedelta(microseconds=1))
        yield from self._partition(RUNNING, lo, hi, page_size)

    def open_clocks(self, until: datetime | None = None, *, page_size: int = 500) -> Iterator[SlaLogRow]:
        """Clock records of clocks not stopped at their last save (open, paused, or missed and still
        running), by due instant as of that save (ties in key order); with `until`, only those whose
        due instant then is at or before it. One lazily paginated Query of the `open-clocks` index."""
        item_cls = self.models.clock
        condition = None if until is None else item_cls.open_due <= instant_key(until)
        try:
            for item in item_cls.open_index.query(OPEN_PART, condition, page_size=page_size):
                yield _row(item)
        except QueryError as err:
            reraise(err, "query open clocks")

    def _partition(self, day: str, lo: str | None, hi: str | None, page_size: int) -> Iterator[SlaLogRow]:
        item_cls = self.models.clock
        condition = None if lo is None or hi is None else item_cls.outcome_at.between(lo, hi)
        try:
            for item in item_cls.outcome_index.query(day, condition, page_size=page_size):
                yield _row(item)
        except QueryError as err:
            reraise(err, "query clock records")


def _row(item: Any) -> SlaLogRow:
    return SlaLogRow(
        ticket_id=item.ticket_id,
        requester=item.requester,
        department=item.department,
        agent=item.agent,
        level=item.level,
        metric=Metric(item.metric),
        cycle=int(item.cycle),
        started_at=parse_instant_key(item.started_at),
        due_at=_opt_instant(item.due_at),
        stopped_at=_opt_instant(item.stopped_at),
        status=ClockStatus(item.status),
        business_seconds=float(item.business_seconds),
        remaining_seconds=float(item.remaining_seconds),
        target_seconds=float(item.target_seconds),
        calendar=item.calendar,
        time_zone=item.time_zone,
        outcome_at=None if item.outcome_day == RUNNING else _opt_instant(item.outcome_at),
        recorded_at=parse_instant_key(item.recorded_at),
        as_of=_opt_instant(item.as_of),
        counting=bool(item.counting),
    )


# ----------------------------------------------------------------------------------- notice ledger


class DynamoNoticeLedger:
    """Implements `slaclock.ports.NoticeLedger` with one item per notice and a lease.

    ``claim``: ONE conditional UpdateItem ``SET status = claimed, claimed_until = now + lease, ADD
    attempts 1`` if the item does not exist, or is not ``sent`` and its lease has ended
    (``claimed_until <= now``). When the condition fails, a strongly consistent GetItem tells SENT
    from HELD. ``mark_sent``: ``SET status = sent, sent_at`` (idempotent). So:

    - two checks racing for one notice: exactly one gets CLAIMED (DynamoDB serialises the writes);
    - a sender that dies, or whose e-mail fails, before `mark_sent` leaves the notice claimed: once
      its lease ends the next check/sweep claims it again and sends it (retried, not lost);
    - the one window for a duplicate is a death between SES accepting the e-mail and `mark_sent`.

    ``mark_delivered``: ``ADD delivered :addresses`` (a string set, lower-cased): the recipients of a
    notice split into several messages that already got it, read back by ``delivered`` (one strongly
    consistent GetItem, asked only for a notice with more recipients than one message carries).
    """

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        retention: timedelta | None = None,
    ) -> None:
        self.models = table_models(table_name, region, host)
        self.retention = retention

    def _item(self, notice: Notice) -> Any:
        return self.models.notice(ticket_pk(notice.ticket_id), notice_sk(notice))

    def claim(self, notice: Notice, *, now: datetime, lease: timedelta) -> ClaimOutcome:
        n = self.models.notice
        now_key = instant_key(now)
        condition = n.pk.does_not_exist() | ((n.status != "sent") & (n.claimed_until <= now_key))
        actions = [
            n.notice_key.set(notice.key),
            n.status.set("claimed"),
            n.claimed_until.set(instant_key(now + lease)),
            n.claimed_at.set(now_key),
            n.attempts.add(1),
        ]
        try:
            self._item(notice).update(actions=actions, condition=condition)
        except UpdateError as err:
            if not failed_condition(err):
                reraise(err, "claim notice")
            return self._outcome_of(notice)
        return ClaimOutcome.CLAIMED

    def _outcome_of(self, notice: Notice) -> ClaimOutcome:
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:  # deleted between the two calls: nobody holds it
            return ClaimOutcome.HELD
        except GetError as err:
            reraise(err, "read notice")
        return ClaimOutcome.SENT if stored.status == "sent" else ClaimOutcome.HELD

    def mark_sent(self, notice: Notice, *, now: datetime) -> None:
        n = self.models.notice
        actions = [n.notice_key.set(notice.key), n.status.set("sent"), n.sent_at.set(instant_key(now))]
        expiry = expires_at(now, self.retention)
        if expiry is not None:
            actions.append(n.expires_at.set(expiry))
        try:
            self._item(notice).update(actions=actions)
        except UpdateError as err:
            reraise(err, "mark notice sent")

    def mark_delivered(self, notice: Notice, addresses: Iterable[str]) -> None:
        n = self.models.notice
        given = {a.strip().lower() for a in addresses if a.strip()}
        if not given:
            return
        try:
            self._item(notice).update(actions=[n.notice_key.set(notice.key), n.delivered.add(given)])
        except UpdateError as err:
            reraise(err, "record notice recipients")

    def delivered(self, notice: Notice) -> frozenset[str]:
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:
            return frozenset()
        except GetError as err:
            reraise(err, "read notice")
        return frozenset(stored.delivered or ())

    def ticket_notices(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every notice record of the ticket (one Query on ``begins_with(sk, "N#")``), in key order:
        metric, cycle, step (the key's parts), status (claimed | sent), claimed_at, sent_at, attempts."""
        n = self.models.notice
        out: list[dict[str, Any]] = []
        try:
            for item in n.query(ticket_pk(ticket_id), n.sk.startswith(NOTICE), consistent_read=True):
                metric, cycle, step = item.sk[len(NOTICE) :].split("#", 2)
                out.append(
                    {
                        "metric": metric, "cycle": int(cycle), "step": step, "status": item.status,
                        "claimed_at": _opt_instant(item.claimed_at), "sent_at": _opt_instant(item.sent_at),
                        "attempts": int(item.attempts or 0),
                    }
                )  # fmt: skip
        except QueryError as err:
            reraise(err, "query notices")
        return out

    def status(self, notice: Notice) -> dict[str, Any] | None:
        """The stored record of a notice (for tests and operators), or None."""
        n = self.models.notice
        try:
            stored = n.get(ticket_pk(notice.ticket_id), notice_sk(notice), consistent_read=True)
        except n.DoesNotExist:
            return None
        return {
            "status": stored.status,
            "claimed_until": _opt_instant(stored.claimed_until),
            "sent_at": _opt_instant(stored.sent_at),
            "attempts": int(stored.attempts or 0),
        }


# ------------------------------------------------------------------------------------ sweep leases


class DynamoSweepLeases:
    """Implements `slaclock.ports.SweepLeases`: item ``pk=SWEEP#<shard>``, ``sk=LEASE`` with the
    `holder` and `leased_until`. `acquire` is ONE conditional PutItem (no item, a lease ended at or
    before now, or the same holder); `release` sets `leased_until` to the epoch if the holder still
    matches. The items are a handful, outside every index."""

    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self.models = table_models(table_name, region, host)

    def acquire(self, part: int, *, holder: str, now: datetime, until: datetime) -> bool:
        m = self.models.lease
        item = m(f"SWEEP#{part}", "LEASE", holder=holder, leased_until=instant_key(until))
        condition = m.pk.does_not_exist() | (m.leased_until <= instant_key(now)) | (m.holder == holder)
        try:
            item.save(condition=condition)
        except PutError as err:
            if failed_condition(err):
                return False
            reraise(err, "acquire sweep lease")
        return True

    def release(self, part: int, *, holder: str) -> None:
        m = self.models.lease
        item = m(f"SWEEP#{part}", "LEASE")
        try:
            item.update(actions=[m.leased_until.set(instant_key(_EPOCH))], condition=m.holder == holder)
        except UpdateError as err:
            if not failed_condition(err):
                reraise(err, "release sweep lease")
