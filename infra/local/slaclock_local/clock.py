"""The local stack's virtual clock: real time, or a fixed start running `speed` times faster, or frozen.

    clock = VirtualClock(datetime(2026, 5, 4, 6, 0, tzinfo=UTC), speed=60)   # one hour per minute
    clock.now()                   # aware UTC; moves 60 virtual seconds per real second
    clock.advance_to(t)           # jump forward (never back); the scheduler fires what is due on the way
    clock.pause(); clock.resume() # a paused clock stands still until advanced (the demo's determinism)

`now()` is what `slaclock.runtime.clock` returns while the local stack runs (it installs
``clock.now`` as the process's clock source), so the real handlers see virtual time. The virtual
time only moves forward: `advance_to` an earlier instant is refused, and the running clock is
monotonic because it is built on `time.monotonic`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["VirtualClock"]


class VirtualClock:
    """A thread-safe virtual UTC clock.

    `start`: the virtual instant at creation (aware; default: the real time now). `speed`: virtual
    seconds per real second while running (> 0; 1 is real time). `paused`: start stood still.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        speed: float = 1.0,
        paused: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed}")
        if start is not None and (start.tzinfo is None or start.utcoffset() is None):
            raise ValueError(f"start {start.isoformat()} is naive: pass an aware datetime")
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor = (start or datetime.now(UTC)).astimezone(UTC)  # virtual instant at `_anchor_real`
        self._anchor_real = monotonic()
        self._paused = paused

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def now(self) -> datetime:
        """The virtual instant now (aware, UTC)."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        if self._paused:
            return self._anchor
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor + timedelta(seconds=elapsed * self._speed)

    def _reanchor(self, at: datetime) -> None:
        self._anchor = at
        self._anchor_real = self._monotonic()

    def advance_to(self, t: datetime) -> datetime:
        """Jump to `t` (aware) if it is later than now; an instant at or before now leaves the clock
        where it is. Returns the virtual instant after the jump. The clock keeps running (or stays
        paused) from there."""
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"{t.isoformat()} is naive: pass an aware datetime")
        with self._lock:
            current = self._now_locked()
            target = t.astimezone(UTC)
            self._reanchor(max(current, target))
            return self._anchor

    def advance_by(self, delta: timedelta) -> datetime:
        """Jump forward by `delta` (>= 0)."""
        if delta < timedelta(0):
            raise ValueError("the virtual clock never goes back")
        with self._lock:
            self._reanchor(self._now_locked() + delta)
            return self._anchor

    def pause(self) -> None:
        """Stop the clock where it is (it moves again only by `advance_to` or after `resume`)."""
        with self._lock:
            if not self._paused:
                self._reanchor(self._now_locked())
                self._paused = True

    def resume(self) -> None:
        with self._lock:
            if self._paused:
                self._reanchor(self._anchor)
                self._paused = False

    def real_seconds_until(self, t: datetime) -> float | None:
        """Real seconds until the virtual clock reaches `t` (0 if it has; None if paused: never)."""
        with self._lock:
            gap = (t - self._now_locked()).total_seconds()
            if gap <= 0:
                return 0.0
            if self._paused:
                return None
            return gap / self._speed
