"""The HTML summary page of a report: one self-contained file (inline CSS and SVG, no script, no network
asset) that `slaclock replay` writes next to its CSVs and the S3 report uploads as ``summary.html``.

It is built from streamed aggregates only, so its memory does not grow with the row count:
`SummaryAccumulator.add(row)` keeps per-day totals (a `ComplianceAccumulator` without groups), tallies
per level, department and metric, and the `top_n` most overdue clocks in a bounded heap.

What it shows: headline numbers (tickets, clocks, met, missed, still running, compliance), compliance per
day as a bar chart (the day in each level's calendar time zone, as in compliance.csv), breaches by level,
by department and by metric, and the longest overdue clocks. Every value from a ticket is HTML-escaped.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from html import escape

from slaclock.engine.reports import (
    ComplianceAccumulator,
    ComplianceRow,
    SlaLogRow,
    Tally,
    format_instant,
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
        self.count(met, micros_of(row.business_seconds), row.level, row.department, row.metric)
        if not met:
            if row.stopped_at is None:
                self.running_missed += 1
            if self.top_n > 0:
                self.note_overdue(_Overdue(row))

    def count(self, met: bool, micros: int, level: str, department: str, metric: str) -> None:
        """The totals and breakdowns of one decided clock (what `add` counts after the daily tally)."""
        for tally in self.tallies(level, department, metric):
            tally.add(met, micros)

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


# ---------------------------------------------------------------------------------------------- rendering

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5a6776;margin:0 0 20px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:24px}.card span{color:#5a6776;font-size:12px;text-transform:uppercase}
.panel{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef1f5}
th{font-size:12px;text-transform:uppercase;color:#5a6776}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.good{color:#1b7f3b}.warn{color:#a86400}.bad{color:#b3261e}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#5a6776}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.empty{color:#5a6776;font-style:italic}
.panel h2{margin:4px 0 8px}td.t{white-space:nowrap}
"""

_GOOD, _WARN, _BAD = "#2e9e57", "#e0a030", "#d0443a"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct_class(value: float) -> str:
    return "good" if value >= 95 else "warn" if value >= 80 else "bad"


def _color(value: float) -> str:
    return _GOOD if value >= 95 else _WARN if value >= 80 else _BAD


def human_seconds(seconds: float) -> str:
    """A business duration for people: ``2d 3h``, ``4h 05m``, ``12m 30s``, ``45s`` (a day = 24 h)."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _chart(days: Sequence[ComplianceRow]) -> str:
    """An inline SVG bar chart of compliance per day; each bar has a <title> tooltip."""
    if not days:
        return '<p class="empty">No clock was decided in this period.</p>'
    width, height, left, right, bottom, top = 1000, 260, 44, 40, 28, 10
    plot_w, plot_h = width - left - right, height - bottom - top
    first, last = days[0].date, days[-1].date
    span = (last - first).days + 1
    slot = plot_w / span
    bar = max(slot * 0.8, 1.0)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Compliance per day" style="width:100%;height:auto">'
    ]
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e8ee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#5a6776">{tick}%</text>'
        )
    for row in days:
        offset = (row.date - first).days
        x = left + offset * slot + (slot - bar) / 2
        h = plot_h * row.compliance_pct / 100
        y = top + plot_h - h
        tip = f"{row.date.isoformat()}: {row.compliance_pct:.2f}% ({row.met} met, {row.missed} missed)"
        parts.append(
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{max(h, 0.5):.2f}" '
            f'fill="{_color(row.compliance_pct)}"><title>{_e(tip)}</title></rect>'
        )
    labels = _label_days(first, span)
    for offset in labels:
        d = date.fromordinal(first.toordinal() + offset)
        x = left + offset * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
            f'fill="#5a6776">{_e(d.isoformat())}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _label_days(first: date, span: int, max_labels: int = 8) -> list[int]:
    if span <= max_labels:
        return list(range(span))
    step = -(-span // max_labels)
    offsets = list(range(0, span, step))
    if span - 1 - offsets[-1] >= step / 2:
        offsets.append(span - 1)
    return offsets


def _breakdown(title: str, label: str, table: Mapping[str, Tally], limit: int = 30) -> str:
    """A table of met/missed/compliance per key, worst compliance first (ties by most missed, name)."""
    rows = sorted(table.items(), key=lambda kv: (kv[1].compliance_pct, -kv[1].missed, kv[0]))
    body = []
    for name, t in rows[:limit]:
        c = t.compliance_pct
        body.append(
            f"<tr><td>{_e(name) if name else '<i>(none)</i>'}</td><td class=n>{t.met}</td>"
            f"<td class=n>{t.missed}</td><td class='n {_pct_class(c)}'>{c:.2f}%</td></tr>"
        )
    more = (
        f"<p class=empty>… and {len(rows) - limit} more (see compliance.csv).</p>"
        if len(rows) > limit
        else ""
    )
    if not body:
        return f'<div class="panel"><h2>{_e(title)}</h2><p class="empty">Nothing decided.</p></div>'
    return (
        f'<div class="panel"><h2>{_e(title)}</h2><table><thead><tr><th>{_e(label)}</th>'
        f"<th class=n>Met</th><th class=n>Missed</th><th class=n>Compliance</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


def _overdue_table(rows: Sequence[SlaLogRow]) -> str:
    if not rows:
        return '<p class="empty">No clock missed its target.</p>'
    body = []
    for r in rows:
        state = "still running" if r.stopped_at is None else f"stopped {format_instant(r.stopped_at)}"
        body.append(
            "<tr>"
            f"<td>{_e(r.ticket_id)}</td><td>{_e(r.requester)}</td><td>{_e(r.department)}</td>"
            f"<td>{_e(r.agent)}</td><td>{_e(r.level)}</td><td>{_e(r.metric)}"
            f"{' #' + _e(r.cycle) if r.cycle > 1 else ''}</td>"
            f"<td class=t>{_e(format_instant(r.due_at))}</td>"
            f"<td class='n t bad'>{_e(human_seconds(-r.remaining_seconds))}</td><td>{_e(state)}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>Ticket</th><th>Requester</th><th>Department</th><th>Agent</th>"
        "<th>Level</th><th>Metric</th><th>Due (UTC)</th><th class=n>Overdue</th><th>State</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _card(label: str, value: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<div class="card"><span>{_e(label)}</span><b{cls}>{_e(value)}</b></div>'


def render_summary(
    summary: SummaryAccumulator,
    *,
    title: str = "SLA report",
    now: datetime | None = None,
    subtitle: str = "",
) -> str:
    """The whole page as a string (UTF-8 when written). `now` is the instant the clocks were evaluated
    at; `subtitle` a free line under the title (e.g. the configuration and event files). Both, and
    every ticket value, are escaped."""
    days = summary.daily()
    total = summary.total
    c = total.compliance_pct
    headline = "".join(
        [
            _card(
                "Compliance", f"{c:.2f}%" if total.decided else "–", _pct_class(c) if total.decided else ""
            ),
            _card("Met", str(total.met)),
            _card("Missed", str(total.missed), "bad" if total.missed else ""),
            _card("Running", str(summary.running - summary.running_missed)),
            _card("Overdue now", str(summary.running_missed), "bad" if summary.running_missed else ""),
            _card("Clocks", str(summary.clocks)),
            _card("Tickets", str(summary.tickets)),
        ]
    )
    period = f"{days[0].date.isoformat()} → {days[-1].date.isoformat()}" if days else "no decided clock"
    facts = [f"Outcomes decided {period}"]
    if now is not None:
        facts.append(f"clocks as of {format_instant(now)}")
    if summary.paused:
        facts.append(f"{summary.paused} paused")
    sub = " · ".join(facts)
    legend = (
        f'<div class="legend"><span><i style="background:{_GOOD}"></i>≥ 95%</span>'
        f'<span><i style="background:{_WARN}"></i>80–95%</span>'
        f'<span><i style="background:{_BAD}"></i>&lt; 80%</span></div>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        + (f'<p class="sub">{_e(subtitle)}</p>' if subtitle else "")
        + f'<p class="sub">{_e(sub)}</p>'
        f'<div class="cards">{headline}</div>'
        f'<h2>Compliance per day</h2><div class="panel">{_chart(days)}{legend}</div>'
        '<div class="grid" style="margin-top:16px">'
        f"{_breakdown('Breaches by level', 'Level', summary.by_level)}"
        f"{_breakdown('Breaches by department', 'Department', summary.by_department)}"
        f"{_breakdown('Breaches by metric', 'Metric', summary.by_metric)}"
        "</div>"
        f'<h2>Longest overdue clocks</h2><div class="panel">{_overdue_table(summary.longest_overdue())}'
        '<p class="sub" style="margin:8px 0 0">Overdue = business time counted past the target '
        "(in the level's calendar).</p></div>"
        "</main></body></html>\n"
    )
