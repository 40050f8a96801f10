"""Property tests: BusinessCalendar against a deliberately simple reference that steps minute by minute.

The reference knows nothing of the implementation's blocks, bisections or gap/fold arithmetic. It walks
UTC minutes and reads the wall clock; a minute is open when the latest wall time shown so far (the
running maximum, so a repeated hour in a fold does not move it backwards) lies in a range that starts
on a non-closed date, and not in a closure of its date. That is exactly the documented rule: a local
boundary maps to the earliest instant whose wall clock has reached it (after the gap for a nonexistent
time, the first occurrence for an ambiguous one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slaclock.engine.calendar import BusinessCalendar

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
M = timedelta(minutes=1)

#: UTC instants near DST changes (and a block boundary of the implementation, 2026-05-10T03:48:16Z).
ZONES = {
    "Europe/Paris": ["2026-03-29T01:00", "2026-10-25T01:00", "2026-05-10T03:48"],
    "America/New_York": ["2026-03-08T07:00", "2026-11-01T06:00"],
    "Australia/Lord_Howe": ["2026-04-04T15:00", "2026-10-03T15:30"],  # 30-minute DST
    "America/Santiago": ["2026-04-05T03:00", "2026-09-06T04:00"],  # changes at local midnight
    "UTC": ["2026-05-10T03:48", "2026-12-31T12:00"],
}
WINDOW_MIN = 7 * 1440  # the reference's view: 7 days from `origin`


def fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


@st.composite
def calendars(draw):
    """A calendar document with 30-minute-aligned ranges, sometimes crossing midnight, plus exceptions."""
    tz = draw(st.sampled_from(sorted(ZONES)))
    origin = datetime.fromisoformat(draw(st.sampled_from(ZONES[tz]))).replace(tzinfo=UTC)
    origin -= timedelta(days=draw(st.integers(0, 3)), minutes=30 * draw(st.integers(0, 47)))
    if draw(st.integers(0, 9)) == 0:
        hours = "24x7"
        week = [[(0, 1440)] for _ in DAYS]
    else:
        week = []
        for _ in DAYS:
            points = sorted(draw(st.sets(st.integers(0, 48), max_size=4)))
            week.append([(30 * a, 30 * b) for a, b in zip(points[::2], points[1::2], strict=False)])
        for wd in range(7):  # sometimes a night range ending before the next day's first one
            last_end = max([e for _, e in week[wd]] + [e - 1440 for _, e in week[wd - 1]], default=0)
            next_start = min((s for s, _ in week[(wd + 1) % 7]), default=1440)
            if last_end < 1410 and next_start >= 30 and draw(st.integers(0, 3)) == 0:
                start = 30 * draw(st.integers(max(1, last_end // 30), 47))
                end = 30 * draw(st.integers(1, min(next_start, start) // 30))
                week[wd].append((start, 1440 + end) if end < start else (start, 1440))
        if not any(week):
            week[0] = [(540, 1020)]
        hours = {
            DAYS[wd]: [f"{fmt(s)}-{fmt(e if e <= 1440 else e - 1440)}" for s, e in day]
            for wd, day in enumerate(week)
            if day
        }
    local_days = [(origin + timedelta(days=i)).astimezone(ZoneInfo(tz)).date() for i in range(9)]
    dates = draw(st.lists(st.sampled_from(local_days), max_size=2, unique=True))
    closures = []
    for day in draw(st.lists(st.sampled_from(local_days), max_size=2, unique=True)):
        a, b = sorted(draw(st.sets(st.integers(0, 48), min_size=2, max_size=2)))
        closures.append({"date": day.isoformat(), "from": fmt(30 * a), "until": fmt(30 * b)})
    country = draw(st.sampled_from([None, None, "US", "FR"]))
    doc = {"timezone": tz, "hours": hours}
    if dates or closures or country:
        doc["holidays"] = {"country": country, "dates": [d.isoformat() for d in dates], "closures": closures}
    return doc, week, origin


class Reference:
    """Open minutes of `doc` over [origin, origin + WINDOW_MIN), stepping one UTC minute at a time."""

    def __init__(self, doc, week, origin: datetime) -> None:
        tz = ZoneInfo(doc["timezone"])
        spec = doc.get("holidays") or {}
        closed = {date.fromisoformat(d) for d in spec.get("dates", [])}
        if spec.get("country"):
            closed |= set(holidays.country_holidays(spec["country"], years=[2025, 2026, 2027]))
        closures: dict[date, list[tuple[int, int]]] = {}
        for c in spec.get("closures", []):
            window = (
                int(c["from"][:2]) * 60 + int(c["from"][3:]),
                int(c["until"][:2]) * 60 + int(c["until"][3:]),
            )
            closures.setdefault(date.fromisoformat(c["date"]), []).append(window)
        self.origin = origin
        self.week, self.closed, self.closures = week, closed, closures
        self.days: dict[date, list[bool]] = {}
        self.open: list[bool] = []
        latest = None
        for i in range(-180, WINDOW_MIN):  # three hours of look-back prime the running maximum
            wall = (origin + i * M).astimezone(tz).replace(tzinfo=None)
            latest = wall if latest is None or wall > latest else latest
            if i >= 0:
                self.open.append(self._wall_minutes(latest.date())[latest.hour * 60 + latest.minute])

    def _wall_minutes(self, day: date) -> list[bool]:
        """Whether each wall-clock minute of `day` is open."""
        if day not in self.days:
            minutes = [False] * 1440
            for back in (1, 0):  # night ranges of the day before, then the day's own ranges
                start_day = day - timedelta(days=back)
                if start_day in self.closed:
                    continue
                for s, e in self.week[start_day.weekday()]:
                    for m in range(max(s - 1440 * back, 0), min(e - 1440 * back, 1440)):
                        minutes[m] = True
            for a, b in self.closures.get(day, []):
                minutes[a:b] = [False] * (b - a)
            self.days[day] = minutes
        return self.days[day]

    def index(self, t: datetime) -> int:
        return (t - self.origin) // M

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        return sum(self.open[self.index(a) : self.index(b)]) * M

    def add(self, t: datetime, d: timedelta) -> datetime | None:
        """None when the answer lies beyond the window."""
        need = d // M
        if need == 0:
            return t
        for i in range(self.index(t), WINDOW_MIN):
            need -= self.open[i]
            if need == 0:
                return self.origin + (i + 1) * M
        return None

    def next_change(self, t: datetime, to_open: bool) -> datetime | None:
        for i in range(self.index(t), WINDOW_MIN):
            if self.open[i] == to_open:
                return self.origin + i * M
        return None


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), st.data())
def test_calendar_matches_the_minute_stepping_reference(case, data):
    doc, week, origin = case
    cal = BusinessCalendar.from_dict(doc)
    ref = Reference(doc, week, origin)
    tz = ZoneInfo(doc["timezone"])
    for _ in range(6):
        t = origin + data.draw(st.integers(0, 5 * 1440)) * M
        u = t + data.draw(st.integers(0, 2 * 1440)) * M
        t_local = t.astimezone(tz)  # inputs in any zone, including ones inside a fold
        assert cal.is_open(t_local) == ref.open[ref.index(t)], t
        assert cal.elapsed(t_local, u) == ref.elapsed(t, u), (t, u)
        d = data.draw(st.integers(0, 3 * 1440)) * M
        expected = ref.add(t, d)
        if expected is not None:
            assert cal.add(t_local, d) == expected, (t, d)
        nxt = ref.next_change(t, True)
        if nxt is not None:
            assert cal.next_open(t) == nxt
            close = ref.next_change(nxt, False)
            if close is not None:
                assert cal.next_close(t) == close


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=50)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3 * 365)),
)


@settings(max_examples=60, deadline=None)
@given(calendars(), instants, durations, durations)
def test_add_and_elapsed_identities(case, t, d1, d2):
    cal = BusinessCalendar.from_dict(case[0])
    due = cal.add(t, d1)
    assert due >= t
    assert cal.elapsed(t, due) == d1
    if d1 > timedelta(0):  # earliest: one microsecond before, not enough time has passed
        assert cal.elapsed(t, due - timedelta(microseconds=1)) < d1
    lo, hi = sorted((d1, d2))
    assert cal.add(t, lo) <= cal.add(t, hi)  # monotone in the duration


@settings(max_examples=60, deadline=None)
@given(calendars(), instants, instants, instants)
def test_elapsed_is_additive_and_add_inverts_it(case, a, b, c):
    cal = BusinessCalendar.from_dict(case[0])
    a, b, c = sorted((a, b, c))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    back = cal.add(a, cal.elapsed(a, c))
    assert back <= c
    assert cal.elapsed(back, c) == timedelta(0)
    if cal.elapsed(c - timedelta(microseconds=1), c):
        # open just before c: the earliest instant with that much open time is c itself. (At the very
        # instant a stretch opens, `is_open(c)` is true but the earliest such instant is the previous
        # close: add returns the EARLIEST u, see docs/calendar.md.)
        assert back == c


def test_add_returns_the_previous_close_when_the_target_ends_exactly_where_a_stretch_opens():
    # Found by hypothesis: Sunday 21:00-00:30 in Santiago; c is the instant a stretch opens.
    cal = BusinessCalendar.from_dict({"timezone": "America/Santiago", "hours": {"sun": ["21:00-00:30"]}})
    a = datetime(2020, 1, 1, tzinfo=UTC)
    c = datetime(2035, 1, 1, tzinfo=UTC)  # Sunday 31 Dec 2034, 21:00 in Santiago (UTC-3)
    assert cal.is_open(c)
    back = cal.add(a, cal.elapsed(a, c))
    assert back == datetime(2034, 12, 25, 3, 30, tzinfo=UTC)  # Monday 00:30 local: the previous close
    assert cal.elapsed(back, c) == timedelta(0)
