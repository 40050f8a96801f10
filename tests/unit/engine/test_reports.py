"""SLA log and compliance reports: row building, CSV formats, grouping, days, sorting.

These tests build `SlaLogRow`s by hand; `test_reports_engine.py` runs a small dataset through the real
engine and checks the CSV text exactly.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.clocks import Clock, ClockStatus, TicketView
from slaclock.engine.config import Metric
from slaclock.engine.errors import ValidationError
from slaclock.engine.reports import (
    COMPLIANCE_COLUMNS,
    SLA_LOG_COLUMNS,
    ComplianceAccumulator,
    ReportError,
    SlaLogRow,
    check_group_by,
    compliance_columns,
    format_instant,
    format_seconds,
    parse_sort,
    sla_log_record,
    sla_log_row_line,
    sla_log_rows,
    sort_sla_log,
    write_compliance,
    write_sla_log,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def row(
    ticket_id="1",
    status="met",
    *,
    level="standard",
    metric="first_response",
    cycle=1,
    department="billing",
    agent="eva@example.com",
    requester="ann@client.test",
    started=T0,
    due=T0 + timedelta(hours=2),
    stopped=T0 + timedelta(hours=1),
    business=3600.0,
    remaining=3600.0,
    timezone="Europe/Paris",
):
    decided = stopped if status == "met" else due if status == "missed" else None
    return SlaLogRow(
        ticket_id=ticket_id,
        requester=requester,
        department=department,
        agent=agent,
        level=level,
        metric=metric,
        cycle=cycle,
        started_at=started,
        due_at=due,
        stopped_at=stopped,
        status=status,
        business_seconds=business,
        remaining_seconds=remaining,
        timezone=timezone,
        decided_at=decided,
    )


def read_csv(text):
    return list(csv.reader(io.StringIO(text)))


# ---------------------------------------------------------------------------------------------- columns


def test_sla_log_columns_are_exactly_the_design_ones_in_order():
    assert SLA_LOG_COLUMNS == (
        "ticket_id", "requester", "department", "agent", "level", "metric", "cycle", "started_at",
        "due_at", "stopped_at", "status", "business_seconds", "remaining_seconds",
    )  # fmt: skip
    # the dataclass starts with exactly those fields, in that order
    assert SlaLogRow.__dataclass_fields__.keys() >= set(SLA_LOG_COLUMNS)
    assert list(SlaLogRow.__dataclass_fields__)[: len(SLA_LOG_COLUMNS)] == list(SLA_LOG_COLUMNS)


def test_compliance_columns_put_the_groups_after_the_date():
    assert COMPLIANCE_COLUMNS == (
        "date", "met", "met_avg_seconds", "met_max_seconds", "met_min_seconds", "missed",
        "missed_avg_seconds", "missed_max_seconds", "missed_min_seconds", "compliance_pct",
    )  # fmt: skip
    assert compliance_columns(("level", "metric"))[:4] == ("date", "level", "metric", "met")


# ---------------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (3600.0, "3600"),
        (0.5, "0.5"),
        (-7200.0, "-7200"),
        (-12.000001, "-12.000001"),
        (1.25, "1.25"),
        (None, ""),
    ],
)
def test_seconds_are_exact_integers_or_decimal_fractions(seconds, text):
    assert format_seconds(seconds) == text


def test_instants_are_utc_with_z_and_microseconds_only_when_present():
    paris = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_instant(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) == "2026-01-05T09:00:00Z"
    assert format_instant(paris) == "2026-01-05T09:00:00Z"
    assert format_instant(datetime(2026, 1, 5, 9, 0, 0, 250000, tzinfo=UTC)) == "2026-01-05T09:00:00.250000Z"
    assert format_instant(None) == ""


def test_sla_log_writer_header_quoting_empty_stop_and_negative_remaining():
    out = io.StringIO(newline="")
    rows = [
        row("1", "met"),
        row(
            "2",
            "missed",
            department="Sales, EMEA",
            requester='Zoë "Z" <zoe@client.test>',
            stopped=None,
            business=10800.5,
            remaining=-3600.5,
        ),
    ]
    assert write_sla_log(iter(rows), out) == 2
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(SLA_LOG_COLUMNS)
    assert text.endswith("\r\n")  # csv module default: RFC 4180 line ends
    parsed = read_csv(text)
    assert parsed[1] == [
        "1", "ann@client.test", "billing", "eva@example.com", "standard", "first_response", "1",
        "2026-01-05T08:00:00Z", "2026-01-05T10:00:00Z", "2026-01-05T09:00:00Z", "met", "3600", "3600",
    ]  # fmt: skip
    assert parsed[2][1] == 'Zoë "Z" <zoe@client.test>'
    assert parsed[2][2] == "Sales, EMEA"
    assert parsed[2][9] == ""  # still running: stopped_at empty
    assert parsed[2][11:] == ["10800.5", "-3600.5"]


def test_text_cells_that_a_spreadsheet_would_run_as_a_formula_are_neutralised():
    out = io.StringIO(newline="")
    write_sla_log([row("=1+2", requester="+cmd", department="@SUM(A1)", agent="-x")], out)
    cells = read_csv(out.getvalue())[1]
    assert cells[:4] == ["'=1+2", "'+cmd", "'@SUM(A1)", "'-x"]
    assert cells[12] == "3600"  # numbers are untouched (negative ones too, see above)


def test_writers_with_no_rows_write_only_the_header():
    a, b = io.StringIO(newline=""), io.StringIO(newline="")
    assert write_sla_log([], a) == 0
    assert write_compliance([], b, ["department"]) == 0
    assert read_csv(a.getvalue()) == [list(SLA_LOG_COLUMNS)]
    assert read_csv(b.getvalue()) == [list(compliance_columns(["department"]))]


# ------------------------------------------------------------------------------------------ rows of a view


def _clock(metric, status, *, cycle=1, stopped=None, calendar="paris"):
    return Clock(
        ticket_id="42",
        metric=metric,
        cycle=cycle,
        level="standard",
        calendar=calendar,
        started_at=T0,
        due_at=T0 + timedelta(hours=2),
        stopped_at=stopped,
        status=status,
        target_seconds=7200.0,
        business_seconds=600.0,
        remaining_seconds=6600.0,
    )


def test_view_rows_take_the_agent_from_the_assignee_and_drop_cancelled_clocks():
    view = TicketView(
        ticket_id="42",
        now=T0 + timedelta(hours=3),
        fields={"requester": "bob@client.test", "department": None, "assignee": "ana@example.com"},
        level="standard",
        matched_rules=("Everyone else",),
        deleted=False,
        clocks=(
            _clock(Metric.FIRST_RESPONSE, ClockStatus.MET, stopped=T0 + timedelta(minutes=10)),
            _clock(Metric.NEXT_RESPONSE, ClockStatus.CANCELLED, stopped=T0 + timedelta(hours=1)),
            _clock(Metric.RESOLUTION, ClockStatus.OPEN, calendar="ny"),
        ),
        notices=(),
        next_check_at=None,
    )
    rows = list(sla_log_rows(view, {"paris": "Europe/Paris", "ny": "America/New_York"}))
    assert [(r.metric, r.status) for r in rows] == [("first_response", "met"), ("resolution", "open")]
    assert rows[0].agent == "ana@example.com"
    assert rows[0].department == ""  # null field: empty cell
    assert rows[0].timezone == "Europe/Paris" and rows[1].timezone == "America/New_York"
    assert rows[0].decided_at == T0 + timedelta(minutes=10)
    assert rows[1].decided_at is None


# ---------------------------------------------------------------------------------------------- compliance


def test_compliance_counts_met_and_missed_and_leaves_running_clocks_out():
    acc = ComplianceAccumulator()
    assert acc.add(row("1", "met", business=600))
    assert acc.add(row("2", "met", business=1800))
    assert acc.add(row("3", "missed", stopped=None, business=9000))  # missed, still running: counted
    assert acc.add(row("4", "missed", stopped=T0 + timedelta(hours=3), business=10800))  # met late
    assert not acc.add(row("5", "open", stopped=None))
    assert not acc.add(row("6", "paused", stopped=None))
    [only] = list(acc.rows())
    assert only.date == date(2026, 1, 5)
    assert (only.met, only.met_avg_seconds, only.met_max_seconds, only.met_min_seconds) == (
        2,
        1200,
        1800,
        600,
    )
    assert (only.missed, only.missed_avg_seconds, only.missed_max_seconds, only.missed_min_seconds) == (
        2, 9900, 10800, 9000,
    )  # fmt: skip
    assert only.compliance_pct == 50.0


def test_the_day_is_the_decision_day_in_the_levels_time_zone():
    # Met at 23:30 UTC on Jan 5: Jan 6 in Paris, Jan 5 in New York.
    late = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    acc = ComplianceAccumulator(["level"])
    acc.add(row("1", "met", level="paris", stopped=late, timezone="Europe/Paris"))
    acc.add(row("2", "met", level="ny", stopped=late, timezone="America/New_York"))
    # A missed clock counts on the day of its DUE instant, not of its stop.
    acc.add(
        row("3", "missed", level="paris", due=datetime(2026, 1, 4, 22, 59, tzinfo=UTC), stopped=late,
            timezone="Europe/Paris")
    )  # fmt: skip
    got = [(r.date.isoformat(), r.groups, r.met, r.missed) for r in acc.rows()]
    assert got == [
        ("2026-01-04", ("paris",), 0, 1),  # 23:59 Paris on the 4th
        ("2026-01-05", ("ny",), 1, 0),
        ("2026-01-06", ("paris",), 1, 0),
    ]


def test_exactly_midnight_local_belongs_to_the_new_day():
    midnight_paris = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)  # 2026-01-06T00:00 Europe/Paris
    acc = ComplianceAccumulator()
    acc.add(row("1", "met", stopped=midnight_paris))
    acc.add(row("2", "met", stopped=midnight_paris - timedelta(microseconds=1)))
    assert [(r.date.isoformat(), r.met) for r in acc.rows()] == [("2026-01-05", 1), ("2026-01-06", 1)]


def test_grouping_by_every_field_and_rows_sorted_by_date_then_groups():
    acc = ComplianceAccumulator("department,agent,level,metric")
    acc.add(row("1", "met", department="sales", agent="b@x.test"))
    acc.add(row("2", "missed", department="billing", agent="a@x.test", metric="resolution"))
    acc.add(row("3", "met", department="billing", agent="a@x.test", metric="resolution"))
    acc.add(row("4", "met", department="billing", agent="a@x.test", stopped=T0 - timedelta(days=1)))
    got = [(r.date.isoformat(), r.groups, r.met, r.missed, r.compliance_pct) for r in acc.rows()]
    assert got == [
        ("2026-01-04", ("billing", "a@x.test", "standard", "first_response"), 1, 0, 100.0),
        ("2026-01-05", ("billing", "a@x.test", "standard", "resolution"), 1, 1, 50.0),
        ("2026-01-05", ("sales", "b@x.test", "standard", "first_response"), 1, 0, 100.0),
    ]


def test_compliance_csv_leaves_the_empty_side_blank_and_rounds_the_percentage_half_up():
    acc = ComplianceAccumulator(["metric"])
    for i, business in enumerate((1, 2, 2)):  # avg 5/3 s
        acc.add(row(str(i), "met", business=business))
    for i in range(5):
        acc.add(row(f"m{i}", "missed", metric="resolution", business=100))
    for i in range(6):  # resolution: 6 met of 11 decided = 54.5454…% -> 54.55
        acc.add(row(f"r{i}", "met", metric="resolution", business=50))
    acc.add(row("x", "missed", metric="next_response", business=7))
    out = io.StringIO(newline="")
    assert write_compliance(acc.rows(), out, acc.group_by) == 3
    assert read_csv(out.getvalue()) == [
        ["date", "metric", *COMPLIANCE_COLUMNS[1:]],
        ["2026-01-05", "first_response", "3", "1.666667", "2", "1", "0", "", "", "", "100.00"],
        ["2026-01-05", "next_response", "0", "", "", "", "1", "7", "7", "7", "0.00"],
        ["2026-01-05", "resolution", "6", "50", "50", "50", "5", "100", "100", "100", "54.55"],
    ]


def test_half_percentages_round_up_and_averages_round_half_even_to_the_microsecond():
    from slaclock.engine.reports import pct

    assert pct(1, 8) == 12.5
    assert pct(1, 800) == 0.13  # 0.125 -> 0.13 (half up)
    assert pct(2, 3) == 66.67
    assert pct(0, 3) == 0.0
    acc = ComplianceAccumulator()
    acc.add(row("1", "met", business=0.000001))
    acc.add(row("2", "met", business=0.000002))  # mean 1.5 µs -> 2 µs (half to even)
    [r] = list(acc.rows())
    assert r.met_avg_seconds == 0.000002


def test_the_accumulator_state_does_not_grow_with_rows():
    acc = ComplianceAccumulator(["level"])
    for i in range(5000):
        acc.add(row(str(i), "met" if i % 3 else "missed", level=("a", "b")[i % 2], business=i))
    assert acc.size == 2  # one tally per (day, level), whatever the row count
    for i in range(5000):
        acc.add(row(str(i), "met", level="a", stopped=T0 + timedelta(days=i % 3)))
    assert acc.size == 4  # days × groups: (5th, a), (5th, b), (6th, a), (7th, a)


def test_a_bad_grouping_lists_every_problem():
    with pytest.raises(ReportError) as err:
        check_group_by("level,priority,level,team")
    assert isinstance(err.value, ValidationError)
    assert [p for p, _ in err.value.errors] == ["group_by[1]", "group_by[2]", "group_by[3]"]
    assert check_group_by(" level , metric ") == ("level", "metric")
    assert check_group_by("") == ()


# ---------------------------------------------------------------------------------------------- sorting


def test_sort_by_each_key_with_descending_and_empty_values_last():
    a = row("9", "met", requester="Zed@x.test", department="sales", remaining=100)
    b = row("10", "missed", requester="amy@x.test", department="billing", stopped=None, remaining=-50)
    c = row("100", "open", requester="bob@x.test", department="billing", stopped=None, due=None, remaining=7)
    rows = [a, b, c]
    ids = lambda rs: [r.ticket_id for r in rs]  # noqa: E731
    assert ids(sort_sla_log(rows, "ticket")) == ["9", "10", "100"]  # numeric ids as numbers
    assert ids(sort_sla_log(rows, "requester")) == ["10", "100", "9"]  # case-insensitive
    assert ids(sort_sla_log(rows, "-requester")) == ["9", "100", "10"]
    assert ids(sort_sla_log(rows, "remaining")) == ["10", "100", "9"]
    assert ids(sort_sla_log(rows, "overdue")) == ["9", "100", "10"]
    assert ids(sort_sla_log(rows, "-overdue")) == ["10", "100", "9"]
    assert ids(sort_sla_log(rows, "stopped")) == ["9", "10", "100"]  # running (empty) last
    assert ids(sort_sla_log(rows, "-stopped")) == ["9", "10", "100"]  # ... in both directions
    assert ids(sort_sla_log(rows, "due")) == ["9", "10", "100"]
    assert ids(sort_sla_log(rows, ["department", "-remaining"])) == ["100", "10", "9"]
    assert ids(sort_sla_log(list(reversed(rows)), "level")) == ["9", "10", "100"]  # ties: by ticket


def test_unknown_sort_keys_are_all_reported():
    with pytest.raises(ReportError) as err:
        parse_sort("ticket,priority,-nope")
    assert [p for p, _ in err.value.errors] == ["sort[1]", "sort[2]"]
    assert parse_sort("requester, -due") == ("requester", "-due")


# ------------------------------------------------------------------------------------ one line writer

_TEXT = st.text(alphabet=st.sampled_from('ab ,"\r\n\t=+-@é'), max_size=8)
_INSTANT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_SECONDS = st.one_of(
    st.integers(-(10**9), 10**9).map(float),
    st.integers(-(10**15), 10**15).map(lambda us: us / 1_000_000),
)


@given(
    ticket_id=_TEXT, requester=_TEXT, department=_TEXT, agent=_TEXT, level=_TEXT,
    started=_INSTANT, due=st.none() | _INSTANT, stopped=st.none() | _INSTANT,
    business=_SECONDS, remaining=_SECONDS, cycle=st.integers(1, 10**6),
)  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_the_one_log_line_writer_writes_what_the_csv_module_writes_of_the_record(
    ticket_id, requester, department, agent, level, started, due, stopped, business, remaining, cycle
):
    r = row(
        ticket_id, "missed", level=level, cycle=cycle, department=department, agent=agent,
        requester=requester, started=started, due=due, stopped=stopped, business=business,
        remaining=remaining,
    )  # fmt: skip
    expected = io.StringIO(newline="")
    csv.writer(expected).writerow(sla_log_record(r))
    assert sla_log_row_line(r) == expected.getvalue()
    out = io.StringIO(newline="")
    write_sla_log([r], out)
    assert out.getvalue() == ",".join(SLA_LOG_COLUMNS) + "\r\n" + expected.getvalue()
