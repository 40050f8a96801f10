"""Public home of the business-time calendar (the implementation lives in the pure engine)."""

from slaclock.engine.calendar import BusinessCalendar, CalendarError

__all__ = ["BusinessCalendar", "CalendarError"]
