"""The clock walk: how much business time a clock has counted, when it is due, and its status.

This is the one place that decides a clock's numbers; `slaclock.engine.clocks` (the fold, `evaluate`,
`clock_outcomes`, `clock_at`) calls it for every clock it shows.

Instants are integer microseconds since the Unix epoch (`Micros`): exact, and cheap to compare and
subtract. A clock counts during its *counting intervals*: from its start to its stop (or without end),
while the ticket is not solved and its status is not one of the target's pause statuses
(`counting_intervals`). `walk` goes once over those intervals with one `BusinessCalendar.elapsed_us`
per interval and one `add_us` per amount, never by stepping time.

The status rule (`clock_status`), in full:

- ``cancelled``: the ticket was deleted while the clock ran;
- stopped (achieved): ``met`` when stopped at or before its due instant, else ``missed``;
- running: ``missed`` once `now` is strictly after its due instant (at the due instant itself it is
  still open); else ``paused`` while the ticket's status pauses it or the ticket is solved; else
  ``open``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.policy import Goal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)

Interval = tuple[int, int | None]
"""[a, b) in epoch µs; b None: without end."""
Timeline = Sequence[tuple[int, str | None, bool]]
"""A ticket's status changes as (epoch µs, casefolded status, solved), ascending."""


class ClockStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Micros(dict[datetime, int]):
    """``micros[t]``: the aware instant `t` as integer microseconds since the Unix epoch, computed once."""

    def __missing__(self, t: datetime) -> int:
        x = self[t] = (t - EPOCH) // US
        return x


def instant(us: int) -> datetime:
    """The UTC instant of epoch microseconds `us`."""
    return EPOCH + us * US


_T = TypeVar("_T", int, datetime)


def clock_status(
    cancelled: bool, stopped_at: _T | None, due_at: _T | None, now: _T, paused: bool
) -> ClockStatus:
    """THE rule that decides a clock's status (see the module docstring). `paused`: whether the ticket's
    status or its being solved keeps the clock from counting at `now` (`paused_at`)."""
    if cancelled:
        return ClockStatus.CANCELLED
    if stopped_at is not None:
        return ClockStatus.MET if due_at is None or stopped_at <= due_at else ClockStatus.MISSED
    if due_at is not None and now > due_at:
        return ClockStatus.MISSED
    return ClockStatus.PAUSED if paused else ClockStatus.OPEN


def counting_intervals(
    timeline: Timeline, ats: Sequence[int], start: int, end: int | None, pause: frozenset[str]
) -> tuple[list[Interval], int | None]:
    """The intervals of [start, end) (end None: unbounded) during which a clock with pause statuses
    `pause` counts: not solved and status not in `pause`. Adjacent intervals are merged; only the last
    one may be unbounded. `ats` holds the timeline's instants. Second item: when `end` is None and the
    ticket does not count at the end of the timeline, the instant that last non-counting stretch began
    (else None)."""
    n = len(timeline)
    i = bisect_right(ats, start) - 1  # the last change at or before `start` (else the first)
    if i < 0:
        i = 0
    out: list[Interval] = []
    paused_since: int | None = None
    while i < n:
        at, status, solved = timeline[i]
        a = at if at > start else start
        i += 1
        b = ats[i] if i < n else None
        if end is not None and (b is None or b > end):
            b = end
        if b is not None and b <= a:
            if end is not None and b >= end:
                break
            continue
        if not solved and status not in pause:
            paused_since = None
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        elif paused_since is None:
            paused_since = a
        if end is not None and b == end:
            break
    return out, (paused_since if end is None else None)


def paused_at(timeline: Timeline, now: int, start: int, pause: frozenset[str]) -> bool:
    """Whether a running clock that started at `start` does not count at `now` because of the ticket's
    status (in `pause`) or because the ticket is solved."""
    if now < start:
        return False
    i = len(timeline) - 1
    while i > 0 and timeline[i][0] > now:
        i -= 1
    _, status, solved = timeline[i]
    return solved or status in pause


def walk(
    cal: BusinessCalendar,
    intervals: Sequence[Interval],
    amounts: Sequence[int],
    limit: int,
    projected_from: int | None = None,
    only_in_projection: int | None = None,
) -> tuple[list[int | None], int, int]:
    """One walk over a clock's counting intervals (ascending; only the last may be unbounded).

    Returns: for each of the ascending `amounts` of counted business time (µs), the earliest instant it
    is reached (only those reached when no interval is unbounded); the position of the first one reached
    in the projected (hypothetical) interval starting at `projected_from`, or len(amounts); and the
    business time (µs) counted before `limit` outside the projection. With `only_in_projection` set,
    the projected interval yields only that amount's instant (the others are None).

    Every due, warning and escalation instant of the engine is computed here."""
    reached: list[int | None] = []
    n = len(amounts)
    first_projected = n
    k = 0
    acc = 0
    counted = 0
    for a, b in intervals:
        if b is None:
            if a == projected_from:
                first_projected = k
                if only_in_projection is not None:
                    while k < n:
                        reached.append(cal.add_us(a, amounts[k] - acc) if k == only_in_projection else None)
                        k += 1
                    break
            elif a < limit:
                counted += cal.elapsed_us(a, limit)
            while k < n:
                reached.append(cal.add_us(a, amounts[k] - acc))
                k += 1
            break
        seg = cal.elapsed_us(a, b)
        while k < n and acc + seg >= amounts[k]:
            reached.append(cal.add_us(a, amounts[k] - acc))
            k += 1
        if a < limit:
            counted += seg if b <= limit else cal.elapsed_us(a, limit)
        acc += seg
    return reached, first_projected, counted


def clock_intervals(
    goal: Goal, start: int, stop: int | None, timeline: Timeline, ats: Sequence[int], now: int
) -> tuple[list[Interval], int | None]:
    """The counting intervals of a clock held to `goal` (see `walk_clock`), and where its projection
    starts (None without one): the stop of a stopped clock, else the start of the non-counting
    stretch it is in at the end of what is known, or `now` once that stretch began before `now`."""
    intervals, paused_since = counting_intervals(timeline, ats, start, stop, goal.pause)
    projected_from = stop if stop is not None else paused_since
    if stop is None and paused_since is not None and now > paused_since:
        projected_from = now  # paused at the end of what is known: as if it resumed at `now`
    return intervals, projected_from


Changes = Sequence[tuple[int, str]]
"""A dimension's values over time as (epoch µs, value) from that instant on, ascending."""


def split_counted(
    cal: BusinessCalendar, intervals: Sequence[Interval], limit: int, dimensions: Sequence[Changes]
) -> list[dict[str, int]]:
    """The business time (µs) a clock counted before `limit` over its real counting `intervals` (as
    `clock_intervals` returns them, without the projection), split for each of `dimensions` by the
    value in force: ``[{value: µs}, ...]``, one mapping per dimension. Time before a dimension's first
    change has the value ``""``.

    Each interval is cut at the dimension's change instants and each piece measured with
    `BusinessCalendar.elapsed_us`, which is additive, so for every dimension the values sum exactly to
    the business time `walk` counts (property-tested)."""
    out: list[dict[str, int]] = []
    for changes in dimensions:
        shares: dict[str, int] = {}
        cuts = [at for at, _ in changes]
        for a, b in intervals:
            end = limit if b is None or b > limit else b
            if a >= end:
                continue
            i = bisect_right(cuts, a) - 1
            value = changes[i][1] if i >= 0 else ""
            i += 1
            while a < end:
                piece = cuts[i] if i < len(cuts) and cuts[i] < end else end
                if piece > a:
                    counted = cal.elapsed_us(a, piece)
                    if counted:  # closed hours count nothing: no value of zero time
                        shares[value] = shares.get(value, 0) + counted
                    a = piece
                if i < len(cuts) and cuts[i] <= a:
                    value = changes[i][1]
                    i += 1
        out.append(shares)
    return out


def walk_clock(
    goal: Goal,
    start: int,
    stop: int | None,
    cancelled: bool,
    timeline: Timeline,
    ats: Sequence[int],
    now: int,
    steps: bool,
) -> tuple[ClockStatus, int | None, int, list[int | None], int, int | None]:
    """A clock held to `goal`, started at `start` and stopped at `stop` (None: running), at `now`, over
    the ticket's `timeline` (`ats`: its instants). All instants in epoch µs.

    Returns (status, due instant, business time counted, reached, first projected, projected from):
    `reached` holds the instant of each step of `goal.rungs` (with `steps`; else only the breach, so
    one calendar `add` per clock) as `walk` returns it; the due instant is the breach's. The counting
    intervals end with an unbounded one: the last counting interval of a running clock, or the
    projection from its stop (a stopped clock: where its instants would have fallen had it kept
    counting) or from `now` (a clock paused at the end of what is known: its instants if it resumed at
    `now`); `projected from` is where that projection starts (None without one)."""
    pause = goal.pause
    intervals, projected_from = clock_intervals(goal, start, stop, timeline, ats, now)
    if projected_from is not None:
        intervals.append((projected_from, None))
    amounts, breach = (goal.amounts_us, goal.breach) if steps else ((goal.within_us,), 0)
    # A stopped clock's steps after its stop are never owed nor armed: only its due instant is computed.
    reached, first_projected, counted = walk(
        goal.calendar, intervals, amounts, now if stop is None else stop, projected_from,
        None if stop is None else breach,
    )  # fmt: skip
    due = reached[breach] if breach < len(reached) else None
    status = clock_status(cancelled, stop, due, now, paused_at(timeline, now, start, pause))
    return status, due, counted, reached, first_projected, projected_from


__all__ = [
    "EPOCH",
    "US",
    "ClockStatus",
    "Interval",
    "Micros",
    "Timeline",
    "Changes",
    "clock_intervals",
    "clock_status",
    "counting_intervals",
    "instant",
    "paused_at",
    "split_counted",
    "walk",
    "walk_clock",
]
