"""The ticket store: versioned ticket state, the clock records written in the state's transaction,
and the sweeper's due-checks index."""

from __future__ import annotations

import heapq
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import GetError, PutError, QueryError, TransactWriteError
from pynamodb.transactions import TransactWrite

from slaclock.adapters import _aws
from slaclock.adapters.dynamodb.clock_records import clock_expiry, outcome_keys
from slaclock.adapters.dynamodb.keys import (
    CLOCK,
    COMPRESS_OVER,
    DUE_SHARDS,
    MAX_TRANSACTION_ITEMS,
    OPEN_PART,
    STATE,
    TICKET,
    TRANSIENT_CANCELLATIONS,
    clock_of_sk,
    clock_sk,
    due_shard,
    instant_key,
    opt_instant,
    opt_key,
    ticket_pk,
)
from slaclock.adapters.dynamodb.models import failed_condition, reraise, table_models
from slaclock.engine.clocks import ClockStatus, TicketState
from slaclock.ports import ClockSnapshot, ConflictError, RecordKey, StoredTicket, record_key


def _listed(final: set[RecordKey] | None, later: list[list[tuple[bool, RecordKey, Any]]]) -> list[str] | None:
    """The ticket item's list of its clock records (their sort keys) once the writes before the `later`
    transactions are done: the `final` records, less those the later ones write (not there yet, or
    not up to date), plus those they delete (still there). None: not listed."""
    if final is None:
        return None
    keys = set(final)
    for chunk in later:
        for save, key, _ in chunk:
            if save:
                keys.discard(key)
            else:
                keys.add(key)
    return sorted(clock_sk(metric, cycle) for metric, cycle in keys)


def _utcnow() -> datetime:
    """Real time: the default `now` of the store (the composition root passes its own clock)."""
    return datetime.now(UTC)


class DynamoTicketStore:
    """Implements `slaclock.ports.TicketStore`; also writes the clock records it is handed (record-ready
    `ClockSnapshot`s, built by the use case) in the state's transaction. `now` stamps ``saved_at``."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        consistent_read: bool = True,
        now: Callable[[], datetime] = _utcnow,
        retention: timedelta | None = None,
    ) -> None:
        self.models = table_models(table_name, region, host)
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
            next_check_at=opt_instant(item.next_check_at),
            retry_at=opt_instant(item.retry_at),
            notified=frozenset(item.notified or ()),
            records=self._records(ticket_id, item.records),
        )

    def _records(self, ticket_id: str, stored: list[str] | None) -> frozenset[RecordKey]:
        """The ticket's clock records: as its item lists them, else (an item saved before they were
        listed, or without them) read from the records themselves, one query of their keys."""
        if stored is not None:
            return frozenset(clock_of_sk(sk) for sk in stored)
        clock = self.models.clock
        try:
            items = clock.query(
                ticket_pk(ticket_id), clock.sk.startswith(CLOCK), consistent_read=self.consistent_read,
                attributes_to_get=["sk"],
            )  # fmt: skip
            return frozenset(clock_of_sk(item.sk) for item in items)
        except QueryError as err:
            reraise(err, "get clock records")

    # -- write

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
        """Write the state if the stored version is still `expected_version` (None: must not exist),
        with the given (changed) clock records, and the deletion of the `removed` ones, in the same
        transaction. Returns the new version; raises `ConflictError` if someone else wrote first.
        `retry_at`, `notified` (notice keys known as sent) and `records` (the ticket's clock records
        after this save; None: not listed, `get` then queries them) are stored as given."""
        new_version = 1 if expected_version is None else expected_version + 1
        m = self.models
        condition = (
            m.ticket.pk.does_not_exist() if expected_version is None else m.ticket.version == expected_version
        )
        pk = ticket_pk(state.ticket_id)
        ops: list[tuple[bool, RecordKey, Any]] = [
            (True, record_key(c), self._clock_item(c, new_version)) for c in clocks
        ]
        written = {key for _, key, _ in ops}
        ops += [(False, key, m.clock(pk, clock_sk(*key))) for key in sorted(set(removed) - written)]
        step = MAX_TRANSACTION_ITEMS - 1
        chunks = [ops[i : i + step] for i in range(0, len(ops), step)] or [[]]
        final = None if records is None else set(records)
        item = self._ticket_item(state, new_version, next_check_at, retry_at, notified,
                                 _listed(final, chunks[1:]))  # fmt: skip
        if not ops:
            try:
                item.save(condition=condition)
            except PutError as err:
                if failed_condition(err):
                    raise ConflictError(f"ticket version {expected_version} is stale") from err
                reraise(err, "save ticket")
            return new_version
        self._transact(item, condition, chunks[0], expected_version)
        # More than 99 changed records (a very long ticket): the rest go in further transactions, each
        # guarded by "the state is still the version just written", so a later writer is never undone.
        # Each one also lists the records as they are once it is done: a save that dies between two
        # leaves a list that is true, and the next save writes what is missing and deletes the rest.
        for n in range(1, len(chunks)):
            self._transact(None, m.ticket.version == new_version, chunks[n], expected_version,
                           ticket_id=state.ticket_id, listed=_listed(final, chunks[n + 1 :]))  # fmt: skip
        return new_version

    def _transact(
        self, item: Any, condition: Any, clock_items: list[tuple[bool, RecordKey, Any]],
        expected_version: int | None, ticket_id: str | None = None, listed: list[str] | None = None,
    ) -> None:  # fmt: skip
        m = self.models
        try:
            with TransactWrite(connection=m.connection) as tx:
                if item is not None:
                    tx.save(item, condition=condition)
                elif listed is None:
                    assert ticket_id is not None
                    tx.condition_check(m.ticket, ticket_pk(ticket_id), STATE, condition=condition)
                else:
                    assert ticket_id is not None
                    ticket = m.ticket(ticket_pk(ticket_id), STATE)
                    tx.update(ticket, actions=[m.ticket.records.set(listed)], condition=condition)
                for save, _, c in clock_items:
                    if save:
                        tx.save(c)
                    else:
                        tx.delete(c)
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
        records: list[str] | None = None,
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
            next_check_at=opt_key(next_check_at),
            due_shard=None if next_check_at is None else due_shard(state.ticket_id),
            retry_at=opt_key(retry_at),
            notified=set(notified) or None,  # DynamoDB has no empty set: absent means none
            records=records,
            saved_at=instant_key(self._now()),
        )

    def _clock_item(self, record: ClockSnapshot, ticket_version: int) -> Any:
        day, at = outcome_keys(record)
        still_open = record.stopped_at is None and record.status is not ClockStatus.CANCELLED
        open_due = opt_key(record.due_at) if still_open else None
        return self.models.clock(
            ticket_pk(record.ticket_id),
            clock_sk(record.metric, record.cycle),
            ticket_id=record.ticket_id,
            requester=record.requester,
            department=record.department,
            agent=record.agent,
            level=record.level,
            metric=str(record.metric),
            cycle=record.cycle,
            calendar=record.calendar,
            time_zone=record.timezone,
            started_at=instant_key(record.started_at),
            due_at=opt_key(record.due_at),
            stopped_at=opt_key(record.stopped_at),
            status=record.status.value,
            target_seconds=record.target_seconds,
            business_seconds=record.business_seconds,
            remaining_seconds=record.remaining_seconds,
            as_of=opt_key(record.as_of),
            counting=record.counting,
            outcome_day=day,
            outcome_at=at,
            open_part=None if open_due is None else OPEN_PART,
            open_due=open_due,
            ticket_version=ticket_version,
            recorded_at=instant_key(record.recorded_at),
            expires_at=clock_expiry(record, record.recorded_at, self.retention),
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
