"""`BusinessCalendar`: open time between instants (`elapsed`), the instant an amount of open time is used
up (`add`), `is_open`, `next_open`, `next_close`."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slaclock.engine.calendar.closures import _Closure, _holiday_ordinals, _parse_holidays
from slaclock.engine.calendar.common import (
    _BLOCK_US,
    _DAY_S,
    _EPOCH,
    _EPOCH_NAIVE,
    _LONG_US,
    _MAX_EMPTY_BLOCKS,
    _MAX_US,
    _MIN_US,
    _NEVER_CLOSES_AFTER_BLOCKS,
    _TOP_KEYS,
    _US,
    _ZERO,
    ALWAYS_OPEN,
    DAY_NAMES,
    NEVER,
    CalendarError,
    CalendarInputError,
    NaiveDatetimeError,
)
from slaclock.engine.calendar.hours import _check_keys, _join, _parse_hours, _parse_timezone, _Range
from slaclock.engine.calendar.timeline import _Block, _merge, _subtract


class BusinessCalendar:
    """Opening hours in a time zone, minus holidays, closed dates and partial closures.

    Build one with `from_dict` (the configuration's calendar document)::

        >>> cal = BusinessCalendar.from_dict({"timezone": "Europe/Paris",
        ...     "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}})
        >>> fri = datetime(2026, 11, 20, 16, 45, tzinfo=ZoneInfo("Europe/Paris"))
        >>> cal.add(fri, timedelta(minutes=30)).astimezone(ZoneInfo("Europe/Paris")).isoformat()
        '2026-11-23T09:15:00+01:00'

    Instances are immutable in behaviour and cache their timeline (safe to share within a process).
    Every instant argument must be an aware datetime; results are aware datetimes in UTC.
    """

    timezone: str

    def __init__(
        self,
        *,
        timezone: str,
        week: Sequence[Sequence[_Range]],
        always_open_doc: bool = False,
        country: str | None = None,
        subdivision: str | None = None,
        closed_dates: Sequence[date] = (),
        closures: Sequence[_Closure] = (),
    ) -> None:
        """Internal: use `from_dict`. Arguments are assumed valid."""
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._week = tuple(tuple(day) for day in week)
        self._always_open_doc = always_open_doc
        self._country = country
        self._subdivision = subdivision
        self._closed_dates = tuple(closed_dates)
        self._closures = tuple(closures)
        self._closed_ordinals = frozenset(d.toordinal() for d in closed_dates)
        by_day: dict[int, list[tuple[int, int]]] = {}
        for c in closures:
            by_day.setdefault(c.day.toordinal(), []).append(c.window())
        self._closure_windows = by_day
        self._weekly_open_s = sum(r.end - r.start for day in self._week for r in day)
        last = [d.toordinal() for d in closed_dates] + [c.day.toordinal() + 1 for c in closures]
        self._last_exception_ordinal = max(last, default=0)
        self._blocks: dict[int, _Block] = {}

    # ----------------------------------------------------------------------------------- document

    @classmethod
    def from_dict(cls, d: Any, *, path: str = "") -> BusinessCalendar:
        """Validate a calendar document and build the calendar.

        ``{timezone: "Europe/Paris", hours: "24x7" | {mon: ["09:00-17:00", ...], ...},
        holidays: {country: "FR", subdivision: null, dates: ["2026-12-24"],
        closures: [{date: "2026-12-31", from: "13:00"}, {date: ..., until: "10:00"}]}}``

        Days missing from `hours` are closed. `holidays` and each of its keys are optional. Times are
        ``HH:MM`` (or ``HH:MM:SS``); ``24:00`` may end a range or a closure. Raises `CalendarError`
        listing every problem, each path prefixed by `path` (e.g. ``calendars.paris-office.hours.tue[1]``).
        """
        errors: list[tuple[str, str]] = []
        if not isinstance(d, Mapping):
            raise CalendarError(
                [(path, f"expected a calendar mapping {{timezone, hours, holidays?}}, got {d!r}")]
            )
        _check_keys(d, _TOP_KEYS, path, errors)
        tz = _parse_timezone(d.get("timezone"), path, errors)
        if "hours" not in d:
            errors.append((_join(path, "hours"), "required ('24x7' or a mapping of days to time ranges)"))
            week: tuple[tuple[_Range, ...], ...] = ((),) * 7
        else:
            before = len(errors)
            week = _parse_hours(d["hours"], path, errors)
            if len(errors) == before and not any(week):
                errors.append((_join(path, "hours"), "the calendar has no opening hours at all"))
        country, subdivision, dates, closures = _parse_holidays(d.get("holidays"), path, errors)
        if errors:
            raise CalendarError(errors)
        assert tz is not None
        return cls(
            timezone=tz.key,
            week=week,
            always_open_doc=d["hours"] == ALWAYS_OPEN,
            country=country,
            subdivision=subdivision,
            closed_dates=dates,
            closures=closures,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical document: ``from_dict(c.to_dict()).to_dict() == c.to_dict()``."""
        hours: Any
        if self._always_open_doc:
            hours = ALWAYS_OPEN
        else:
            hours = {DAY_NAMES[i]: [r.text() for r in day] for i, day in enumerate(self._week) if day}
        out: dict[str, Any] = {"timezone": self.timezone, "hours": hours}
        if self._country or self._closed_dates or self._closures:
            out["holidays"] = {
                "country": self._country,
                "subdivision": self._subdivision,
                "dates": [d.isoformat() for d in self._closed_dates],
                "closures": [c.to_dict() for c in self._closures],
            }
        return out

    def __repr__(self) -> str:
        return f"BusinessCalendar.from_dict({self.to_dict()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessCalendar) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    # ----------------------------------------------------------------------------------- queries

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Open time in ``[a, b)`` (real elapsed time, exact to the µs); zero when ``b <= a``."""
        try:
            xa = (a - _EPOCH) // _US
            xb = (b - _EPOCH) // _US
        except TypeError:
            raise _instant_error(a=a, b=b) from None
        if xb <= xa:
            return _ZERO
        return self.elapsed_us(xa, xb) * _US

    def elapsed_us(self, xa: int, xb: int) -> int:
        """`elapsed` for instants given as integer microseconds since the Unix epoch (UTC), in integer
        microseconds (0 when ``xb <= xa``): for callers that keep instants as integers."""
        if xb <= xa:
            return 0
        ka = xa // _BLOCK_US
        kb = xb // _BLOCK_US
        blocks = self._blocks
        blk = blocks.get(ka) or self._block(ka)
        if ka == kb:  # blk.open_before(xb) - blk.open_before(xa), written out (the common case)
            starts = blk.starts
            i = bisect_right(starts, xa) - 1
            j = bisect_right(starts, xb) - 1
            if j < 0:
                return 0
            ends = blk.ends
            end = ends[j]
            before_b = blk.cum[j] + (xb if xb < end else end) - starts[j]
            if i < 0:
                return before_b
            end = ends[i]
            return before_b - (blk.cum[i] + (xa if xa < end else end) - starts[i])
        total = blk.total - blk.open_before(xa)
        for k in range(ka + 1, kb):
            total += (blocks.get(k) or self._block(k)).total
        last = blocks.get(kb) or self._block(kb)
        return total + last.open_before(xb)

    def add(self, t: datetime, d: timedelta) -> datetime:
        """The EARLIEST instant ``u >= t`` with ``elapsed(t, u) >= d`` (UTC).

        So a duration that ends exactly at closing time returns the closing instant (Friday 17:00, not
        Monday 09:00), ``add(t, 0) == t`` even while closed, and a positive duration started while
        closed first waits for the next opening. Raises `CalendarInputError` for a negative duration
        or a result past year 9999.
        """
        try:
            x = (t - _EPOCH) // _US
            need = d // _US
        except TypeError:
            raise _instant_error(t=t, d=d) from None
        return _EPOCH + self.add_us(x, need, t=t, d=d) * _US

    def add_us(self, x: int, need: int, *, t: datetime | None = None, d: timedelta | None = None) -> int:
        """`add` for an instant and a duration given as integer microseconds (the instant since the Unix
        epoch, UTC): the earliest ``u >= x`` with ``elapsed_us(x, u) >= need``. Same errors as `add`,
        which names `t` and `d` in them when given (the instant and duration as the caller wrote them).
        """
        if need <= 0:
            if need < 0:
                raise CalendarInputError(
                    "d", f"a business duration cannot be negative, got {d if d is not None else need * _US}"
                )
            return x
        requested = need
        k = x // _BLOCK_US
        blocks = self._blocks
        blk = blocks.get(k) or self._block(k)
        starts = blk.starts
        i = bisect_right(starts, x) - 1
        if i >= 0:  # need += blk.open_before(x), written out
            end = blk.ends[i]
            need += blk.cum[i] + (x if x < end else end) - starts[i]
        total = blk.total
        if need > total:
            if t is None:
                t = _from_us(x)
            # Walk whole blocks (one subtraction per ~388 days), never days or minutes.
            if need > _LONG_US:
                self._check_reachable(t, d if d is not None else requested * _US)
            empty = 0
            while need > total:
                need -= total
                k += 1
                blk = blocks.get(k) or self._block(k)
                total = blk.total
                if not total:
                    empty += 1
                    if empty > _MAX_EMPTY_BLOCKS:
                        raise CalendarInputError("t", f"no open time for decades after {t.isoformat()}")
        cum = blk.cum
        i = bisect_left(cum, need) - 1
        return blk.starts[i] + need - cum[i]

    def _check_reachable(self, t: datetime, d: timedelta) -> None:
        """Refuse at once a result past year 9999 (instead of building blocks up to there): a week
        holds at most `weekly open hours + 2 h` (DST) of open time, so `d` needs at least that many weeks."""
        week_us = 7 * _DAY_S * 1_000_000
        weeks = (d // _US) // ((self._weekly_open_s + 7200) * 1_000_000)
        if (t - _EPOCH) // _US + max(0, weeks - 1) * week_us >= _MAX_US:
            raise CalendarInputError("d", f"{t.isoformat()} + {d} of business time is past year 9999")

    def is_open(self, t: datetime) -> bool:
        """Whether `t` lies in an open interval ``[start, end)`` (open at 09:00, closed at 17:00)."""
        x = _to_us(t, "t")
        k = x // _BLOCK_US
        blk = self._blocks.get(k) or self._block(k)
        i = bisect_right(blk.starts, x) - 1
        return i >= 0 and x < blk.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """`t` itself (as UTC) when open, else the start of the next open interval."""
        x = _to_us(t, "t")
        k = x // _BLOCK_US
        blk = self._blocks.get(k) or self._block(k)
        i = bisect_right(blk.starts, x) - 1
        if i >= 0 and x < blk.ends[i]:
            return _from_us(x)
        k, j = self._next_interval(t, k, blk, i + 1)
        return _from_us(self._blocks[k].starts[j])

    def next_close(self, t: datetime) -> datetime:
        """The end of the open stretch containing `t`, or of the next one when `t` is closed (UTC).

        Touching intervals form one stretch: back-to-back ranges (``09:00-12:00`` + ``12:00-17:00``),
        or ``22:00-06:00`` followed by ``06:00-...`` the next day. Returns `NEVER` (``datetime.max`` in
        UTC) when the calendar never closes after `t` (e.g. 24x7 without holidays).
        """
        x = _to_us(t, "t")
        k = x // _BLOCK_US
        blk = self._blocks.get(k) or self._block(k)
        i = bisect_right(blk.starts, x) - 1
        if i < 0 or x >= blk.ends[i]:
            k, i = self._next_interval(t, k, blk, i + 1)
            blk = self._blocks[k]
        for _ in range(_NEVER_CLOSES_AFTER_BLOCKS):
            end = blk.ends[i]
            if end < blk.hi or self._never_closes_after(end):
                break
            k += 1
            blk = self._block(k)
            if not blk.starts or blk.starts[0] != end:
                break
            i = 0
        else:
            return NEVER
        return NEVER if self._never_closes_after(end) else _from_us(end)

    def _never_closes_after(self, x: int) -> bool:
        """Every wall-clock second is open, no holidays, no closed date or closure from `x` on."""
        if self._weekly_open_s < 7 * _DAY_S or self._country is not None:
            return False
        return _from_us(x).astimezone(self._tz).toordinal() > self._last_exception_ordinal

    def _next_interval(self, t: datetime, k: int, blk: _Block, i: int) -> tuple[int, int]:
        """(block index, interval index) of the first interval at or after position `i` of block `k`."""
        empty = 0
        while i >= len(blk.starts):
            k += 1
            blk = self._block(k)
            i = 0
            empty = empty + 1 if not blk.starts else 0
            if empty > _MAX_EMPTY_BLOCKS:
                raise CalendarInputError(
                    "t", f"the calendar has no open time for decades after {t.isoformat()}"
                )
        return k, i

    # ----------------------------------------------------------------------------------- building

    def _block(self, k: int) -> _Block:
        blk = self._blocks.get(k)
        if blk is None:
            blk = self._blocks[k] = self._build_block(k)
        return blk

    def _build_block(self, k: int) -> _Block:
        lo, hi = k * _BLOCK_US, (k + 1) * _BLOCK_US
        if lo < _MIN_US + 2 * _DAY_S * 1_000_000 or hi > _MAX_US - 2 * _DAY_S * 1_000_000:
            # Within two days of datetime's range: local dates there cannot be converted.
            raise CalendarInputError("t", "business time is only computed between years 1 and 9999")
        first = _from_us(lo).astimezone(self._tz).toordinal() - 1
        last = _from_us(hi).astimezone(self._tz).toordinal() + 1
        raw: list[tuple[int, int]] = []
        for ordinal in range(first, last + 1):
            if self._is_closed_date(ordinal):
                continue
            for r in self._week[(ordinal + 6) % 7]:
                raw.append((self._local_us(ordinal, r.start), self._local_us(ordinal, r.end)))
        cuts = [
            (self._local_us(ordinal, s), self._local_us(ordinal, e))
            for ordinal in range(first, last + 2)
            for s, e in self._closure_windows.get(ordinal, ())
        ]
        clipped = [(max(s, lo), min(e, hi)) for s, e in _subtract(raw, cuts)]
        return _Block(lo, hi, _merge(clipped))

    def _is_closed_date(self, ordinal: int) -> bool:
        if ordinal in self._closed_ordinals:
            return True
        if self._country is None:
            return False
        year = date.fromordinal(ordinal).year
        return ordinal in _holiday_ordinals(self._country, self._subdivision, year)

    def _local_us(self, ordinal: int, seconds: int) -> int:
        """Epoch µs of local wall time `seconds` after midnight of local date `ordinal`.

        A wall time in a DST gap maps to the first instant after the gap (the instant the clocks
        jump); one in a fold maps to its first occurrence. Monotone in the wall time.
        """
        naive = datetime.fromordinal(ordinal) + timedelta(seconds=seconds)
        off0 = naive.replace(tzinfo=self._tz).utcoffset()
        off1 = naive.replace(tzinfo=self._tz, fold=1).utcoffset()
        assert off0 is not None and off1 is not None
        wall_us = (naive - _EPOCH_NAIVE) // _US
        if off0 >= off1:  # unambiguous, or a fold (fold=0 is the first occurrence)
            return wall_us - off0 // _US
        # A gap: fold=0 gives an instant after the jump, fold=1 one before; bisect whole seconds for the
        # first instant whose offset is no longer the pre-gap offset (tzdata transitions are whole seconds).
        before_s = (wall_us - off1 // _US) // 1_000_000
        after_s = -((-(wall_us - off0 // _US)) // 1_000_000)
        while after_s - before_s > 1:
            mid = (before_s + after_s) // 2
            if (_EPOCH + timedelta(seconds=mid)).astimezone(self._tz).utcoffset() == off0:
                before_s = mid
            else:
                after_s = mid
        return after_s * 1_000_000


def _instant_error(**args: Any) -> Exception:
    """The error for arguments that broke the arithmetic: a naive datetime, or not a datetime/timedelta."""
    for name, value in args.items():
        if isinstance(value, datetime) and value.utcoffset() is None:
            return NaiveDatetimeError(
                name,
                f"{value.isoformat()} is a naive datetime; pass an aware one (tzinfo=ZoneInfo(...) or UTC)",
            )
    for name, value in args.items():
        expected = timedelta if name == "d" else datetime
        if not isinstance(value, expected):
            return TypeError(
                f"{name} must be {'a timedelta' if name == 'd' else 'an aware datetime'}, got {value!r}"
            )
    return TypeError(f"unusable arguments: {args!r}")


def _to_us(t: datetime, name: str) -> int:
    """Epoch microseconds of an aware datetime; a naive one names no instant and is refused."""
    try:
        return (t - _EPOCH) // _US
    except TypeError:
        if isinstance(t, datetime):
            raise NaiveDatetimeError(
                name,
                f"{t.isoformat()} is a naive datetime; pass an aware one (tzinfo=ZoneInfo(...) or UTC)",
            ) from None
        raise TypeError(f"{name} must be an aware datetime, got {t!r}") from None


def _from_us(x: int) -> datetime:
    return _EPOCH + x * _US
