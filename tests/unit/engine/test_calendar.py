"""BusinessCalendar: worked examples, boundaries, DST, holidays, closures, documents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slaclock.engine.calendar import (
    NEVER,
    BusinessCalendar,
    CalendarError,
    CalendarInputError,
    NaiveDatetimeError,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def cal(hours, tz="Europe/Paris", **holidays) -> BusinessCalendar:
    doc = {"timezone": tz, "hours": hours}
    if holidays:
        doc["holidays"] = holidays
    return BusinessCalendar.from_dict(doc)


def office(start="09:00", end="17:00", tz="Europe/Paris", **holidays) -> BusinessCalendar:
    return cal({d: [f"{start}-{end}"] for d in WEEKDAYS}, tz, **holidays)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


# --------------------------------------------------------------- worked examples of docs/calendar.md


def test_friday_1645_plus_30_minutes_is_due_monday_0915():
    assert office().add(paris(2026, 11, 20, 16, 45), 30 * M) == paris(2026, 11, 23, 9, 15)


def test_ticket_created_friday_1600_has_used_one_hour_at_monday_0900():
    assert office().elapsed(paris(2026, 11, 20, 16), paris(2026, 11, 23, 9)) == H


def test_four_hours_from_1500_on_0800_1700_is_1000_next_business_day():
    assert office("08:00").add(paris(2026, 11, 18, 15), 4 * H) == paris(2026, 11, 19, 10)
    assert office("08:00").add(paris(2026, 11, 20, 15), 4 * H) == paris(2026, 11, 23, 10)  # Friday


def test_four_hours_from_1500_on_24x7_is_1900_same_day():
    assert cal("24x7").add(paris(2026, 11, 18, 15), 4 * H) == paris(2026, 11, 18, 19)


# ------------------------------------------------------------------------------ boundaries


def test_a_duration_ending_exactly_at_closing_returns_the_closing_instant():
    c = office()
    assert c.add(paris(2026, 11, 20, 16), H) == paris(2026, 11, 20, 17)  # Friday 17:00, not Monday 09:00
    assert c.add(paris(2026, 11, 20, 9), 8 * H) == paris(2026, 11, 20, 17)
    assert c.add(paris(2026, 11, 20, 16), H + timedelta(microseconds=1)) == paris(2026, 11, 23, 9, 0, 0, 1)


def test_zero_duration_returns_the_start_even_while_closed():
    c = office()
    for t in (paris(2026, 11, 21, 3), paris(2026, 11, 20, 17), paris(2026, 11, 20, 12, 0, 0, 7)):
        assert c.add(t, timedelta(0)) == t


def test_results_are_aware_utc_datetimes():
    c = office()
    t = paris(2026, 11, 20, 16, 45)
    for result in (c.add(t, M), c.next_open(t), c.next_close(t), c.next_open(paris(2026, 11, 21))):
        assert result.tzinfo is UTC


def test_open_intervals_are_half_open():
    c = office()
    assert c.is_open(paris(2026, 11, 20, 9))
    assert c.is_open(paris(2026, 11, 20, 16, 59, 59, 999999))
    assert not c.is_open(paris(2026, 11, 20, 17))
    assert not c.is_open(paris(2026, 11, 20, 8, 59, 59, 999999))


def test_start_while_closed_waits_for_the_next_opening():
    c = office()
    saturday = paris(2026, 11, 21, 11)
    assert c.add(saturday, 90 * M) == paris(2026, 11, 23, 10, 30)
    assert c.next_open(saturday) == paris(2026, 11, 23, 9)
    assert c.next_close(saturday) == paris(2026, 11, 23, 17)
    assert c.elapsed(saturday, paris(2026, 11, 23, 9)) == timedelta(0)


def test_next_open_is_t_itself_when_open_and_next_close_ends_the_current_stretch():
    c = office()
    t = paris(2026, 11, 19, 11, 22, 33, 444)
    assert c.next_open(t) == t
    assert c.next_close(t) == paris(2026, 11, 19, 17)
    assert c.next_open(paris(2026, 11, 19, 17)) == paris(2026, 11, 20, 9)


def test_elapsed_is_zero_when_b_is_not_after_a():
    c = cal("24x7")
    t = paris(2026, 11, 19, 11)
    assert c.elapsed(t, t) == timedelta(0)
    assert c.elapsed(t, t - H) == timedelta(0)


def test_microseconds_are_kept():
    c = office()
    t = paris(2026, 11, 20, 16, 59, 59, 999_998)
    assert c.add(t, timedelta(microseconds=3)) == paris(2026, 11, 23, 9, 0, 0, 1)
    assert c.elapsed(t, paris(2026, 11, 23, 9, 0, 0, 1)) == timedelta(microseconds=3)


def test_multi_year_durations_are_exact():
    c = office(tz="UTC")
    monday = datetime(2026, 1, 5, 9, tzinfo=UTC)
    three_years_of_weeks = 156 * 40 * H
    due = c.add(monday, three_years_of_weeks)
    assert due == datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(weeks=156) - timedelta(days=2, hours=16)
    assert c.elapsed(monday, due) == three_years_of_weeks
    assert cal("24x7").add(paris(2026, 1, 1), timedelta(days=3000)) == paris(2026, 1, 1) + timedelta(
        days=3000
    )


def test_negative_durations_are_refused():
    with pytest.raises(ValueError, match="negative"):
        office().add(paris(2026, 11, 20, 10), -M)


def test_results_past_year_9999_are_refused_not_hung():
    with pytest.raises(CalendarInputError, match="9999"):
        office().add(paris(2026, 11, 20, 10), timedelta(days=999_999_999))


@pytest.mark.parametrize("method", ["is_open", "next_open", "next_close"])
def test_naive_datetimes_are_rejected_with_a_clear_error(method):
    with pytest.raises(NaiveDatetimeError, match="naive datetime"):
        getattr(office(), method)(datetime(2026, 11, 20, 10))


def test_naive_datetimes_are_rejected_by_add_and_elapsed():
    c = office()
    naive, aware = datetime(2026, 11, 20, 10), paris(2026, 11, 20, 10)
    for call in (lambda: c.add(naive, H), lambda: c.elapsed(naive, aware), lambda: c.elapsed(aware, naive)):
        with pytest.raises(ValueError, match="naive datetime"):
            call()


# ------------------------------------------------------------------------------ shapes of opening hours


def test_ranges_ending_at_2400():
    c = cal({"sat": ["18:00-24:00"]}, tz="UTC")
    assert c.is_open(datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC))
    assert not c.is_open(datetime(2026, 11, 22, tzinfo=UTC))
    assert c.next_close(datetime(2026, 11, 21, 20, tzinfo=UTC)) == datetime(2026, 11, 22, tzinfo=UTC)
    assert c.add(datetime(2026, 11, 21, 18, tzinfo=UTC), 6 * H) == datetime(2026, 11, 22, tzinfo=UTC)
    whole_days = cal({d: ["00:00-24:00"] for d in WEEKDAYS}, tz="UTC")
    assert (
        whole_days.elapsed(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)) == 120 * H
    )


def test_back_to_back_ranges_are_one_stretch():
    c = cal({"mon": ["09:00-12:00", "12:00-17:00"]})
    assert c.next_close(paris(2026, 11, 23, 10)) == paris(2026, 11, 23, 17)
    assert c.is_open(paris(2026, 11, 23, 12))
    assert c.elapsed(paris(2026, 11, 23), paris(2026, 11, 24)) == 8 * H


def test_a_range_crossing_midnight_belongs_to_the_day_it_starts_on():
    c = cal({"fri": ["22:00-06:00"], "sat": ["06:00-10:00"]})
    friday_night = paris(2026, 11, 20, 23)
    assert c.is_open(friday_night) and c.is_open(paris(2026, 11, 21, 5, 59))
    assert not c.is_open(paris(2026, 11, 20, 3))  # Friday early morning: Thursday had no night range
    assert c.next_close(friday_night) == paris(2026, 11, 21, 10)  # 22:00-06:00 + 06:00-10:00 is one stretch
    assert c.add(paris(2026, 11, 20, 21), 9 * H) == paris(2026, 11, 21, 7)
    assert c.elapsed(paris(2026, 11, 20), paris(2026, 11, 22)) == 12 * H


def test_a_holiday_removes_the_ranges_that_start_on_it_not_the_previous_nights_tail():
    hours = {"fri": ["22:00-06:00"], "sat": ["06:00-10:00"]}
    saturday_off = cal(hours, dates=["2026-11-21"])
    assert saturday_off.is_open(paris(2026, 11, 21, 5))  # Friday's night range still runs into Saturday
    assert not saturday_off.is_open(paris(2026, 11, 21, 7))
    assert saturday_off.next_close(paris(2026, 11, 20, 23)) == paris(2026, 11, 21, 6)
    friday_off = cal(hours, dates=["2026-11-20"])
    assert not friday_off.is_open(paris(2026, 11, 20, 23))
    assert not friday_off.is_open(paris(2026, 11, 21, 5))
    assert friday_off.next_open(paris(2026, 11, 20, 23)) == paris(2026, 11, 21, 6)


# ------------------------------------------------------------------------------ DST


def test_paris_24x7_days_are_23_and_25_hours_long_on_dst_sundays():
    c = cal("24x7")
    assert c.elapsed(paris(2026, 3, 29), paris(2026, 3, 30)) == 23 * H
    assert c.elapsed(paris(2026, 10, 25), paris(2026, 10, 26)) == 25 * H


def test_a_night_range_spanning_the_change_is_an_hour_shorter_or_longer():
    c = cal({"sat": ["22:00-06:00"]}, tz="America/New_York")
    assert c.elapsed(ny(2026, 3, 7, 12), ny(2026, 3, 8, 12)) == 7 * H  # spring forward
    assert c.elapsed(ny(2026, 10, 31, 12), ny(2026, 11, 1, 12)) == 9 * H  # fall back
    assert c.add(ny(2026, 3, 7, 22), 7 * H) == ny(2026, 3, 8, 6)
    assert c.add(ny(2026, 10, 31, 22), 9 * H) == ny(2026, 11, 1, 6)


def test_a_boundary_in_a_gap_maps_to_the_instant_after_the_gap():
    # Paris, 2026-03-29: 02:00 -> 03:00, so 02:30 does not exist; it maps to 03:00 CEST (01:00 UTC).
    c = cal({"sun": ["02:30-05:00"]})
    assert c.next_open(paris(2026, 3, 29)) == datetime(2026, 3, 29, 1, tzinfo=UTC) == paris(2026, 3, 29, 3)
    assert c.elapsed(paris(2026, 3, 29), paris(2026, 3, 30)) == 2 * H
    gone = cal({"sun": ["02:00-03:00"], "mon": ["09:00-10:00"]})  # the whole range is in the gap
    assert gone.elapsed(paris(2026, 3, 29), paris(2026, 3, 30)) == timedelta(0)
    assert gone.next_open(paris(2026, 3, 29)) == paris(2026, 3, 30, 9)
    assert gone.elapsed(paris(2026, 3, 22), paris(2026, 3, 23)) == H  # an ordinary Sunday


def test_a_boundary_in_a_fold_maps_to_its_first_occurrence():
    # New York, 2026-11-01: 02:00 EDT -> 01:00 EST, so 01:30 happens twice; the first one counts.
    c = cal({"sun": ["01:30-03:00"]}, tz="America/New_York")
    # (An aware datetime inside a fold never compares equal across zones (PEP 495): use its UTC form.)
    first = ny(2026, 11, 1, 1, 30, fold=0).astimezone(UTC)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert c.next_open(ny(2026, 11, 1)) == first
    assert c.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 150 * M  # 01:30 EDT .. 03:00 EST
    assert c.is_open(ny(2026, 11, 1, 1, 10, fold=1))  # the repeated hour is inside the range
    ends_in_fold = cal({"sun": ["00:00-01:30"]}, tz="America/New_York")
    assert ends_in_fold.next_close(ny(2026, 11, 1)) == first
    assert not ends_in_fold.is_open(ny(2026, 11, 1, 1, 10, fold=1))


def test_a_midnight_that_does_not_exist_is_handled():
    # Santiago, 2026-09-06: clocks jump from 24:00 Saturday to 01:00 Sunday.
    c = cal({"sun": ["00:00-02:00"]}, tz="America/Santiago")
    santiago = ZoneInfo("America/Santiago")
    assert c.elapsed(datetime(2026, 9, 5, tzinfo=santiago), datetime(2026, 9, 7, tzinfo=santiago)) == H
    assert c.next_open(datetime(2026, 9, 5, 12, tzinfo=santiago)) == datetime(2026, 9, 6, 4, tzinfo=UTC)


# ------------------------------------------------------------------------------ holidays and closures


def test_start_on_a_holiday():
    c = office(country="FR")
    christmas = paris(2026, 12, 25, 10)  # a Friday
    assert not c.is_open(christmas)
    assert c.add(christmas, H) == paris(2026, 12, 28, 10)
    assert c.next_open(christmas) == paris(2026, 12, 28, 9)


def test_holidays_of_a_subdivision():
    good_friday = paris(2026, 4, 3, 10)
    assert office(country="FR").is_open(good_friday)
    assert not office(country="FR", subdivision="57").is_open(good_friday)  # Alsace-Moselle
    assert not office(country="FR", subdivision="57").is_open(paris(2025, 12, 26, 10))  # St Stephen


def test_holiday_tables_cover_any_year_asked_for():
    c = office("09:00", "17:00", "America/New_York", country="US")
    assert not c.is_open(ny(2026, 11, 26, 10))  # Thanksgiving 2026, loaded first
    assert not c.is_open(ny(2041, 11, 28, 10))  # Thanksgiving 2041
    assert c.is_open(ny(2041, 11, 27, 10))
    assert c.add(ny(2041, 11, 27, 16), 2 * H) == ny(2041, 11, 29, 10)
    assert not c.is_open(ny(1995, 7, 4, 10))  # and the past


def test_extra_closed_dates_work_without_a_country():
    c = office(dates=["2026-12-24"])
    assert not c.is_open(paris(2026, 12, 24, 10))
    assert c.is_open(paris(2026, 12, 25, 10))  # no country: Christmas is an ordinary Friday


def test_closures_remove_part_of_a_day():
    c = office(
        closures=[
            {"date": "2026-12-31", "from": "13:00"},
            {"date": "2026-12-30", "until": "10:00"},
            {"date": "2026-12-29", "from": "12:00", "until": "14:00"},
        ]
    )
    assert c.elapsed(paris(2026, 12, 31), paris(2027, 1, 1)) == 4 * H
    assert c.next_close(paris(2026, 12, 31, 9)) == paris(2026, 12, 31, 13)
    assert c.elapsed(paris(2026, 12, 30), paris(2026, 12, 31)) == 7 * H
    assert c.next_open(paris(2026, 12, 30, 8)) == paris(2026, 12, 30, 10)
    assert c.elapsed(paris(2026, 12, 29), paris(2026, 12, 30)) == 6 * H
    assert c.add(paris(2026, 12, 29, 11), 2 * H) == paris(2026, 12, 29, 15)
    assert c.is_open(paris(2026, 12, 29, 14))


def test_a_closure_cuts_the_tail_of_the_previous_nights_range():
    c = cal({"mon": ["22:00-06:00"]}, closures=[{"date": "2026-11-24", "until": "03:00"}])
    assert c.elapsed(paris(2026, 11, 23, 12), paris(2026, 11, 24, 12)) == 5 * H
    assert c.next_close(paris(2026, 11, 23, 23)) == paris(2026, 11, 24)


def test_next_close_of_an_always_open_calendar():
    assert cal("24x7").next_close(paris(2026, 11, 20)) == NEVER
    with_holidays = cal("24x7", country="FR")
    assert with_holidays.next_close(paris(2026, 12, 20)) == paris(2026, 12, 25)
    with_a_closure = cal("24x7", closures=[{"date": "2026-12-31", "from": "18:00"}])
    assert with_a_closure.next_close(paris(2026, 11, 20)) == paris(2026, 12, 31, 18)
    assert with_a_closure.next_close(paris(2027, 1, 2)) == NEVER


# ------------------------------------------------------------------------------ documents


def test_every_problem_is_listed_with_its_path():
    doc = {
        "timezone": "Mars/Olympus",
        "hours": {
            "tue": ["09:00-12:00", "13:00-25:00", "11:00-12:30"],
            "wed": "09:00-17:00",
            "fri": ["22:00-06:00"],
            "sat": ["05:00-09:00", "10:00-10:00"],
            "funday": [],
        },
        "holidays": {
            "country": "XX",
            "dates": ["2026-02-30", "soon"],
            "closures": [
                {"date": "2026-12-31"},
                {"date": "2026-12-30", "from": "14:00", "until": "13:00"},
                {"date": "2026-12-29", "from": 780},
                {"date": "someday", "until": "10:00", "when": "always"},
            ],
            "bank_holidays": True,
        },
        "colour": "blue",
    }
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(doc, path="calendars.paris-office")
    p = "calendars.paris-office"
    assert [path for path, _ in info.value.errors] == [
        f"{p}.colour",
        f"{p}.timezone",
        f"{p}.hours.tue[1]",
        f"{p}.hours.tue[2]",
        f"{p}.hours.wed",
        f"{p}.hours.sat[1]",
        f"{p}.hours.funday",
        f"{p}.hours.sat[0]",
        f"{p}.holidays.bank_holidays",
        f"{p}.holidays.country",
        f"{p}.holidays.dates[0]",
        f"{p}.holidays.dates[1]",
        f"{p}.holidays.closures[0]",
        f"{p}.holidays.closures[1].until",
        f"{p}.holidays.closures[2].from",
        f"{p}.holidays.closures[3].when",
        f"{p}.holidays.closures[3].date",
    ]
    text = str(info.value)
    assert f"{p}.hours.tue[1]: '13:00-25:00' is not a time range" in text
    assert "overlaps fri '22:00-06:00'" in text
    assert "quote it" in text  # YAML reads an unquoted 13:00 as 780
    assert isinstance(info.value, ValueError)


def test_unknown_subdivision_and_a_subdivision_without_country():
    with pytest.raises(CalendarError) as info:
        office(country="FR", subdivision="Atlantis")
    assert info.value.errors[0][0] == "holidays.subdivision"
    assert "not a subdivision of FR" in info.value.errors[0][1]
    with pytest.raises(CalendarError, match="needs a country"):
        office(subdivision="57")


@pytest.mark.parametrize("hours", [{}, {"mon": []}, {"mon": [], "sun": []}])
def test_a_calendar_with_no_opening_hours_is_a_clear_error(hours):
    with pytest.raises(CalendarError, match="no opening hours"):
        cal(hours)


@pytest.mark.parametrize(
    "doc, path",
    [
        ({"hours": "24x7"}, "timezone"),
        ({"timezone": "UTC"}, "hours"),
        ({"timezone": "UTC", "hours": "24/7"}, "hours"),
        ("24x7", ""),
    ],
)
def test_missing_or_malformed_parts(doc, path):
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(doc)
    assert [p for p, _ in info.value.errors] == [path]


@pytest.mark.parametrize(
    "doc",
    [
        {"timezone": "UTC", "hours": "24x7"},
        {
            "timezone": "Europe/Paris",
            "hours": {"tue": ["13:00-17:00", "09:00-12:00"], "fri": ["22:00-06:00"]},
        },
        {"timezone": "America/New_York", "hours": {"sat": ["18:00-24:00", "00:00-02:00:30"]}},
        {
            "timezone": "Europe/Paris",
            "hours": {d: ["09:00-17:00"] for d in WEEKDAYS},
            "holidays": {
                "country": "FR",
                "subdivision": "57",
                "dates": ["2026-12-24", date(2026, 12, 23)],
                "closures": [
                    {"date": "2026-12-31", "from": "13:00"},
                    {"date": date(2026, 12, 30), "until": "24:00"},
                ],
            },
        },
        {
            "timezone": "UTC",
            "hours": "24x7",
            "holidays": {"closures": [{"date": "2026-01-02", "until": "10:00"}]},
        },
    ],
)
def test_to_dict_round_trips(doc):
    c = BusinessCalendar.from_dict(doc)
    again = BusinessCalendar.from_dict(c.to_dict())
    assert again.to_dict() == c.to_dict()
    assert again == c
    assert c.timezone == doc["timezone"]


def test_to_dict_is_canonical():
    c = cal({"tue": ["13:00-17:00", "09:00-12:00"], "fri": ["22:00-00:00"]}, dates=[date(2026, 12, 24)])
    assert c.to_dict() == {
        "timezone": "Europe/Paris",
        "hours": {"tue": ["09:00-12:00", "13:00-17:00"], "fri": ["22:00-24:00"]},
        "holidays": {"country": None, "subdivision": None, "dates": ["2026-12-24"], "closures": []},
    }


def test_a_day_left_empty_in_yaml_is_closed():
    c = cal({"mon": ["09:00-17:00"], "sat": None})
    assert c.to_dict()["hours"] == {"mon": ["09:00-17:00"]}
    assert not c.is_open(paris(2026, 11, 21, 10))


def test_arguments_of_the_wrong_type_are_type_errors():
    c = office()
    with pytest.raises(TypeError, match="aware datetime"):
        c.add("2026-11-20T10:00:00Z", H)
    with pytest.raises(TypeError, match="timedelta"):
        c.add(paris(2026, 11, 20, 10), 3600)
