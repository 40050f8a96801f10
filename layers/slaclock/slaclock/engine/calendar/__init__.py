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

from slaclock.engine.calendar.business import BusinessCalendar
from slaclock.engine.calendar.common import (
    ALWAYS_OPEN,
    DAY_NAMES,
    NEVER,
    CalendarError,
    CalendarInputError,
    NaiveDatetimeError,
)

__all__ = [
    "ALWAYS_OPEN",
    "DAY_NAMES",
    "NEVER",
    "BusinessCalendar",
    "CalendarError",
    "CalendarInputError",
    "NaiveDatetimeError",
]
