"""Two policies over the same events, compared clock cycle by clock cycle: what `slaclock diff` writes
and what the admin API's dry-run answers (ONE implementation).

`replay_side` replays the events under one configuration through the replay's own report writer
(`slaclock.engine.replay.write_reports`, so each side equals its own ``slaclock replay`` report) and
reads its SLA log and compliance rows back; `changes` lists every clock cycle (ticket, metric, cycle)
whose outcome differs: its status (met/missed/open, or ``absent`` when only one policy starts that
clock), level or due instant; `compliance_diff` compares the compliance rows (per day and group).
Pure: no I/O beyond in-memory text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slaclock.engine.events import Event
from slaclock.engine.replay import Replay, ReplayStats, write_reports

CHANGE_COLUMNS: tuple[str, ...] = (
    "ticket_id", "metric", "cycle", "change", "old_status", "new_status",
    "old_level", "new_level", "old_due_at", "new_due_at",
)  # fmt: skip

_FIGURES = ("met", "missed", "compliance_pct")


@dataclass(slots=True)
class Side:
    """One policy's replay of the events: its SLA log keyed by (ticket, metric, cycle), its
    compliance rows keyed by (date, groups...), and its totals."""

    log: dict[tuple[str, str, str], dict[str, str]]
    compliance: dict[tuple[str, ...], dict[str, str]]
    stats: ReplayStats


def replay_side(config: Any, events: list[Event], now: datetime | None, group_by: tuple[str, ...]) -> Side:
    """Replay `events` under `config` through the replay's own report writer and read its rows back."""
    log, comp = io.StringIO(newline=""), io.StringIO(newline="")
    replay = Replay(config, list(events), now)
    stats = write_reports(config, replay, sla_log=log, compliance=comp, group_by=group_by, stats=replay.stats)
    rows = {(r["ticket_id"], r["metric"], r["cycle"]): r for r in csv.DictReader(io.StringIO(log.getvalue()))}
    keys = ("date", *group_by)
    compliance = {tuple(r[k] for k in keys): r for r in csv.DictReader(io.StringIO(comp.getvalue()))}
    return Side(rows, compliance, stats)


def _change(old: dict[str, str] | None, new: dict[str, str] | None) -> str | None:
    """How a clock cycle's outcome moved, or None if nothing that matters changed."""
    if old is None or new is None:
        return "added" if old is None else "removed"
    a, b = old["status"], new["status"]
    if a != b:
        return f"{a}->{b}"
    if old["level"] != new["level"] or old["due_at"] != new["due_at"]:
        return "same-status"
    return None


def changes(old: Side, new: Side) -> Iterable[tuple[str, ...]]:
    """The `CHANGE_COLUMNS` cells of every cycle whose outcome differs, in (ticket, metric, cycle) order."""
    for key in sorted(old.log.keys() | new.log.keys(), key=_order):
        a, b = old.log.get(key), new.log.get(key)
        change = _change(a, b)
        if change is None:
            continue
        yield (
            *key,
            change,
            a["status"] if a else "absent",
            b["status"] if b else "absent",
            a["level"] if a else "",
            b["level"] if b else "",
            a["due_at"] if a else "",
            b["due_at"] if b else "",
        )


def _order(key: tuple[str, str, str]) -> tuple[str, str, int]:
    ticket, metric, cycle = key
    return ticket, metric, int(cycle) if cycle.isdigit() else 0


def compliance_diff(
    old: Side, new: Side, group_by: tuple[str, ...]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The header and rows of ``compliance_diff.csv``, in (date, groups) order."""
    header = (
        "date", *group_by,
        *(f"old_{f}" for f in _FIGURES), *(f"new_{f}" for f in _FIGURES), "delta_pct",
    )  # fmt: skip
    rows = []
    for key in sorted(old.compliance.keys() | new.compliance.keys()):
        a, b = old.compliance.get(key), new.compliance.get(key)
        cells_a = tuple(a[f] for f in _FIGURES) if a else ("0", "0", "")
        cells_b = tuple(b[f] for f in _FIGURES) if b else ("0", "0", "")
        delta = f"{float(b['compliance_pct']) - float(a['compliance_pct']):+.2f}" if a and b else ""
        rows.append((*key, *cells_a, *cells_b, delta))
    return header, rows


def period_compliance(side: Side, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"met", "missed", "compliance_pct"}`` of the clock cycles of `side` whose outcome was decided
    in [`start`, `end`) (met: at its stop; missed: at its due instant, even while still running);
    compliance = 100 × met / (met + missed) rounded half-up to 0.01, None when nothing was decided."""
    from slaclock.engine.reports import pct

    met = missed = 0
    for row in side.log.values():
        status = row["status"]
        decided = row["stopped_at"] if status == "met" else row["due_at"] if status == "missed" else ""
        if decided and start <= datetime.fromisoformat(decided) < end:
            met, missed = (met + 1, missed) if status == "met" else (met, missed + 1)
    return {"met": met, "missed": missed, "compliance_pct": pct(met, met + missed) if met + missed else None}
