"""`slaclock replay --calendar-columns` (docs/reports.md, SLA log): ``calendar`` and ``calendar_due_at``,
the calendar each clock actually counted in (a level's ``calendar_from`` chooses it per ticket) and its
due instant in that calendar's zone; appended after the other columns, none by default."""

import csv
import io
import json

import yaml
from slaclock.cli import main
from slaclock.engine.reports import SLA_LOG_COLUMNS

WEEK = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
CONFIG = {
    "calendars": {
        "paris-office": {"timezone": "Europe/Paris", "hours": WEEK},
        "ny-office": {"timezone": "America/New_York", "hours": WEEK},
    },
    "levels": {
        "standard": {
            "calendar": "paris-office",
            "calendar_from": "custom.region",
            "calendar_map": {"us": "ny-office"},
            "targets": {"first_response": {"within": "2h"}},
        }
    },
    "rules": [{"name": "all", "set_level": "standard"}],
}
# Both created Monday 16 November 2026 at 15:00Z = 16:00 Paris = 10:00 New York.
EVENTS = [
    {"id": "a", "ticket_id": "1", "type": "created", "at": "2026-11-16T15:00:00Z",
     "ticket": {"status": "open", "custom": {"region": "US"}}},
    {"id": "b", "ticket_id": "2", "type": "created", "at": "2026-11-16T15:00:00Z",
     "ticket": {"status": "open", "custom": {"region": "emea"}}},
]  # fmt: skip


def _replay(tmp_path, name, *extra):
    config, events = tmp_path / "sla.yaml", tmp_path / "events.jsonl"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    out = tmp_path / name
    argv = ["replay", "--config", str(config), "--events", str(events), "--out", str(out), "--quiet"]
    assert main([*argv, "--now", "2026-11-20T12:00:00Z", *extra]) == 0
    return (out / "sla_log.csv").read_text(encoding="utf-8")


def test_calendar_columns_show_the_chosen_calendar_and_the_due_instant_in_its_zone(tmp_path):
    plain = _replay(tmp_path, "plain")
    rich = _replay(tmp_path, "rich", "--calendar-columns")
    assert plain.splitlines()[0].split(",") == list(SLA_LOG_COLUMNS)
    assert rich.splitlines()[0].split(",") == [*SLA_LOG_COLUMNS, "calendar", "calendar_due_at"]
    # the thirteen columns are today's, cell for cell
    assert [line.rsplit(",", 2)[0] for line in rich.splitlines()[1:]] == plain.splitlines()[1:]
    rows = {r["ticket_id"]: r for r in csv.DictReader(io.StringIO(rich))}
    # New York: 10:00 + 2 business hours = Monday 12:00 -05:00 (17:00Z)
    assert (rows["1"]["calendar"], rows["1"]["due_at"], rows["1"]["calendar_due_at"]) == (
        "ny-office", "2026-11-16T17:00:00Z", "2026-11-16T12:00:00-05:00"
    )  # fmt: skip
    # Paris: 16:00-17:00 is one hour, the second is Tuesday 09:00-10:00: Tuesday 10:00 +01:00 (09:00Z)
    assert (rows["2"]["calendar"], rows["2"]["due_at"], rows["2"]["calendar_due_at"]) == (
        "paris-office", "2026-11-17T09:00:00Z", "2026-11-17T10:00:00+01:00"
    )  # fmt: skip


def test_calendar_columns_come_after_the_other_optional_columns(tmp_path):
    rich = _replay(tmp_path, "all", "--time-zone", "UTC", "--durations", "human", "--calendar-columns")
    assert rich.splitlines()[0].split(",")[len(SLA_LOG_COLUMNS) :] == [
        "started_at_local", "due_at_local", "stopped_at_local", "business_time", "remaining_time",
        "calendar", "calendar_due_at",
    ]  # fmt: skip
