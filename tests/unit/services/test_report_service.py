"""The report use case on fakes: request validation (the 400s), periods and subscriptions, the three
files for a known dataset (exact rows), the e-mail, and the job lifecycle (queue, retries, leases)."""

from __future__ import annotations

import copy
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.config import load_config
from slaclock.engine.reports import ComplianceAccumulator, sort_sla_log, write_sla_log
from slaclock.engine.summary import SummaryAccumulator, render_summary
from slaclock.ports import ReportJobStatus, ServiceUnavailable
from slaclock.services.report import (
    MAX_LINK_SECONDS,
    ReportBusy,
    ReportNotFound,
    ReportRequestError,
    ReportSpec,
    calendar_period,
    custom_period,
    due_subscriptions,
    folder_name,
    local_midnight,
    page_title,
    report_status,
    request_report,
    run_report_job,
    schedule_reports,
    to_log_row,
    validate_request,
)
from slaclock.services.report.email import describe_period

from tests.fakes.reports import KNOWN_RECORDS, at, record, report_ports
from tests.fakes.world import CONFIG_DOC

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY_19 = {"period": {"from": "2026-11-19", "to": "2026-11-19"}}


def make_config(reports: list[dict] | None = None):
    doc = copy.deepcopy(CONFIG_DOC)
    doc["calendars"]["tokyo"] = {"timezone": "Asia/Tokyo", "hours": "24x7"}
    doc["calendars"]["new-york"] = {"timezone": "America/New_York", "hours": "24x7"}
    doc["reports"] = reports if reports is not None else [
        {"name": "daily-billing", "period": "daily", "calendar": "always", "recipients": ["lead@example.com"],
         "group_by": ["level"]},
        {"name": "paris-daily", "period": "daily", "calendar": "paris", "recipients": ["fr@example.com"]},
        {"name": "tokyo-weekly", "period": "weekly", "calendar": "tokyo"},
        {"name": "ny-monthly", "period": "monthly", "calendar": "new-york",
         "filters": {"department": ["sales"]}},
    ]  # fmt: skip
    return load_config(doc)


CONFIG = make_config()


def problems(doc, now=NOW) -> list[str]:
    with pytest.raises(ReportRequestError) as caught:
        validate_request(doc, CONFIG, now, report_id="r1")
    return caught.value.messages()


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --------------------------------------------------------------------------------- request validation


def test_a_valid_request_becomes_a_spec_with_whole_local_days():
    spec = validate_request(
        {"period": {"from": "2026-11-01", "to": "2026-11-30"}, "calendar": "paris",
         "group_by": "level,metric", "sort": ["department", "-overdue"], "filters": {"level": ["urgent"]},
         "recipients": ["a@example.com"], "link_expiry_seconds": 3600, "title": "November"},
        CONFIG, NOW, report_id="r1",
    )  # fmt: skip
    assert spec.period.start == datetime(2026, 10, 31, 23, tzinfo=UTC)  # Paris midnight, winter time
    assert spec.period.end == datetime(2026, 11, 30, 23, tzinfo=UTC)  # the END of 30 November
    assert spec.period.label == "2026-11-01_2026-11-30" and spec.period.timezone == "Europe/Paris"
    assert spec.group_by == ("level", "metric") and spec.sort == ("department", "-overdue")
    assert spec.filters == {"level": ("urgent",)} and spec.link_expiry_seconds == 3600
    assert spec.keys["sla_log.csv"] == "reports/r1/2026-11-01_2026-11-30/sla_log.csv"


def test_instants_with_offsets_are_taken_as_is_and_label_in_utc():
    spec = validate_request({"period": {"from": "2026-11-19T09:30:00+01:00", "to": "2026-11-20T08:30:00Z"}},
                            CONFIG, NOW, report_id="r1")  # fmt: skip
    assert (spec.period.start, spec.period.end) == (at("2026-11-19 08:30"), at("2026-11-20 08:30"))
    assert spec.period.label == "20261119T083000Z_20261120T083000Z"


def test_named_periods_are_the_previous_complete_period_in_the_requested_zone():
    spec = validate_request({"period": "last_week", "timezone": "Asia/Tokyo"}, CONFIG, NOW, report_id="r1")
    assert spec.period.label == "2026-W46"
    assert (spec.period.start, spec.period.end) == (at("2026-11-08 15:00"), at("2026-11-15 15:00"))
    today = validate_request({"period": "today"}, CONFIG, NOW, report_id="r1").period
    assert (today.start, today.end, today.label) == (
        at("2026-11-21 00:00"),
        at("2026-11-22 00:00"),
        "2026-11-21",
    )


SORT_KEYS_TEXT = "requester, ticket, start, department, agent, level, due, stopped, remaining, overdue"
INVERTED = "period: empty or inverted: 'to' ({}) must be after 'from' ({})"
BAD_REQUESTS = [
    ({**DAY_19, "group_by": ["team"]},
     "group_by[0]: 'team' is not one of department, agent, level, metric, agreement"),
    ({**DAY_19, "group_by": ["level", "level"]}, "group_by[1]: 'level' is repeated"),
    ({**DAY_19, "colour": "red"}, "colour: unknown field"),
    ({**DAY_19, "filters": {"team": ["a"]}},
     "filters.team: unknown filter (department, agent, level, metric, agreement)"),
    ({**DAY_19, "filters": {"level": ["gold"]}},
     "filters.level[0]: unknown level 'gold' (standard, urgent)"),
    ({**DAY_19, "filters": {"metric": []}}, "filters.metric: list at least one value"),
    ({**DAY_19, "filters": {"agreement": ["group_sla"]}},
     "filters.agreement[0]: unknown agreement 'group_sla' (customer)"),
    ({**DAY_19, "sort": "due,-size"},
     f"sort[1]: '-size' is not one of {SORT_KEYS_TEXT} (prefix '-' for descending)"),
    ({"period": {"from": "2026-11-20", "to": "2026-11-19"}},
     INVERTED.format("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z")),
    ({"period": {"from": "2026-11-19T10:00:00Z", "to": "2026-11-19T10:00:00Z"}},
     INVERTED.format("2026-11-19T10:00:00Z", "2026-11-19T10:00:00Z")),
    ({"period": {"from": "2025-01-01", "to": "2026-01-01"}},
     "period: longer than a year: ask for at most one year per report"),
    ({"period": {"from": "2026-12-01", "to": "2026-12-02"}},
     "period.from: 2026-12-01T00:00:00Z is in the future"),
    ({"period": {"from": "2026-11-19T10:00:00", "to": "2026-11-20"}},
     "period.from: '2026-11-19T10:00:00' has no UTC offset (add 'Z' or '+hh:mm')"),
    ({"period": {"from": "2026-02-30", "to": "2026-03-01"}}, "period.from: '2026-02-30' is not a date"),
    ({"period": {"from": "2026-11-19"}}, "period.to: Field required"),
    ({"period": "fortnight"},
     "period: unknown period 'fortnight' (yesterday, last_week, last_month, today, this_week, "
     "this_month, or {from, to})"),
    ({"group_by": ["level"]}, "period: Field required"),
    ({**DAY_19, "timezone": "Mars/Olympus"},
     "timezone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Paris)"),
    ({**DAY_19, "calendar": "moon"},
     "calendar: unknown calendar 'moon' (always, new-york, paris, tokyo)"),
    ({**DAY_19, "recipients": ["not-an-address"]},
     "recipients[0]: 'not-an-address' is not an e-mail address"),
    ({**DAY_19, "link_expiry_seconds": 604801},
     "link_expiry_seconds: 604801 is outside 1 .. 604800 s (7 days, the longest a report link can "
     "live)"),
    ({**DAY_19, "include_running": "yes"}, "include_running: Input should be a valid boolean"),
    ([1, 2], "the body must be a JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "expected"), BAD_REQUESTS)
def test_a_bad_request_is_refused_with_the_reason(doc, expected):
    assert expected in problems(doc)


def test_a_year_is_allowed_and_every_problem_is_listed_at_once():
    spec = validate_request(
        {"period": {"from": "2025-11-19", "to": "2026-11-18"}}, CONFIG, NOW, report_id="r"
    )
    assert spec.period.end - spec.period.start == timedelta(days=365)
    found = problems({**DAY_19, "group_by": ["team"], "sort": ["size"], "filters": {"metric": ["speed"]}})
    assert [p.split(":")[0] for p in found] == ["filters.metric[0]", "group_by[0]", "sort[0]"]


# ------------------------------------------------------------------------------------------ periods


def test_periods_are_local_days_weeks_and_months():
    paris_dst = calendar_period("daily", at("2026-03-29 12:00"), "Europe/Paris")
    assert paris_dst.end - paris_dst.start == timedelta(hours=23)  # spring forward
    week = calendar_period("weekly", at("2026-11-19 12:00"), "UTC")
    assert (week.start, week.label) == (at("2026-11-16 00:00"), "2026-W47")
    month = calendar_period("monthly", at("2026-01-10 00:00"), "UTC", -1)
    assert (month.start, month.end, month.label) == (
        at("2025-12-01 00:00"),
        at("2026-01-01 00:00"),
        "2025-12",
    )
    assert month.previous().label == "2025-11"
    custom = custom_period(at("2026-11-19 00:00"), at("2026-11-21 00:00"), "UTC")
    assert (custom.previous().start, custom.previous().label) == (
        at("2026-11-17 00:00"),
        "2026-11-17_2026-11-18",
    )


def test_a_day_whose_midnight_does_not_exist_starts_at_the_transition():
    # Chile springs forward at 00:00 on 2026-09-06: that day runs 01:00 -03 (04:00Z) .. next midnight.
    assert local_midnight(date(2026, 9, 6), "America/Santiago") == at("2026-09-06 04:00")
    assert local_midnight(date(2026, 9, 7), "America/Santiago") == at("2026-09-07 03:00")


@pytest.mark.parametrize(
    ("kind", "fired", "expected"),
    [
        ("daily", "2026-11-20 00:15", [("daily-billing", "2026-11-19")]),
        ("daily", "2026-11-19 23:15", [("paris-daily", "2026-11-19")]),  # Paris midnight is 23:00Z
        ("daily", "2026-11-19 22:15", []),
        ("daily", "2026-11-20 01:15", []),
        ("weekly", "2026-11-22 15:15", [("tokyo-weekly", "2026-W47")]),  # Monday 00:00 Tokyo = Sunday 15:00Z
        ("weekly", "2026-11-23 00:15", []),
        ("monthly", "2026-12-01 05:15", [("ny-monthly", "2026-11")]),  # 1 December 00:00 New York = 05:00Z
        ("monthly", "2026-12-01 00:15", []),
    ],
)
def test_a_firing_picks_the_subscriptions_whose_period_just_ended_in_their_zone(kind, fired, expected):
    due = due_subscriptions(CONFIG, kind, at(fired), HOUR)
    assert [(sub.name, period.label) for sub, period in due] == expected


def test_the_reported_period_is_bounded_by_local_midnights():
    ((_, period),) = due_subscriptions(CONFIG, "daily", at("2026-11-19 23:15"), HOUR)
    assert (period.start, period.end) == (at("2026-11-18 23:00"), at("2026-11-19 23:00"))
    ((_, month),) = due_subscriptions(CONFIG, "monthly", at("2026-12-01 05:15"), HOUR)
    assert (month.start, month.end) == (at("2026-11-01 04:00"), at("2026-12-01 05:00"))  # DST ends in between


def test_folder_names_are_key_safe_and_distinct():
    assert folder_name("daily-billing") == "daily-billing"
    assert folder_name("Daily billing / EU").startswith("Daily-billing-EU-")
    assert folder_name("a b") != folder_name("a-b") and folder_name("a/b") != folder_name("a b")


# ------------------------------------------------------------------------------------------ building


def run_on_demand(ports, doc, now=NOW):
    job = request_report(ports, doc, now)
    outcome = run_report_job(ports, job.id, now)
    assert outcome is not None
    return job, outcome


EXPECTED_LOG = [
    ["ticket_id", "requester", "department", "agent", "level", "metric", "cycle", "started_at", "due_at",
     "stopped_at", "status", "business_seconds", "remaining_seconds"],
    ["4711", "bob@client.test", "billing", "ana@example.com", "standard", "first_response", "1",
     "2026-11-19T09:00:00Z", "2026-11-19T10:00:00Z", "2026-11-19T09:30:00Z", "met", "1800", "1800"],
    ["4712", "dee@client.test", "sales", "cy@example.com", "standard", "first_response", "1",
     "2026-11-19T11:00:00Z", "2026-11-19T12:00:00Z", "2026-11-19T13:30:00Z", "missed", "9000", "-5400"],
    ["4711", "bob@client.test", "billing", "ana@example.com", "standard", "resolution", "1",
     "2026-11-19T09:00:00Z", "2026-11-19T17:00:00Z", "2026-11-19T15:00:00Z", "met", "21600", "7200"],
    ["4713", "Doe, Jane <jane@client.test>", "sales", "'=cmd|' /C calc'!A0", "standard", "first_response",
     "1", "2026-11-19T20:00:00Z", "2026-11-19T21:00:00Z", "", "missed", "7200.5", "-3600.5"],
    ["4714", "bob@client.test", "", "", "urgent", "resolution", "1",
     "2026-11-19T22:00:00Z", "2026-11-20T00:00:00Z", "2026-11-19T23:30:00Z", "met", "5400", "1800"],
]  # fmt: skip


def test_the_sla_log_of_a_known_dataset_has_exactly_these_rows_in_outcome_order():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, outcome = run_on_demand(ports, DAY_19)
    text = ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv")
    assert rows_of(text) == EXPECTED_LOG
    assert "\r\n" in text and not text.startswith("\ufeff")
    assert (
        ports.sink.objects[f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv"][1]
        == "text/csv; charset=utf-8"
    )
    assert ports.clocks.queries[0] == (at("2026-11-19 00:00"), at("2026-11-20 00:00"))
    assert outcome.figures["rows"] == 5 and outcome.figures["tickets"] == 4


def test_the_sla_log_bytes_are_the_engines_writer_output():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, _ = run_on_demand(ports, DAY_19)
    engine = io.StringIO(newline="")
    zones = {name: cal.timezone for name, cal in CONFIG.calendars.items()}
    decided = sorted(
        (r for r in KNOWN_RECORDS if r.decided_at and r.decided_at.day == 19), key=lambda r: r.decided_at
    )
    write_sla_log((to_log_row(r, zones) for r in decided), engine)
    assert ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv") == engine.getvalue()


def test_a_sorted_log_follows_the_engines_sort():
    ports = report_ports(KNOWN_RECORDS, CONFIG, sort_chunk_rows=2)  # several runs merged
    job, _ = run_on_demand(ports, {**DAY_19, "sort": "-overdue"})
    got = rows_of(ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv"))[1:]
    assert [(r[0], r[5]) for r in got] == [("4712", "first_response"), ("4713", "first_response"),
                                           ("4711", "first_response"), ("4714", "resolution"),
                                           ("4711", "resolution")]  # fmt: skip
    zones = {name: cal.timezone for name, cal in CONFIG.calendars.items()}
    decided = [to_log_row(r, zones) for r in KNOWN_RECORDS if r.decided_at and r.decided_at.day == 19]
    engine = sort_sla_log(decided, "-overdue")
    assert [r[0] for r in got] == [r.ticket_id for r in engine]


def test_compliance_rows_count_each_clock_on_its_levels_local_day():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, _ = run_on_demand(ports, {**DAY_19, "group_by": ["level"]})
    assert rows_of(ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/compliance.csv")) == [
        ["date", "level", "met", "met_avg_seconds", "met_max_seconds", "met_min_seconds", "missed",
         "missed_avg_seconds", "missed_max_seconds", "missed_min_seconds", "compliance_pct"],
        ["2026-11-19", "standard", "2", "11700", "21600", "1800", "2", "8100.25", "9000", "7200.5", "50.00"],
        ["2026-11-20", "urgent", "1", "5400", "5400", "5400", "0", "", "", "", "100.00"],  # 00:30 in Paris
    ]  # fmt: skip


def test_the_summary_page_is_the_engines_page_for_the_same_rows():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, _ = run_on_demand(ports, DAY_19)
    spec = ReportSpec.from_dict(ports.jobs.get(job.id).spec)
    zones = {name: cal.timezone for name, cal in CONFIG.calendars.items()}
    page, days = SummaryAccumulator(), ComplianceAccumulator()
    for r in sorted(
        (r for r in KNOWN_RECORDS if r.decided_at and r.decided_at.day == 19), key=lambda r: r.decided_at
    ):
        row = to_log_row(r, zones)
        page.add(row, days.day_of(row))
    page.tickets = 4
    expected = render_summary(page, title=page_title(spec), now=NOW, subtitle=describe_period(spec.period))
    body, content_type = ports.sink.objects[f"reports/{job.id}/2026-11-19_2026-11-19/summary.html"]
    assert body.decode() == expected and content_type == "text/html; charset=utf-8"
    # one title, the period in words; the exact bounds and zone once, under it
    assert body.decode().count("<h1>") == 1
    assert "<h1>SLA report on demand · 19 November 2026</h1>" in body.decode()
    assert body.decode().count(describe_period(spec.period)) == 1


def test_filters_and_running_clocks():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, outcome = run_on_demand(ports, {**DAY_19, "filters": {"department": ["sales"]}})
    got = rows_of(ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv"))[1:]
    assert [r[0] for r in got] == ["4712", "4713"] and outcome.figures["compliance_pct"] == 0.0
    job, outcome = run_on_demand(ports, {**DAY_19, "include_running": True})
    got = rows_of(ports.sink.text(f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv"))[1:]
    assert got[-1][:2] == ["4720", "bob@client.test"] and got[-1][10] == "open"
    assert outcome.figures["running"] == 1 and outcome.figures["rows"] == 6


def test_an_empty_period_gives_header_only_csvs_and_says_so_plainly():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    empty = {"period": {"from": "2026-11-10", "to": "2026-11-10"}, "recipients": ["boss@example.com"],
             "group_by": ["agent"]}  # fmt: skip
    job, outcome = run_on_demand(ports, empty)
    prefix = f"reports/{job.id}/2026-11-10_2026-11-10/"
    assert rows_of(ports.sink.text(prefix + "sla_log.csv")) == [EXPECTED_LOG[0]]
    assert ports.sink.text(prefix + "compliance.csv").splitlines() == [
        "date,agent,met,met_avg_seconds,met_max_seconds,met_min_seconds,missed,missed_avg_seconds,"
        "missed_max_seconds,missed_min_seconds,compliance_pct"
    ]
    (mail,) = ports.mailer.sent
    assert mail.subject == "SLA report on demand · 2026-11-10_2026-11-10: nothing decided"
    assert (
        "This period is empty: no SLA clock was decided in it, so sla_log.csv and compliance.csv hold "
        "only their header row."
    ) in mail.text
    assert "Compliance:       no clock was decided in this period" in mail.text
    assert outcome.figures["compliance_pct"] is None


def test_a_large_log_is_uploaded_in_chunks_as_rows_come():
    many = [
        record(str(10_000 + i), "first_response", "met", started="2026-11-19 08:00", due="2026-11-19 09:00",
               stopped=f"2026-11-19 08:{i % 60:02d}", business=60 * (i % 60), target=3600)
        for i in range(12_000)
    ]  # fmt: skip
    ports = report_ports(many, CONFIG)
    job, outcome = run_on_demand(ports, DAY_19)
    key = f"reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv"
    assert ports.sink.chunks[key] >= 2 and outcome.figures["rows"] == 12_000 == outcome.figures["tickets"]
    assert ports.sink.objects[key][0].count(b"\r\n") == 12_001


# ------------------------------------------------------------------------------------------ e-mail


def test_the_email_summarises_compliance_worst_level_and_department_and_the_trend():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job, _ = run_on_demand(ports, {**DAY_19, "recipients": ["boss@example.com", "lead@example.com"]})
    (mail,) = ports.mailer.sent
    assert mail.to == ("boss@example.com", "lead@example.com")
    assert mail.subject == "SLA report on demand · 2026-11-19_2026-11-19: 60.00% compliance"
    lines = mail.text.splitlines()
    assert "Compliance:       60.00% (3 met, 2 missed)" in lines
    assert "Trend:            up 10.00 points from 50.00% in 2026-11-18_2026-11-18" in lines
    assert "Worst level:      standard: 50.00% (2 met, 2 missed)" in lines
    assert "Worst department: sales: 0.00% (0 met, 2 missed)" in lines
    assert "Download (links expire 2026-11-28T08:00:00Z):" in lines
    link = f"https://reports.example.test/reports/{job.id}/2026-11-19_2026-11-19/sla_log.csv?expires=604800"
    assert f"  SLA log (CSV): {link}" in lines
    assert f'href="{link}"' in mail.html and "60.00% (3 met, 2 missed)" in mail.html


def test_the_email_shows_the_headline_table_inline_in_text_and_html():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    _, outcome = run_on_demand(ports, {**DAY_19, "recipients": ["boss@example.com"]})
    (mail,) = ports.mailer.sent
    f = outcome.figures
    expected = ["60.00%", "3", "2", str(f["running"]), str(f["rows"]), str(f["tickets"])]
    lines = mail.text.splitlines()
    header = lines.index("Compliance  Met  Missed  Still running  Clocks  Tickets")
    assert lines[header + 1].split() == expected
    assert re.findall(r"<td style='[^']*'>([^<]*)</td>", mail.html)[:6] == expected
    heads = re.findall(r"<th style='[^']*text-align:left'>([^<]*)</th>", mail.html)
    assert heads == ["Compliance", "Met", "Missed", "Still running", "Clocks", "Tickets"]


def test_the_trend_can_be_down_unchanged_or_without_comparison():
    from slaclock.services.report.email import trend_text

    def figures(now, before):
        return {"compliance_pct": now, "previous": {"label": "2026-W46", "compliance_pct": before}}

    assert trend_text(figures(80.0, 92.5)) == "down 12.50 points from 92.50% in 2026-W46"
    assert trend_text(figures(80.0, 80.0)) == "unchanged from 2026-W46 (80.00%)"
    assert (
        trend_text(figures(80.0, None))
        == "no comparison: no clock was decided in the previous period (2026-W46)"
    )


def test_a_report_with_no_recipient_sends_nothing():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    _, outcome = run_on_demand(ports, DAY_19)
    assert outcome.mailed is None and ports.mailer.sent == []


# ------------------------------------------------------------------------------------- jobs and retries


def test_a_request_is_queued_then_built_then_reported_done_with_fresh_links():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job = request_report(ports, {**DAY_19, "link_expiry_seconds": 3600}, NOW)
    assert ports.queue.submitted == [job.id] and ports.jobs.get(job.id).status is ReportJobStatus.QUEUED
    assert report_status(ports, job.id, NOW)["status"] == "queued"
    run_report_job(ports, job.id, NOW)
    status = report_status(ports, job.id, NOW + HOUR)
    assert (
        status["status"] == "done"
        and status["figures"]["met"] == 3
        and "fingerprint" not in status["figures"]
    )
    assert status["files"]["compliance.csv"]["url"].endswith("/compliance.csv?expires=3600")
    assert status["links_expire_at"] == "2026-11-21T10:00:00Z"
    assert run_report_job(ports, job.id, NOW) is None  # a redelivered message: nothing to do
    with pytest.raises(ReportNotFound):
        report_status(ports, "nope", NOW)


def test_a_failed_email_is_retried_from_the_stored_figures_without_rebuilding():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job = request_report(ports, {**DAY_19, "recipients": ["boss@example.com"]}, NOW)
    ports.mailer.fail_next = 1
    with pytest.raises(ServiceUnavailable):
        run_report_job(ports, job.id, NOW)
    failed = ports.jobs.get(job.id)
    assert failed.status is ReportJobStatus.FAILED and "ServiceUnavailable" in failed.error
    assert failed.figures is not None and len(failed.keys) == 3
    queries = len(ports.clocks.queries)
    outcome = run_report_job(ports, job.id, NOW + timedelta(minutes=5))
    assert outcome is not None and not outcome.built and outcome.mailed
    assert len(ports.clocks.queries) == queries and len(ports.mailer.sent) == 1
    assert ports.jobs.get(job.id).status is ReportJobStatus.DONE


def test_a_job_held_by_another_builder_is_busy_until_its_lease_ends():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job = request_report(ports, DAY_19, NOW)
    assert ports.jobs.claim(job.id, now=NOW, lease=ports.lease) is not None  # another invocation
    with pytest.raises(ReportBusy):
        run_report_job(ports, job.id, NOW + timedelta(minutes=1))
    assert run_report_job(ports, job.id, NOW + ports.lease) is not None


def test_a_refused_queue_fails_the_job_and_the_request():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    ports.queue.fail_next = 1
    with pytest.raises(ServiceUnavailable):
        request_report(ports, DAY_19, NOW)
    (job,) = ports.jobs.jobs.values()
    assert job.status is ReportJobStatus.FAILED


def test_a_schedule_queues_each_due_subscription_once():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    fired = at("2026-11-20 00:15")
    assert schedule_reports(ports, "daily", fired, HOUR) == ["daily-billing.2026-11-19"]
    assert schedule_reports(ports, "daily", fired, HOUR) == ["daily-billing.2026-11-19"]  # still queued
    run_report_job(ports, "daily-billing.2026-11-19", fired)
    assert schedule_reports(ports, "daily", fired, HOUR) == []  # done: a repeated firing does nothing
    assert ports.queue.submitted == ["daily-billing.2026-11-19"] * 2
    keys = sorted(ports.sink.objects)
    assert keys == [
        f"reports/daily-billing/2026-11-19/{n}" for n in ("compliance.csv", "sla_log.csv", "summary.html")
    ]
    (mail,) = ports.mailer.sent
    assert mail.to == ("lead@example.com",) and mail.subject.startswith(
        "SLA report daily-billing · 2026-11-19: "
    )


def test_a_subscription_compares_with_its_previous_report_without_querying_again():
    ports = report_ports(KNOWN_RECORDS, CONFIG)
    schedule_reports(ports, "daily", at("2026-11-19 00:15"), HOUR)
    run_report_job(ports, "daily-billing.2026-11-18", at("2026-11-19 00:15"))
    ports.clocks.queries.clear()
    schedule_reports(ports, "daily", at("2026-11-20 00:15"), HOUR)
    outcome = run_report_job(ports, "daily-billing.2026-11-19", at("2026-11-20 00:15"))
    assert ports.clocks.queries == [(at("2026-11-19 00:00"), at("2026-11-20 00:00"))]  # the period only
    assert outcome.figures["previous"] == {
        "label": "2026-11-18",
        "met": 1,
        "missed": 1,
        "compliance_pct": 50.0,
    }


def test_the_link_expiry_defaults_to_seven_days_and_never_exceeds_it():
    assert MAX_LINK_SECONDS == 604800
    ports = report_ports(KNOWN_RECORDS, CONFIG, link_expiry_seconds=86400)
    job = request_report(ports, DAY_19, NOW)
    assert ReportSpec.from_dict(ports.jobs.get(job.id).spec).link_expiry_seconds == 86400


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=12)
    | st.sampled_from(["2026-11-19", "9999-12-31", "0001-01-01", "2026-11-19T10:00:00+14:00", "level", "-due",
                       "Europe/Paris", "yesterday", "department", "a@b.co"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
bodies = st.fixed_dictionaries(
    {},
    optional={
        "period": json_values | st.fixed_dictionaries({"from": json_values, "to": json_values}),
        "timezone": json_values, "calendar": json_values, "filters": json_values, "group_by": json_values,
        "sort": json_values, "recipients": json_values, "link_expiry_seconds": json_values,
        "include_running": json_values, "title": json_values,
    },
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(doc=bodies | json_values)
def test_any_body_is_either_a_spec_or_a_listed_refusal(doc):
    try:
        spec = validate_request(doc, CONFIG, NOW, report_id="r1")
    except ReportRequestError as e:
        assert e.errors and all(isinstance(p, str) and m for p, m in e.errors)
    else:
        assert spec.period.start < spec.period.end <= spec.period.start + timedelta(days=366)


# ------------------------------------------------------------------ records taken at the report's instant


def counting(rec, *, as_of: str, on_due_day: bool):
    """`rec` as the adapter stores a clock evaluated at `as_of` while counting; `on_due_day`: indexed on
    its due day (counting at or past its due instant when saved), else in the running partition."""
    from dataclasses import replace

    return replace(rec, as_of=at(as_of), counting=True, decided_at=rec.due_at if on_due_day else None)


# fd-11 of the demo: its check ran exactly at its due instant and saved it `open`, remaining 0; 4730
# breached at 14:00 after its last save at 13:00 (no event, no check since).
AT_DUE = counting(record("fd-11", "resolution", "open", started="2026-11-19 11:00", due="2026-11-19 12:00",
                         business=3600, target=3600), as_of="2026-11-19 12:00", on_due_day=True)  # fmt: skip
UNSAVED = counting(record("4730", "first_response", "open", started="2026-11-19 13:00",
                          due="2026-11-19 14:00", business=0, target=3600),
                   as_of="2026-11-19 13:00", on_due_day=False)  # fmt: skip


def test_a_clock_that_breached_since_its_last_save_is_reported_missed_with_its_time_up_to_now():
    ports = report_ports([*KNOWN_RECORDS, AT_DUE, UNSAVED], CONFIG)
    _, outcome = run_on_demand(ports, {**DAY_19, "group_by": ["level"]})
    log = {r[0]: r for r in rows_of(ports.sink.objects[outcome.keys[0]][0].decode())[1:]}
    # 24x7 UTC calendar: counted time is wall time up to NOW (2026-11-21 08:00).
    assert log["fd-11"][10:] == ["missed", "162000", "-158400"]
    assert log["4730"][8:] == ["2026-11-19T14:00:00Z", "", "missed", "154800", "-151200"]
    assert (outcome.figures["met"], outcome.figures["missed"]) == (3, 4)
    compliance = rows_of(ports.sink.objects[outcome.keys[1]][0].decode())
    day = [r for r in compliance[1:] if r[:2] == ["2026-11-19", "standard"]]
    assert [(r[2], r[6]) for r in day] == [("2", "4")]  # met, missed: fd-11 and 4730 counted on their due day


def test_exactly_at_its_due_instant_a_counting_clock_is_still_open_and_not_decided():
    due = at("2026-11-19 12:00")
    ports = report_ports([AT_DUE], CONFIG)
    _, outcome = run_on_demand(ports, {**DAY_19, "include_running": True}, now=due)
    [row] = rows_of(ports.sink.objects[outcome.keys[0]][0].decode())[1:]
    assert row[10:] == ["open", "3600", "0"]
    assert (outcome.figures["met"], outcome.figures["missed"], outcome.figures["running"]) == (0, 0, 1)
    _, later = run_on_demand(ports, DAY_19, now=due + timedelta(microseconds=1))
    assert later.figures["missed"] == 1


def test_with_agreements_the_report_carries_the_agreement_column_and_groups_by_it():
    from dataclasses import replace

    doc = copy.deepcopy(CONFIG_DOC)
    doc["metrics"] = {
        "ownership_time": {
            "start": {"field": "department", "op": "exists", "value": True},
            "reset": {"changes": "department"},
            "cycles": True,
            "stop": {"field": "solved", "op": "is", "value": True},
        }
    }
    doc["agreements"] = {"group_sla": {
        "levels": {"billing_30m": {"calendar": "always", "targets": {"ownership_time": {"within": "30m"}}}},
        "rules": [{"name": "billing", "when": {"field": "department", "op": "is", "value": "billing"},
                   "set_level": "billing_30m"}]}}  # fmt: skip
    config = load_config(doc)
    ola = replace(
        record("4711", "first_response", "missed", started="2026-11-19 09:00", due="2026-11-19 09:30",
               stopped="2026-11-19 15:00", business=21600, target=1800),
        metric="ownership_time@group_sla", level="billing_30m",
    )  # fmt: skip
    ports = report_ports((*KNOWN_RECORDS, ola), config)
    job, _ = run_on_demand(
        ports, {**DAY_19, "group_by": ["agreement"], "filters": {"agreement": ["group_sla"]}}
    )
    folder = f"reports/{job.id}/2026-11-19_2026-11-19"
    log = rows_of(ports.sink.text(f"{folder}/sla_log.csv"))
    assert log[0] == [*EXPECTED_LOG[0], "agreement"]
    assert [(r[0], r[5], r[-1]) for r in log[1:]] == [("4711", "ownership_time@group_sla", "group_sla")]
    compliance = rows_of(ports.sink.text(f"{folder}/compliance.csv"))
    assert compliance[0][:2] == ["date", "agreement"]
    assert [(r[1], r[2], r[6]) for r in compliance[1:]] == [("group_sla", "0", "1")]  # 0 met, 1 missed
