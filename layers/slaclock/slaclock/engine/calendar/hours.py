"""Reading a calendar document's time zone and opening hours (local wall-clock ranges per day)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slaclock.engine.calendar.common import _CLOCK_RE, _DAY_S, ALWAYS_OPEN, DAY_NAMES, _Errors

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
