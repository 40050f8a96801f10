"""Offline replay: every ticket of an event set evaluated at `now`, and the three reports.

Pure: the caller opens the files and parses the events; nothing here reads the clock or the disk.

    views = replay(config, events, now)                       # one TicketView per ticket
    stats = write_reports(config, views, sla_log=f1, compliance=f2, summary=f3, group_by=("level",))

Events may come in any order and repeat (webhooks arrive late and twice): they are grouped by ticket
and each ticket is folded by the clocks engine, which orders by (`at`, `id`) and ignores repeated ids.
Events after `now` have not happened yet at `now` and are left out. Tickets come out in the order they
began (their earliest event, then ticket id), whatever the order of the input.

Memory: every event is held until its ticket is replayed (a ticket's events are needed together);
rows are streamed to the writers, and only bounded aggregates are kept for compliance and the summary.

Speed: `write_reports` given a `Replay` (and no sort) writes the rows straight from each ticket's
`clocks.clock_outcomes`, the values its view's clocks would hold, without building views, rows or
notices; the bytes written are those the views give row by row (a test compares both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from slaclock.engine.calendar.requester import Zones
from slaclock.engine.clocks import (
    ClockOutcome,
    ClockStatus,
    TicketView,
    clock_outcomes,
    evaluate,
    replay_ticket,
)
from slaclock.engine.config import Config, Metric
from slaclock.engine.events import EVENT_ORDER, Event
from slaclock.engine.policy import compile_policy
from slaclock.engine.reports import (
    SLA_LOG_COLUMNS,
    ComplianceAccumulator,
    SlaLogOptions,
    SlaLogRow,
    Tally,
    _text,
    agreement_cell,
    check_group_by,
    csv_line,
    csv_text,
    parse_sort,
    pct,
    sla_log_line,
    sla_log_rows,
    sla_log_text,
    sort_sla_log,
    write_compliance,
    write_sla_log,
)
from slaclock.engine.summary import SummaryAccumulator, _Overdue, render_summary
from slaclock.engine.walk import EPOCH, US

_CANCELLED = ClockStatus.CANCELLED
_PAUSED = ClockStatus.PAUSED
_MET = ClockStatus.MET
_MISSED = ClockStatus.MISSED


@dataclass(slots=True)
class ReplayStats:
    """What a replay produced. `events` counts the events replayed (repeats included, events after
    `now` excluded); `clocks` the SLA log rows (cancelled clocks are not rows); `running` the clocks
    still open or paused and not breached; `compliance_pct` = 100 × met / (met + missed)."""

    tickets: int = 0
    events: int = 0
    events_after_now: int = 0
    clocks: int = 0
    met: int = 0
    missed: int = 0
    running: int = 0
    cancelled: int = 0
    compliance_rows: int = 0
    now: datetime | None = None
    files: list[str] = field(default_factory=list)

    @property
    def compliance_pct(self) -> float:
        return pct(self.met, self.met + self.missed)


def group_by_ticket(events: Iterable[Event]) -> dict[str, list[Event]]:
    """The events of each ticket, in input order."""
    tickets: dict[str, list[Event]] = {}
    for event in events:
        bucket = tickets.get(event.ticket_id)
        if bucket is None:
            tickets[event.ticket_id] = [event]
        else:
            bucket.append(event)
    return tickets


def ticket_key(first: datetime, ticket_id: str) -> tuple[int, str]:
    """A ticket's place in a replay's output, as integers and text (JSON-safe): its first event's
    instant in microseconds since the Unix epoch, then its id. `Replay` takes tickets in this order;
    a streamed replay's parts merge their rows by it."""
    return ((first - EPOCH) // US, ticket_id)


def latest_instant(events: Iterable[Event]) -> datetime | None:
    """The latest `at` of `events` (None if there is none): the default `now` of a replay."""
    return max((e.at for e in events), default=None)


class Replay:
    """A replay of an event set, evaluated at `now` (default: the latest event's instant).

    Iterating yields one `TicketView` per ticket, earliest-starting ticket first; each ticket's events
    are released once it has been evaluated. `stats` counts the events as it goes (`write_reports`
    counts the rest).
    """

    def __init__(
        self,
        config: Config,
        events: Iterable[Event],
        now: datetime | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.config = config
        self.policy = compile_policy(config)
        tickets = group_by_ticket(events)
        for evs in tickets.values():  # in the fold's order, once: the first and last instants are at the ends
            evs.sort(key=EVENT_ORDER)
        if now is None:  # the latest event's instant: no event is after it
            now = max((evs[-1].at for evs in tickets.values()), default=None)
            self.stats = ReplayStats(now=now)
        else:
            self.stats = ReplayStats(now=now)
            for tid, evs in list(tickets.items()):
                if evs[-1].at <= now:
                    continue
                kept = [e for e in evs if e.at <= now]
                self.stats.events_after_now += len(evs) - len(kept)
                if kept:
                    tickets[tid] = kept
                else:
                    del tickets[tid]
        self.now = now
        self._tickets = tickets
        self._progress = progress
        self.current: tuple[datetime, str] | None = None
        """The (first instant, id) of the ticket being taken: the ticket order's sort key."""
        self.on_ticket: Callable[[list[Event]], None] | None = None
        """Called with each ticket's events as they are taken, in the ticket order (e.g. to write the
        ticket's `clocks.time_splits` beside the SLA log); None: nothing."""

    def __len__(self) -> int:
        return len(self._tickets)

    def __iter__(self) -> Iterator[TicketView]:
        now = self.now
        if now is None:
            return
        policy = self.policy
        for evs in self._take():
            yield evaluate(policy, replay_ticket(policy, evs), now)

    def outcomes(self) -> Iterator[tuple[str, Mapping[str, Any], list[ClockOutcome]]]:
        """What iterating yields, reduced to what the reports show: per ticket, in the same order and
        with the same bookkeeping, ``(ticket_id, fields, outcomes)`` from `clocks.clock_outcomes` (the
        values of the view's clocks, without their steps and notices; much cheaper)."""
        now = self.now
        if now is None:
            return
        policy = self.policy
        for evs in self._take():
            yield clock_outcomes(policy, evs, now)

    def _take(self) -> Iterator[list[Event]]:
        """Each ticket's events, earliest-starting ticket first, released as they are taken; counts
        them in `stats` and reports progress once the consumer has handled each ticket."""
        tickets = self._tickets
        # Order tickets by when they began (each ticket's events are sorted: its first is its start);
        # only their `ticket_key`s are built (O(tickets) memory; integers compare faster than instants).
        order = sorted([ticket_key(evs[0].at, tid) for tid, evs in tickets.items()])
        total = len(order)
        progress = self._progress
        stats = self.stats
        for done, (_, tid) in enumerate(order, 1):
            evs = tickets.pop(tid)
            self.current = (evs[0].at, tid)
            stats.events += len(evs)
            if self.on_ticket is not None:
                self.on_ticket(evs)
            yield evs
            if progress is not None:
                progress(done, total)


def replay(config: Config, events: Iterable[Event], now: datetime | None = None) -> Iterator[TicketView]:
    """One `TicketView` per ticket of `events`, evaluated at `now` (default: the latest event's `at`).

    Events after `now` are left out; order and repeats in the input do not matter.
    """
    return iter(Replay(config, events, now))


def write_reports(
    config: Config,
    views: Iterable[TicketView],
    *,
    sla_log: TextIO,
    compliance: TextIO,
    summary: TextIO | None = None,
    group_by: str | Sequence[str] = (),
    sort_by: str | Sequence[str] = (),
    title: str = "SLA replay",
    subtitle: str = "",
    now: datetime | None = None,
    stats: ReplayStats | None = None,
    columns: SlaLogOptions | None = None,
    utc: bool = False,
) -> ReplayStats:
    """Stream the views' SLA log rows to `sla_log`, then write `compliance` and the `summary` page.
    `columns` adds the SLA log's optional columns (`reports.SlaLogOptions`; none by default); `utc`
    shows the page's instants in UTC instead of each level's calendar zone.

    The SLA log is written as the views come, in their order, unless `sort_by` asks for a sort (see
    `reports.sort_sla_log`): then the rows are held in memory to be sorted. Compliance and the summary
    are built from bounded aggregates. Files must be opened with ``newline=""`` and UTF-8.
    `stats` (e.g. a `Replay`'s) is filled in and returned.
    """
    groups = check_group_by(group_by)
    sort_keys = parse_sort(sort_by)
    stats = stats if stats is not None else ReplayStats(now=now)
    acc = ComplianceAccumulator(groups)
    page = SummaryAccumulator()
    if config.agreements and (columns is None or not columns.agreement):  # the column comes with them
        columns = replace(columns or SlaLogOptions(), agreement=True)
    extra = columns is not None and columns.needs_rows
    if isinstance(views, Replay) and not sort_keys and not extra:
        # The same rows, straight from the clocks' outcomes: no views, row objects or notices.
        agreement = columns is not None and columns.agreement
        sla_log.write(csv_line(SLA_LOG_COLUMNS + (("agreement",) if agreement else ())))
        _write_outcomes(config, views, sla_log, acc, page, stats, agreement)
        return _finish(acc, page, compliance, summary, groups, stats, title, subtitle, now, utc)

    def rows() -> Iterator[SlaLogRow]:
        zones = Zones(config.calendars)  # with the derived requester calendars
        for view in views:
            page.note_ticket()
            stats.tickets += 1
            for clock in view.clocks:
                if clock.status.value == "cancelled":
                    stats.cancelled += 1
            for row in sla_log_rows(view, zones):
                stats.clocks += 1
                if row.met:
                    stats.met += 1
                elif row.missed:
                    stats.missed += 1
                else:
                    stats.running += 1
                day = acc.day_of(row) if row.decided_at is not None else None
                acc.add(row, day)
                page.add(row, day)
                yield row

    if sort_keys:
        write_sla_log(sort_sla_log(rows(), sort_keys), sla_log, columns)
    else:
        write_sla_log(rows(), sla_log, columns)
    return _finish(acc, page, compliance, summary, groups, stats, title, subtitle, now, utc)


def _finish(
    acc: ComplianceAccumulator,
    page: SummaryAccumulator,
    compliance: TextIO,
    summary: TextIO | None,
    groups: tuple[str, ...],
    stats: ReplayStats,
    title: str,
    subtitle: str,
    now: datetime | None,
    utc: bool = False,
) -> ReplayStats:
    stats.compliance_rows = write_compliance(acc.rows(), compliance, groups)
    if summary is not None:
        summary.write(render_summary(page, title=title, subtitle=subtitle, now=now or stats.now, utc=utc))
    return stats


class _Memo(dict[str, Any]):
    """``memo[key]``: ``compute(key)``, computed once."""

    def __init__(self, compute: Callable[[str], Any]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.compute(key)
        return value


def _write_outcomes(  # noqa: C901 - the hot loop, written out
    config: Config,
    replay: Replay,
    sla_log: TextIO,
    acc: ComplianceAccumulator,
    page: SummaryAccumulator,
    stats: ReplayStats,
    agreement: bool = False,
) -> None:
    """`write_reports`' SLA log rows (after the header) and accumulators for a `Replay`, from
    `Replay.outcomes`; each ticket's rows are one `sla_log.write`, made while `replay.current` is that
    ticket (with `agreement`, each line ends with its ``agreement`` cell, `reports.agreement_cell`).
    Exactly what the rows of its views give (`reports.clock_row`, `sla_log_line`,
    `ComplianceAccumulator.add`, `SummaryAccumulator.add`), with the rows' values as plain locals. A
    row object is built only for a clock that enters the summary's longest-overdue list."""
    zones = Zones(config.calendars)  # with the derived requester calendars
    zone_of = _Memo(lambda calendar: ZoneInfo(zones.get(calendar, "UTC")))  # compliance days' zone
    level_cell = _Memo(csv_text)  # level name -> its CSV text
    cell_text = _Memo(sla_log_text)  # department or agent -> its CSV text
    pick = acc.group_picker()
    by_agent = "agent" in acc.group_by
    # Decided clocks are first tallied by (day, department, agent if grouped by, level, metric), then
    # each of these tallies is merged (`Tally.merge`, exact) into the six the clocks count in:
    # compliance's (day, groups), the summary's day, total, level, department and metric. Bounded:
    # flushed when full, and at the end. The summary's per-agent tally is counted directly.
    agent_tallies = page.by_agent
    tallies: dict[tuple[Any, ...], Tally] = {}
    write = sla_log.write
    line = sla_log_line
    for ticket_id, fields, outcomes in replay.outcomes():
        page.note_ticket()
        stats.tickets += 1
        requester = _text(fields.get("requester"))
        department = _text(fields.get("department"))
        agent = _text(fields.get("assignee"))
        head = (
            f"{sla_log_text(ticket_id)},{sla_log_text(requester)},{cell_text[department]},{cell_text[agent]}"
        )
        lines = []
        for metric, cycle, level, calendar, started, due, stopped, status, business, remaining in outcomes:
            if status is _CANCELLED:
                stats.cancelled += 1
                continue
            state = _STATUS_TEXT[status]
            metric_name = _METRIC_TEXT[metric]
            stats.clocks += 1
            page.clocks += 1
            text = line(head, level_cell[level], metric_name, cycle, started, due, stopped, state, business,
                        remaining)  # fmt: skip
            lines.append(f"{text[:-2]},{agreement_cell(metric_name)}\r\n" if agreement else text)
            if stopped is None:
                page.running += 1
                if status is _PAUSED:
                    page.paused += 1
            if status is _MET:
                stats.met += 1
                decided = stopped
            elif status is _MISSED:
                stats.missed += 1
                decided = due
            else:
                stats.running += 1
                continue
            if decided is None:
                continue
            day = decided.astimezone(zone_of[calendar]).date()
            micros = round(business * 1_000_000)
            key = (day, department, agent if by_agent else "", level, metric_name)
            tally = tallies.get(key)
            if tally is None:
                if len(tallies) >= 4096:
                    _flush_tallies(tallies, acc, page, pick)
                tally = tallies[key] = Tally()
            tally.add(status is _MET, micros)
            agent_tally = agent_tallies.get(agent)
            if agent_tally is None:
                agent_tally = page.agent_tally(agent)
            agent_tally.add(status is _MET, micros)
            if status is _MET:
                continue
            # What SummaryAccumulator.add does with a missed row; the row is built only if kept.
            if stopped is None:
                page.running_missed += 1
            if page.would_keep(-round(remaining * 1_000_000), (ticket_id, metric_name, cycle)):
                row = SlaLogRow(
                    ticket_id, requester, department, agent, level, metric_name, cycle, started, due,
                    stopped, state, business, remaining, zones.get(calendar, "UTC"), decided,
                )  # fmt: skip
                page.note_overdue(_Overdue(row))
        if lines:
            write("".join(lines))
    _flush_tallies(tallies, acc, page, pick)


def _flush_tallies(
    tallies: dict[tuple[Any, ...], Tally],
    acc: ComplianceAccumulator,
    page: SummaryAccumulator,
    pick: Callable[[str, str, str, str], tuple[str, ...]],
) -> None:
    for (day, department, agent, level, metric), tally in tallies.items():
        acc.tally(day, pick(department, agent, level, metric)).merge(tally)
        page.days.tally(day, ()).merge(tally)
        for coarse in page.tallies(level, department, metric):
            coarse.merge(tally)
    tallies.clear()


_STATUS_TEXT = {s: s.value for s in ClockStatus}


class _MetricText(dict[Metric | str, str]):
    """A metric's name in a line: a built-in's value, or a configured metric's own name."""

    def __missing__(self, metric: Metric | str) -> str:
        return str(metric)


_METRIC_TEXT = _MetricText({m: m.value for m in Metric})
