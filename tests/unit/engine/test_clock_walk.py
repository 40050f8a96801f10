"""The one clock walk (`slaclock.engine.walk`): the status rule, counting intervals and due instants.

Calendars are `BusinessCalendar.from_dict` documents as a configuration writes them; the expected
instants are worked out by hand from those opening hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.walk import (
    ClockStatus,
    Micros,
    clock_status,
    counting_intervals,
    instant,
    paused_at,
    walk,
)

MICROS = Micros()
H = 3_600_000_000  # one hour in µs
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
ALWAYS = BusinessCalendar.from_dict({"timezone": "UTC", "hours": "24x7"})
OFFICE = BusinessCalendar.from_dict(
    {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]}}
)


def us(hours: float) -> int:
    return MICROS[T0 + timedelta(hours=hours)]


@pytest.mark.parametrize(
    ("cancelled", "stop", "due", "now", "paused", "expected"),
    [
        (True, 5, 3, 9, False, ClockStatus.CANCELLED),  # cancelled wins over everything
        (False, 3, 3, 9, False, ClockStatus.MET),  # stopped exactly at due: met
        (False, 4, 3, 9, False, ClockStatus.MISSED),  # stopped after due
        (False, 4, None, 9, False, ClockStatus.MET),  # no due instant: met
        (False, None, 3, 3, False, ClockStatus.OPEN),  # at due exactly: not missed yet
        (False, None, 3, 4, True, ClockStatus.MISSED),  # past due: missed even while paused
        (False, None, 3, 2, True, ClockStatus.PAUSED),
        (False, None, None, 2, False, ClockStatus.OPEN),
    ],
)
def test_the_status_rule(cancelled, stop, due, now, paused, expected):
    assert clock_status(cancelled, stop, due, now, paused) is expected
    # the same rule on datetimes (as `clock_at` uses it)
    dt = {
        k: None if v is None else T0 + timedelta(hours=v)
        for k, v in (("stop", stop), ("due", due), ("now", now))
    }
    assert clock_status(cancelled, dt["stop"], dt["due"], dt["now"], paused) is expected


TIMELINE = [
    (us(0), "open", False),
    (us(1), "pending", False),
    (us(3), "open", False),
    (us(5), "solved", True),
]
ATS = [at for at, _, _ in TIMELINE]


def test_counting_intervals_skip_pause_statuses_and_the_solved_stretch():
    intervals, since = counting_intervals(TIMELINE, ATS, us(0), None, frozenset({"pending"}))
    assert intervals == [(us(0), us(1)), (us(3), us(5))]
    assert since == us(5)  # solved at the end of what is known
    # without pause statuses the first two stretches merge; bounded at 4 h nothing is unbounded
    assert counting_intervals(TIMELINE, ATS, us(0.5), us(4), frozenset()) == ([(us(0.5), us(4))], None)


def test_paused_at_reads_the_status_in_force():
    pause = frozenset({"pending"})
    assert not paused_at(TIMELINE, us(0.5), us(0), pause)
    assert paused_at(TIMELINE, us(1), us(0), pause)
    assert not paused_at(TIMELINE, us(3), us(0), pause)
    assert paused_at(TIMELINE, us(6), us(0), pause)  # solved
    assert not paused_at(TIMELINE, us(2), us(2.5), pause)  # before the clock started


def test_walk_finds_each_amount_in_business_time_and_counts_up_to_the_limit():
    # Mon 09:00-17:00 and Tue 09:00-17:00; counting from Mon 10:00 without end.
    start = us(1)
    reached, first_projected, counted = walk(OFFICE, [(start, None)], (2 * H, 7 * H, 9 * H), us(3))
    assert [instant(r) for r in reached if r is not None] == [
        T0 + timedelta(hours=3),  # Mon 12:00
        T0 + timedelta(hours=8),  # Mon 17:00: exactly the end of the day
        T0 + timedelta(days=1, hours=2),  # Tue 11:00 (7 h on Monday, 2 h on Tuesday)
    ]
    assert first_projected == 3  # no projection
    assert counted == 2 * H  # Mon 10:00 to the limit 12:00


def test_walk_of_a_stopped_clock_computes_only_the_asked_instant_in_the_projection():
    # Counted 1 h (09:00-10:00), stopped at 10:00, projected from the stop: the 2 h amount falls at
    # 11:00 in the projection; with only_in_projection=1 the 90-minute amount is left out.
    intervals = [(us(0), us(1)), (us(1), None)]
    reached, first_projected, counted = walk(ALWAYS, intervals, (H * 3 // 2, 2 * H), us(1), us(1), 1)
    assert reached == [None, us(2)]
    assert first_projected == 0
    assert counted == H  # the projection does not count
    # without it, both instants are reached
    assert walk(ALWAYS, intervals, (H * 3 // 2, 2 * H), us(1), us(1))[0] == [us(1.5), us(2)]
