"""Who burned the time (docs/clocks.md, "Who burned the time"): each clock's counted business time split
by status, assignee and group, from the same counting intervals as the clock walk; `slaclock replay
--time-split` writes it as time_split.csv beside byte-identical reports."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.cli import main
from slaclock.engine.clocks import SPLIT_DIMENSIONS, clock_outcomes, time_splits
from slaclock.engine.config import Metric, load_config
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy

FR, RES = Metric.FIRST_RESPONSE, Metric.RESOLUTION
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
MIN = timedelta(minutes=1)

WEEK = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
DOC = {
    "calendars": {
        "office": {"timezone": "Europe/Paris", "hours": WEEK},
        "always": {"timezone": "UTC", "hours": "24x7"},
    },
    "levels": {
        "standard": {
            "calendar": "always",
            "targets": {
                "first_response": {"within": "1h"},
                "next_response": {"within": "30m"},
                "resolution": {"within": "8h", "pause_when_status": ["pending"]},
            },
        },
        "office": {
            "calendar": "office",
            "targets": {"resolution": {"within": "4h", "pause_when_status": ["on_hold"]}},
        },
    },
    "rules": [
        {"name": "all", "set_level": "standard", "stop": False},
        {"name": "office", "when": {"field": "tags", "op": "contains", "value": "office"},
         "set_level": "office"},
    ],
}  # fmt: skip
POLICY = compile_policy(load_config(DOC))


def ev(i, minutes, kind, ticket=None):
    at = (T0 + minutes * MIN).isoformat()
    return parse_event({"id": f"e{i}", "ticket_id": "7", "type": kind, "at": at, "ticket": ticket or {}})


def test_a_hand_computed_split():
    # 09:00 created for ana (billing); 09:30 ana answers; 10:00 bob (tech) takes it; 11:00 pending
    # (resolution pauses); 12:00 open again; 13:00 solved. 24x7 calendar.
    events = [
        ev(1, 0, "created", {"status": "open", "assignee": "ana@x.test", "department": "billing"}),
        ev(2, 30, "agent_replied"),
        ev(3, 60, "updated", {"assignee": "bob@x.test", "department": "tech"}),
        ev(4, 120, "updated", {"status": "pending"}),
        ev(5, 180, "updated", {"status": "open"}),
        ev(6, 240, "solved"),
    ]
    tid, splits = time_splits(POLICY, events, T0 + 300 * MIN)
    h = 3_600_000_000
    assert tid == "7"
    assert splits == [
        (FR, 1, "status", "open", h // 2),
        (FR, 1, "assignee", "ana@x.test", h // 2),
        (FR, 1, "group", "billing", h // 2),
        (RES, 1, "status", "open", 3 * h),
        (RES, 1, "assignee", "ana@x.test", h),
        (RES, 1, "assignee", "bob@x.test", 2 * h),
        (RES, 1, "group", "billing", h),
        (RES, 1, "group", "tech", 2 * h),
    ]


def test_time_before_an_assignee_is_unassigned_and_a_running_clock_counts_to_now():
    events = [ev(1, 0, "created", {"status": "new"}), ev(2, 90, "updated", {"assignee": "ana@x.test"})]
    _, splits = time_splits(POLICY, events, T0 + 100 * MIN)
    res = {(d, v): us for m, _, d, v, us in splits if m is RES}
    assert res[("assignee", "")] == 90 * 60_000_000
    assert res[("assignee", "ana@x.test")] == 10 * 60_000_000
    assert res[("status", "new")] == 100 * 60_000_000
    assert res[("group", "")] == 100 * 60_000_000


# ---------------------------------------------------------------- exact, and order-free

CHANGES = st.lists(
    st.tuples(
        st.integers(0, 3000),
        st.sampled_from(["updated", "agent_replied", "customer_replied", "solved", "reopened"]),
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["open", "pending", "on_hold", "new"]),
                "assignee": st.sampled_from(["ana@x.test", "bob@x.test", None]),
                "department": st.sampled_from(["billing", "tech", None]),
                "tags": st.sampled_from([["office"], []]),
            },
        ),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(changes=CHANGES, now=st.integers(0, 6000), order=st.randoms(use_true_random=False))
def test_each_dimension_sums_exactly_to_the_clocks_counted_time_in_any_order(changes, now, order):
    events = [ev(0, 0, "created", {"status": "open", "assignee": "ana@x.test"})]
    events += [ev(i, m, kind, fields) for i, (m, kind, fields) in enumerate(changes, start=1)]
    at = T0 + now * MIN
    _, _, outcomes = clock_outcomes(POLICY, events, at)
    _, splits = time_splits(POLICY, events, at)
    for metric, cycle, _, _, _, _, _, status, business, _ in outcomes:
        if status.value == "cancelled":
            continue
        for dimension in SPLIT_DIMENSIONS:
            shares = [us for m, c, d, _, us in splits if (m, c, d) == (metric, cycle, dimension)]
            assert sum(shares) == round(business * 1_000_000), (metric, cycle, dimension)
            assert all(us > 0 for us in shares)
    shuffled = events + events[::3]
    order.shuffle(shuffled)
    assert time_splits(POLICY, shuffled, at) == time_splits(POLICY, events, at)


# ---------------------------------------------------------------- slaclock replay --time-split


def test_replay_writes_time_split_beside_the_same_three_reports(tmp_path, capsys):
    config = tmp_path / "sla.json"
    config.write_text(json.dumps(DOC), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    rows = [
        {"id": "a1", "ticket_id": "1", "type": "created", "at": "2026-11-16T08:00:00Z",
         "ticket": {"status": "open", "assignee": "ana@x.test", "department": "=billing"}},
        {"id": "a2", "ticket_id": "1", "type": "updated", "at": "2026-11-16T09:00:00Z",
         "ticket": {"assignee": "bob@x.test"}},
        {"id": "a3", "ticket_id": "1", "type": "agent_replied", "at": "2026-11-16T09:15:00Z"},
        {"id": "b1", "ticket_id": "2", "type": "created", "at": "2026-11-16T08:30:00Z",
         "ticket": {"status": "open", "tags": ["office"]}},
    ]  # fmt: skip
    events.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    base = ["replay", "--config", str(config), "--events", str(events), "--now", "2026-11-16T10:00:00Z"]
    assert main([*base, "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    assert main([*base, "--out", str(tmp_path / "split"), "--quiet", "--time-split"]) == 0
    for name in ("sla_log.csv", "compliance.csv", "summary.html"):
        assert (tmp_path / "split" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    assert not (tmp_path / "plain" / "time_split.csv").exists()
    raw = (tmp_path / "split" / "time_split.csv").read_bytes()
    assert raw.startswith(b"ticket_id,metric,cycle,dimension,value,business_seconds\r\n")
    table = list(csv.DictReader(raw.decode().splitlines()))
    got = {(r["ticket_id"], r["metric"], r["dimension"], r["value"]): r["business_seconds"] for r in table}
    assert got[("1", "first_response", "assignee", "ana@x.test")] == "3600"
    assert got[("1", "first_response", "assignee", "bob@x.test")] == "900"
    assert got[("1", "resolution", "group", "'=billing")] == "7200"  # formula-guarded, as the SLA log
    assert got[("2", "resolution", "assignee", "")] == "5400"  # office hours from 09:30 Paris to 11:00
    # Each clock's rows per dimension add up to its SLA log business_seconds.
    log = list(csv.DictReader((tmp_path / "split" / "sla_log.csv").read_text().splitlines()))
    for row in log:
        for dimension in SPLIT_DIMENSIONS:
            total = sum(
                float(r["business_seconds"]) for r in table
                if (r["ticket_id"], r["metric"], r["cycle"], r["dimension"]) ==
                (row["ticket_id"], row["metric"], row["cycle"], dimension)
            )  # fmt: skip
            assert total == float(row["business_seconds"])
    capsys.readouterr()


def test_time_split_with_workers_is_refused(tmp_path, capsys):
    config = tmp_path / "sla.json"
    config.write_text(json.dumps(DOC), encoding="utf-8")
    argv = ["replay", "--config", str(config), "--events", "-", "--out", str(tmp_path), "--time-split"]
    assert main([*argv, "--workers", "2"]) == 2
    assert "--time-split" in capsys.readouterr().err
