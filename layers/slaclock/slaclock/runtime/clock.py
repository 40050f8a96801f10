"""The functions' clock: ``now()`` is an aware UTC instant, real time unless a source is installed.

Every place outside the engine that needs "now" (the composition root's `wiring.clock()`, the
adapters' bookkeeping timestamps) reads it here, so the local embedded stack can run the real handlers
on a virtual clock (faster than real time, fast-forwarded through a week) by installing one source:

    from slaclock.runtime import clock
    with clock.use(lambda: datetime(2026, 5, 4, 7, 0, tzinfo=UTC)):
        ...                               # every handler now sees 2026-05-04T07:00:00Z

In Lambda nothing is ever installed and `now()` is ``datetime.now(UTC)``. The source is process-wide
(not per thread): the local stack runs its HTTP front and its scheduler in threads of one process and
they must all see the same time. The engine never reads this module: `now` stays a parameter there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

__all__ = ["ClockSource", "now", "reset_clock", "set_clock", "use"]

ClockSource = Callable[[], datetime]
"""A callable returning the current instant as an AWARE datetime (any zone; `now` converts to UTC)."""

_source: ClockSource | None = None


def now() -> datetime:
    """The current instant, aware, in UTC: the installed source's answer, else the real time.

    Raises ValueError if the installed source returns a naive datetime (it names no instant)."""
    if _source is None:
        return datetime.now(UTC)
    t = _source()
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"clock source returned a naive datetime {t.isoformat()}")
    return t.astimezone(UTC)


def set_clock(source: ClockSource | None) -> ClockSource | None:
    """Install `source` as the process's clock (None: back to real time). Returns the previous source,
    so a caller can put it back."""
    global _source
    previous, _source = _source, source
    return previous


def reset_clock() -> None:
    """Back to real time."""
    set_clock(None)


@contextmanager
def use(source: ClockSource) -> Iterator[None]:
    """Install `source` for the duration of the block, then restore whatever was installed before."""
    previous = set_clock(source)
    try:
        yield
    finally:
        set_clock(previous)
