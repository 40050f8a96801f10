"""Durations and shares as they are written in a configuration.

Durations are amounts of *business time* of a level's calendar. Two spellings are accepted:

- compact: one or more ``<number><unit>`` parts, largest unit first, each unit at most once, optionally
  separated by spaces: ``90s``, ``45m``, ``1h30m``, ``1h 30m``, ``2d``, ``1.5h``. Units (case-insensitive):
  ``w`` = 7 d, ``d`` = 24 h, ``h``, ``m`` (minutes), ``s``.
- ISO 8601: ``PT8H``, ``P1DT2H``, ``PT0.5S``, ``P2W`` (``,`` may be the decimal mark). Years and months
  have no fixed length and are refused.

A day is 24 HOURS of business time, not one business day: on a Mon-Fri 09:00-17:00 calendar ``1d`` is
three business days (3 x 8 h). Write ``8h`` for "one working day" there.

Arithmetic is exact: numbers are read as decimals (never floats) and kept to the microsecond; a value
finer than a microsecond is refused rather than rounded.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_US_PER = {
    "w": 7 * 86_400_000_000,
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
}

_NUM = r"(\d+(?:\.\d+)?)"
_COMPACT = re.compile(
    rf"(?:{_NUM}\s*w)?\s*(?:{_NUM}\s*d)?\s*(?:{_NUM}\s*h)?\s*(?:{_NUM}\s*m)?\s*(?:{_NUM}\s*s)?",
    re.IGNORECASE,
)
_ISO_NUM = r"(\d+(?:[.,]\d+)?)"
_ISO = re.compile(
    rf"P(?:{_ISO_NUM}W)?(?:{_ISO_NUM}D)?(?:T(?:{_ISO_NUM}H)?(?:{_ISO_NUM}M)?(?:{_ISO_NUM}S)?)?",
    re.IGNORECASE,
)
_ISO_CALENDAR_UNITS = re.compile(r"P(?:[\d.,]+W)?[\d.,]*[YM]", re.IGNORECASE)
_UNITS = ("w", "d", "h", "m", "s")

# Largest duration `timedelta` can hold, in microseconds.
_MAX_US = timedelta.max // timedelta(microseconds=1)
_MAX_TEXT = 64  # no real duration is longer; keeps the regexes' work bounded on hostile input


def parse_duration(value: Any) -> timedelta:
    """Read a duration (see the module docstring); a `timedelta` is returned as is.

    Raises `ValueError` whose message names the value, e.g. ``'1 hour' is not a duration``. A bare
    number is refused (``30 is not a duration (add a unit: '30s' or '30m')``): the unit is never guessed.
    Negative durations are refused; ``0s`` is a valid (zero) duration.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("PT0.5S")
    datetime.timedelta(microseconds=500000)
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"{format_duration(value)!r} is negative")
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a duration (add a unit: '{value}s' or '{value}m')")
        raise ValueError(f"{value!r} is not a duration")
    parts = _parts(value.strip(), value)
    total = Decimal(0)
    for unit, part in zip(_UNITS, parts, strict=True):
        if part is not None:
            try:
                total += Decimal(part) * _US_PER[unit]
            except InvalidOperation:  # pragma: no cover - the regexes only let decimals through
                raise ValueError(f"{value!r} is not a duration") from None
    if total != total.to_integral_value():
        raise ValueError(f"{value!r} is finer than a microsecond")
    if total > _MAX_US:
        raise ValueError(f"{value!r} is too long")
    return timedelta(microseconds=int(total))


def _parts(text: str, value: str) -> list[str | None]:
    """The number written for each of w, d, h, m, s (None when absent)."""
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{value[:_MAX_TEXT]!r}... is not a duration")
    if text[:1] in ("P", "p"):
        m = _ISO.fullmatch(text)
        has_time_part = "T" in text.upper()
        if m is None or not any(m.groups()) or (has_time_part and not any(m.groups()[2:])):
            if _ISO_CALENDAR_UNITS.match(text):
                raise ValueError(f"{value!r} is not a duration: years and months have no fixed length")
            raise ValueError(f"{value!r} is not a duration")
        return [g.replace(",", ".") if g else None for g in m.groups()]
    m = _COMPACT.fullmatch(text)
    if m is None or not any(m.groups()):
        raise ValueError(f"{value!r} is not a duration")
    return list(m.groups())


def format_duration(td: timedelta) -> str:
    """Compact spelling that `parse_duration` reads back exactly: ``1h30m``, ``2d3h``, ``0.5s``, ``0s``.

    Days are 24 h (as in `parse_duration`); weeks are written as days. A negative duration gets a
    leading ``-`` (``-15m``), which `parse_duration` does not accept.
    """
    us = td // timedelta(microseconds=1)
    if us < 0:
        return "-" + format_duration(-td)
    if us == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m"):
        n, us = divmod(us, _US_PER[unit])
        if n:
            out.append(f"{n}{unit}")
    if us:
        seconds, micro = divmod(us, 1_000_000)
        out.append(f"{seconds}.{micro:06d}".rstrip("0").rstrip(".") + "s")
    return "".join(out)


def parse_share(value: Any) -> float:
    """A share of a target: ``"75%"`` -> 0.75, or a plain number in [0, 1] (``0.75``, ``"0.75"``).

    Above 100 % the share must be written with ``%`` (``"150%"``): a bare ``90`` is refused rather than
    read as 9000 %. Negative shares are refused. Range checks beyond that belong to the caller (a
    warning share must be in (0, 1]; an escalation may exceed 1).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a share (write e.g. '75%' or 0.75)")
    if isinstance(value, int | float):
        number = Decimal(str(value))
        percent = False
    elif isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        if percent:
            text = text[:-1].rstrip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a share (write e.g. '75%' or 0.75)") from None
    else:
        raise ValueError(f"{value!r} is not a share (write e.g. '75%' or 0.75)")
    if not number.is_finite() or number < 0:
        raise ValueError(f"{value!r} is not a share (write e.g. '75%' or 0.75)")
    if percent:
        number /= 100
    elif number > 1:
        raise ValueError(f"{value!r} is not a share (write '{value}%' for a percentage, or a number 0-1)")
    return float(number)
