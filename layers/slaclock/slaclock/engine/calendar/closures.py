"""Reading a calendar document's closures: public holidays (the `holidays` package), closed dates and
partial closures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import holidays

from slaclock.engine.calendar.common import _CLOSURE_KEYS, _DAY_S, _HOLIDAY_KEYS, _Errors
from slaclock.engine.calendar.hours import (
    _check_keys,
    _fmt_clock,
    _join,
    _parse_clock,
    _parse_date,
    _yaml_hint,
)


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
