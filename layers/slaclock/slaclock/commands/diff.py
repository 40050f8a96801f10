"""`slaclock diff --config OLD --config NEW --events FILE --out DIR [--now T] [--group-by F,...]`

Compares two policies over the same events in one pass: each ticket's events are folded and evaluated
under both policies (`engine.policy_diff.PolicyDiff`: the same fold and evaluation as `slaclock replay`,
so each side equals its own replay report), and only the comparison is kept. A JSON Lines file is
first split by ticket into temporary partition files (as the streamed replay does), so memory is one
partition's events, not the file's; a JSON array is read whole. Writes:

- ``DIR/changes.csv``: one row per clock cycle (ticket, metric, cycle) whose outcome differs between
  the policies: status (met/missed/open, or ``absent`` when only one policy starts that clock),
  level, due instant and the rule that chose the ticket's level under each. Rows in ticket, metric,
  cycle order (they are held until the end to be sorted: one small record per changed cycle).
- ``DIR/compliance_diff.csv``: per day (and ``--group-by`` group): met, missed and compliance under
  each policy and the difference in percentage points (empty where a side decided nothing).
- ``DIR/notices_diff.csv``: how many warnings, breaches and escalations each policy would have sent
  by `now` (each notice owed once), and the difference.
- ``DIR/diff.html``: the comparison drawn (`engine.diff_page`).

Prints a summary: clocks under each, how many changed and in which direction, overall compliance and
notices before and after. Exit status as `slaclock replay`: 0 done, 1 an invalid configuration or
unreadable file, 2 a bad command-line value.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event
from slaclock.engine.policy_diff import CHANGE_COLUMNS, NOTICE_KINDS, ClockChange, PolicyDiff, Side
from slaclock.engine.replay import group_by_ticket, latest_instant
from slaclock.engine.reports import check_group_by, compliance_record

_FIGURES = ("met", "missed", "compliance_pct")
NAMES = ("changes.csv", "compliance_diff.csv", "notices_diff.csv", "diff.html")


def _side_compliance(side: Side, width: int) -> dict[tuple[str, ...], tuple[str, str, str]]:
    """(date, groups...) -> (met, missed, compliance_pct) as compliance.csv writes them."""
    out = {}
    for row in side.compliance.rows():
        record = compliance_record(row)
        out[tuple(record[:width])] = (str(row.met), str(row.missed), record[-1])
    return out


def compliance_diff(
    diff: PolicyDiff, group_by: tuple[str, ...]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The header and rows of ``compliance_diff.csv``, in (date, groups) order."""
    header = (
        "date", *group_by,
        *(f"old_{f}" for f in _FIGURES), *(f"new_{f}" for f in _FIGURES), "delta_pct",
    )  # fmt: skip
    width = 1 + len(group_by)
    old, new = _side_compliance(diff.old, width), _side_compliance(diff.new, width)
    rows = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        delta = f"{float(b[2]) - float(a[2]):+.2f}" if a and b else ""
        rows.append((*key, *(a or ("0", "0", "")), *(b or ("0", "0", "")), delta))
    return header, rows


def notices_diff(diff: PolicyDiff) -> list[tuple[str, ...]]:
    """The rows of ``notices_diff.csv`` (header first): per kind, the count under each and the difference."""
    rows: list[tuple[str, ...]] = [("kind", "old", "new", "delta")]
    for kind in NOTICE_KINDS:
        a, b = diff.old.notices[kind], diff.new.notices[kind]
        rows.append((kind, str(a), str(b), f"{b - a:+d}"))
    return rows


def run(args: argparse.Namespace) -> int:
    from slaclock.commands._io import _FatalError

    err = sys.stderr
    try:
        return _run(args, sys.stdout, err)
    except _FatalError as e:
        err.write(f"slaclock diff: {e}\n")
        return e.code
    except (ValidationError, SlaclockError) as e:
        err.write(f"slaclock diff: {e}\n")
        return 1
    except KeyboardInterrupt:
        err.write("\nslaclock diff: interrupted; no report written\n")
        return 130


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from slaclock.commands._io import Progress, _FatalError, _load_config, _parse_now

    if len(args.config) != 2:
        raise _FatalError("give --config twice: the old policy, then the new one", code=2)
    try:
        group_by = check_group_by(args.group_by or "")
    except ValidationError as e:
        raise _FatalError("; ".join(e.messages()), code=2) from None
    now = _parse_now(args.now)
    old_config, new_config = (_load_config(path) for path in args.config)  # both valid before reading
    progress = Progress(err, enabled=False)
    from slaclock.commands._stream import temporary_directory

    with temporary_directory() as tmp:
        latest, tickets = _tickets(Path(args.events), args.strict, progress.note, tmp)
        diff = PolicyDiff(old_config, new_config, now if now is not None else latest, group_by)
        found = [change for events in tickets for change in diff.ticket(events)]
    found.sort(key=lambda c: c.order)
    _write(Path(args.out), diff, found, group_by, args.config)
    if not args.quiet:
        out.write(_summary(args.config, diff, Path(args.out)))
    return 0


def _tickets(
    path: Path, strict: bool, report: Callable[[str], None], tmp: str
) -> tuple[datetime | None, Iterator[list[Event]]]:
    """The latest event's instant and each ticket's events (all of them, in input order).

    JSON Lines is split by ticket into partition files under `tmp` first (checked and reported as
    the streamed replay does), then read back one partition at a time; a JSON array is read whole."""
    from slaclock.commands import _stream
    from slaclock.commands._io import Progress, ReadStats, _FatalError, read_events

    if str(path) == "-" or not _stream.is_json_lines(path):
        events = read_events(
            path, strict=strict, report=report, progress=Progress(sys.stderr, False), stats=ReadStats()
        )
        tickets = group_by_ticket(events)
        del events
        return latest_instant(e for evs in tickets.values() for e in evs), iter(list(tickets.values()))
    try:
        size = path.stat().st_size
    except OSError as e:
        raise _FatalError(f"cannot read events file {str(path)!r}: {e.strerror or e}") from None
    parts = min(_stream.MAX_PARTITIONS, max(1, math.ceil(size / _stream.PARTITION_BYTES)))
    parts = _stream.openable_partitions(parts)  # one file open per partition while splitting
    try:
        done = _stream._split((str(path), 0, size, 0, parts, tmp, strict, None))
    except OSError as e:
        raise _FatalError(f"cannot split events file {str(path)!r}: {e.strerror or e}") from None
    _stream._read_report(path, [done], report)

    def partitions() -> Iterator[list[Event]]:
        for part in range(parts):
            yield from group_by_ticket(_stream.read_partition(_stream.partition_files(tmp, part, 1))).values()

    return done.latest, partitions()


def _write(
    out_dir: Path, diff: PolicyDiff, found: list[ClockChange], group_by: tuple[str, ...], paths: list[str]
) -> None:
    """The four outputs, through ``.part`` files renamed once all are complete (Ctrl-C or a write
    error leaves none)."""
    from slaclock.commands._io import _FatalError, through_parts
    from slaclock.engine.diff_page import render_diff

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _FatalError(f"cannot write to {str(out_dir)!r}: {e.strerror or e}") from None
    with through_parts(out_dir, NAMES, "the diff") as parts:
        with parts["changes.csv"].open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CHANGE_COLUMNS)
            writer.writerows(c.cells() for c in found)
        header, rows = compliance_diff(diff, group_by)
        with parts["compliance_diff.csv"].open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        with parts["notices_diff.csv"].open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(notices_diff(diff))
        page = render_diff(diff, found, old_name=paths[0], new_name=paths[1])
        parts["diff.html"].write_text(page, encoding="utf-8", errors="replace")


def _pct(side: Side) -> str:
    return f"{side.compliance_pct:.2f}%" if side.met + side.missed else "n/a"


def _summary(paths: list[str], diff: PolicyDiff, out_dir: Path) -> str:
    moved = diff.moved
    lines = [
        *(
            f"{name} {path}: {s.clocks:,} clocks, {s.met:,} met, {s.missed:,} missed, compliance {_pct(s)};"
            f" {s.notices['warning']:,} warnings, {s.notices['breach']:,} breaches,"
            f" {s.notices['escalation']:,} escalations"
            for name, path, s in (("old", paths[0], diff.old), ("new", paths[1], diff.new))
        ),
        f"changed: {sum(moved.values()):,} clock cycles"
        + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(moved.items())) + ")" if moved else ""),
        "wrote " + ", ".join(str(out_dir / name) for name in NAMES),
    ]
    return "\n".join(lines) + "\n"
