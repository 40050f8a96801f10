"""Clock records: the SLA-log rows, indexed by their outcome's UTC day, that reports read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import QueryError

from slaclock.adapters.dynamodb.keys import (
    OPEN_PART,
    RUNNING,
    expires_at,
    instant_key,
    opt_instant,
    parse_instant_key,
)
from slaclock.adapters.dynamodb.models import reraise, table_models
from slaclock.engine.clocks import ClockStatus, decided_at
from slaclock.engine.config import metric_of
from slaclock.ports import ClockSnapshot


def clock_expiry(clock: ClockSnapshot, recorded_at: datetime, retention: timedelta | None) -> int | None:
    """A decided clock record lives `retention` after its outcome, a cancelled one after it was
    recorded; a running one has no expiry (it stays in the reports' ``running`` partition)."""
    if clock.status is ClockStatus.CANCELLED:
        return expires_at(recorded_at, retention)
    decided = decided_at(clock.status.value, clock.due_at, clock.stopped_at)
    return None if decided is None else expires_at(decided, retention)


def outcome_keys(clock: ClockSnapshot) -> tuple[str | None, str | None]:
    """(outcome_day, outcome_at) of a clock record: a decided clock is indexed under the UTC day of its
    outcome (met: its stop; missed: its due instant), and so is a clock still counting at its due
    instant (its breach is owed: saved by the check that fires for it, it is missed from then on unless
    an event stops it at that very instant, which re-saves it); an undecided one in the ``running``
    partition (sorted by due instant); a cancelled one not at all (it leaves the reports).

    A running clock that breaches while counting without being saved again is still found on its due
    day by reports: they read the ``running`` partition by due instant (`DynamoClockSnapshots.running`
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


class DynamoClockSnapshots:
    """Implements `slaclock.ports.ClockSnapshotStore`: the SLA-log rows reports read."""

    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self.models = table_models(table_name, region, host)

    def query(self, start: datetime, end: datetime, *, page_size: int = 500) -> Iterator[ClockSnapshot]:
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
    ) -> Iterator[ClockSnapshot]:
        """Clock records not decided at their last save (open or paused), by due instant; with
        `start` and `end`, only those whose due instant (as of that save) is in [`start`, `end`)."""
        if start is None or end is None:
            yield from self._partition(RUNNING, None, None, page_size)
            return
        if end <= start:
            return
        lo, hi = instant_key(start), instant_key(end - timedelta(microseconds=1))
        yield from self._partition(RUNNING, lo, hi, page_size)

    def open_clocks(self, until: datetime | None = None, *, page_size: int = 500) -> Iterator[ClockSnapshot]:
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

    def _partition(self, day: str, lo: str | None, hi: str | None, page_size: int) -> Iterator[ClockSnapshot]:
        item_cls = self.models.clock
        condition = None if lo is None or hi is None else item_cls.outcome_at.between(lo, hi)
        try:
            for item in item_cls.outcome_index.query(day, condition, page_size=page_size):
                yield _row(item)
        except QueryError as err:
            reraise(err, "query clock records")


def _row(item: Any) -> ClockSnapshot:
    return ClockSnapshot(
        ticket_id=item.ticket_id,
        requester=item.requester,
        department=item.department,
        agent=item.agent,
        level=item.level,
        metric=metric_of(item.metric),
        cycle=int(item.cycle),
        started_at=parse_instant_key(item.started_at),
        due_at=opt_instant(item.due_at),
        stopped_at=opt_instant(item.stopped_at),
        status=ClockStatus(item.status),
        business_seconds=float(item.business_seconds),
        remaining_seconds=float(item.remaining_seconds),
        target_seconds=float(item.target_seconds),
        calendar=item.calendar,
        timezone=item.time_zone,  # the item attribute keeps its stored name
        decided_at=None if item.outcome_day == RUNNING else opt_instant(item.outcome_at),
        recorded_at=parse_instant_key(item.recorded_at),
        as_of=opt_instant(item.as_of),
        counting=bool(item.counting),
    )
