"""Business-time calendar (DESIGN §2). PLACEHOLDER: being implemented; signatures are the contract."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.errors import ValidationError


class CalendarError(ValidationError):
    """A calendar document is invalid (every problem listed with its field path)."""

    def __init__(self, errors: Any) -> None:
        super().__init__(errors, "invalid calendar")


class BusinessCalendar:
    """Opening hours in a time zone, minus holidays, closed dates and partial closures."""

    timezone: str

    @classmethod
    def from_dict(cls, d: Any, *, path: str = "") -> BusinessCalendar:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        raise NotImplementedError

    def add(self, t: datetime, d: timedelta) -> datetime:
        raise NotImplementedError

    def is_open(self, t: datetime) -> bool:
        raise NotImplementedError

    def next_open(self, t: datetime) -> datetime:
        raise NotImplementedError

    def next_close(self, t: datetime) -> datetime:
        raise NotImplementedError
