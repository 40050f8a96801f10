"""The template's report schedules and `due_subscriptions` together catch every subscription's period
exactly once, in every time-zone offset (UTC-12 .. UTC+14, half and three-quarter hours, DST)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slaclock.engine.config import load_config
from slaclock.services.report import calendar_period, due_subscriptions
from slaclock_local.resources import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
ZONES = [
    "Pacific/Kiritimati", "Pacific/Chatham", "Etc/GMT+12", "Pacific/Pago_Pago", "Asia/Kathmandu",
    "America/St_Johns", "Australia/Lord_Howe", "America/Santiago", "Europe/Paris", "Asia/Kolkata", "UTC",
]  # fmt: skip
DAYS = {"SUN": 6, "MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5}


def schedules() -> dict[str, tuple[str, dict]]:
    function = load_template(TEMPLATE)["Resources"]["ReportFunction"]["Properties"]
    found = {}
    for event in function["Events"].values():
        if event["Type"] == "ScheduleV2":
            props = event["Properties"]
            doc = json.loads(props["Input"])
            assert props["ScheduleExpressionTimezone"] == "UTC" and props["FlexibleTimeWindow"] == {
                "Mode": "OFF"
            }
            found[doc["report_schedule"]] = (props["ScheduleExpression"], doc)
    return found


def _values(field: str, names: dict[str, int] | None = None) -> set[int] | None:
    if field in ("*", "?"):
        return None
    out: set[int] = set()
    for part in field.split(","):
        lo, _, hi = part.partition("-")
        a, b = (names[lo], names[hi or lo]) if names else (int(lo), int(hi or lo))
        out.update(range(a, b + 1))
    return out


def fires_at(cron: str, t: datetime) -> bool:
    """Whether an EventBridge cron (minute, hour '*', day-of-month, month '*', day-of-week, year '*')
    fires at UTC instant `t` (only the forms the template uses)."""
    minute, hour, dom, month, dow, year = re.fullmatch(r"cron\((.*)\)", cron).group(1).split()
    assert hour == month == year == "*"
    days, weekdays = _values(dom), _values(dow, DAYS)
    return (
        t.minute == int(minute)
        and t.second == 0
        and (days is None or t.day in days)
        and (weekdays is None or t.weekday() in weekdays)
    )


def test_one_schedule_per_period_kind_each_announcing_its_window():
    found = schedules()
    assert set(found) == {"daily", "weekly", "monthly"}
    for cron, doc in found.values():
        assert doc["window_seconds"] == 3600 and doc["scheduled_at"] == "<aws.scheduler.scheduled-time>"
        assert cron.startswith("cron(15 * ")


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_every_local_period_start_is_caught_by_exactly_one_firing(kind):
    cron, doc = schedules()[kind]
    window = timedelta(seconds=doc["window_seconds"])
    config = load_config({
        "calendars": {f"c{i}": {"timezone": z, "hours": "24x7"} for i, z in enumerate(ZONES)},
        "levels": {"l": {"calendar": "c0", "targets": {"first_response": {"within": "1h"}}}},
        "rules": [{"name": "all", "set_level": "l"}],
        "reports": [{"name": z, "period": kind, "calendar": f"c{i}"} for i, z in enumerate(ZONES)],
    })  # fmt: skip
    step = {"daily": timedelta(days=5), "weekly": timedelta(days=7), "monthly": timedelta(days=30)}[kind]
    for zone in ZONES:
        t = datetime(2026, 1, 3, tzinfo=UTC)
        while t < datetime(2027, 1, 1, tzinfo=UTC):
            period = calendar_period(kind, t, zone)
            start = period.start
            hour = start.replace(minute=0, second=0, microsecond=0)
            firings = [hour + timedelta(hours=h, minutes=15) for h in range(-2, 3)]
            catching = [
                f for f in firings
                if fires_at(cron, f) and any(s.name == zone and p.label == period.previous().label
                                             for s, p in due_subscriptions(config, kind, f, window))
            ]  # fmt: skip
            assert len(catching) == 1, (zone, period.label, catching)
            t += step
