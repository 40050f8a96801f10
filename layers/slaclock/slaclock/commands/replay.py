"""`slaclock replay --config FILE --events FILE --out DIR [--now T] [--group-by F,...] [--sort K,...]`

Replays past events offline (no AWS) and writes ``DIR/sla_log.csv``, ``DIR/compliance.csv`` and
``DIR/summary.html`` (see docs/reports.md), and, when the configuration's steps have ``actions:``,
``DIR/actions.csv``: the actions each ticket would have triggered (ticket, metric, cycle, step, kind,
target, instant), so a new policy can be seen before it acts in the helpdesk. JSON Lines without
``--sort`` are streamed on ``--workers N`` processes (`commands._stream`; ``--shard K/N`` writes one
shard for `slaclock merge`); a JSON array, stdin, ``--sort``, ``--time-split``, ``--utc`` (the page's
instants in UTC) or the SLA log's optional columns (``--time-zone``, ``--durations human``,
``--subject``, ``--ticket-links``, ``--calendar-columns``) are replayed in memory. Both write the same
bytes. ``--time-split`` also writes ``DIR/time_split.csv`` (each clock's business time by status,
assignee and group: `engine.clocks.time_splits`, docs/clocks.md).

``--out -`` writes the SLA log alone to standard output (the compliance report and the page need a
directory); the summary lines then go to standard error, so a pipe gets the CSV only.

Input: JSON Lines (one canonical event per line; blank lines ignored) or one JSON array of events,
detected from the first non-blank character. A malformed line is reported on stderr with its line
number and skipped; with ``--strict`` the first one is fatal and nothing is written.

Exit status: 0 done (even if malformed lines were skipped: they are counted in the summary); 1 the
configuration is invalid (every error listed), a file cannot be read or written, or a malformed event
with ``--strict``; 2 a bad command-line value (``--now``, ``--group-by``, ``--sort``). User mistakes
never print a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from slaclock.commands._io import (
    Progress,
    ReadStats,
    _FatalError,
    _load_config,
    _parse_now,
    read_events,
    through_parts,
)
from slaclock.engine.action_plan import has_actions
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event
from slaclock.engine.policy import compile_policy
from slaclock.engine.replay import Replay, ReplayStats, write_reports
from slaclock.engine.reports import (
    SlaLogOptions,
    check_group_by,
    check_time_zone,
    format_instant,
    parse_sort,
)


def run(args: argparse.Namespace) -> int:
    err = sys.stderr
    try:
        return _run(args, sys.stdout, err)
    except _FatalError as e:
        err.write(f"slaclock replay: {e}\n")
        return e.code
    except ValidationError as e:  # an invalid configuration: every error, one per line
        err.write(f"slaclock replay: {e}\n")
        return 1
    except SlaclockError as e:
        err.write(f"slaclock replay: {e}\n")
        return 1
    except BrokenPipeError:  # `--out - | head`: the reader left; stop quietly, as `cat` does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout must not fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe
    except KeyboardInterrupt:  # Ctrl-C: the partial reports were removed (see `_write`)
        err.write("\nslaclock replay: interrupted; no report written\n")
        return 130


def _parallel_options(
    args: argparse.Namespace, sort_by: tuple[str, ...]
) -> tuple[int | None, str | None, bool]:
    """``--workers``, ``--shard`` and ``--time-split``, refused where they cannot combine."""
    workers = getattr(args, "workers", None)
    shard_text = getattr(args, "shard", None)
    if workers is not None and workers < 1:
        raise _FatalError("--workers must be 1 or more", code=2)
    stream = _stream_module()
    if workers is not None and workers > (most := stream.max_workers()):
        per_core = stream.WORKERS_PER_CORE
        raise _FatalError(
            f"--workers {workers}: at most {most} on this machine ({most // per_core} cores,"
            f" {per_core} processes each: more processes than cores only add memory)",
            code=2,
        )
    if (shard_text or workers) and sort_by:
        raise _FatalError(
            "--sort holds every row in memory: it cannot be combined with --shard or --workers", code=2
        )
    time_split = bool(getattr(args, "time_split", False))
    if (shard_text or workers) and time_split:
        raise _FatalError(
            "--time-split replays in memory: it cannot be combined with --shard or --workers", code=2
        )
    return workers, shard_text, time_split


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        group_by = check_group_by(args.group_by or "")
        sort_by = parse_sort(getattr(args, "sort", "") or "")
    except ValidationError as e:
        raise _FatalError("; ".join(e.messages()), code=2) from None
    now = _parse_now(args.now)
    quiet = bool(getattr(args, "quiet", False))
    progress = Progress(err, enabled=not quiet and err.isatty())

    config = _load_config(args.config)
    columns = _columns(args, config)
    to_stdout = args.out == "-"
    if to_stdout:
        out = err  # standard output carries the CSV
    from slaclock.commands.validate import print_warnings

    print_warnings(config, err)  # the same warnings `slaclock validate` prints
    workers, shard_text, time_split = _parallel_options(args, sort_by)
    # a regular file only: standard input and pipes (`-`, /dev/stdin) are read once, in memory
    events_path = Path(args.events)
    if (
        not (sort_by or time_split or columns.needs_rows or to_stdout or getattr(args, "utc", False))
        and args.events != "-"
        and events_path.is_file()
        and _stream_module().is_json_lines(events_path)
    ):
        return _run_streamed(args, config, group_by, now, progress, out, quiet)
    if shard_text:
        raise _FatalError(f"--shard needs JSON Lines input: {args.events} is a JSON array")
    if to_stdout and (shard_text or workers):
        raise _FatalError("--out - writes the SLA log to standard output: no --shard or --workers", code=2)
    read = ReadStats()
    events = read_events(
        Path(args.events), strict=args.strict, report=progress.note, progress=progress, stats=read
    )

    out_dir = Path(args.out)
    if not to_stdout:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _FatalError(f"cannot create output directory {str(out_dir)!r}: {e.strerror or e}") from None

    def replaying(done: int, total: int) -> None:
        progress.show("replaying", done, total, f"{done:,} tickets")

    # The events live until their ticket is replayed: keep the collector from re-scanning them.
    gc.freeze()
    try:
        replay = Replay(config, events, now, progress=replaying)
        kept = events if has_actions(replay.policy) else None  # for actions.csv
        del events  # the Replay holds them by ticket and releases each ticket once evaluated
        if to_stdout:
            stats, files = _write_stdout(config, replay, group_by, sort_by, columns)
        else:
            stats, files = _write(args, config, replay, group_by, sort_by, out_dir, columns)
            if kept is not None:
                files["actions.csv"] = write_actions(config, kept, replay.now, out_dir)
    finally:
        gc.unfreeze()
    progress.done()
    if not quiet:
        out.write(_summary_text(read, stats, files))
    return 0


def _columns(args: argparse.Namespace, config: Any) -> SlaLogOptions:
    """The SLA log's optional columns the command line asks for (an unknown zone: exit 2)."""
    zone = getattr(args, "time_zone", None)
    if zone is not None:
        try:
            check_time_zone(zone, "--time-zone")
        except ValidationError as e:
            raise _FatalError("; ".join(e.messages()), code=2) from None
    link = None
    if getattr(args, "ticket_links", False):
        from slaclock.engine.ticket_links import ticket_linker

        link = ticket_linker(config.sources)
    return SlaLogOptions(
        time_zone=getattr(args, "time_zone", None),
        human_durations=getattr(args, "durations", "seconds") == "human",
        subject=bool(getattr(args, "subject", False)),
        ticket_link=link,
        calendar=bool(getattr(args, "calendar_columns", False)),
        agreement=bool(config.agreements),
    )


def _write_stdout(
    config: Any,
    replay: Replay,
    group_by: tuple[str, ...],
    sort_by: tuple[str, ...],
    columns: SlaLogOptions,
) -> tuple[ReplayStats, dict[str, Path]]:
    """``--out -``: the SLA log to standard output (bytes as in the file); nothing else is written."""
    stdout = io.TextIOWrapper(
        sys.stdout.buffer, encoding="utf-8", errors="replace", newline="", write_through=False
    )
    try:
        stats = write_reports(
            config,
            replay,
            sla_log=stdout,
            compliance=io.StringIO(),
            summary=None,
            group_by=group_by,
            sort_by=sort_by,
            now=replay.now,
            stats=replay.stats,
            columns=columns,
        )
        stdout.flush()
    finally:
        with contextlib.suppress(BrokenPipeError, ValueError):
            stdout.detach()
    return stats, {"sla_log.csv": Path("-")}


def _stream_module() -> Any:
    from slaclock.commands import _stream

    return _stream


def _run_streamed(
    args: argparse.Namespace,
    config: Any,
    group_by: tuple[str, ...],
    now: datetime | None,
    progress: Progress,
    out: TextIO,
    quiet: bool,
) -> int:
    """JSON Lines without ``--sort``: the streamed replay (`commands._stream`), on every core."""
    stream = _stream_module()
    shard = stream.Shard.parse(args.shard) if getattr(args, "shard", None) else None
    workers = getattr(args, "workers", None) or stream.default_workers()
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _FatalError(f"cannot create output directory {str(out_dir)!r}: {e.strerror or e}") from None
    title, subtitle = "SLA replay", f"Configuration {args.config} · events {args.events}"
    with stream.temporary_directory() as tmp:
        streamed = stream.stream(
            config_path=args.config,
            events=Path(args.events),
            now=now,
            group_by=group_by,
            strict=args.strict,
            workers=workers,
            shard=shard,
            tmp=tmp,
            report=progress.note,
            progress=progress,
            config=config,
        )
        if shard is not None:
            files = stream.write_shard(
                out_dir, streamed, shard, config_path=args.config, title=title, subtitle=subtitle,
                agreement=bool(config.agreements),
            )  # fmt: skip
            if not quiet:
                s = streamed.whole.stats
                out.write(
                    f"Replayed shard {shard.index}/{shard.count}: {_plural(s.tickets, 'ticket')} from"
                    f" {_plural(s.events, 'event')}; wrote {files[stream.ROWS_FILE]} and"
                    f" {files[stream.SHARD_FILE]} (combine the shards with `slaclock merge`)\n"
                )
            return 0
        stats, written = stream.write_reports(
            out_dir, streamed.rows, streamed.whole, title=title, subtitle=subtitle, now=streamed.now,
            agreement=bool(config.agreements),
        )  # fmt: skip
    if has_actions(compile_policy(config)):
        again = read_events(
            Path(args.events),
            strict=False,
            report=lambda _: None,
            progress=Progress(out, False),
            stats=ReadStats(),
        )
        written["actions.csv"] = write_actions(config, again, streamed.now, out_dir)
    if not quiet:
        out.write(_summary_text(streamed.read, stats, written))
    return 0


def _write(
    args: argparse.Namespace,
    config: Any,
    replay: Replay,
    group_by: tuple[str, ...],
    sort_by: tuple[str, ...],
    out_dir: Path,
    columns: SlaLogOptions | None = None,
) -> tuple[ReplayStats, dict[str, Path]]:
    """Write the three reports (and with ``--time-split``, ``time_split.csv``) through ``.part``
    files renamed once complete."""
    names: tuple[str, ...] = ("sla_log.csv", "compliance.csv", "summary.html")
    if getattr(args, "time_split", False):
        names += (TIME_SPLIT_FILE,)
    with through_parts(out_dir, names) as parts, contextlib.ExitStack() as files:
        log, comp, page, *split = (
            files.enter_context(parts[name].open("w", encoding="utf-8", errors="replace", newline=""))
            for name in names
        )
        if split:
            _split_beside(replay, split[0])
        stats = write_reports(
            config,
            replay,
            sla_log=log,
            compliance=comp,
            summary=page,
            group_by=group_by,
            sort_by=sort_by,
            title="SLA replay",
            subtitle=f"Configuration {args.config} · events {args.events}",
            now=replay.now,
            stats=replay.stats,
            columns=columns,
            utc=bool(getattr(args, "utc", False)),
        )
    return stats, {name: out_dir / name for name in names}


TIME_SPLIT_FILE = "time_split.csv"


def _split_beside(replay: Replay, textfile: TextIO) -> None:
    """Write ``time_split.csv`` as `replay` takes each ticket (the SLA log's ticket order)."""
    from slaclock.engine.clocks import time_splits
    from slaclock.engine.reports import TIME_SPLIT_COLUMNS, csv_line, time_split_lines

    textfile.write(csv_line(TIME_SPLIT_COLUMNS))
    policy, now = replay.policy, replay.now

    def write(events: list[Event]) -> None:
        if now is not None:
            textfile.writelines(time_split_lines(*time_splits(policy, events, now)))

    replay.on_ticket = write


def write_actions(config: Any, events: list[Event], now: datetime | None, out_dir: Path) -> Path:
    """``actions.csv``: every action each ticket would have triggered by `now` (`ACTION_COLUMNS`),
    tickets in id order, each ticket's actions in step order (written through a ``.part`` file)."""
    import csv

    from slaclock.engine.action_plan import ACTION_COLUMNS, action_rows
    from slaclock.engine.clocks import evaluate, replay_ticket
    from slaclock.engine.replay import group_by_ticket

    policy = compile_policy(config)
    final, part = out_dir / "actions.csv", out_dir / "actions.csv.part"
    at = now or max((e.at for e in events), default=None)
    try:
        with part.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(ACTION_COLUMNS)
            if at is not None:
                for _, evs in sorted(group_by_ticket(e for e in events if e.at <= at).items()):
                    writer.writerows(
                        action_rows(config, policy, evaluate(policy, replay_ticket(policy, evs), at))
                    )
        part.replace(final)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise _FatalError(f"cannot write actions to {str(out_dir)!r}: {e.strerror or e}") from None
    return final


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _summary_text(read: ReadStats, stats: ReplayStats, files: dict[str, Path]) -> str:
    """The few lines printed at the end: what was read, replayed, decided and written."""
    notes = []
    if read.malformed:
        notes.append(f"{_plural(read.malformed, 'malformed entry')} skipped".replace("entrys", "entries"))
    if stats.events_after_now:
        notes.append(f"{_plural(stats.events_after_now, 'event')} after --now left out")
    at = format_instant(stats.now) if stats.now else "-"
    decided = stats.met + stats.missed
    compliance = f"{stats.compliance_pct:.2f}%" if decided else "n/a (nothing decided)"
    if "compliance.csv" not in files:
        wrote = f"Wrote the SLA log to standard output ({_plural(stats.clocks, 'row')})\n"
    else:
        wrote = (
            f"Wrote {files['sla_log.csv']} ({_plural(stats.clocks, 'row')}), {files['compliance.csv']}"
            f" ({_plural(stats.compliance_rows, 'row')}), {files['summary.html']}"
            + (f", {files[TIME_SPLIT_FILE]}" if TIME_SPLIT_FILE in files else "")
            + (f", {files['actions.csv']}" if "actions.csv" in files else "")
            + "\n"
        )
    return (
        f"Replayed {_plural(stats.tickets, 'ticket')} from {_plural(stats.events, 'event')} as of {at}"
        + (f" ({'; '.join(notes)})" if notes else "")
        + "\n"
        f"Clocks: {stats.clocks:,} ({stats.met:,} met, {stats.missed:,} missed, {stats.running:,} running;"
        f" {stats.cancelled:,} cancelled left out)\n"
        f"Compliance: {compliance}\n" + wrote
    )
