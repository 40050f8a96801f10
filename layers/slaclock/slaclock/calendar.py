"""Public home of the business-time calendar (the implementation lives in the pure engine)."""

from slaclock.engine.calendar import (
    NEVER,
    BusinessCalendar,
    CalendarError,
    CalendarInputError,
    NaiveDatetimeError,
)

__all__ = ["NEVER", "BusinessCalendar", "CalendarError", "CalendarInputError", "NaiveDatetimeError"]
