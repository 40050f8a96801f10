"""Durations and shares as written in a configuration (slaclock.engine.durations)."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.durations import format_duration, parse_duration, parse_share


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (" 1h  30m ", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(hours=48)),  # a day is 24 h of business time, not a business day
        ("1w", timedelta(days=7)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1H30M", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("0.25s", timedelta(milliseconds=250)),
        ("0s", timedelta(0)),
        ("PT8H", timedelta(hours=8)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT0,5S", timedelta(milliseconds=500)),
        ("PT1M", timedelta(minutes=1)),  # after T, M is minutes
        ("P2W", timedelta(days=14)),
        ("P3D", timedelta(days=3)),
        ("pt15m", timedelta(minutes=15)),
        ("PT1H30M15.000001S", timedelta(hours=1, minutes=30, seconds=15, microseconds=1)),
    ],
)
def test_parse_duration_accepts_compact_and_iso_forms(text, expected):
    assert parse_duration(text) == expected


def test_parse_duration_is_exact_to_the_microsecond():
    # 0.1 + 0.2 style float drift would give 300000.00000000006 µs here
    assert parse_duration("0.3s") == timedelta(microseconds=300_000)
    assert parse_duration("0.000001s") == timedelta(microseconds=1)
    assert parse_duration("1.000001h") == timedelta(hours=1, microseconds=3_600)
    assert parse_duration("PT0.1S") + parse_duration("PT0.2S") == parse_duration("PT0.3S")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1 hour", "'1 hour' is not a duration"),
        ("30m1h", "'30m1h' is not a duration"),  # largest unit first
        ("1h1h", "'1h1h' is not a duration"),
        ("1h30", "'1h30' is not a duration"),
        ("-1h", "'-1h' is not a duration"),
        ("", "'' is not a duration"),
        ("PT", "'PT' is not a duration"),
        ("P", "'P' is not a duration"),
        ("P1DT", "'P1DT' is not a duration"),
        ("P1M", "'P1M' is not a duration: years and months have no fixed length"),
        ("P1Y", "'P1Y' is not a duration: years and months have no fixed length"),
        ("0.0000001s", "'0.0000001s' is finer than a microsecond"),
        (30, "30 is not a duration (add a unit: '30s' or '30m')"),
        (1.5, "1.5 is not a duration (add a unit: '1.5s' or '1.5m')"),
        (True, "True is not a duration"),
        (None, "None is not a duration"),
        (["1h"], "['1h'] is not a duration"),
        ("99999999999d", "'99999999999d' is too long"),
    ],
)
def test_parse_duration_refuses_with_a_clear_message(value, message):
    with pytest.raises(ValueError) as err:
        parse_duration(value)
    assert str(err.value) == message


def test_parse_duration_refuses_very_long_text_quickly():
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration("1" + " " * 10_000 + "x")


def test_a_timedelta_passes_through_but_not_a_negative_one():
    assert parse_duration(timedelta(minutes=5)) == timedelta(minutes=5)
    with pytest.raises(ValueError, match="negative"):
        parse_duration(timedelta(minutes=-5))


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(hours=26), "1d2h"),
        (timedelta(days=14), "14d"),
        (timedelta(milliseconds=500), "0.5s"),
        (timedelta(seconds=1, microseconds=1), "1.000001s"),
        (timedelta(minutes=-15), "-15m"),
    ],
)
def test_format_duration_is_compact(td, text):
    assert format_duration(td) == text


@settings(max_examples=300, deadline=None)
@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_format_then_parse_round_trips_exactly(td):
    assert parse_duration(format_duration(td)) == td


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 400),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999_999),
)
def test_iso_and_compact_spellings_agree(d, h, m, s, us):
    iso = f"P{d}DT{h}H{m}M{s}.{us:06d}S"
    compact = f"{d}d {h}h {m}m {s}.{us:06d}s"
    expected = timedelta(days=d, hours=h, minutes=m, seconds=s, microseconds=us)
    assert parse_duration(iso) == parse_duration(compact) == expected


@pytest.mark.parametrize(
    ("value", "share"),
    [
        ("75%", 0.75),
        ("50 %", 0.5),
        ("150%", 1.5),
        ("0.5%", 0.005),
        (0.75, 0.75),
        ("0.75", 0.75),
        (1, 1.0),
        (0, 0.0),
    ],
)
def test_parse_share(value, share):
    assert parse_share(value) == share


@pytest.mark.parametrize("value", ["abc", "-5%", "%", True, None, [0.5], "nan", "inf%", -0.1])
def test_parse_share_refuses_non_shares(value):
    with pytest.raises(ValueError, match="is not a share"):
        parse_share(value)


@pytest.mark.parametrize("value", [90, "90", 1.5])
def test_a_bare_number_above_one_is_refused_not_read_as_a_huge_share(value):
    with pytest.raises(ValueError, match="for a percentage"):
        parse_share(value)
