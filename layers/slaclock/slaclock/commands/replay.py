"""`slaclock replay --config FILE --events FILE --out DIR [--now T] [--group-by F,...] [--sort K,...]`

Replays past events offline (no AWS) and writes ``DIR/sla_log.csv``, ``DIR/compliance.csv`` and
``DIR/summary.html`` (see docs/reports.md), and, when the configuration's steps have ``actions:``,
``DIR/actions.csv``: the actions each ticket would have triggered (ticket, metric, cycle, step, kind,
target, instant), so a new policy can be seen before it acts in the helpdesk. JSON Lines without
``--sort`` are streamed on ``--workers N`` processes (`commands._stream`; ``--shard K/N`` writes one
shard for `slaclock merge`); a JSON array, stdin, ``--sort``, ``--time-split``, ``--utc`` (the page's
instants in UTC) or the SLA log's optional columns (``--time-zone``, ``--durations human``,
``--subject``, ``--ticket-links``) are replayed in memory. Both write the same bytes. ``--time-split``
also writes ``DIR/time_split.csv`` (each clock's business time by status, assignee and group:
`engine.clocks.time_splits`, docs/clocks.md).

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
import json
import json.scanner
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TextIO

from slaclock.engine.action_plan import has_actions
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event, parse_event, parse_instant
from slaclock.engine.policy import compile_policy
from slaclock.engine.replay import Replay, ReplayStats, write_reports
from slaclock.engine.reports import (
    SlaLogOptions,
    check_group_by,
    check_time_zone,
    format_instant,
    parse_sort,
)

_JSON_SPACE = " \t\n\r"  # the whitespace JSON allows around a value

MAX_REPORTED = 20
"""Malformed lines printed one by one; beyond that they are only counted."""


class _FatalError(Exception):
    """Stop the command with this message and exit status (a user mistake, not a bug)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class ReadStats:
    lines: int = 0
    events: int = 0
    malformed: int = 0


class Progress:
    """A one-line ``\\r`` progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._last = -1
        self._drawn = False
        self._started: dict[str, float] = {}  # when each stage's bar was first drawn (monotonic)

    def show(self, label: str, done: float, total: float, detail: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        share = min(max(done / total, 0.0), 1.0)
        percent = int(share * 100)
        if percent == self._last:
            return
        self._last = percent
        width = 30
        filled = int(share * width)
        bar = "#" * filled + "-" * (width - filled)
        eta = eta_text(label, share, self._started)
        self.stream.write(f"\r{label:<10} [{bar}] {percent:3d}% {detail}{eta}".ljust(79)[:79])
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        """Erase the bar (so messages that follow start on a clean line)."""
        if self._drawn:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()
        self._drawn = False
        self._last = -1

    def note(self, message: str) -> None:
        """Print a message line on stderr without mangling the bar."""
        self.done()
        self.stream.write(message + "\n")
        self.stream.flush()


def eta_text(label: str, share: float, started: dict[str, float], now: float | None = None) -> str:
    """`` ETA 1:05`` (minutes:seconds, or h:mm:ss) for stage `label`, `share` (0..1) done: the time
    left at the pace since the stage started (recorded in `started`); empty until the pace is known
    (1 % done and a second elapsed)."""
    import time

    now = time.monotonic() if now is None else now
    since = started.setdefault(label, now)
    elapsed = now - since
    if share < 0.01 or share >= 1 or elapsed < 1:
        return ""
    left = int(elapsed * (1 - share) / share)
    h, rest = divmod(left, 3600)
    m, sec = divmod(rest, 60)
    return f" ETA {h}:{m:02d}:{sec:02d}" if h else f" ETA {m}:{sec:02d}"


def _describe(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({err.msg} at column {err.colno})"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, ValidationError):
        return f"{err.what}: " + "; ".join(err.messages())
    return str(err)


def read_events(
    path: Path,
    *,
    strict: bool,
    report: Callable[[str], None],
    progress: Progress,
    stats: ReadStats,
) -> list[Event]:
    """Every valid event of `path` (JSON Lines or a JSON array). Malformed entries are reported through
    `report` (the first `MAX_REPORTED`) and counted in `stats`; with `strict` the first one is fatal.

    The cyclic garbage collector is paused meanwhile: the events are long-lived and hold no cycles, and
    its full passes over a growing heap would otherwise cost a third of the reading time on big files."""
    try:
        handle = _open_events(path)
    except OSError as e:
        raise _FatalError(f"cannot read events file {str(path)!r}: {e.strerror or e}") from None
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read(handle, path, strict=strict, report=report, progress=progress, stats=stats)
    finally:
        if collecting:
            gc.enable()


def _open_events(path: Path) -> IO[bytes]:
    """The events file for reading; ``-`` is standard input. A stream that cannot seek (stdin, a pipe,
    ``/dev/stdin``, a process substitution) is read whole first: the format is told from its start."""
    if str(path) == "-":
        return io.BytesIO(sys.stdin.buffer.read())
    handle = path.open("rb")
    if handle.seekable():
        return handle
    with handle:
        return io.BytesIO(handle.read())


def _size(handle: IO[bytes]) -> int:
    if isinstance(handle, io.BytesIO):
        return len(handle.getbuffer())
    return os.fstat(handle.fileno()).st_size


def _read(
    handle: IO[bytes],
    path: Path,
    *,
    strict: bool,
    report: Callable[[str], None],
    progress: Progress,
    stats: ReadStats,
) -> list[Event]:
    with handle:
        size = _size(handle)
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        handle.seek(0)
        events: list[Event] = []
        append = events.append

        def malformed(number: int, e: ValueError) -> None:
            label = f"{path}:{number}" if where == "line" else f"{path}: item {number}"
            message = f"{label}: {_describe(e)}"
            if strict:
                raise _FatalError(message + " (--strict: stopping)") from None
            stats.malformed += 1
            if stats.malformed <= MAX_REPORTED:
                report(f"skipped {message}")

        if head.startswith(b"["):
            where = "item"
            for number, item in _json_array(handle, path):
                try:
                    append(parse_event(item))
                except ValueError as e:  # EventError is a ValueError
                    malformed(number, e)
        else:
            where = "line"
            _read_lines(handle, size, append, malformed, progress, stats)
        stats.events = len(events)
    progress.done()
    if stats.malformed > MAX_REPORTED:
        report(f"skipped {stats.malformed - MAX_REPORTED} more malformed {where}s (not listed)")
    return events


def _read_lines(
    handle: IO[bytes],
    size: int,
    append: Callable[[Event], None],
    malformed: Callable[[int, ValueError], None],
    progress: Progress,
    stats: ReadStats,
    *,
    bom: bool = True,
) -> None:
    """`append` the event of every non-blank line; `malformed(line number, error)` for a line that is
    not UTF-8, not one JSON document or not a valid event. `stats.lines` counts the lines.

    Lines are decoded one by one (so a bad byte is blamed on its line) and parsed as text, which is
    faster than handing bytes to json.loads. A line is read with the decoder's scanner directly (what
    `JSONDecoder.decode` calls after skipping whitespace), then checked to end with JSON whitespace
    only; any other line goes through `decode` itself, which raises exactly the error it would. A
    byte order mark is allowed on line 1 if `bom` (False when `handle` starts mid-file)."""
    decoder = json.JSONDecoder()
    decode = decoder.decode
    scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]  # typeshed: a decoder is its context
    number = 0
    try:
        for number, raw in enumerate(handle, 1):
            if not number & 2047:
                stats.lines = number
                progress.show("reading", handle.tell(), size, f"{number:,} lines")
            try:
                text = raw.decode("utf-8")
                if number == 1 and bom:
                    text = text.lstrip("\ufeff")
                if not text or text.isspace():
                    continue
                try:
                    doc, end = scan(text, 0)
                except (StopIteration, ValueError):
                    end = -1
                last = len(text) - 1
                if not (end == last + 1 or (end == last and text[last] == "\n")) and (
                    end < 0 or text[end:].strip(_JSON_SPACE)
                ):
                    doc = decode(text)  # not one JSON document: raises why
                append(parse_event(doc))
            except ValueError as e:  # UnicodeDecodeError, JSONDecodeError, EventError
                malformed(number, e)
    finally:
        stats.lines = number


def _json_array(handle: IO[bytes], path: Path) -> Iterator[tuple[int, Any]]:
    try:
        doc = json.loads(handle.read())
    except json.JSONDecodeError as e:
        raise _FatalError(
            f"{path}:{e.lineno}: not a valid JSON array ({e.msg} at column {e.colno})"
        ) from None
    except ValueError:
        raise _FatalError(f"{path}: not UTF-8 text") from None
    if not isinstance(doc, list):
        raise _FatalError(f"{path}: expected a JSON array of events or JSON Lines")
    yield from enumerate(doc, 1)


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    errors: list[tuple[str, str]] = []
    now = parse_instant(text, "--now", errors)
    if now is None:
        raise _FatalError("; ".join(f"{p}: {m}" for p, m in errors), code=2)
    return now


def _load_config(path: str) -> Any:
    from slaclock.adapters.config_file import load_config_file

    if not Path(path).exists():
        raise _FatalError(f"cannot read configuration {path!r}: no such file")
    if not Path(path).is_file():
        raise _FatalError(f"cannot read configuration {path!r}: not a file")
    try:
        return load_config_file(path)
    except OSError as e:
        raise _FatalError(f"cannot read configuration {path!r}: {e.strerror or e}") from None


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
        not (sort_by or time_split or columns.columns or to_stdout or getattr(args, "utc", False))
        and args.events != "-"
        and events_path.is_file()
        and _stream_module().is_json_lines(events_path)
    ):
        return _run_streamed(args, group_by, now, progress, out, quiet)
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
        )
        if shard is not None:
            files = stream.write_shard(
                out_dir, streamed, shard, config_path=args.config, title=title, subtitle=subtitle
            )
            if not quiet:
                s = streamed.whole.stats
                out.write(
                    f"Replayed shard {shard.index}/{shard.count}: {_plural(s.tickets, 'ticket')} from"
                    f" {_plural(s.events, 'event')}; wrote {files[stream.ROWS_FILE]} and"
                    f" {files[stream.SHARD_FILE]} (combine the shards with `slaclock merge`)\n"
                )
            return 0
        stats, written = stream.write_reports(
            out_dir, streamed.rows, streamed.whole, title=title, subtitle=subtitle, now=streamed.now
        )
    if has_actions(compile_policy(stream_config := _load_config(args.config))):
        again = read_events(
            Path(args.events),
            strict=False,
            report=lambda _: None,
            progress=Progress(out, False),
            stats=ReadStats(),
        )
        written["actions.csv"] = write_actions(stream_config, again, streamed.now, out_dir)
    if not quiet:
        out.write(_summary_text(streamed.read, stats, written))
    return 0


@contextlib.contextmanager
def through_parts(out_dir: Path, names: tuple[str, ...], what: str = "reports") -> Iterator[dict[str, Path]]:
    """``with through_parts(d, names) as parts:`` write each ``parts[name]`` (``d/name.part``); when the
    block ends they are renamed to ``d/name``. Whatever stops it (a write error, Ctrl-C) removes every
    part, so no partial file is left; an `OSError` becomes the command's error naming `out_dir`."""
    parts = {name: out_dir / f"{name}.part" for name in names}
    try:
        yield parts
        for name in names:
            parts[name].replace(out_dir / name)
    except BaseException as e:
        for part in parts.values():
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _FatalError(f"cannot write {what} to {str(out_dir)!r}: {e.strerror or e}") from None
        raise


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
