"""The HTML summary page of a report: one self-contained file (inline CSS and SVG, no script, no network
asset) that `slaclock replay` writes next to its CSVs and the S3 report uploads as ``summary.html``.

It is built from streamed aggregates only, so its memory does not grow with the row count:
`SummaryAccumulator.add(row)` keeps per-day totals (a `ComplianceAccumulator` without groups), tallies
per level, department and metric, and the `top_n` most overdue clocks in a bounded heap.

What it shows: headline numbers (tickets, clocks, met, missed, still running, compliance), compliance per
day as a bar chart (the day in each level's calendar time zone, as in compliance.csv), breaches by level,
by department and by metric, a table per agent (the ticket's assignee), and the longest overdue
clocks. Every value from a ticket is HTML-escaped.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import date

from slaclock.engine.reports import (
    ComplianceAccumulator,
    ComplianceRow,
    SlaLogRow,
    Tally,
    micros_of,
)

DEFAULT_TOP_N = 20


class _Overdue:
    """Heap entry: orders by overdue time, then ticket/metric/cycle REVERSED, so the heap's smallest is
    the entry to drop first and the kept set never depends on the arrival order."""

    __slots__ = ("overdue", "tie", "row")

    def __init__(self, row: SlaLogRow) -> None:
        self.overdue = -micros_of(row.remaining_seconds)
        self.tie = (row.ticket_id, row.metric, row.cycle)
        self.row = row

    def __lt__(self, other: _Overdue) -> bool:
        if self.overdue != other.overdue:
            return self.overdue < other.overdue
        return self.tie > other.tie


class SummaryAccumulator:
    """Consumes SLA log rows one at a time; holds days + levels + departments + metrics + `top_n` rows.

    `note_ticket()` counts a ticket (the caller knows ticket boundaries; rows alone cannot be counted
    into tickets without remembering every id).
    """

    def __init__(self, top_n: int = DEFAULT_TOP_N) -> None:
        self.top_n = top_n
        self.days = ComplianceAccumulator(())
        self.by_level: dict[str, Tally] = {}
        self.by_department: dict[str, Tally] = {}
        self.by_metric: dict[str, Tally] = {}
        self.by_agent: dict[str, Tally] = {}
        self.total = Tally()
        self.tickets = 0
        self.clocks = 0
        self.running = 0
        self.paused = 0
        self.running_missed = 0
        self._overdue: list[_Overdue] = []

    def note_ticket(self) -> None:
        self.tickets += 1

    def add(self, row: SlaLogRow, day: date | None = None) -> None:
        """Count one row; `day` may pass its decision day (`ComplianceAccumulator.day_of`) if known."""
        self.clocks += 1
        if row.stopped_at is None:
            self.running += 1
            if row.status == "paused":
                self.paused += 1
        if not self.days.add(row, day):
            return
        met = row.met
        self.count(met, micros_of(row.business_seconds), row.level, row.department, row.metric, row.agent)
        if not met:
            if row.stopped_at is None:
                self.running_missed += 1
            if self.top_n > 0:
                self.note_overdue(_Overdue(row))

    def count(
        self, met: bool, micros: int, level: str, department: str, metric: str, agent: str = ""
    ) -> None:
        """The totals and breakdowns of one decided clock (what `add` counts after the daily tally)."""
        for tally in self.tallies(level, department, metric):
            tally.add(met, micros)
        self.agent_tally(agent).add(met, micros)

    def agent_tally(self, agent: str) -> Tally:
        """The per-agent table's tally of `agent` (``""``: unassigned), created empty if new."""
        tally = self.by_agent.get(agent)
        if tally is None:
            tally = self.by_agent[agent] = Tally()
        return tally

    def tallies(self, level: str, department: str, metric: str) -> tuple[Tally, Tally, Tally, Tally]:
        """The total, and the breakdowns' tallies of `level`, `department` and `metric` (created empty
        if there are none yet): where `count` counts a decided clock."""
        out = [self.total]
        for table, key in (
            (self.by_level, level),
            (self.by_department, department),
            (self.by_metric, metric),
        ):
            tally = table.get(key)
            if tally is None:
                tally = table[key] = Tally()
            out.append(tally)
        return out[0], out[1], out[2], out[3]

    def note_overdue(self, entry: _Overdue) -> None:
        if len(self._overdue) < self.top_n:
            heapq.heappush(self._overdue, entry)
        elif self._overdue[0] < entry:
            heapq.heapreplace(self._overdue, entry)

    def would_keep(self, overdue_micros: int, tie: tuple[str, str, int]) -> bool:
        """Whether a missed clock `overdue_micros` past due (its `remaining_seconds` negated, in
        microseconds) with `tie` (ticket id, metric, cycle) would enter the longest-overdue list now:
        lets a caller build its row only then."""
        if self.top_n <= 0:
            return False
        if len(self._overdue) < self.top_n:
            return True
        first = self._overdue[0]
        return first.overdue < overdue_micros or (first.overdue == overdue_micros and first.tie > tie)

    def add_all(self, rows: Iterable[SlaLogRow]) -> None:
        for row in rows:
            self.add(row)

    def longest_overdue(self) -> list[SlaLogRow]:
        """The `top_n` missed clocks with the most business time past due, most overdue first."""
        return [e.row for e in sorted(self._overdue, reverse=True)]

    def daily(self) -> list[ComplianceRow]:
        return list(self.days.rows())


# The page itself lives in `slaclock.engine.summary_page`; these names stay importable from here.
from slaclock.engine.summary_page import human_seconds, render_summary  # noqa: E402

__all__ = ["DEFAULT_TOP_N", "SummaryAccumulator", "human_seconds", "render_summary"]
