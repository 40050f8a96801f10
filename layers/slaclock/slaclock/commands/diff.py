"""`slaclock diff --config OLD --config NEW --events FILE --out DIR [--now T] [--group-by F,...]`

Compares two policies over the same events: the events are read once, replayed under each
configuration (the same replay as `slaclock replay`, so each side equals its own replay report), and
the two SLA logs and compliance reports are compared. Writes:

- ``DIR/changes.csv``: one row per clock cycle (ticket, metric, cycle) whose outcome differs between
  the policies: status (met/missed/open, or ``absent`` when only one policy starts that clock),
  level and due instant under each. Rows in ticket, metric, cycle order.
- ``DIR/compliance_diff.csv``: per day (and ``--group-by`` group): met, missed and compliance under
  each policy and the difference in percentage points (empty where a side decided nothing).

Prints a summary: clocks under each, how many changed and in which direction, overall compliance
before and after. Exit status as `slaclock replay`: 0 done, 1 an invalid configuration or unreadable
file, 2 a bad command-line value.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event
from slaclock.engine.replay import Replay, ReplayStats, write_reports
from slaclock.engine.reports import check_group_by

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


def run(args: argparse.Namespace) -> int:
    from slaclock.commands.replay import _FatalError

    err = sys.stderr
    try:
        return _run(args, sys.stdout, err)
    except _FatalError as e:
        err.write(f"slaclock diff: {e}\n")
        return e.code
    except (ValidationError, SlaclockError) as e:
        err.write(f"slaclock diff: {e}\n")
        return 1
    except KeyboardInterrupt:  # nothing half-written is left (see `_run`)
        err.write("\nslaclock diff: interrupted; no report written\n")
        return 130


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from slaclock.commands.replay import (
        Progress,
        ReadStats,
        _FatalError,
        _load_config,
        _parse_now,
        read_events,
        through_parts,
    )

    if len(args.config) != 2:
        raise _FatalError("give --config twice: the old policy, then the new one", code=2)
    try:
        group_by = check_group_by(args.group_by or "")
    except ValidationError as e:
        raise _FatalError("; ".join(e.messages()), code=2) from None
    now = _parse_now(args.now)
    configs = [_load_config(path) for path in args.config]  # both valid before anything is read
    progress = Progress(err, enabled=False)
    events = read_events(
        Path(args.events), strict=args.strict, report=progress.note, progress=progress, stats=ReadStats()
    )
    old, new = (replay_side(c, events, now, group_by) for c in configs)
    out_dir = Path(args.out)
    moved: dict[str, int] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _FatalError(f"cannot write to {str(out_dir)!r}: {e.strerror or e}") from None
    # through .part files renamed once both are complete: Ctrl-C or a write error leaves nothing
    with through_parts(out_dir, ("changes.csv", "compliance_diff.csv"), "the diff") as parts:
        with parts["changes.csv"].open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CHANGE_COLUMNS)
            for row in changes(old, new):
                writer.writerow(row)
                moved[row[3]] = moved.get(row[3], 0) + 1
        header, rows = compliance_diff(old, new, group_by)
        with parts["compliance_diff.csv"].open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    if not args.quiet:
        out.write(_summary(args.config, old.stats, new.stats, moved, out_dir))
    return 0


def _pct(stats: ReplayStats) -> str:
    return f"{stats.compliance_pct:.2f}%" if stats.met + stats.missed else "n/a"


def _summary(
    paths: list[str], old: ReplayStats, new: ReplayStats, moved: dict[str, int], out_dir: Path
) -> str:
    lines = [
        *(
            f"{side} {path}: {s.clocks:,} clocks, {s.met:,} met, {s.missed:,} missed, compliance {_pct(s)}"
            for side, path, s in (("old", paths[0], old), ("new", paths[1], new))
        ),
        f"changed: {sum(moved.values()):,} clock cycles"
        + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(moved.items())) + ")" if moved else ""),
        f"wrote {out_dir / 'changes.csv'}, {out_dir / 'compliance_diff.csv'}",
    ]
    return "\n".join(lines) + "\n"
