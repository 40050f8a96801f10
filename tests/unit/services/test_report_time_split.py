"""Who burned the time, in the report function (docs/reports-on-aws.md, docs/clocks.md "Who burned the
time"): ``POST /reports`` and a ``reports:`` subscription take ``time_split: true`` and the job writes
``time_split.csv`` beside the other files, with its own link; its rows are the engine's time split of
each listed clock, replayed from the ticket's stored events, as ``slaclock replay --time-split`` writes
them. Without it nothing changes (three files). The report-equals-replay differential
(test_report_equals_replay_use_cases.py) compares the rows on 300 generated tickets."""

from datetime import UTC, datetime, timedelta

import pytest
from slaclock.engine.config import load_config
from slaclock.engine.errors import ConfigError
from slaclock.engine.events import parse_event
from slaclock.services.report import ReportSpec, report_status, request_report, run_report_job
from slaclock.services.report.request import validate_request
from slaclock.services.report.spec import FILES, ReportRequestError, subscription_spec

from tests.fakes.world import World

DAY = {"period": {"from": "2026-11-16", "to": "2026-11-16"}, "timezone": "UTC", "include_running": True}
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def _world():
    doc = {
        "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
        "levels": {"standard": {"calendar": "always", "targets": {"first_response": {"within": "1h"},
                                                                  "resolution": {"within": "8h"}}}},
        "rules": [{"name": "all", "set_level": "standard"}],
        "sources": {"sim": {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"}}},
    }  # fmt: skip
    return World(doc)


def ev(i, at, kind, ticket=None):
    return parse_event(
        {"id": f"e{i}", "ticket_id": "7", "type": kind, "at": at.isoformat(), "ticket": ticket or {}}
    )


def test_time_split_is_written_beside_the_report_with_a_link():
    from tests.fakes.reports import report_ports

    world = _world()
    # created 09:00 (ann, billing), reassigned to bob at 10:00, first reply 10:30; 24x7 calendar
    world.ingest(ev(1, T0, "created", {"status": "open", "assignee": "ann", "department": "billing"}), now=T0)
    world.ingest(ev(2, T0 + timedelta(hours=1), "updated", {"assignee": "bob"}), now=T0 + timedelta(hours=1))
    world.ingest(
        ev(3, T0 + timedelta(hours=1, minutes=30), "agent_replied"), now=T0 + timedelta(hours=1, minutes=30)
    )
    records = list(world.tickets.clock_records.values())
    ports = report_ports(records, world.config, events=world.events)
    job = request_report(ports, {**DAY, "time_split": True}, NOW)
    assert run_report_job(ports, job.id, NOW) is not None
    status = report_status(ports, job.id, NOW)
    assert set(status["files"]) == {*FILES, "time_split.csv"}
    text = ports.sink.text(status["files"]["time_split.csv"]["key"])
    lines = text.split("\r\n")
    assert lines[0] == "ticket_id,metric,cycle,dimension,value,business_seconds"
    rows = set(lines[1:-1])
    # first response: 09:00-10:30 counted, 1 h with ann then 30 min with bob, in billing, status open
    assert {
        "7,first_response,1,assignee,ann,3600", "7,first_response,1,assignee,bob,1800",
        "7,first_response,1,group,billing,5400", "7,first_response,1,status,open,5400",
    } <= rows  # fmt: skip
    # resolution still runs at 12:00: 3 h, 1 h ann + 2 h bob
    assert {"7,resolution,1,assignee,ann,3600", "7,resolution,1,assignee,bob,7200"} <= rows
    assert len(rows) == 8
    # without the option, the three files only
    plain = request_report(ports, DAY, NOW)
    run_report_job(ports, plain.id, NOW)
    assert set(report_status(ports, plain.id, NOW)["files"]) == set(FILES)


def test_the_option_is_validated_and_survives_the_job_json():
    config = _world().config
    spec = validate_request({**DAY, "time_split": True}, config, NOW, report_id="r1")
    assert spec.time_split and ReportSpec.from_dict(spec.to_dict()) == spec
    assert "time_split.csv" in spec.keys
    old_job = {k: v for k, v in spec.to_dict().items() if k != "time_split"}
    assert not ReportSpec.from_dict(old_job).time_split  # a job queued before the option existed
    with pytest.raises(ReportRequestError) as caught:
        validate_request({**DAY, "time_split": "yes"}, config, NOW, report_id="r1")
    assert any(m.startswith("time_split") for m in caught.value.messages())


def test_a_subscription_asks_for_it_in_the_configuration():
    doc = _world().config.document
    sub = {"name": "daily", "period": "daily", "calendar": "always", "time_split": True}
    config = load_config({**doc, "reports": [sub]})
    assert config.reports[0].time_split
    spec = subscription_spec(config.reports[0], validate_request(DAY, config, NOW, report_id="x").period, 60)
    assert spec.time_split and "time_split.csv" in spec.keys
    with pytest.raises(ConfigError) as err:
        load_config({**doc, "reports": [{**sub, "time_split": "yes"}]})
    assert dict(err.value.errors)["reports[0].time_split"] == "must be true or false, not 'yes'"
