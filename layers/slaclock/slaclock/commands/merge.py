"""`slaclock merge DIR... --out DIR`: the reports of a replay run as shards (``replay --shard K/N``).

Each DIR is one shard's output (``shard.json`` and ``rows.jsonl``). Every shard of the run must be
given exactly once, all replayed at the same `now` with the same configuration and ``--group-by``;
otherwise nothing is written (a missing shard would lose tickets, a repeated one count them twice).
The SLA log rows are merged in ticket order and the aggregates added up, so the three files are byte
for byte those one ``slaclock replay`` of the whole input writes.

Exit status: 0 done; 1 a shard directory is missing, unreadable, not a shard, or does not belong
with the others (every problem named); never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from slaclock.commands import _stream
from slaclock.commands._io import ReadStats, _FatalError
from slaclock.commands.replay import _summary_text
from slaclock.engine import json_input
from slaclock.engine.events import parse_instant
from slaclock.engine.partial import Partial


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args, sys.stdout)
    except _FatalError as e:
        sys.stderr.write(f"slaclock merge: {e}\n")
        return e.code


def _load(directory: Path) -> dict[str, Any]:
    name = directory / _stream.SHARD_FILE
    try:
        doc = json_input.loads(name.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _FatalError(f"{directory}: not a shard output (no {_stream.SHARD_FILE})") from None
    except OSError as e:
        raise _FatalError(f"cannot read {str(name)!r}: {e.strerror or e}") from None
    except ValueError:
        raise _FatalError(f"{name}: not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != _stream.SHARD_FORMAT:
        raise _FatalError(f"{name}: not a {_stream.SHARD_FORMAT} file")
    if not (directory / _stream.ROWS_FILE).is_file():
        raise _FatalError(f"{directory}: no {_stream.ROWS_FILE}")
    try:
        index, count = (int(x) for x in doc["shard"])
        doc["aggregates"] = Partial.from_dict(doc["aggregates"])
        now_text = doc["now"]
        doc["now"] = None if now_text is None else parse_instant(now_text, "now", [])
        if now_text is not None and doc["now"] is None:
            raise ValueError("now")
        doc["shard"] = (index, count)
        doc["rows"] = int(doc["rows"])
        doc["read"] = ReadStats(**{k: int(doc["read"][k]) for k in ("lines", "events", "malformed")})
        if count < 1 or not 0 <= index < count:
            raise ValueError("shard")
    except (KeyError, TypeError, ValueError):
        raise _FatalError(f"{name}: malformed shard file") from None
    return doc


def _run(args: argparse.Namespace, out: TextIO) -> int:
    dirs = [Path(d) for d in args.dirs]
    shards = [_load(d) for d in dirs]
    first = shards[0]
    count = first["shard"][1]
    problems = []
    for d, doc in zip(dirs, shards, strict=True):
        for key, what in (
            ("config_sha256", "configuration"),
            ("now", "now"),
        ):
            if doc[key] != first[key]:
                problems.append(f"{d}: replayed with a different {what} than {dirs[0]}")
        if doc["aggregates"].compliance.group_by != first["aggregates"].compliance.group_by:
            problems.append(f"{d}: replayed with a different --group-by than {dirs[0]}")
        if doc["shard"][1] != count:
            problems.append(f"{d}: shard of {doc['shard'][1]}, not of {count}")
    seen: dict[int, Path] = {}
    for d, doc in zip(dirs, shards, strict=True):
        index = doc["shard"][0]
        if index in seen:
            problems.append(f"{d}: shard {index}/{count} given twice (also {seen[index]})")
        seen[index] = d
    missing = [str(k) for k in range(count) if k not in seen]
    if missing:
        problems.append(f"missing shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {count}")
    if problems:
        raise _FatalError("; ".join(problems))

    whole = Partial.empty(first["aggregates"].compliance.group_by)
    for doc in shards:
        whole.merge(doc["aggregates"])
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _FatalError(f"cannot create output directory {str(out_dir)!r}: {e.strerror or e}") from None
    stats, files = _stream.write_reports(
        out_dir,
        [(d / _stream.ROWS_FILE, doc["rows"]) for d, doc in zip(dirs, shards, strict=True)],
        whole,
        title=first["title"],
        subtitle=first["subtitle"],
        now=first["now"],
        agreement=bool(first.get("agreement", False)),
    )
    if not args.quiet:
        out.write(_summary_text(first["read"], stats, files))
    return 0
