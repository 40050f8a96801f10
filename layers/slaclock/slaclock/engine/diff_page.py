"""The HTML page of a policy diff (``diff.html``): one self-contained file in the summary page's style
(its CSS, cards and colours: `engine.summary_page`), no script, no network asset.

It shows each policy's compliance, clocks and the warnings, breaches and escalations it would have
sent; compliance per day under each policy as paired bars, every bar printed with its figure; and
the changed clock cycles (the first `MAX_ROWS`, the rest counted: changes.csv holds them all). As on the
summary page, a figure carries its status in words, and the per-day table holds the values of
compliance_diff.csv (date, each side's compliance, the difference) in ``data-`` attributes so a test
can compare the page with the CSV. Every value
from a ticket or a configuration is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from slaclock.engine.policy_diff import NOTICE_KINDS, ClockChange, PolicyDiff, Side
from slaclock.engine.reports import ComplianceRow, format_instant
from slaclock.engine.summary_page import _CSS, _card, _day_axis, _e, _grid, _pct_class, _status

MAX_ROWS = 500
"""Changed cycles listed on the page."""

_OLD, _NEW = "#8796a8", "#2f6fd0"
_PLURAL = {"warning": "Warnings", "breach": "Breaches", "escalation": "Escalations"}
_MORE_CSS = ".up{color:#1b7f3b}.down{color:#b3261e}td.c{white-space:nowrap}"


def _pct_text(side: Side) -> tuple[str, str, str]:
    """(figure, css class, status words) of a side's overall compliance."""
    if not side.met + side.missed:
        return "–", "", "nothing decided"
    c = side.compliance_pct
    return f"{c:.2f}%", _pct_class(c), _status(c)


def _delta(old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return "<td class='n'>–</td>"
    d = round(new, 2) - round(old, 2)
    css = "up" if d > 0 else "down" if d < 0 else ""
    return f"<td class='n {css}' data-delta='{d:+.2f}'>{d:+.2f} pts</td>"


def _chart(old: Sequence[ComplianceRow], new: Sequence[ComplianceRow]) -> str:
    """Paired bars per day: the old policy's compliance, then the new one's, each printed."""
    a, b = {r.date: r for r in old}, {r.date: r for r in new}
    dates = sorted(a.keys() | b.keys())
    if not dates:
        return '<p class="empty">No clock was decided under either policy.</p>'
    width, height, left, right, bottom, top = 1000, 290, 44, 40, 44, 22
    plot_w, plot_h = width - left - right, height - bottom - top
    first = dates[0]
    span = (dates[-1] - first).days + 1
    slot = plot_w / span
    bar = max(slot * 0.4, 0.5)
    labelled = span <= 31
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Compliance per day under each policy" '
        'style="width:100%;height:auto">'
    ]
    parts.append(_grid(width, left, right, top, plot_h))
    for day in dates:
        offset = (day - first).days
        for i, (side, rows, color) in enumerate((("old", a, _OLD), ("new", b, _NEW))):
            row = rows.get(day)
            if row is None:
                continue
            x = left + offset * slot + (slot - 2 * bar) / 2 + i * bar
            h = max(plot_h * row.compliance_pct / 100, 3.0)
            y = top + plot_h - h
            tip = f"{day.isoformat()} {side}: {row.compliance_pct:.2f}% ({row.met} met, {row.missed} missed)"
            parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{h:.2f}" fill="{color}" '
                f'data-side="{side}" data-date="{day.isoformat()}" '
                f'data-compliance="{row.compliance_pct:.2f}">'
                f"<title>{_e(tip)}</title></rect>"
            )
            if labelled:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="9" text-anchor="middle" '
                    f'fill="#1d2733">{row.compliance_pct:.0f}%</text>'
                )
    parts.append(_day_axis(first, span, left, slot, height))
    parts.append("</svg>")
    return "".join(parts)


def _daily_table(old: Sequence[ComplianceRow], new: Sequence[ComplianceRow]) -> str:
    a, b = {r.date: r for r in old}, {r.date: r for r in new}
    body = []
    for day in sorted(a.keys() | b.keys()):
        cells = [f"<td class='t'>{day.isoformat()}</td>"]
        for row in (a.get(day), b.get(day)):
            if row is None:
                cells.append("<td class='n'>0</td><td class='n'>0</td><td class='n'>–</td>")
                continue
            cells.append(
                f"<td class='n'>{row.met}</td><td class='n'>{row.missed}</td>"
                f"<td class='n {_pct_class(row.compliance_pct)}'>{row.compliance_pct:.2f}% "
                f"<small>{_status(row.compliance_pct)}</small></td>"
            )
        ra, rb = a.get(day), b.get(day)
        cells.append(_delta(ra.compliance_pct if ra else None, rb.compliance_pct if rb else None))
        data = "".join(
            f" data-{name}='{r.compliance_pct:.2f}'"
            for name, r in (("old", ra), ("new", rb))
            if r is not None
        )
        body.append(f"<tr data-date='{day.isoformat()}'{data}>{''.join(cells)}</tr>")
    return (
        "<table><thead><tr><th>Day</th><th class='n'>Old met</th><th class='n'>Old missed</th>"
        "<th class='n'>Old compliance</th><th class='n'>New met</th><th class='n'>New missed</th>"
        "<th class='n'>New compliance</th><th class='n'>Difference</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _changes_table(changes: Sequence[ClockChange], total: int) -> str:
    if not changes:
        return '<p class="empty">No clock cycle changes outcome, level or due instant.</p>'
    body = [
        f"<tr data-ticket='{_e(c.ticket_id)}' data-change='{_e(c.change)}'>"
        f"<td>{_e(c.ticket_id)}</td><td>{_e(c.metric)}</td><td class='n'>{c.cycle}</td>"
        f"<td class='c'>{_e(c.change)}</td>"
        f"<td>{_e(c.old_status)}</td><td>{_e(c.old_level)}<br><small>{_e(c.old_rule)}</small></td>"
        f"<td class='t'>{_e(c.old_due_at)}</td>"
        f"<td>{_e(c.new_status)}</td><td>{_e(c.new_level)}<br><small>{_e(c.new_rule)}</small></td>"
        f"<td class='t'>{_e(c.new_due_at)}</td></tr>"
        for c in changes
    ]
    more = (
        f'<p class="note">The first {len(changes):,} of {total:,} changed cycles; '
        "changes.csv lists them all.</p>"
        if total > len(changes)
        else ""
    )
    return (
        "<table><thead><tr><th>Ticket</th><th>Metric</th><th class='n'>Cycle</th><th>Change</th>"
        "<th>Old status</th><th>Old level (rule)</th><th>Old due</th>"
        "<th>New status</th><th>New level (rule)</th><th>New due</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def _side_cards(label: str, side: Side) -> str:
    figure, css, words = _pct_text(side)
    notices = "".join(_card(_PLURAL[kind], f"{side.notices[kind]:,}") for kind in NOTICE_KINDS)
    return (
        f"<h2>{_e(label)}</h2><div class='cards'>{_card('Compliance', figure, css, words)}"
        f"{_card('Met', f'{side.met:,}')}{_card('Missed', f'{side.missed:,}', 'bad' if side.missed else '')}"
        f"{_card('Running', f'{side.running:,}')}{notices}</div>"
    )


def render_diff(
    diff: PolicyDiff,
    changes: Sequence[ClockChange],
    *,
    total_changes: int | None = None,
    old_name: str = "old",
    new_name: str = "new",
    title: str = "SLA policy diff",
    subtitle: str = "",
) -> str:
    """The whole page as a string. `changes` are the cycles to list (at most `MAX_ROWS` are shown);
    `total_changes` how many changed in all (default: ``len(changes)``)."""
    total = len(changes) if total_changes is None else total_changes
    shown = changes[:MAX_ROWS]
    old_days, new_days = diff.old.daily(), diff.new.daily()
    moved = ", ".join(f"{k} {v:,}" for k, v in sorted(diff.moved.items())) or "none"
    as_of = f"Clocks as of {format_instant(diff.now)}" if diff.now is not None else "No event"
    sub = f"{as_of} · {total:,} changed cycles ({moved})"
    legend = (
        f'<div class="legend"><span><i style="background:{_OLD}"></i>old: {_e(old_name)}</span>'
        f'<span><i style="background:{_NEW}"></i>new: {_e(new_name)}</span></div>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}{_MORE_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        + (f'<p class="sub">{_e(subtitle)}</p>' if subtitle else "")
        + f'<p class="sub">{_e(sub)}</p>'
        + _side_cards(f"Old policy: {old_name}", diff.old)
        + _side_cards(f"New policy: {new_name}", diff.new)
        + f'<h2>Compliance per day</h2><div class="panel">{_chart(old_days, new_days)}{legend}</div>'
        + (
            f'<h2>Each day</h2><div class="panel">{_daily_table(old_days, new_days)}</div>'
            if old_days or new_days
            else ""
        )
        + f'<h2>Changed clock cycles</h2><div class="panel">{_changes_table(shown, total)}</div>'
        "</main></body></html>\n"
    )
