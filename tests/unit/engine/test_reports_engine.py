"""The reports of a small dataset run through the REAL engine (rules, clocks, calendar), compared with
CSV text written out by hand.

Calendars: `paris` Mon–Fri 09:00–17:00 Europe/Paris (UTC+1 in January); `ny` 24x7 America/New_York
(UTC−5). Levels: `standard` on paris (first_response 2 h, resolution 8 h paused while pending) and
`night` on ny (first_response 1 h). `now` = Tue 2026-01-06 12:00Z (13:00 Paris).

Ticket 1 (standard): created Mon 08:00Z (09:00 Paris); agent reply 09:30Z -> first_response met after
  1 h 30 (5400 s, due 11:00 Paris = 10:00Z, 1800 s left); solved Tue 09:00Z (10:00 Paris) ->
  resolution used Mon 8 h + Tue 1 h = 32400 s > 28800: missed, due Mon 17:00 Paris = 16:00Z, -3600 s.
Ticket 5: created Mon 10:00Z, deleted 10:05Z -> its clocks are cancelled: no rows.
Ticket 2 (standard): created Mon 12:00Z (13:00 Paris); agent reply 12:15Z, status pending ->
  first_response met (900 s, due 14:00Z); resolution paused from 12:15Z until the customer replies Tue
  08:00Z (09:00 Paris), then counts to now: 900 + 4 h = 15300 s, 13500 s left -> due 16:45 Paris.
Ticket 3 (night, no assignee): created Tue 04:20Z (Mon 23:20 New York), reply 04:50Z -> met (1800 s)
  on 2026-01-05 in New York although it is the 6th in UTC.
Ticket 4 (standard): created Tue 08:00Z (09:00 Paris), never answered -> first_response missed and
  still running (4 h used, due 10:00Z, -7200 s), counted on the 6th; resolution open (14400 s used,
  due 17:00 Paris = 16:00Z). Its requester starts with "=" and its department holds a comma.
"""

import csv
import io
from datetime import UTC, datetime

import pytest
from slaclock.engine.config import load_config
from slaclock.engine.events import parse_event
from slaclock.engine.replay import Replay, replay, write_reports
from slaclock.engine.reports import ComplianceAccumulator, sla_log_rows

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)

CONFIG = {
    "calendars": {
        "paris": {
            "timezone": "Europe/Paris",
            "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        "ny": {"timezone": "America/New_York", "hours": "24x7"},
    },
    "levels": {
        "standard": {
            "calendar": "paris",
            "targets": {
                "first_response": {"within": "2h"},
                "resolution": {"within": "8h", "pause_when_status": ["pending"]},
            },
        },
        "night": {"calendar": "ny", "targets": {"first_response": {"within": "1h"}}},
    },
    "rules": [
        {"name": "Night desk", "when": {"field": "tags", "op": "contains", "value": "night"},
         "set_level": "night", "stop": True},
        {"name": "Everyone else", "set_level": "standard"},
    ],
}  # fmt: skip


def _ev(eid, tid, type_, at, **ticket):
    return {"id": eid, "ticket_id": tid, "type": type_, "at": at, "ticket": ticket}


EVENTS = [
    # deliberately out of order, with one webhook delivered twice
    _ev("b2", "2", "agent_replied", "2026-01-05T12:15:00Z", status="pending"),
    _ev("a1", "1", "created", "2026-01-05T08:00:00Z", status="open", requester="ann@client.test",
        department="billing", assignee="eva@example.com"),
    _ev("a2", "1", "agent_replied", "2026-01-05T09:30:00Z"),
    _ev("a3", "1", "solved", "2026-01-06T09:00:00Z", status="solved"),
    _ev("e1", "5", "created", "2026-01-05T10:00:00Z", status="open", requester="spam@spam.test"),
    _ev("e2", "5", "deleted", "2026-01-05T10:05:00Z"),
    _ev("b1", "2", "created", "2026-01-05T12:00:00Z", status="open", requester="bob@client.test",
        department="billing", assignee="eva@example.com"),
    _ev("b3", "2", "customer_replied", "2026-01-06T08:00:00Z", status="open"),
    _ev("c1", "3", "created", "2026-01-06T04:20:00Z", status="open", requester="zoe@client.test",
        department="support", tags=["night"]),
    _ev("c2", "3", "agent_replied", "2026-01-06T04:50:00Z"),
    _ev("d1", "4", "created", "2026-01-06T08:00:00Z", status="open", requester="=1+2",
        department="Sales, EMEA", assignee="ana@example.com"),
    _ev("a2", "1", "agent_replied", "2026-01-05T09:30:00Z"),  # repeated delivery
    _ev("late", "4", "updated", "2026-01-06T13:00:00Z", priority="low"),  # after `now`: left out
]  # fmt: skip

SLA_LOG = """\
ticket_id,requester,department,agent,level,metric,cycle,started_at,due_at,stopped_at,status,business_seconds,remaining_seconds
1,ann@client.test,billing,eva@example.com,standard,first_response,1,2026-01-05T08:00:00Z,2026-01-05T10:00:00Z,2026-01-05T09:30:00Z,met,5400,1800
1,ann@client.test,billing,eva@example.com,standard,resolution,1,2026-01-05T08:00:00Z,2026-01-05T16:00:00Z,2026-01-06T09:00:00Z,missed,32400,-3600
2,bob@client.test,billing,eva@example.com,standard,first_response,1,2026-01-05T12:00:00Z,2026-01-05T14:00:00Z,2026-01-05T12:15:00Z,met,900,6300
2,bob@client.test,billing,eva@example.com,standard,resolution,1,2026-01-05T12:00:00Z,2026-01-06T15:45:00Z,,open,15300,13500
3,zoe@client.test,support,,night,first_response,1,2026-01-06T04:20:00Z,2026-01-06T05:20:00Z,2026-01-06T04:50:00Z,met,1800,1800
4,'=1+2,"Sales, EMEA",ana@example.com,standard,first_response,1,2026-01-06T08:00:00Z,2026-01-06T10:00:00Z,,missed,14400,-7200
4,'=1+2,"Sales, EMEA",ana@example.com,standard,resolution,1,2026-01-06T08:00:00Z,2026-01-06T16:00:00Z,,open,14400,14400
"""  # noqa: E501

COMPLIANCE_BY_LEVEL = """\
date,level,met,met_avg_seconds,met_max_seconds,met_min_seconds,missed,missed_avg_seconds,missed_max_seconds,missed_min_seconds,compliance_pct
2026-01-05,night,1,1800,1800,1800,0,,,,100.00
2026-01-05,standard,2,3150,5400,900,1,32400,32400,32400,66.67
2026-01-06,standard,0,,,,1,14400,14400,14400,0.00
"""  # noqa: E501

COMPLIANCE = """\
date,met,met_avg_seconds,met_max_seconds,met_min_seconds,missed,missed_avg_seconds,missed_max_seconds,missed_min_seconds,compliance_pct
2026-01-05,3,2700,5400,900,1,32400,32400,32400,75.00
2026-01-06,0,,,,1,14400,14400,14400,0.00
"""  # noqa: E501


def _lf(text):
    return text.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def events():
    return [parse_event(e) for e in EVENTS]


def _write(config, events, group_by=(), **kw):
    log, comp, page = io.StringIO(newline=""), io.StringIO(newline=""), io.StringIO()
    stats = write_reports(
        config,
        replay(config, events, NOW),
        sla_log=log,
        compliance=comp,
        summary=page,
        group_by=group_by,
        **kw,
    )
    return stats, log.getvalue(), comp.getvalue(), page.getvalue()


def test_sla_log_csv_exactly(config, events):
    _, log, _, _ = _write(config, events)
    assert _lf(log) == SLA_LOG


def test_compliance_csv_by_level_exactly(config, events):
    _, _, comp, _ = _write(config, events, group_by=["level"])
    assert _lf(comp) == COMPLIANCE_BY_LEVEL


def test_compliance_csv_without_groups_exactly(config, events):
    run = Replay(config, events, NOW)
    log, comp, page = io.StringIO(newline=""), io.StringIO(newline=""), io.StringIO()
    stats = write_reports(config, run, sla_log=log, compliance=comp, summary=page, stats=run.stats)
    page = page.getvalue()
    assert _lf(comp.getvalue()) == COMPLIANCE
    assert (stats.tickets, stats.events, stats.events_after_now) == (5, 12, 1)
    assert (stats.clocks, stats.met, stats.missed, stats.running, stats.cancelled) == (7, 3, 2, 2, 2)
    assert stats.compliance_pct == 60.0
    assert "60.00%" in page


def test_input_order_does_not_change_the_reports(config, events):
    _, log, comp, _ = _write(config, list(reversed(events)), group_by="level")
    assert _lf(log) == SLA_LOG
    assert _lf(comp) == COMPLIANCE_BY_LEVEL


def test_sorted_sla_log(config, events):
    _, log, _, _ = _write(config, events, sort_by="-overdue")
    keys = [(r[0], r[5]) for r in csv.reader(io.StringIO(log))][1:]
    # most overdue first: remaining -7200, -3600, then 1800 (two ties: by ticket), 6300, 13500, 14400
    assert keys == [
        ("4", "first_response"), ("1", "resolution"), ("1", "first_response"), ("3", "first_response"),
        ("2", "first_response"), ("2", "resolution"), ("4", "resolution"),
    ]  # fmt: skip


def test_default_now_is_the_latest_event(config, events):
    views = list(replay(config, events))
    assert {v.now for v in views} == {datetime(2026, 1, 6, 13, 0, tzinfo=UTC)}


def test_rows_of_a_view_carry_the_levels_time_zone(config, events):
    views = {v.ticket_id: v for v in replay(config, events, NOW)}
    [night] = list(sla_log_rows(views["3"], config))
    assert night.timezone == "America/New_York"
    acc = ComplianceAccumulator()
    acc.add(night)
    assert [r.date.isoformat() for r in acc.rows()] == ["2026-01-05"]
