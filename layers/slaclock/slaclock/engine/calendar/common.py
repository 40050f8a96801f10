"""The calendar's constants and errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from slaclock.engine.errors import ValidationError

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
