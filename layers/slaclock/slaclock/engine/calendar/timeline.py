"""The open timeline of a calendar, cut into fixed UTC blocks of merged open intervals."""

from __future__ import annotations

from bisect import bisect_right

# --------------------------------------------------------------------------------------- the timeline


class _Block:
    """The open intervals of one UTC block, merged, as epoch microseconds, with cumulative open time:
    ``cum[i]`` = open µs of the block before ``starts[i]``; ``cum[-1]`` = ``total``."""

    __slots__ = ("starts", "ends", "cum", "total", "lo", "hi")

    def __init__(self, lo: int, hi: int, intervals: list[tuple[int, int]]) -> None:
        self.lo, self.hi = lo, hi
        self.starts = [s for s, _ in intervals]
        self.ends = [e for _, e in intervals]
        cum = [0]
        for s, e in intervals:
            cum.append(cum[-1] + e - s)
        self.cum = cum
        self.total = cum[-1]

    def open_before(self, x: int) -> int:
        """Open µs of this block in ``[lo, x)``."""
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum[i] + (x if x < end else end) - self.starts[i]


def _subtract(intervals: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    for cs, ce in cuts:
        out: list[tuple[int, int]] = []
        for s, e in intervals:
            if ce <= s or cs >= e:
                out.append((s, e))
                continue
            if s < cs:
                out.append((s, cs))
            if ce < e:
                out.append((ce, e))
        intervals = out
    return intervals


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if s >= e:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
