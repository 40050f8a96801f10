"""Pure scheduling helpers: rounding up to the minute and schedule names valid for any ticket id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.schedules import SCHEDULE_NAME_RE, at_expression, round_up_to_minute, schedule_name

T = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)


def test_a_whole_minute_stays_and_anything_after_it_goes_to_the_next():
    assert round_up_to_minute(T) == T
    assert round_up_to_minute(T + timedelta(microseconds=1)) == T + timedelta(minutes=1)
    assert round_up_to_minute(T + timedelta(seconds=59, microseconds=999_999)) == T + timedelta(minutes=1)


def test_rounding_is_in_utc_and_refuses_naive_datetimes():
    paris = timezone(timedelta(hours=1))
    assert round_up_to_minute(datetime(2026, 11, 20, 16, 45, 30, tzinfo=paris)) == T + timedelta(minutes=1)
    assert round_up_to_minute(T).tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        round_up_to_minute(datetime(2026, 11, 20, 15, 45))  # noqa: DTZ001


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_rounded_up_is_never_early_and_less_than_a_minute_late(t):
    r = round_up_to_minute(t)
    assert t <= r < t + timedelta(minutes=1)
    assert (r.second, r.microsecond) == (0, 0)


def test_the_at_expression_is_utc_and_rounded_up():
    assert at_expression(T) == "at(2026-11-20T15:45:00)"
    assert at_expression(T + timedelta(seconds=1)) == "at(2026-11-20T15:46:00)"
    assert at_expression(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == "at(2027-01-01T00:00:00)"


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_a_schedule_name_is_valid_for_any_ticket_id(ticket_id):
    name = schedule_name(ticket_id)
    assert SCHEDULE_NAME_RE.fullmatch(name), name
    assert 1 <= len(name) <= 64
    assert schedule_name(ticket_id) == name  # stable


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=80), min_size=2, max_size=20, unique=True))
def test_distinct_ticket_ids_get_distinct_schedule_names(ids):
    assert len({schedule_name(i) for i in ids}) == len(ids)


def test_names_stay_distinct_when_sanitising_or_truncating_makes_ids_look_alike():
    look_alike = ["a/b", "a_b", "a b", "a\u00e9b", "a\ud800b", "x" * 40 + "1", "x" * 40 + "2"]
    assert len({schedule_name(i) for i in look_alike}) == len(look_alike)
    assert schedule_name("4711").startswith("t-4711-")  # readable in the console
