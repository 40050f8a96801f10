"""What the long commands share (replay, diff, merge, ticket, the streamed replay): reading an events
file (JSON Lines or a JSON array, a malformed entry reported with its position), the progress bar with
its ETA, the configuration and ``--now`` options, the command's fatal error, and writing outputs
through ``.part`` files renamed once complete (Ctrl-C or a write error leaves none)."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TextIO

from slaclock.engine import json_input
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, parse_event, parse_instant
from slaclock.engine.limits import MAX_JSON_DEPTH

try:  # the operator CLI's fast JSON parser (a dependency of the CLI; commands/ is not in the Lambda layer)
    from orjson import JSONDecodeError as _FastError
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - without it, every line takes the standard library's path
    _fast_loads = None  # type: ignore[assignment]  # checked before every use
    _FastError = ValueError  # type: ignore[misc, assignment]  # orjson's error is a ValueError
_DIGIT_MAP = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))  # digits to "0", the rest to " "
_LONG_RUN = b"0" * 19  # 19 digits in a row (in _DIGIT_MAP's image): a number orjson may decode otherwise
# A block's opening brackets as "(", its line ends kept, every other byte dropped: a line with more
# opening brackets than slaclock's nesting limit is a run of that many "(" (orjson nests to 1,024).
_BRACKETS = bytes.maketrans(b"[{", b"((")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{\n")
_DEEP_RUN = b"(" * (MAX_JSON_DEPTH + 1)


READ_BLOCK = 1 << 20
"""Bytes of JSON Lines read at once (then to the end of the line that runs across), whose lines are
then iterated at C speed (`_line_blocks`)."""

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
    if isinstance(err, json_input.JsonLimitError):
        return err.msg
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

    A line is parsed by orjson when installed (several times faster than the standard library) and
    accepted when it could not nest deeper than `MAX_JSON_DEPTH` (it has no more opening brackets than
    that); any other line, and whatever orjson refuses, is decoded by itself (so a bad byte is blamed
    on its line) and parsed by `engine.json_input.loads`, the decoder of every JSON text slaclock reads
    (webhooks included), which decides with its limits and says why. A byte order mark is allowed on
    line 1 if `bom` (False when `handle` starts mid-file).

    `handle` is read in blocks of whole lines (`_line_blocks`), each split at ``\\n`` as iterating
    the file would: a block with no run of 19 digits anywhere, or no line of more opening brackets
    than the limit (one look at the block's brackets and line ends), has none in any of its lines,
    which are not checked one by one for it."""
    fast = _fast_loads
    digit_map, long_run, deepest = _DIGIT_MAP, _LONG_RUN, MAX_JSON_DEPTH
    loads = json_input.loads
    number = 0
    try:
        for at, block in _line_blocks(handle):
            clean = fast is not None and long_run not in block.translate(digit_map)
            shallow = _DEEP_RUN not in block.translate(_BRACKETS, _NOT_BRACKETS)
            lines, first = io.BytesIO(block), number + 1
            for number, raw in enumerate(lines, first):
                if not number & 2047:
                    stats.lines = number
                    progress.show("reading", at + lines.tell(), size, f"{number:,} lines")
                if (clean or (fast is not None and long_run not in raw.translate(digit_map))) and (
                    shallow or raw.count(b"{") + raw.count(b"[") <= deepest
                ):
                    # orjson accepts exactly one strict JSON document in UTF-8 with JSON whitespace
                    # around it, and decodes it to the same values as `json_input.loads`: it refuses NaN
                    # and Infinity and numbers beyond a double too; it would decode an integer beyond 64
                    # bits to a float (hence no line with 19 digits in a row) and nest up to 1,024
                    # levels (hence no line with more opening brackets than slaclock's limit). Whatever
                    # it refuses (a blank line, a byte order mark, a lone surrogate, a bad byte...)
                    # takes the path below, which decides as it always did and says why.
                    try:
                        doc = fast(raw)
                    except _FastError:
                        pass
                    else:
                        try:
                            append(parse_event(doc))
                        except ValueError as e:  # EventError
                            malformed(number, e)
                        continue
                try:
                    text = raw.decode("utf-8")
                    if number == 1 and bom:
                        text = text.lstrip("\ufeff")
                    if not text or text.isspace():
                        continue
                    # without its line break, a syntax error at the end of the line is placed on it
                    append(parse_event(loads(text.rstrip("\r\n"))))
                except ValueError as e:  # UnicodeDecodeError, JSONDecodeError (JsonLimitError), EventError
                    malformed(number, e)
    finally:
        stats.lines = number


def _line_blocks(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The rest of `handle` in blocks of whole lines, each with its position: about `READ_BLOCK` bytes,
    then to the end of the line running across (the last block ends where the file does)."""
    read, readline, tell = handle.read, handle.readline, handle.tell
    size = READ_BLOCK
    while True:
        at = tell()
        data = read(size)
        if not data:
            return
        if data[-1] != 10:  # not at a line's end: read to it
            data += readline()
        yield at, data


def _json_array(handle: IO[bytes], path: Path) -> Iterator[tuple[int, Any]]:
    try:
        doc = json_input.loads(handle.read())
    except json_input.JsonLimitError as e:
        raise _FatalError(f"{path}: not a JSON array slaclock reads ({e.msg})") from None
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
