"""The functions' clock: ``now()`` is an aware UTC instant, real time unless the composition root was
given another clock.

Every composition root's ``clock()`` (`wiring`, `report_wiring`, `admin_wiring`, `link_wiring`) reads
it here, and `wiring` hands it to the adapters that stamp their bookkeeping instants (``now=``), so the
local embedded stack can run the real handlers on a virtual clock (faster than real time,
fast-forwarded through a week) with one override:

    from slaclock.runtime import wiring
    wiring.override(clock=lambda: datetime(2026, 5, 4, 7, 0, tzinfo=UTC))
    ...                                   # every handler now sees 2026-05-04T07:00:00Z
    wiring.override(clock=None)           # real time again

In Lambda no override is ever given and `now()` is ``datetime.now(UTC)``. The override is process-wide
(not per thread): the local stack runs its HTTP front and its scheduler in threads of one process and
they must all see the same time. The engine never reads this module: `now` stays a parameter there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["ClockSource", "now"]

ClockSource = Callable[[], datetime]
"""A callable returning the current instant as an AWARE datetime (any zone; `now` converts to UTC)."""

_source: ClockSource | None = None


def now() -> datetime:
    """The current instant, aware, in UTC: the overriding clock's answer, else the real time.

    Raises ValueError if the overriding clock returns a naive datetime (it names no instant)."""
    if _source is None:
        return datetime.now(UTC)
    t = _source()
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"clock source returned a naive datetime {t.isoformat()}")
    return t.astimezone(UTC)


def _install(source: ClockSource | None) -> None:
    """Only `wiring.override(clock=...)` calls this (the composition root owns the clock)."""
    global _source
    _source = source
