"""A replay of some of the tickets, whose results merge exactly into the replay of all of them.

A streamed, multi-core or sharded replay splits the tickets (never a ticket's events) into parts,
folds each part with `fold`, and combines the parts:

    part = fold(config, events, now, group_by, emit)   # emit(key, text) once per ticket with rows
    whole = Partial.empty(group_by); whole.merge(part) # counts add up, extremes combine, top-N re-ranked
    finish(whole, compliance=f2, summary=f3, ...)      # the compliance CSV and the summary page

`emit` receives each ticket's SLA log lines (CSV text, ``\\r\\n`` line ends) with the ticket's sort key
``(first instant in UTC microseconds, ticket id)``; `fold` emits in key order, so merging the parts'
streams by key (`heapq.merge`) gives the rows in the order of one whole replay. Everything else a
replay writes is built from the aggregates, which do not depend on the order tickets are counted in:
the same `now` given to every part makes the whole byte for byte the replay of all the events.

`Partial.to_dict` / `from_dict` carry the aggregates as JSON (exact: integer microseconds, floats as
their shortest repr), so parts replayed on other machines can be merged. Pure: no disk, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, TextIO, cast

from slaclock.engine.config import Config
from slaclock.engine.events import Event
from slaclock.engine.replay import Replay, ReplayStats, _finish, _write_outcomes, ticket_key
from slaclock.engine.reports import ComplianceAccumulator, SlaLogRow, Tally, check_group_by
from slaclock.engine.summary import SummaryAccumulator, _Overdue

Emit = Callable[[tuple[int, str], str], None]
"""``emit((first_micros, ticket_id), csv_text)``: one ticket's SLA log lines and its sort key."""

_PAGE_COUNTS = ("tickets", "clocks", "running", "paused", "running_missed")
_STAT_COUNTS = ("tickets", "events", "events_after_now", "clocks", "met", "missed", "running", "cancelled")


@dataclass(slots=True)
class Partial:
    """The aggregates of a replay of some tickets: compliance tallies, the summary's accumulator and
    the counts of `ReplayStats` (`now` and `files` excepted)."""

    compliance: ComplianceAccumulator
    summary: SummaryAccumulator
    stats: ReplayStats

    @classmethod
    def empty(cls, group_by: str | Sequence[str] = ()) -> Partial:
        return cls(ComplianceAccumulator(group_by), SummaryAccumulator(), ReplayStats())

    def merge(self, other: Partial) -> None:
        """Count here everything `other` counted (exact whatever the order parts are merged in)."""
        if other.compliance.group_by != self.compliance.group_by:
            raise ValueError("cannot merge replays grouped by different fields")
        for (day, groups), tally in other.compliance._tallies.items():
            self.compliance.tally(day, groups).merge(tally)
        mine, theirs = self.summary, other.summary
        for (day, groups), tally in theirs.days._tallies.items():
            mine.days.tally(day, groups).merge(tally)
        mine.total.merge(theirs.total)
        for table, more in (
            (mine.by_level, theirs.by_level),
            (mine.by_department, theirs.by_department),
            (mine.by_metric, theirs.by_metric),
            (mine.by_agent, theirs.by_agent),
        ):
            for key, tally in more.items():
                table.setdefault(key, Tally()).merge(tally)
        for name in _PAGE_COUNTS:
            setattr(mine, name, getattr(mine, name) + getattr(theirs, name))
        for entry in theirs._overdue:
            mine.note_overdue(entry)
        for name in _STAT_COUNTS:
            setattr(self.stats, name, getattr(self.stats, name) + getattr(other.stats, name))

    def to_dict(self) -> dict[str, Any]:
        """The aggregates as JSON-ready values; `from_dict` gives them back exactly."""
        page = self.summary
        return {
            "group_by": list(self.compliance.group_by),
            "compliance": _tallies_out(self.compliance._tallies),
            "days": _tallies_out(page.days._tallies),
            "total": _tally_out(page.total),
            "by_level": {k: _tally_out(t) for k, t in page.by_level.items()},
            "by_department": {k: _tally_out(t) for k, t in page.by_department.items()},
            "by_metric": {k: _tally_out(t) for k, t in page.by_metric.items()},
            "by_agent": {k: _tally_out(t) for k, t in page.by_agent.items()},
            "counts": {n: getattr(page, n) for n in _PAGE_COUNTS},
            "top_n": page.top_n,
            "overdue": [_row_out(e.row) for e in page._overdue],
            "stats": {n: getattr(self.stats, n) for n in _STAT_COUNTS},
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Partial:
        """The `Partial` of `to_dict`'s value. Raises ValueError (or KeyError, TypeError) if it is not one."""
        part = cls(
            ComplianceAccumulator(doc["group_by"]), SummaryAccumulator(int(doc["top_n"])), ReplayStats()
        )
        page = part.summary
        _tallies_in(part.compliance, doc["compliance"])
        _tallies_in(page.days, doc["days"])
        page.total = _tally_in(doc["total"])
        for name in ("by_level", "by_department", "by_metric", "by_agent"):
            setattr(page, name, {str(k): _tally_in(v) for k, v in doc.get(name, {}).items()})
        for name in _PAGE_COUNTS:
            setattr(page, name, int(doc["counts"][name]))
        for row in doc["overdue"]:
            page.note_overdue(_Overdue(_row_in(row)))
        for name in _STAT_COUNTS:
            setattr(part.stats, name, int(doc["stats"][name]))
        return part


def fold(
    config: Config,
    events: Iterable[Event],
    now: datetime | None,
    group_by: str | Sequence[str],
    emit: Emit,
) -> Partial:
    """Replay `events` (every event of each of their tickets) at `now`, as `replay.write_reports`
    does, emitting each ticket's SLA log lines in ticket order and returning the aggregates.

    `now` must be the one instant of the whole replay (its default, the latest event of *all* the
    events, is the caller's to find); None only if there are no events at all."""
    replay = Replay(config, events, now)
    part = Partial.empty(check_group_by(group_by))
    part.stats = replay.stats
    sink = cast(TextIO, _Sink(replay, emit))  # `_write_outcomes` only calls `write`
    _write_outcomes(config, replay, sink, part.compliance, part.summary, part.stats, bool(config.agreements))
    part.stats.now = None
    return part


def finish(
    whole: Partial,
    *,
    compliance: TextIO,
    summary: TextIO | None,
    title: str,
    subtitle: str,
    now: datetime | None,
) -> ReplayStats:
    """Write the compliance CSV and the summary page of `whole` as `replay.write_reports` does; the
    stats returned are `whole`'s, with `now` and the compliance row count."""
    stats = whole.stats
    stats.now = now
    return _finish(
        whole.compliance, whole.summary, compliance, summary, whole.compliance.group_by, stats, title,
        subtitle, now,
    )  # fmt: skip


class _Sink:
    """The text stream `_write_outcomes` writes rows to: hands each write to `emit` with the key of
    the ticket the replay is on (one write per ticket)."""

    __slots__ = ("_replay", "_emit")

    def __init__(self, replay: Replay, emit: Emit) -> None:
        self._replay = replay
        self._emit = emit

    def write(self, text: str) -> int:
        current = self._replay.current
        if current is None:  # pragma: no cover - rows are only written while a ticket is taken
            raise RuntimeError("SLA log rows outside a ticket")
        self._emit(ticket_key(*current), text)
        return len(text)


# ------------------------------------------------------------------------------------- JSON (de)serialising

_TALLY_SLOTS = Tally.__slots__


def _tally_out(t: Tally) -> list[int]:
    return [getattr(t, name) for name in _TALLY_SLOTS]


def _tally_in(values: list[int]) -> Tally:
    if len(values) != len(_TALLY_SLOTS):
        raise ValueError("not a tally")
    t = Tally()
    for name, value in zip(_TALLY_SLOTS, values, strict=True):
        setattr(t, name, int(value))
    return t


def _tallies_out(tallies: dict[tuple[date, tuple[str, ...]], Tally]) -> list[list[Any]]:
    return [[day.isoformat(), list(groups), _tally_out(t)] for (day, groups), t in tallies.items()]


def _tallies_in(acc: ComplianceAccumulator, rows: list[list[Any]]) -> None:
    for day, groups, values in rows:
        acc.tally(date.fromisoformat(day), tuple(str(g) for g in groups)).merge(_tally_in(values))


_ROW_FIELDS = tuple(f.name for f in fields(SlaLogRow))
_ROW_INSTANTS = frozenset({"started_at", "due_at", "stopped_at", "decided_at"})


def _row_out(row: SlaLogRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _ROW_FIELDS:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _row_in(doc: dict[str, Any]) -> SlaLogRow:
    values: dict[str, Any] = {}
    for name in _ROW_FIELDS:
        if name not in doc:  # a part written before the field existed: the field's default
            continue
        value = doc[name]
        if name in _ROW_INSTANTS and value is not None:
            value = datetime.fromisoformat(value)
        values[name] = value
    return SlaLogRow(**values)


__all__ = ["Emit", "Partial", "finish", "fold", "ticket_key"]
