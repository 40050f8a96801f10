"""The HTML summary page of a report: one self-contained file (inline CSS and SVG, no script, no network
asset) that `slaclock replay` writes next to its CSVs and the S3 report uploads as ``summary.html``.

It renders a `SummaryAccumulator` (see `slaclock.engine.summary`). Rules it keeps, for people reading it
on a screen, a phone, in an e-mail client or on paper:

- every figure is printed (no value only in a hover tooltip), and a compliance figure carries its status
  in words (``on target`` / ``at risk`` / ``off target``) as well as in colour;
- a day with 0% compliance draws a visible bar, and each day shows how many clocks were decided;
- instants are shown in the calendar time zone of the clock's level (``utc=True`` shows UTC);
- business durations are written in business hours and minutes (``26h 40m``), never as 24-hour "days"
  of business time; calendar durations (wall-clock time past due) are labelled as such;
- the per-day table carries the same figures as compliance.csv, as the CSV writes them, in ``data-``
  attributes, so a test can compare the page with the CSV cell by cell;
- the per-agent table (the ticket's assignee; ``(unassigned)`` for none) gives each agent's decided,
  met and missed clocks, compliance and met/missed business-time average, maximum and minimum over the
  whole period, with the same figures in ``data-`` attributes in the CSV's number format (what
  compliance.csv grouped by agent gives for one day; over several days its sums).

Every value from a ticket is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from slaclock.engine.reports import (
    COMPLIANCE_COLUMNS,
    ComplianceRow,
    SlaLogRow,
    Tally,
    compliance_record,
    format_instant,
    format_seconds,
    mean_seconds,
)

if TYPE_CHECKING:
    from slaclock.engine.summary import SummaryAccumulator

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
background:#f5f7fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5a6776;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:24px}.card span{color:#5a6776;font-size:12px;text-transform:uppercase}
.card small{display:block;font-size:12px}
.panel{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;overflow-x:auto;
max-width:100%}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef1f5;vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:#5a6776}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.good{color:#1b7f3b}.warn{color:#8a5200}.bad{color:#b3261e}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#5a6776}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.empty{color:#5a6776;font-style:italic}.note{color:#5a6776;font-size:12px;margin:8px 0 0}
.panel h2{margin:4px 0 8px}td.t{white-space:nowrap}
@media (max-width:600px){main{padding:12px}.grid{grid-template-columns:1fr}
.card{min-width:0;flex:1 1 40%;padding:8px 10px}.card b{font-size:20px}
th,td{padding:4px 5px;font-size:12px}.panel{padding:8px}}
@media print{body{background:#fff}.panel,.card{border-color:#999}}
"""

_GOOD, _WARN, _BAD = "#2e9e57", "#e0a030", "#d0443a"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct_class(value: float) -> str:
    return "good" if value >= 95 else "warn" if value >= 80 else "bad"


def _status(value: float) -> str:
    """The status of a compliance figure in words (the colour only repeats it)."""
    return "on target" if value >= 95 else "at risk" if value >= 80 else "off target"


def _color(value: float) -> str:
    return _GOOD if value >= 95 else _WARN if value >= 80 else _BAD


def _pct_cell(value: float) -> str:
    return f"<td class='n {_pct_class(value)}'>{value:.2f}% <small>{_status(value)}</small></td>"


def human_seconds(seconds: float) -> str:
    """A calendar (wall-clock) duration for people: ``2d 3h``, ``4h 05m``, ``12m 30s``, ``45s`` (a day
    here is 24 hours of wall-clock time)."""
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


def business_time(seconds: float) -> str:
    """A business duration for people, in hours and minutes only (``1754h 02m``, ``12m 30s``): a day of
    business time is as long as the calendar's opening hours, so it is never written as days."""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _business_or_dash(seconds: float | None) -> str:
    return "–" if seconds is None else business_time(seconds)


def local_instant(t: datetime | None, zone: str, utc: bool = False) -> str:
    """``2026-11-09 14:05 CET``: `t` in the IANA `zone` (or in UTC with ``utc``); ``""`` for None."""
    if t is None:
        return ""
    local = t.astimezone(UTC if utc else ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {'UTC' if utc else local.tzname()}"


def _chart(days: Sequence[ComplianceRow]) -> str:
    """An inline SVG bar chart of compliance per day. Each bar is printed with its figure and the day's
    volume (clocks decided); a 0% day draws a visible red stub, unlike a day without decided clocks."""
    if not days:
        return '<p class="empty">No clock was decided in this period.</p>'
    width, height, left, right, bottom, top = 1000, 290, 44, 40, 44, 22
    plot_w, plot_h = width - left - right, height - bottom - top
    first, last = days[0].date, days[-1].date
    span = (last - first).days + 1
    slot = plot_w / span
    bar = max(slot * 0.8, 1.0)
    labelled = span <= 31
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Compliance per day" style="width:100%;height:auto">'
    ]
    parts.append(_grid(width, left, right, top, plot_h))
    for row in days:
        offset = (row.date - first).days
        x = left + offset * slot + (slot - bar) / 2
        h = max(plot_h * row.compliance_pct / 100, 3.0)
        y = top + plot_h - h
        tip = f"{row.date.isoformat()}: {row.compliance_pct:.2f}% ({row.met} met, {row.missed} missed)"
        parts.append(
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{h:.2f}" '
            f'fill="{_color(row.compliance_pct)}" data-date="{row.date.isoformat()}" '
            f'data-compliance="{row.compliance_pct:.2f}"><title>{_e(tip)}</title></rect>'
        )
        if labelled:
            cx = x + bar / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle" '
                f'fill="#1d2733">{row.compliance_pct:.0f}%</text>'
                f'<text x="{cx:.1f}" y="{height - 24}" font-size="10" text-anchor="middle" '
                f'fill="#5a6776">n={row.met + row.missed}</text>'
            )
    parts.append(_day_axis(first, span, left, slot, height))
    parts.append("</svg>")
    return "".join(parts)


def _grid(width: int, left: int, right: int, top: int, plot_h: int) -> str:
    """The chart's horizontal lines and labels at 0, 25, 50, 75 and 100%."""
    parts = []
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e8ee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#5a6776">{tick}%</text>'
        )
    return "".join(parts)


def _day_axis(first: date, span: int, left: int, slot: float, height: int) -> str:
    """The chart's day labels under the bars (a few of them when the period is long)."""
    parts = []
    for offset in _label_days(first, span):
        d = date.fromordinal(first.toordinal() + offset)
        x = left + offset * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
            f'fill="#5a6776">{_e(d.strftime("%a %d %b") if span <= 14 else d.isoformat())}</text>'
        )
    return "".join(parts)


def _label_days(first: date, span: int, max_labels: int = 8) -> list[int]:
    if span <= max_labels:
        return list(range(span))
    step = -(-span // max_labels)
    offsets = list(range(0, span, step))
    if span - 1 - offsets[-1] >= step / 2:
        offsets.append(span - 1)
    return offsets


def _daily_table(days: Sequence[ComplianceRow]) -> str:
    """Every day's volume and figures, with compliance.csv's values (as written there) in ``data-``."""
    if not days:
        return ""
    body = []
    for row in days:
        cells = zip(COMPLIANCE_COLUMNS, compliance_record(row), strict=True)
        attrs = [f'data-{name}="{_e(value)}"' for name, value in cells]
        body.append(
            f"<tr {' '.join(attrs)}><td class=t>{row.date:%a %Y-%m-%d}</td>"
            f"<td class=n>{row.met + row.missed}</td><td class=n>{row.met}</td><td class=n>{row.missed}</td>"
            f"{_pct_cell(row.compliance_pct)}"
            + "".join(
                f"<td class='n t'>{_business_or_dash(getattr(row, name))}</td>"
                for name in (
                    "met_avg_seconds",
                    "met_min_seconds",
                    "met_max_seconds",
                    "missed_avg_seconds",
                    "missed_min_seconds",
                    "missed_max_seconds",
                )
            )
            + "</tr>"
        )
    return (
        '<table class="days"><thead><tr><th>Day</th><th class=n>Decided</th><th class=n>Met</th>'
        "<th class=n>Missed</th><th class=n>Compliance</th><th class=n>Met avg</th><th class=n>Met min</th>"
        "<th class=n>Met max</th><th class=n>Missed avg</th><th class=n>Missed min</th>"
        f"<th class=n>Missed max</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        '<p class="note">Times are business time (the level\'s opening hours), in hours and minutes: '
        "how long each clock ran until it stopped or was decided.</p>"
    )


def _breakdown(title: str, label: str, table: Mapping[str, Tally], limit: int = 30) -> str:
    """A table of met/missed/compliance per key, worst compliance first (ties by most missed, name)."""
    rows = sorted(table.items(), key=lambda kv: (kv[1].compliance_pct, -kv[1].missed, kv[0]))
    body = []
    for name, t in rows[:limit]:
        body.append(
            f"<tr><td>{_e(name) if name else '<i>(none)</i>'}</td><td class=n>{t.met}</td>"
            f"<td class=n>{t.missed}</td>{_pct_cell(t.compliance_pct)}</tr>"
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


_STATS = (
    "met_avg_seconds", "met_max_seconds", "met_min_seconds",
    "missed_avg_seconds", "missed_max_seconds", "missed_min_seconds",
)  # fmt: skip


def _tally_stats(t: Tally) -> dict[str, float | None]:
    """A tally's met/missed average, maximum and minimum in seconds (`ComplianceRow`'s rounding)."""
    return {
        "met_avg_seconds": mean_seconds(t.met_sum, t.met),
        "met_max_seconds": t.met_max / 1_000_000 if t.met else None,
        "met_min_seconds": t.met_min / 1_000_000 if t.met else None,
        "missed_avg_seconds": mean_seconds(t.missed_sum, t.missed),
        "missed_max_seconds": t.missed_max / 1_000_000 if t.missed else None,
        "missed_min_seconds": t.missed_min / 1_000_000 if t.missed else None,
    }


def _agent_table(table: Mapping[str, Tally], limit: int = 50) -> str:
    """One row per agent, worst compliance first (ties: most missed, then name); every figure printed,
    and in ``data-`` attributes as the CSVs write numbers."""
    rows = sorted(table.items(), key=lambda kv: (kv[1].compliance_pct, -kv[1].missed, kv[0]))
    if not rows:
        return '<p class="empty">Nothing decided.</p>'
    body = []
    for name, t in rows[:limit]:
        stats = _tally_stats(t)
        attrs = " ".join(
            [
                f'data-agent="{_e(name)}"',
                f'data-met="{t.met}"',
                f'data-missed="{t.missed}"',
                f'data-compliance_pct="{t.compliance_pct:.2f}"',
                *(f'data-{k}="{format_seconds(v)}"' for k, v in stats.items()),
            ]
        )
        body.append(
            f"<tr {attrs}><td>{_e(name) if name else '<i>(unassigned)</i>'}</td>"
            f"<td class=n>{t.decided}</td><td class=n>{t.met}</td><td class=n>{t.missed}</td>"
            f"{_pct_cell(t.compliance_pct)}"
            + "".join(f"<td class='n t'>{_business_or_dash(stats[k])}</td>" for k in _STATS)
            + "</tr>"
        )
    more = (
        f"<p class=empty>… and {len(rows) - limit} more (see compliance.csv with --group-by agent).</p>"
        if len(rows) > limit
        else ""
    )
    return (
        '<table class="agents"><thead><tr><th>Agent</th><th class=n>Decided</th><th class=n>Met</th>'
        "<th class=n>Missed</th><th class=n>Compliance</th><th class=n>Met avg</th><th class=n>Met max</th>"
        "<th class=n>Met min</th><th class=n>Missed avg</th><th class=n>Missed max</th>"
        f"<th class=n>Missed min</th></tr></thead><tbody>{''.join(body)}</tbody></table>{more}"
        '<p class="note">Times are business time, in hours and minutes, over the whole period.</p>'
    )


def _overdue_table(rows: Sequence[SlaLogRow], now: datetime | None = None, utc: bool = False) -> str:
    """The longest overdue clocks: due instant in the level's zone, time past due in business time and
    in calendar time (to the stop, or to `now` for a clock still running)."""
    if not rows:
        return '<p class="empty">No clock missed its target.</p>'
    body = []
    for r in rows:
        if r.stopped_at is None:
            state, end = "still running", now
        else:
            state, end = f"stopped {local_instant(r.stopped_at, r.timezone, utc)}", r.stopped_at
        calendar = (
            human_seconds((end - r.due_at).total_seconds()) if end and r.due_at and end > r.due_at else "–"
        )
        body.append(
            f'<tr data-ticket="{_e(r.ticket_id)}" data-metric="{_e(r.metric)}" data-cycle="{r.cycle}" '
            f'data-remaining_seconds="{format_seconds(r.remaining_seconds)}" '
            f'data-due_at="{_e(format_instant(r.due_at))}">'
            f"<td>{_e(r.ticket_id)}</td><td>{_e(r.requester)}</td><td>{_e(r.department)}</td>"
            f"<td>{_e(r.agent)}</td><td>{_e(r.level)}</td><td>{_e(r.metric)}"
            f"{' #' + _e(r.cycle) if r.cycle > 1 else ''}</td>"
            f"<td class=t>{_e(local_instant(r.due_at, r.timezone, utc))}</td>"
            f"<td class='n t bad'>{_e(business_time(-r.remaining_seconds))}</td>"
            f"<td class='n t'>{_e(calendar)}</td><td>{_e(state)}</td>"
            "</tr>"
        )
    zone = "UTC" if utc else "level's time zone"
    return (
        "<table><thead><tr><th>Ticket</th><th>Requester</th><th>Department</th><th>Agent</th>"
        f"<th>Level</th><th>Metric</th><th>Due ({zone})</th><th class=n>Overdue, business time</th>"
        "<th class=n>Overdue, calendar time</th><th>State</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _card(label: str, value: str, css: str = "", note: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    small = f"<small>{_e(note)}</small>" if note else ""
    return f'<div class="card"><span>{_e(label)}</span><b{cls}>{_e(value)}</b>{small}</div>'


def render_summary(
    summary: SummaryAccumulator,
    *,
    title: str = "SLA report",
    now: datetime | None = None,
    subtitle: str = "",
    utc: bool = False,
) -> str:
    """The whole page as a string (UTF-8 when written). `now` is the instant the clocks were evaluated
    at; `subtitle` a free line under the title (e.g. the configuration and event files); `utc` shows
    instants in UTC instead of each level's calendar time zone. Everything is escaped."""
    days = summary.daily()
    total = summary.total
    c = total.compliance_pct
    headline = "".join(
        [
            _card(
                "Compliance",
                f"{c:.2f}%" if total.decided else "–",
                _pct_class(c) if total.decided else "",
                _status(c) if total.decided else "nothing decided",
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
        f'<div class="legend"><span><i style="background:{_GOOD}"></i>≥ 95% on target</span>'
        f'<span><i style="background:{_WARN}"></i>80–95% at risk</span>'
        f'<span><i style="background:{_BAD}"></i>&lt; 80% off target</span>'
        "<span>n = clocks decided that day</span></div>"
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
        + (f'<h2>Each day</h2><div class="panel">{_daily_table(days)}</div>' if days else "")
        + '<div class="grid" style="margin-top:16px">'
        f"{_breakdown('Breaches by level', 'Level', summary.by_level)}"
        f"{_breakdown('Breaches by department', 'Department', summary.by_department)}"
        f"{_breakdown('Breaches by metric', 'Metric', summary.by_metric)}"
        "</div>"
        f'<h2>Each agent</h2><div class="panel">{_agent_table(summary.by_agent)}</div>'
        f'<h2>Longest overdue clocks</h2><div class="panel">'
        f"{_overdue_table(summary.longest_overdue(), now, utc)}"
        '<p class="note">Overdue, business time: time counted past the target in the level\'s opening '
        "hours. Overdue, calendar time: wall-clock time since the due instant.</p></div>"
        "</main></body></html>\n"
    )
