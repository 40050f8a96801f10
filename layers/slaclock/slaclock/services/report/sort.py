"""Bounded-memory helpers of the S3 report: an external merge sort of SLA log rows, and an exact count of
distinct tickets. Both spill to temporary files (Lambda: ``/tmp``), so memory stays flat in the row
count; only `chunk_rows` rows (or ids) are held at once.

External sort (`external_sort`): rows are read in chunks of `chunk_rows`; each chunk is sorted in
memory and written to its own temporary file (a "run": pickled batches of plain tuples); the runs are
then merged lazily with `heapq.merge`, which holds one batch per run. The order is EXACTLY the
engine's `slaclock.engine.reports.sort_sla_log` (same keys, same ``-key`` descending, empty values
last in both directions, ties by ticket, metric, cycle): `sort_key` turns the engine's multi-pass
stable sort into one composite key, and a property test checks the two agree. Disk: about 150 bytes
per row (1,000,000 rows: ~150 MB of the function's ephemeral storage); the files are deleted when the
merge ends, even on an error.

Distinct tickets (`DistinctCounter`): each ticket id is hashed to 64 bits (BLAKE2b); hashes are held in
an ``array('Q')`` up to `chunk` (100,000) entries, then sorted, de-duplicated and spilled (sorting makes
Python ints: ~10 MB for a chunk, so the chunk stays small); the count merges the runs. Exact up to a
64-bit hash collision (for a million tickets, a chance of about 3 in 100 million).
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import heapq
import os
import pickle  # noqa: S403 - only our own temporary files, written and read by this process
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from operator import attrgetter
from typing import Any, BinaryIO

# The engine's field getters and ticket-id key: reused so the external order cannot drift from the
# in-memory one (`sort_sla_log`); tests/unit/test_report_sort.py checks they agree.
from slaclock.engine.reports import _SORT_FIELDS, SlaLogRow, _ticket_key, parse_sort

DEFAULT_CHUNK_ROWS = 50_000
"""Rows sorted in memory at once (about 40 MB of row objects)."""
BATCH_ROWS = 1_000
"""Rows per pickled batch in a run file (and held per run while merging)."""

_ROW_FIELDS = tuple(f.name for f in fields(SlaLogRow))
_as_tuple = attrgetter(*_ROW_FIELDS)


class _Descending:
    """Wraps a value so that it sorts in reverse (for the ``-key`` parts of a composite key)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and bool(self.value == other.value)

    def __hash__(self) -> int:  # pragma: no cover - keys are compared, never hashed
        return hash(self.value)


def sort_key(by: str | Iterable[str]) -> Callable[[SlaLogRow], tuple[Any, ...]]:
    """One key function giving the order of ``sort_sla_log(rows, by)`` (raises `ReportError` for an
    unknown key). Each part is ``(value is None, value)``, with the value wrapped to sort descending
    for ``-key``, so an empty value comes last in both directions; then (ticket, metric, cycle)."""
    specs = parse_sort(by if isinstance(by, str) else list(by))
    getters: list[tuple[Callable[[SlaLogRow], Any], bool]] = [
        (_SORT_FIELDS[s.lstrip("-")], s.startswith("-")) for s in specs
    ]

    def key(row: SlaLogRow) -> tuple[Any, ...]:
        parts: list[Any] = []
        for get, descending in getters:
            value = get(row)
            if value is None:
                parts.append((True, None))
            else:
                parts.append((False, _Descending(value) if descending else value))
        parts.append((_ticket_key(row.ticket_id), row.metric, row.cycle))
        return tuple(parts)

    return key


def _write_run(rows: list[SlaLogRow], directory: str | None) -> str:
    handle, path = tempfile.mkstemp(prefix="slaclock-run-", suffix=".bin", dir=directory)
    with os.fdopen(handle, "wb") as out:
        for i in range(0, len(rows), BATCH_ROWS):
            pickle.dump(
                [_as_tuple(r) for r in rows[i : i + BATCH_ROWS]], out, protocol=pickle.HIGHEST_PROTOCOL
            )
    return path


def _read_run(handle: BinaryIO) -> Iterator[SlaLogRow]:
    while True:
        try:
            batch = pickle.load(handle)  # noqa: S301 - a run file this process wrote moments ago
        except EOFError:
            return
        for values in batch:
            yield SlaLogRow(*values)


def _remove(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def external_sort(
    rows: Iterable[SlaLogRow],
    by: str | Iterable[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    directory: str | None = None,
) -> Iterator[Iterator[SlaLogRow]]:
    """``with external_sort(rows, "department,-overdue") as ordered: ...`` — `ordered` yields the rows
    in `sort_sla_log` order while holding at most `chunk_rows` rows (plus one batch per run) in
    memory. `rows` is consumed when the block is entered. Run files go to `directory` (default: the
    system's temporary directory) and are removed when the block exits. A single chunk is never
    written to disk."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    key = sort_key(by)
    paths: list[str] = []
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(_remove, paths)
        chunk: list[SlaLogRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_rows:
                chunk.sort(key=key)
                paths.append(_write_run(chunk, directory))
                chunk = []
        chunk.sort(key=key)
        if not paths:
            yield iter(chunk)
            return
        if chunk:
            paths.append(_write_run(chunk, directory))
        del chunk
        handles = [cleanup.enter_context(open(p, "rb")) for p in paths]  # noqa: SIM115 - closed by the stack
        yield heapq.merge(*(_read_run(h) for h in handles), key=key)


# ---------------------------------------------------------------------------------------------- distinct


def _hash64(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


class DistinctCounter:
    """Counts distinct strings (ticket ids) in bounded memory: `chunk` 8-byte hashes at most, the rest
    spilled to sorted run files in `directory`. Call `count()` once, at the end; `close()` (or the
    context manager) removes the files."""

    def __init__(self, *, chunk: int = 100_000, directory: str | None = None) -> None:
        self.chunk = chunk
        self.directory = directory
        self._hashes = array.array("Q")
        self._paths: list[str] = []

    def __enter__(self) -> DistinctCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, text: str) -> None:
        self._hashes.append(_hash64(text))
        if len(self._hashes) >= self.chunk:
            self._spill()

    def _sorted_unique(self) -> array.array[int]:
        values = sorted(set(self._hashes))
        return array.array("Q", values)

    def _spill(self) -> None:
        handle, path = tempfile.mkstemp(prefix="slaclock-ids-", suffix=".bin", dir=self.directory)
        with os.fdopen(handle, "wb") as out:
            self._sorted_unique().tofile(out)
        self._paths.append(path)
        self._hashes = array.array("Q")

    def count(self) -> int:
        """The number of distinct strings added."""
        if not self._paths:
            return len(set(self._hashes))
        if self._hashes:
            self._spill()
        with contextlib.ExitStack() as stack:
            runs = [_read_hashes(stack.enter_context(open(p, "rb"))) for p in self._paths]  # noqa: SIM115
            distinct = 0
            last: int | None = None
            for value in heapq.merge(*runs):
                if value != last:
                    distinct += 1
                    last = value
        return distinct

    def close(self) -> None:
        for path in self._paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._paths = []
        self._hashes = array.array("Q")


def _read_hashes(handle: BinaryIO, block: int = 8192) -> Iterator[int]:
    while True:
        buf = array.array("Q")
        try:
            buf.fromfile(handle, block)
        except EOFError:  # the last, short block: what was read is in buf
            yield from buf
            return
        yield from buf
