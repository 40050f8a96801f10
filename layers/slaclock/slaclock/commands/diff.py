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
import sys
from pathlib import Path
from typing import TextIO

from slaclock.engine.diff import CHANGE_COLUMNS, Side, changes, compliance_diff, replay_side
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.replay import ReplayStats
from slaclock.engine.reports import check_group_by

__all__ = ["CHANGE_COLUMNS", "Side", "changes", "compliance_diff", "replay_side", "run"]


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
