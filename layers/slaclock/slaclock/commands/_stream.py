"""The streamed replay of a JSON Lines file: memory bounded by a partition, not the file; every core.

1. **Split** (one task per worker, on a byte range of the file each): every line is read and checked
   as in a whole-file replay (`replay._read_lines`), and a valid event goes, as the values it was
   parsed into (`marshal`, see `_spill`), to one of `parts` partition files in a private temporary
   directory, chosen by a hash of its ticket id (so a ticket's events all land together). The latest
   event's instant, the default `now`, is found on the way. With ``--shard K/N`` only the events of
   shard K's tickets are kept.
2. **Fold** (one task per partition): the partition's events are loaded back (`read_partition`: no
   second JSON parse or validation) and replayed by `engine.partial.fold` at the one `now`; each
   ticket's SLA log lines go to the partition's rows file with the ticket's sort key, in ticket order;
   the aggregates come back.
3. **Merge**: the rows files are merged by key (`heapq.merge`) into ``sla_log.csv``, which is therefore
   in the order of the whole-file replay; the aggregates merge exactly into compliance and the summary.

A partition holds about `PARTITION_BYTES` of input, so a worker's memory is bounded by that (and the
largest ticket), whatever the file's size; the spill needs free disk about the input's size in the
temporary directory (``TMPDIR``). A shard writes its rows file and aggregates instead of the reports,
for `slaclock merge` (see docs/reports.md).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import heapq
import json
import marshal
import math
import multiprocessing
import os
import resource
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from slaclock.commands._io import (
    MAX_REPORTED,
    Progress,
    ReadStats,
    _describe,
    _FatalError,
    _load_config,
    _read_lines,
)
from slaclock.engine.events import Event, EventType
from slaclock.engine.partial import Partial, finish, fold
from slaclock.engine.replay import ReplayStats
from slaclock.engine.reports import SLA_LOG_COLUMNS, format_instant

PARTITION_BYTES = 8 << 20
"""Input bytes per partition (≈ 30k events of the generated sample, ≈ 35 MiB once parsed)."""

MAX_PARTITIONS = 4096
SHARD_FORMAT = "slaclock-replay-shard/1"
ROWS_FILE = "rows.jsonl"
SHARD_FILE = "shard.json"
NAMES = ("sla_log.csv", "compliance.csv", "summary.html")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0 ≤ index < count): the tickets whose id hashes to it."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        k, sep, n = text.partition("/")
        if not sep or not k.strip().isdigit() or not n.strip().isdigit():
            raise _FatalError(f"--shard {text!r}: expected K/N, e.g. 0/4", code=2)
        shard = cls(int(k), int(n))
        if not 0 <= shard.index < shard.count:
            raise _FatalError(f"--shard {text!r}: K must be at least 0 and less than N", code=2)
        return shard


def ticket_hash(ticket_id: str) -> int:
    """A hash of a ticket id that is the same in every process and on every machine (CRC-32 of its
    UTF-8 bytes): decides a ticket's shard (hash mod N) and its partition within the shard."""
    return zlib.crc32(ticket_id.encode("utf-8", "surrogatepass"))


def in_shard(ticket_id: str, shard: Shard | None) -> bool:
    return shard is None or ticket_hash(ticket_id) % shard.count == shard.index


def is_json_lines(path: Path) -> bool:
    """Whether `path` is read as JSON Lines (its first non-blank character is not ``[``)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as e:
        raise _FatalError(f"cannot read events file {str(path)!r}: {e.strerror or e}") from None
    return not head.startswith(b"[")


# ------------------------------------------------------------------------------------------------- spill

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LENGTH = struct.Struct("<I")
# A datetime's pickle state: `_REDUCE(at)` is ``(datetime, (state, tzinfo))``, `state` 10 bytes that
# `_FROM_STATE(state, tzinfo)` (the datetime constructor) turns back into the same datetime.
_REDUCE = datetime.__reduce__
_FROM_STATE: Callable[..., datetime] = datetime
_TYPES = {t.value: t for t in EventType}
_SET = tuple(Event.__dict__[name].__set__ for name in ("id", "ticket_id", "type", "at", "ticket", "reply"))
SPILL_EVENTS = 256
"""Parsed events a splitting worker holds for all its partitions before writing them out (at least 64
a partition): small chunks keep the buffered objects in the processor's caches."""


def _spill(handle: IO[bytes], records: list[tuple[Any, ...]]) -> None:
    """Append a chunk of events, as ``(id, ticket_id, type, at, ticket fields, reply facts)`` tuples, to
    a partition file: its byte length, then `marshal`'s encoding (exact for every value JSON decodes
    into: str, int of any size, float, bool, None, list, dict). `at`, in UTC, is the 10 bytes of its
    state as pickle writes it (`_REDUCE`), which `datetime(state, UTC)` turns back into the very same
    instant, faster than any arithmetic from a count of microseconds."""
    blob = marshal.dumps(records)
    handle.write(_LENGTH.pack(len(blob)))
    handle.write(blob)


def read_partition(names: Iterable[str], *, remove: bool = True) -> list[Event]:
    """The events spilled to the partition files `names` (each written by `_spill`), in the order
    written, rebuilt as the very `Event`s they were parsed into (equal field by field); the files
    are deleted once read unless `remove` is False."""
    events: list[Event] = []
    add = events.append
    new = object.__new__
    set_id, set_ticket_id, set_type, set_at, set_ticket, set_reply = _SET
    types, from_state, utc = _TYPES, _FROM_STATE, UTC
    unpack = _LENGTH.unpack_from
    loads = marshal.loads
    for name in names:
        with open(name, "rb") as f:
            data = memoryview(f.read())
        if remove:
            os.unlink(name)
        at = 0
        while at < len(data):
            (size,) = unpack(data, at)
            at += 4
            for ev_id, ticket_id, ev_type, state, ticket, reply in loads(data[at : at + size]):
                event = new(Event)
                set_id(event, ev_id)
                set_ticket_id(event, ticket_id)
                set_type(event, types[ev_type])
                set_at(event, from_state(state, utc))
                set_ticket(event, ticket)
                set_reply(event, reply)
                add(event)
            at += size
    return events


# ------------------------------------------------------------------------------------------------- split


class _Range:
    """The lines that start in ``[start, end)`` of a binary file, as a file of their own: `read`,
    `readline` and `tell` (the position in the whole file) stop where the last of them ends."""

    def __init__(self, handle: IO[bytes], start: int, end: int) -> None:
        self._handle = handle
        pos = start
        if start > 0:  # the line running across `start` belongs to the range before
            handle.seek(start - 1)
            pos = start - 1 + len(handle.readline())
        stop = pos
        if end > pos:  # the last line of the range is the one holding byte end - 1: it ends at `stop`
            handle.seek(end - 1)
            stop = end - 1 + len(handle.readline())
        handle.seek(pos)
        self._pos = pos
        self._stop = stop

    def read(self, size: int = -1) -> bytes:
        left = self._stop - self._pos
        data = self._handle.read(left if size < 0 else min(size, left))
        self._pos += len(data)
        return data

    def readline(self) -> bytes:
        if self._pos >= self._stop:
            return b""
        line = self._handle.readline()  # which ends at `stop` at the latest: a line's end (or the file's)
        self._pos += len(line)
        return line

    def tell(self) -> int:
        return self._pos


class _StopError(Exception):
    pass


@dataclass(slots=True)
class _Split:
    lines: int = 0
    events: int = 0
    malformed: int = 0
    messages: list[tuple[int, str]] = field(default_factory=list)
    fatal: tuple[int, str] | None = None
    latest: datetime | None = None


def _split(task: tuple[str, int, int, int, int, str, bool, Shard | None]) -> _Split:
    """Split the byte range ``[start, end)`` of the events file into partition files ``W-P.jsonl``."""
    path, start, end, worker, parts, tmp, strict, shard = task
    out = _Split()
    stats = ReadStats()
    buffer = max(8192, min(1 << 16, (16 << 20) // parts))
    collecting = gc.isenabled()
    gc.disable()
    try:
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by the stack
            files = [
                stack.enter_context(open(os.path.join(tmp, f"{worker}-{p}.bin"), "wb", buffering=buffer))  # noqa: SIM115
                for p in range(parts)
            ]
            lines = _Range(handle, start, end)
            pending: list[list[tuple[Any, ...]]] = [[] for _ in range(parts)]
            chunk = max(64, SPILL_EVENTS // parts)
            reduce, utc, crc32 = _REDUCE, UTC, zlib.crc32
            count = 0
            latest = _EARLIEST  # the latest instant so far (an event's, once `count` > 0)

            def append(event: Event) -> None:
                nonlocal count, latest
                count += 1
                at = event.at
                if at > latest:
                    latest = at
                ticket_id = event.ticket_id
                h = crc32(ticket_id.encode("utf-8", "surrogatepass"))
                if shard is not None:
                    if h % shard.count != shard.index:
                        return
                    h //= shard.count
                p = h % parts
                held = pending[p]
                held.append(
                    (
                        event.id,
                        ticket_id,
                        event.type._value_,
                        reduce(at if at.tzinfo is utc else at.astimezone(utc))[1][0],  # always UTC, in fact
                        event.ticket,
                        event.reply,
                    )
                )
                if len(held) >= chunk:
                    _spill(files[p], held)
                    held.clear()

            def malformed(number: int, e: ValueError) -> None:
                if strict:
                    out.fatal = (number, _describe(e))
                    raise _StopError
                out.malformed += 1
                if len(out.messages) < MAX_REPORTED:
                    out.messages.append((number, _describe(e)))

            with contextlib.suppress(_StopError):
                _read_lines(
                    lines,  # type: ignore[arg-type]  # read, readline and tell: all _read_lines uses
                    end - start,
                    append,
                    malformed,
                    Progress(sys.stderr, enabled=False),
                    stats,
                    bom=start == 0,
                )
            out.events = count
            for p, held in enumerate(pending):
                if held:
                    _spill(files[p], held)
            out.latest = latest if count else None
    finally:
        if collecting:
            gc.enable()
    out.lines = stats.lines
    return out


# -------------------------------------------------------------------------------------------------- fold

_CONFIG: Any = None


def _init(config_path: str, config: Any = None) -> None:
    """A worker's configuration: `config` itself (already loaded by the command, inherited by a forked
    worker), else loaded from `config_path` (a spawned worker)."""
    global _CONFIG
    _CONFIG = config if config is not None else _load_config(config_path)


def _fold(task: tuple[str, int, int, datetime | None, tuple[str, ...]]) -> dict[str, Any]:
    """Replay partition `part` (its files from every splitting worker) into ``rows-P.bin`` (the
    tickets' ``(key, lines)`` records in chunks, see `_chunked_rows`); the aggregates as
    `Partial.to_dict` (plain values, to cross the process boundary)."""
    tmp, part, workers, now, group_by = task
    collecting = gc.isenabled()
    gc.disable()
    events: list[Event] = []
    try:
        events = read_partition(partition_files(tmp, part, workers))
        with open(os.path.join(tmp, f"rows-{part}.bin"), "wb") as rows:
            held: list[tuple[int, str, str]] = []
            add = held.append

            def emit(key: tuple[int, str], text: str) -> None:
                add((key[0], key[1], text))
                if len(held) >= ROWS_CHUNK:
                    _spill(rows, held)
                    held.clear()

            result = fold(_CONFIG, events, now, group_by, emit)
            if held:
                _spill(rows, held)
    finally:
        del events
        if collecting:
            gc.enable()
    return result.to_dict()


def partition_files(tmp: str, part: int, workers: int) -> list[str]:
    """The files of partition `part`: one from each splitting worker."""
    return [os.path.join(tmp, f"{worker}-{part}.bin") for worker in range(workers)]


ROWS_CHUNK = 256
"""Tickets' rows a fold task holds before it writes them to its rows file as one chunk."""


def _chunked_rows(name: str | Path) -> Iterator[tuple[int, str, str]]:
    """The ``(first micros, ticket id, lines)`` records of a fold task's rows file, in the order written
    (`_spill`'s chunks: a length, then `marshal`'s encoding), read one chunk at a time."""
    unpack = _LENGTH.unpack
    loads = marshal.loads
    with open(name, "rb") as f:
        read = f.read
        while head := read(4):
            (size,) = unpack(head)
            yield from loads(read(size))


def _rows_source(rows: str | Path | tuple[Path, int]) -> Iterator[Any]:
    """The keyed records of a rows file: a fold task's own (``.bin``, `_chunked_rows`) or a shard's
    ``rows.jsonl`` (`_keyed_rows`; a (file, records) pair is checked to hold that many)."""
    if isinstance(rows, tuple):
        return _keyed_rows(*rows)
    if str(rows).endswith(".bin"):
        return _chunked_rows(rows)
    return _keyed_rows(rows)


def _keyed_rows(name: str | Path, expected: int | None = None) -> Iterator[list[Any]]:
    """The records of a rows file; ValueError at its end if it does not hold `expected` records."""
    count = 0
    with open(name, encoding="ascii") as f:
        for line in f:
            count += 1
            yield json.loads(line)
    if expected is not None and count != expected:
        raise ValueError(f"{name} holds {count} tickets' rows, its shard wrote {expected}")


# --------------------------------------------------------------------------------------------------- run


@dataclass(slots=True)
class Streamed:
    read: ReadStats
    now: datetime | None
    whole: Partial
    rows: list[str]  # the rows files, each in ticket order


WORKERS_PER_CORE = 4
"""The most ``--workers`` accepted per core (each worker holds a partition, tens of MiB)."""


def max_workers() -> int:
    """The most ``--workers`` accepted on this machine."""
    return WORKERS_PER_CORE * default_workers()


FILE_MARGIN = 64
"""Open files kept free beside a splitting worker's partition files (the events file, the rows files,
the interpreter's own)."""


def file_budget(wanted: int) -> int:
    """How many files this process (and the workers it starts, which inherit its limits) may hold open
    at once: the soft ``RLIMIT_NOFILE``, first raised toward `wanted` as far as the hard limit allows
    (many systems start processes at 1,024 with a far higher hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if target > soft:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
    return wanted if soft == resource.RLIM_INFINITY else soft


def openable_partitions(parts: int) -> int:
    """`parts`, or fewer where this process may not hold that many files open: a splitting worker
    keeps one open per partition (`file_budget`). Fewer partitions are larger ones; the outputs do not
    depend on their count."""
    return max(1, min(parts, file_budget(parts + FILE_MARGIN) - FILE_MARGIN))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _pool(workers: int, config_path: str, config: Any) -> Any:
    """The workers; forked ones inherit `config` (no second load of the file), spawned ones load it."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork").Pool(
            workers, initializer=_init, initargs=(config_path, config)
        )
    return multiprocessing.get_context("spawn").Pool(workers, initializer=_init, initargs=(config_path,))


def stream(
    *,
    config_path: str,
    events: Path,
    now: datetime | None,
    group_by: tuple[str, ...],
    strict: bool,
    workers: int,
    shard: Shard | None,
    tmp: str,
    report: Callable[[str], None],
    progress: Progress,
    config: Any = None,
) -> Streamed:
    """Split, then fold: the merged aggregates and the rows files (still to be merged by key). `config`
    is the configuration of `config_path` if the caller has loaded it already (it is not read again)."""
    try:
        size = events.stat().st_size
    except OSError as e:
        raise _FatalError(f"cannot read events file {str(events)!r}: {e.strerror or e}") from None
    parts = min(MAX_PARTITIONS, max(workers, math.ceil(size / PARTITION_BYTES)))
    if shard is not None:
        parts = min(MAX_PARTITIONS, max(workers, math.ceil(parts / shard.count)))
    parts = openable_partitions(parts)
    step = math.ceil(size / workers) if size else 1
    splits = [
        (str(events), w * step, min(size, (w + 1) * step), w, parts, tmp, strict, shard)
        for w in range(workers)
    ]
    pool = _pool(workers, config_path, config) if workers > 1 else None
    try:
        mapper: Callable[..., Iterable[Any]] = pool.imap if pool is not None else map
        if pool is None:
            _init(config_path, config)
        try:
            done = list(mapper(_split, splits))
        except OSError as e:
            raise _FatalError(f"cannot split events file {str(events)!r}: {e.strerror or e}") from None
        read = _read_report(events, done, report)
        latest = max((d.latest for d in done if d.latest is not None), default=None)
        at = now if now is not None else latest
        whole = Partial.empty(group_by)
        folds = [(tmp, p, workers, at, group_by) for p in range(parts)]
        # Merged in partition order (imap, not imap_unordered: the workers still run ahead), so the
        # aggregates' order, and shard.json byte for byte, does not depend on which worker ends first.
        try:
            for count, part in enumerate(mapper(_fold, folds), 1):
                whole.merge(Partial.from_dict(part))
                progress.show("replaying", count, parts, f"{count:,}/{parts:,} partitions")
        except OSError as e:
            raise _FatalError(f"cannot replay into {tmp!r}: {e.strerror or e}") from None
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    progress.done()
    return Streamed(read, at, whole, [os.path.join(tmp, f"rows-{p}.bin") for p in range(parts)])


def _read_report(path: Path, done: list[_Split], report: Callable[[str], None]) -> ReadStats:
    """Report the malformed lines as a whole-file read would (numbers counted from the file's start,
    the first `MAX_REPORTED` listed); the first one is fatal with ``--strict``."""
    read = ReadStats()
    offset = 0
    for d in done:
        if d.fatal is not None:
            number, text = d.fatal
            raise _FatalError(f"{path}:{offset + number}: {text} (--strict: stopping)")
        for number, text in d.messages:
            if read.malformed < MAX_REPORTED:
                report(f"skipped {path}:{offset + number}: {text}")
            read.malformed += 1
        read.malformed += d.malformed - len(d.messages)
        read.events += d.events
        offset += d.lines
    read.lines = offset
    if read.malformed > MAX_REPORTED:
        report(f"skipped {read.malformed - MAX_REPORTED} more malformed lines (not listed)")
    return read


# ----------------------------------------------------------------------------------------------- writing


def write_reports(
    out_dir: Path,
    rows: Iterable[str | Path | tuple[Path, int]],
    whole: Partial,
    *,
    title: str,
    subtitle: str,
    now: datetime | None,
    agreement: bool = False,
) -> tuple[ReplayStats, dict[str, Path]]:
    """The three reports in `out_dir`, through ``.part`` files renamed once all are complete: the
    SLA log merged from `rows` (each in ticket order; a (file, records) pair is checked to hold that
    many records), compliance and the summary from `whole`. `agreement`: the rows end with the
    ``agreement`` column (the configuration has agreements besides the customer's)."""
    final = {name: out_dir / name for name in NAMES}
    parts = {name: out_dir / f"{name}.part" for name in NAMES}
    try:
        with contextlib.ExitStack() as files:
            log, comp, page = (
                files.enter_context(parts[name].open("w", encoding="utf-8", errors="replace", newline=""))
                for name in NAMES
            )
            csv.writer(log).writerow(SLA_LOG_COLUMNS + (("agreement",) if agreement else ()))
            sources = [_rows_source(r) for r in rows]
            for _, _, text in heapq.merge(*sources):
                log.write(text)
            stats = finish(whole, compliance=comp, summary=page, title=title, subtitle=subtitle, now=now)
        for name in NAMES:
            parts[name].replace(final[name])
    except BaseException as e:  # nothing half-written is left, whatever stopped the writing
        for part in parts.values():
            part.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _FatalError(f"cannot write reports to {str(out_dir)!r}: {e.strerror or e}") from None
        if isinstance(e, ValueError | TypeError):  # a rows file that is not what a shard writes
            raise _FatalError(f"a {ROWS_FILE} file is corrupt ({e}); nothing written") from None
        raise
    return stats, final


def config_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as e:  # pragma: no cover - the configuration was just read
        raise _FatalError(f"cannot read configuration {path!r}: {e.strerror or e}") from None


def write_shard(
    out_dir: Path,
    streamed: Streamed,
    shard: Shard,
    *,
    config_path: str,
    title: str,
    subtitle: str,
    agreement: bool = False,
) -> dict[str, Path]:
    """Shard output for `slaclock merge`: ``rows.jsonl`` (the shard's keyed SLA log lines, in ticket
    order) and ``shard.json`` (which shard, `now`, the configuration's digest, the aggregates)."""
    final = {ROWS_FILE: out_dir / ROWS_FILE, SHARD_FILE: out_dir / SHARD_FILE}
    parts = {name: out_dir / f"{name}.part" for name in final}
    doc: dict[str, Any] = {
        "format": SHARD_FORMAT,
        "shard": [shard.index, shard.count],
        "now": format_instant(streamed.now) if streamed.now is not None else None,
        "config_sha256": config_digest(config_path),
        "title": title,
        "subtitle": subtitle,
        **({"agreement": True} if agreement else {}),  # the SLA log's agreement column
        "read": {
            "lines": streamed.read.lines,
            "events": streamed.read.events,
            "malformed": streamed.read.malformed,
        },
        "aggregates": streamed.whole.to_dict(),
    }
    try:
        with parts[ROWS_FILE].open("w", encoding="ascii") as f:
            dumps = json.dumps
            count = 0
            for record in heapq.merge(*(_rows_source(r) for r in streamed.rows)):
                f.write(dumps(record))
                f.write("\n")
                count += 1
        doc["rows"] = count
        parts[SHARD_FILE].write_text(json.dumps(doc, indent=1) + "\n", encoding="ascii")
        for name in final:
            parts[name].replace(final[name])
    except BaseException as e:
        for part in parts.values():
            part.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _FatalError(f"cannot write shard to {str(out_dir)!r}: {e.strerror or e}") from None
        raise
    return final


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="slaclock-replay-")
