"""Business-time calendar: opening hours in a time zone, minus holidays and closures.

A `BusinessCalendar` answers "how much open time lies between two instants" (`elapsed`) and "when is
this much open time used up" (`add`), plus `is_open`, `next_open` and `next_close`. The semantics,
with timelines, are in ``docs/calendar.md``; in short:

- Opening hours are LOCAL WALL-CLOCK ranges in the calendar's IANA time zone; open time is REAL
  elapsed time, so a range that spans a DST change is one hour shorter (spring) or longer (autumn).
- Every instant is open or closed; the open set is a union of half-open UTC intervals ``[start, end)``:
  a calendar open 09:00-17:00 is open at 09:00:00 and closed at 17:00:00.
- A local boundary that does not exist (in a DST gap) maps to the first instant after the gap (the
  instant the clocks jump); an ambiguous one (in a DST fold) maps to its FIRST occurrence. Nothing
  raises for such times.
- A range crossing midnight (``22:00-06:00``) belongs to the day it starts on. A holiday or closed
  date removes the ranges that START on that date. A partial closure removes the wall-clock window
  ``[from, until)`` of its local date (default ``from`` 00:00, default ``until`` 24:00) from ANY open
  time, including the tail of the previous day's midnight-crossing range.
- Public holidays come from the `holidays` package (``holidays.country_holidays(country,
  subdiv=subdivision)``, its default public categories, observed days included as the package gives
  them), loaded one year at a time as queries reach that year, so any year works (2041 as well as 2026).

Every method takes AWARE datetimes (any tzinfo) and returns aware datetimes in UTC
(``datetime.timezone.utc``). Arithmetic is exact to the microsecond.

Speed: the timeline is cut into fixed UTC blocks (~388 days). Each block, built once and cached per
calendar, holds its merged open intervals as integer epoch microseconds plus the cumulative open time
before each interval, so a call is a dictionary lookup and one or two bisections; a long duration walks
block totals (one addition per ~year), never days or minutes.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from slaclock.engine.errors import ValidationError

__all__ = [
    "NEVER",
    "BusinessCalendar",
    "CalendarError",
    "CalendarInputError",
    "NaiveDatetimeError",
]

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN: Final = "24x7"

#: What `next_close` returns when the calendar never closes after the given instant.
NEVER: Final = datetime.max.replace(tzinfo=UTC)

_DAY_S: Final = 86_400
_US: Final = timedelta(microseconds=1)
_ZERO: Final = timedelta(0)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE: Final = datetime(1970, 1, 1)
_MAX_US: Final = (NEVER - _EPOCH) // _US
_MIN_US: Final = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _US
#: Block length: 2**25 s (~388 days), a power of two so a block index is one floor division.
_BLOCK_US: Final = (1 << 25) * 1_000_000
#: Safety stops for walks over blocks (never reached by a calendar that has opening hours).
_MAX_EMPTY_BLOCKS: Final = 40
#: Durations above this (~50 years) are checked for a result past year 9999 before walking.
_LONG_US: Final = 50 * 365 * _DAY_S * 1_000_000
_NEVER_CLOSES_AFTER_BLOCKS: Final = 100

_CLOCK_RE: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TOP_KEYS: Final = ("timezone", "hours", "holidays")
_HOLIDAY_KEYS: Final = ("country", "subdivision", "dates", "closures")
_CLOSURE_KEYS: Final = ("date", "from", "until")

_Errors = list[tuple[str, str]]  # (field path, message)


class CalendarError(ValidationError):
    """A calendar document is invalid (every problem listed with its field path)."""

    def __init__(self, errors: Any) -> None:
        super().__init__(errors, "invalid calendar")


class CalendarInputError(ValidationError):
    """A calendar method got an argument it cannot use (negative duration, result past year 9999...)."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__([(argument, message)], "invalid calendar argument")


class NaiveDatetimeError(CalendarInputError):
    """A naive datetime (no tzinfo) was given where an instant is needed: it names no instant."""


# --------------------------------------------------------------------------------------- the document


@dataclass(frozen=True, slots=True)
class _Range:
    """Local wall-clock range of one weekday, seconds after that day's midnight: 0 <= start < 86400,
    start < end <= start + 86400 (end > 86400 crosses midnight into the next day)."""

    start: int
    end: int

    def text(self) -> str:
        end = self.end if self.end <= _DAY_S else self.end - _DAY_S
        return f"{_fmt_clock(self.start)}-{_fmt_clock(end)}"


@dataclass(frozen=True, slots=True)
class _Closure:
    """Closed wall-clock window of one local date; `start`/`until` None mean 00:00 / 24:00."""

    day: date
    start: int | None
    until: int | None

    def window(self) -> tuple[int, int]:
        return (0 if self.start is None else self.start, _DAY_S if self.until is None else self.until)

    def to_dict(self) -> dict[str, str]:
        out = {"date": self.day.isoformat()}
        if self.start is not None:
            out["from"] = _fmt_clock(self.start)
        if self.until is not None:
            out["until"] = _fmt_clock(self.until)
        return out


def _fmt_clock(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" if s == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parse_clock(value: str, *, allow_24: bool) -> int | None:
    """``HH:MM`` or ``HH:MM:SS`` -> seconds after midnight; ``24:00`` only when `allow_24`."""
    m = _CLOCK_RE.fullmatch(value.strip())
    if m is None:
        return None
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if mi > 59 or s > 59:
        return None
    if h == 24 and mi == 0 and s == 0 and allow_24:
        return _DAY_S
    return h * 3600 + mi * 60 + s if h < 24 else None


def _yaml_hint(value: Any) -> str:
    return " (an unquoted HH:MM in YAML is read as a number: quote it)" if isinstance(value, int) else ""


def _parse_range(value: Any) -> _Range | str:
    """``"09:00-17:00"``, ``"22:00-06:00"`` (crosses midnight), ``"00:00-24:00"`` -> `_Range`, or a
    message."""
    bad = f"{value!r} is not a time range (expected 'HH:MM-HH:MM', e.g. '09:00-17:00')"
    if not isinstance(value, str) or value.count("-") != 1:
        return bad
    left, right = value.split("-")
    start = _parse_clock(left, allow_24=False)
    end = _parse_clock(right, allow_24=True)
    if start is None or end is None:
        return bad
    if end == start:
        return f"{value!r} is an empty time range (use '00:00-24:00' for a whole day)"
    return _Range(start, end if end > start else end + _DAY_S)


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_keys(
    d: Mapping[str, Any], allowed: Sequence[str], path: str, errors: list[tuple[str, str]]
) -> None:
    for key in d:
        if key not in allowed:
            errors.append((_join(path, str(key)), f"unknown key (expected one of: {', '.join(allowed)})"))


def _parse_timezone(value: Any, path: str, errors: _Errors) -> ZoneInfo | None:
    where = _join(path, "timezone")
    if value is None:
        errors.append((where, "required (an IANA time zone name, e.g. 'Europe/Paris')"))
        return None
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    errors.append((where, f"{value!r} is not a known IANA time zone (e.g. 'Europe/Paris', 'UTC')"))
    return None


def _parse_day(value: Any, path: str, errors: _Errors) -> list[tuple[int, _Range]]:
    """One day's list of ranges -> (index in the document, range), sorted by start."""
    if value is None:  # `sat:` left empty in YAML: closed, like `sat: []`
        return []
    if not isinstance(value, list | tuple):
        errors.append((path, f"expected a list of time ranges like ['09:00-17:00'], got {value!r}"))
        return []
    ranges: list[tuple[int, _Range]] = []
    for i, item in enumerate(value):
        parsed = _parse_range(item)
        if isinstance(parsed, str):
            errors.append((f"{path}[{i}]", parsed))
        else:
            ranges.append((i, parsed))
    ranges.sort(key=lambda ir: ir[1].start)
    for (_, prev), (i, cur) in zip(ranges, ranges[1:], strict=False):
        if cur.start < prev.end:
            errors.append((f"{path}[{i}]", f"'{cur.text()}' overlaps '{prev.text()}'"))
    return ranges


def _parse_hours(value: Any, path: str, errors: _Errors) -> tuple[tuple[_Range, ...], ...]:
    """-> seven tuples of ranges, Monday first. ``"24x7"`` is every day ``00:00-24:00``."""
    where = _join(path, "hours")
    if value == ALWAYS_OPEN:
        return tuple((_Range(0, _DAY_S),) for _ in DAY_NAMES)
    if not isinstance(value, Mapping):
        errors.append(
            (where, f"expected '24x7' or a mapping of days (mon..sun) to time ranges, got {value!r}")
        )
        return ((),) * 7
    week: list[list[tuple[int, _Range]]] = [[] for _ in DAY_NAMES]
    for key, day_value in value.items():
        if key not in DAY_NAMES:
            errors.append((_join(where, str(key)), f"unknown day (expected one of: {', '.join(DAY_NAMES)})"))
            continue
        week[DAY_NAMES.index(key)] = _parse_day(day_value, _join(where, key), errors)
    for wd, ranges in enumerate(week):
        # A range running past midnight must end before the next day's first range (Sunday wraps to Monday).
        nxt = (wd + 1) % 7
        for _, r in ranges:
            for j, other in week[nxt]:
                if r.end - _DAY_S > other.start:
                    errors.append(
                        (
                            f"{_join(where, DAY_NAMES[nxt])}[{j}]",
                            f"'{other.text()}' overlaps {DAY_NAMES[wd]} '{r.text()}' (it runs past midnight)",
                        )
                    )
    return tuple(tuple(r for _, r in day) for day in week)


def _parse_closure(value: Any, path: str, errors: _Errors) -> _Closure | None:
    if not isinstance(value, Mapping):
        errors.append((path, f"expected {{date, from?, until?}}, got {value!r}"))
        return None
    before = len(errors)
    _check_keys(value, _CLOSURE_KEYS, path, errors)
    day = _parse_date(value.get("date"))
    if day is None:
        errors.append((_join(path, "date"), f"{value.get('date')!r} is not a date (expected YYYY-MM-DD)"))
    times: dict[str, int | None] = {"from": None, "until": None}
    for key in times:
        raw = value.get(key)
        if raw is None:
            continue
        parsed = _parse_clock(raw, allow_24=key == "until") if isinstance(raw, str) else None
        if parsed is None:
            errors.append((_join(path, key), f"{raw!r} is not a time of day (HH:MM){_yaml_hint(raw)}"))
        times[key] = parsed
    start, until = times["from"], times["until"]
    if value.get("from") is None and value.get("until") is None:
        errors.append((path, "a closure needs 'from', 'until' or both (a whole closed day goes in 'dates')"))
    elif start is not None and until is not None and until <= start:
        errors.append((_join(path, "until"), f"'until' must be after 'from' ({_fmt_clock(start)})"))
    if len(errors) > before or day is None:
        return None
    return _Closure(day, start, until)


def _parse_country(
    d: Mapping[str, Any], path: str, errors: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    country, subdivision = d.get("country"), d.get("subdivision")
    if country is None:
        if subdivision is not None:
            errors.append((_join(path, "subdivision"), "a subdivision needs a country"))
        return None, None
    supported = holidays.list_supported_countries()
    if not isinstance(country, str) or country not in supported:
        errors.append((_join(path, "country"), f"{country!r} is not a country known to the holidays package"))
        return None, None
    if subdivision is None:
        return country, None
    try:
        if not isinstance(subdivision, str):
            raise NotImplementedError
        holidays.country_holidays(country, subdiv=subdivision, years=[])
    except (NotImplementedError, ValueError, KeyError):
        known = ", ".join(str(s) for s in supported[country]) or "none"
        errors.append(
            (
                _join(path, "subdivision"),
                f"{subdivision!r} is not a subdivision of {country} in the holidays package (known: {known})",
            )
        )
        return None, None
    return country, subdivision


def _parse_holidays(
    value: Any, path: str, errors: list[tuple[str, str]]
) -> tuple[str | None, str | None, tuple[date, ...], tuple[_Closure, ...]]:
    where = _join(path, "holidays")
    if value is None:
        return None, None, (), ()
    if not isinstance(value, Mapping):
        errors.append((where, f"expected {{country?, subdivision?, dates?, closures?}}, got {value!r}"))
        return None, None, (), ()
    _check_keys(value, _HOLIDAY_KEYS, where, errors)
    country, subdivision = _parse_country(value, where, errors)
    dates: list[date] = []
    raw_dates = value.get("dates") or []
    if not isinstance(raw_dates, list | tuple):
        errors.append((_join(where, "dates"), f"expected a list of dates (YYYY-MM-DD), got {raw_dates!r}"))
        raw_dates = []
    for i, raw in enumerate(raw_dates):
        parsed = _parse_date(raw)
        if parsed is None:
            errors.append((f"{_join(where, 'dates')}[{i}]", f"{raw!r} is not a date (expected YYYY-MM-DD)"))
        elif parsed not in dates:
            dates.append(parsed)
    closures: list[_Closure] = []
    raw_closures = value.get("closures") or []
    if not isinstance(raw_closures, list | tuple):
        errors.append((_join(where, "closures"), f"expected a list of closures, got {raw_closures!r}"))
        raw_closures = []
    for i, raw in enumerate(raw_closures):
        closure = _parse_closure(raw, f"{_join(where, 'closures')}[{i}]", errors)
        if closure is not None:
            closures.append(closure)
    return country, subdivision, tuple(sorted(dates)), tuple(closures)


@lru_cache(maxsize=1024)
def _holiday_ordinals(country: str, subdivision: str | None, year: int) -> frozenset[int]:
    """Proleptic ordinals of the public holidays of `year`, per the `holidays` package."""
    table = holidays.country_holidays(country, subdiv=subdivision, years=[year])
    return frozenset(d.toordinal() for d in table if d.year == year)


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
