"""The e-mail that shares a report: a short summary and the three report links (plain text + HTML).

Pure (no I/O): `run_report_job` renders it from the report's stored figures, so a retry after a failed
send re-sends the same numbers without rebuilding the report.

What it says:

- compliance % with the met and missed counts (or, for an empty period, plainly that no clock was
  decided and that the CSV files hold only their header row);
- the worst level and the worst department (lowest compliance, then most missed, then name: the
  summary page's order), or that none missed a target;
- the trend against the previous period of the same length: ``up 2.50 points from 91.00%``, ``down
  …``, ``unchanged``, or why there is no comparison;
- the links (``sla_log.csv``, ``compliance.csv``, ``summary.html``) and the UTC instant they expire.

Every value that came from a ticket or the configuration is HTML-escaped in the HTML part.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slaclock.engine.reports import format_instant
from slaclock.services.notify import Message

if TYPE_CHECKING:
    from slaclock.services.report.spec import Period, ReportSpec

_FILE_LABELS = {
    "sla_log.csv": "SLA log (CSV)",
    "compliance.csv": "Compliance per day (CSV)",
    "summary.html": "Summary page (HTML)",
    "time_split.csv": "Time by status, assignee and group (CSV)",
}


def describe_period(period: Period) -> str:
    """``Outcomes decided 2026-11-19 00:00 → 2026-11-20 00:00 (Europe/Paris)``: the period's bounds
    in its own time zone."""
    tz = ZoneInfo(period.timezone)
    start, end = period.start.astimezone(tz), period.end.astimezone(tz)
    return f"Outcomes decided {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} ({period.timezone})"


def human_period(period: Period) -> str:
    """``9–13 November 2026``, ``19 November 2026``, ``30 November – 4 December 2026``: the local days
    the period covers, in its own time zone (its end is excluded, so a period ending at midnight ends
    the day before)."""
    tz = ZoneInfo(period.timezone)
    first = period.start.astimezone(tz).date()
    last = max((period.end - timedelta(microseconds=1)).astimezone(tz).date(), first)
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}%"


def trend_text(figures: Mapping[str, Any]) -> str:
    """The comparison with the previous period, in words."""
    previous = figures.get("previous")
    if not previous:
        return "no previous period to compare with"
    label = previous.get("label", "the previous period")
    before, now = previous.get("compliance_pct"), figures.get("compliance_pct")
    if before is None:
        return f"no comparison: no clock was decided in the previous period ({label})"
    if now is None:
        return f"no comparison: no clock was decided in this period ({label} had {_pct(before)})"
    delta = round(now - before, 2)
    if delta > 0:
        return f"up {delta:.2f} points from {_pct(before)} in {label}"
    if delta < 0:
        return f"down {-delta:.2f} points from {_pct(before)} in {label}"
    return f"unchanged from {label} ({_pct(before)})"


def _worst_text(kind: str, worst: Mapping[str, Any] | None) -> str:
    if worst is None or not worst.get("missed"):
        return f"no {kind} missed a target"
    name = worst["name"] or "(none)"
    return f"{name}: {_pct(worst['compliance_pct'])} ({worst['met']} met, {worst['missed']} missed)"


def summary_lines(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs of the summary, in e-mail order."""
    met, missed = figures.get("met", 0), figures.get("missed", 0)
    if figures.get("compliance_pct") is None:
        headline = "no clock was decided in this period"
    else:
        headline = f"{_pct(figures['compliance_pct'])} ({met} met, {missed} missed)"
    return [
        ("Compliance", headline),
        ("Trend", trend_text(figures)),
        ("Worst level", _worst_text("level", figures.get("worst_level"))),
        ("Worst department", _worst_text("department", figures.get("worst_department"))),
        ("Rows", f"{figures.get('rows', 0)} clocks of {figures.get('tickets', 0)} tickets in the SLA log"),
    ]


HEADLINE = ("Compliance", "Met", "Missed", "Still running", "Clocks", "Tickets")


def headline_row(figures: Mapping[str, Any]) -> tuple[str, ...]:
    """The headline figures, in `HEADLINE` order (the summary page's headline cards)."""
    return (
        _pct(figures.get("compliance_pct")),
        str(figures.get("met", 0)),
        str(figures.get("missed", 0)),
        str(figures.get("running", 0)),
        str(figures.get("rows", 0)),
        str(figures.get("tickets", 0)),
    )


def headline_text(figures: Mapping[str, Any]) -> list[str]:
    """The headline as a plain-text table: a header line and a value line, columns aligned."""
    values = headline_row(figures)
    widths = [max(len(h), len(v)) for h, v in zip(HEADLINE, values, strict=True)]
    return [
        "  ".join(h.ljust(w) for h, w in zip(HEADLINE, widths, strict=True)).rstrip(),
        "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True)),
    ]


def headline_html(figures: Mapping[str, Any]) -> str:
    """The headline as an HTML table (inline styles only: e-mail clients drop style sheets)."""
    cell = "padding:4px 12px;border:1px solid #dde3ea"
    head = "".join(f"<th style='{cell};text-align:left'>{html.escape(h)}</th>" for h in HEADLINE)
    values = "".join(
        f"<td style='{cell};text-align:right;font-size:18px'>{html.escape(v)}</td>"
        for v in headline_row(figures)
    )
    return f"<table style='border-collapse:collapse;margin:8px 0'><tr>{head}</tr><tr>{values}</tr></table>"


def render_report_email(
    spec: ReportSpec, figures: Mapping[str, Any], links: Mapping[str, str], *, expires_at: datetime
) -> Message:
    """The e-mail of one built report (see the module docstring)."""
    period = spec.period
    empty = not figures.get("rows")
    pct = figures.get("compliance_pct")
    outcome = "nothing decided" if pct is None else f"{pct:.2f}% compliance"
    subject = f"SLA report {spec.title} · {period.label}: {outcome}"
    intro = f"SLA report \u201c{spec.title}\u201d for {period.label}. {describe_period(period)}."
    empty_note = (
        "This period is empty: no SLA clock was decided in it, so sla_log.csv and compliance.csv "
        "hold only their header row."
    )
    lines = summary_lines(figures)
    expiry = format_instant(expires_at)

    text = [intro, ""]
    if empty:
        text += [empty_note, ""]
    text += [*headline_text(figures), ""]
    width = max(len(label) for label, _ in lines) + 1
    text += [f"{label + ':':<{width}} {value}" for label, value in lines]
    text += ["", f"Download (links expire {expiry}):"]
    text += [f"  {_FILE_LABELS.get(name, name)}: {url}" for name, url in links.items()]
    text += ["", "Instants in the CSV files are UTC; durations are business seconds."]

    e = html.escape
    rows = "".join(
        f"<tr><th style='text-align:left;padding:2px 12px 2px 0'>{e(label)}</th><td>{e(value)}</td></tr>"
        for label, value in lines
    )
    items = "".join(
        f'<li><a href="{e(url, quote=True)}">{e(_FILE_LABELS.get(name, name))}</a></li>'
        for name, url in links.items()
    )
    body = [f"<p>{e(intro)}</p>"]
    if empty:
        body.append(f"<p><strong>{e(empty_note)}</strong></p>")
    body += [
        headline_html(figures),
        f"<table>{rows}</table>",
        f"<p>Download (links expire {e(expiry)}):</p><ul>{items}</ul>",
        "<p style='color:#5a6776'>Instants in the CSV files are UTC; durations are business seconds.</p>",
    ]
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f"<body style='font-family:system-ui,sans-serif'>{''.join(body)}</body></html>"
    )
    return Message(subject=subject, text="\n".join(text) + "\n", html=page)
