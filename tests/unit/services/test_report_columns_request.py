"""The report function's request takes the SLA log's optional columns as `slaclock replay` does
(``"columns": {"time_zone", "durations", "ticket_links"}``), validated with every problem listed, kept
through the job's JSON; without them the report's SLA log header is today's."""

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from slaclock.engine.reports import SLA_LOG_COLUMNS
from slaclock.services.report import ReportSpec
from slaclock.services.report.build import sla_log_options
from slaclock.services.report.request import validate_request
from slaclock.services.report.spec import ReportRequestError

from tests.fakes.world import World

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
DAY = {"period": {"from": "2026-11-19", "to": "2026-11-19"}}
CONFIG = World().config


def test_columns_become_spec_fields_and_survive_the_job_json():
    doc = {**DAY, "columns": {"time_zone": "Asia/Tokyo", "durations": "human", "ticket_links": True}}
    spec = validate_request(doc, CONFIG, NOW, report_id="r1")
    assert (spec.time_zone, spec.durations, spec.ticket_links) == ("Asia/Tokyo", "human", True)
    assert ReportSpec.from_dict(spec.to_dict()) == spec
    assert sla_log_options(spec, CONFIG).columns == (
        "started_at_local", "due_at_local", "stopped_at_local",
        "business_time", "remaining_time", "ticket_url",
    )  # fmt: skip


def test_no_columns_no_change():
    spec = validate_request(DAY, CONFIG, NOW, report_id="r1")
    assert sla_log_options(spec, CONFIG).columns == ()
    assert (spec.time_zone, spec.durations, spec.ticket_links) == (None, "seconds", False)
    assert SLA_LOG_COLUMNS[-1] == "remaining_seconds"
    old_job = {k: v for k, v in spec.to_dict().items() if k not in ("time_zone", "durations", "ticket_links")}
    assert ReportSpec.from_dict(old_job) == spec  # a job queued before the options existed


def test_bad_columns_are_refused_with_every_problem():
    doc = {**DAY, "columns": {"time_zone": "Mars/Olympus", "durations": "days"}}
    with pytest.raises(ReportRequestError) as caught:
        validate_request(doc, CONFIG, NOW, report_id="r1")
    text = " | ".join(caught.value.messages())
    assert "columns.durations" in text and "'seconds' or 'human'" in text
    doc = {**DAY, "columns": {"time_zone": "Mars/Olympus"}}
    with pytest.raises(ReportRequestError) as caught:
        validate_request(doc, CONFIG, NOW, report_id="r1")
    assert caught.value.messages() == [
        "columns.time_zone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Paris)"
    ]
    with pytest.raises(ReportRequestError) as caught:
        validate_request({**DAY, "columns": {"subject": True}}, CONFIG, NOW, report_id="r1")
    assert any("columns.subject" in m for m in caught.value.messages())


def _built(doc):
    from slaclock.services.report import request_report, run_report_job

    from tests.fakes.reports import KNOWN_RECORDS, report_ports

    ports = report_ports(KNOWN_RECORDS, CONFIG)
    job = request_report(ports, doc, NOW)
    assert run_report_job(ports, job.id, NOW) is not None
    prefix = f"reports/{job.id}/2026-11-19_2026-11-19/"
    return ports.sink.text(prefix + "sla_log.csv"), ports.sink.text(prefix + "summary.html")


def test_the_built_report_has_the_columns_and_the_utc_page():
    plain_log, plain_page = _built(DAY)
    log, page = _built({**DAY, "utc": True, "columns": {"time_zone": "Europe/Paris", "durations": "human"}})
    plain_lines, lines = plain_log.split("\r\n"), log.split("\r\n")
    assert plain_lines[0] == ",".join(SLA_LOG_COLUMNS)
    assert (
        lines[0]
        == plain_lines[0] + ",started_at_local,due_at_local,stopped_at_local,business_time,remaining_time"
    )
    assert [line[: len(p)] for line, p in zip(lines[1:], plain_lines[1:], strict=True)] == plain_lines[1:]
    assert "2026-11-19T10:00:00+01:00" in log and ",2h 30m 00s,-1h 30m 00s" in log  # ticket 4712
    assert "Due (UTC)" in page and "Due (UTC)" not in plain_page


def test_columns_calendar_adds_the_calendar_used_and_its_due_instant_last():
    spec = validate_request(
        {**DAY, "columns": {"calendar": True, "ticket_links": True}}, CONFIG, NOW, report_id="r1"
    )
    assert spec.calendar_columns and ReportSpec.from_dict(spec.to_dict()) == spec
    assert sla_log_options(spec, CONFIG).columns == ("ticket_url", "calendar", "calendar_due_at")
    with pytest.raises(ReportRequestError) as caught:
        validate_request({**DAY, "columns": {"calendar": "yes"}}, CONFIG, NOW, report_id="r1")
    assert any("columns.calendar" in m for m in caught.value.messages())
    plain_log, _ = _built(DAY)
    log, _ = _built({**DAY, "columns": {"calendar": True}})
    plain_lines, lines = plain_log.split("\r\n"), log.split("\r\n")
    assert lines[0] == plain_lines[0] + ",calendar,calendar_due_at"
    rows = list(csv.DictReader(io.StringIO(log)))
    zones = {name: cal.timezone for name, cal in CONFIG.calendars.items()}
    assert rows and all(r["calendar"] in zones for r in rows)
    for r in rows:  # the due instant restated in the zone of the calendar the row names
        if r["due_at"]:
            local = datetime.fromisoformat(r["calendar_due_at"])
            assert local == datetime.fromisoformat(r["due_at"].replace("Z", "+00:00"))
            assert local.utcoffset() == local.astimezone(ZoneInfo(zones[r["calendar"]])).utcoffset()
