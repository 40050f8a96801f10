"""functions/admin's read routes against moto (table, bucket and environment from template.yaml): open
clocks by time to breach, today's compliance, a ticket's timeline, and the configuration dry-run.

The table is loaded the way production loads it: the example tickets (examples/events.jsonl under
examples/sla.yaml) up to `SAVED_AT`, each ticket's events in the event store and its state and clock
records saved by the DynamoDB adapter as the webhook saves them. The routes are then asked at
`NOW`, hours later, with no event since: each answer is compared, row by row, with the pure engine
evaluating the same events at `NOW` (a stored record must say what the engine says, however old it is).
Requests are the HTTP API's payload-2.0 events (tests/integration/test_admin_config.py `admin_event`),
each answer checked against the OpenAPI document (`conforms`).
"""

from __future__ import annotations

import base64
import copy
import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml
from slaclock import cli
from slaclock.adapters.config_file import load_config_file
from slaclock.adapters.config_store import S3ConfigStore
from slaclock.adapters.dynamodb import DynamoEventStore, DynamoNoticeLedger, DynamoTicketStore
from slaclock.engine.clocks import evaluate, replay_ticket
from slaclock.engine.events import format_instant, parse_event
from slaclock.engine.policy import compile_policy
from slaclock.engine.timeline import build_timeline
from slaclock.runtime import admin_wiring
from slaclock.services.snapshots import clock_snapshots

from tests.integration._handlers import load_handler
from tests.integration.conftest import AwsStack
from tests.integration.test_admin_config import Admin

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAVED_AT = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
NOW = SAVED_AT + timedelta(hours=3)
TICKETS = 30


def _events() -> dict[str, list[Any]]:
    by_ticket: dict[str, list[Any]] = {}
    for line in (ROOT / "examples" / "events.jsonl").read_text().splitlines():
        event = parse_event(json.loads(line))
        if event.at <= SAVED_AT:
            by_ticket.setdefault(event.ticket_id, []).append(event)
    # the tickets created last before SAVED_AT: most are still open then
    newest = sorted(by_ticket, key=lambda t: min(e.at for e in by_ticket[t]))[-TICKETS:]
    return {t: by_ticket[t] for t in newest}


@pytest.fixture
def loaded(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Admin, dict[str, list[Any]]]]:
    text = (ROOT / "examples" / "sla.yaml").read_text()
    S3ConfigStore(bucket=aws.bucket, key=aws.config_key).push(text, "yaml")
    config = load_config_file(ROOT / "examples" / "sla.yaml")
    policy = compile_policy(config)
    store = DynamoEventStore(aws.table)
    tickets = DynamoTicketStore(aws.table, now=lambda: SAVED_AT)
    events = _events()
    for ticket_events in events.values():
        for event in ticket_events:
            store.put_if_new(event)  # the examples repeat some deliveries, as helpdesks do
        state = replay_ticket(policy, ticket_events)
        view = evaluate(policy, state, SAVED_AT)
        clocks = clock_snapshots(policy, view.fields, view.clocks, SAVED_AT)
        tickets.save(state, expected_version=None, next_check_at=view.next_check_at, clocks=clocks)
    admin_wiring.reset()
    monkeypatch.setattr(admin_wiring, "clock", lambda: NOW)
    yield Admin(load_handler("admin")), events
    admin_wiring.reset()


def _reference(events: dict[str, list[Any]], at: datetime) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every running clock with a due instant at `at`, as the engine evaluates the events."""
    config = load_config_file(ROOT / "examples" / "sla.yaml")
    policy = compile_policy(config)
    out = {}
    for ticket_events in events.values():
        view = evaluate(policy, replay_ticket(policy, ticket_events), at)
        for c in view.clocks:
            if c.running and c.due_at is not None:
                out[(c.ticket_id, c.metric.value, c.cycle)] = {
                    "status": c.status.value, "due_at": format_instant(c.due_at),
                    "remaining_seconds": round(c.remaining_seconds, 6), "level": c.level,
                    "department": view.fields.get("department"),
                }  # fmt: skip
    return out


def _all_pages(admin: Admin, **query: Any) -> tuple[list[dict[str, Any]], int]:
    clocks: list[dict[str, Any]] = []
    pages, cursor = 0, None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        status, _, answer = admin("GET", "/admin/clocks?" + urlencode(params))
        assert status == 200, answer
        pages += 1
        clocks.extend(answer["clocks"])
        cursor = answer["next_cursor"]
        if cursor is None:
            return clocks, pages


def test_open_clocks_page_by_page_equal_the_engine_at_now(loaded):
    admin, events = loaded
    clocks, pages = _all_pages(admin, state="open", limit=7)
    reference = _reference(events, NOW)
    assert len(reference) > 14 and pages == -(-len(reference) // 7)  # several pages, none empty
    got = {
        (c["ticket_id"], c["metric"], c["cycle"]): {
            "status": c["status"], "due_at": c["due_at"],
            "remaining_seconds": round(c["remaining_seconds"], 6),
            "level": c["level"], "department": c["department"],
        }
        for c in clocks
    }  # fmt: skip
    assert len(got) == len(clocks)  # no clock on two pages
    assert got == reference
    assert [c["due_at"] for c in clocks] == sorted(c["due_at"] for c in clocks)
    assert {c["status"] for c in clocks} >= {"open", "missed"}  # some breached since they were saved


def test_at_risk_is_due_within_the_window_overdue_included_and_filters_hold(loaded):
    admin, events = loaded
    reference = _reference(events, NOW)
    bound = format_instant(NOW + timedelta(hours=5))
    status, _, answer = admin("GET", "/admin/clocks?state=at_risk&within=5h&limit=200")
    assert status == 200
    assert {(c["ticket_id"], c["metric"], c["cycle"]) for c in answer["clocks"]} == {
        k for k, v in reference.items() if v["due_at"] <= bound
    }
    status, _, overdue = admin("GET", "/admin/clocks?state=overdue&limit=200")
    assert {(c["ticket_id"], c["metric"], c["cycle"]) for c in overdue["clocks"]} == {
        k for k, v in reference.items() if v["status"] == "missed"
    }
    department = Counter(v["department"] for v in reference.values()).most_common(1)[0][0]
    status, _, billing = admin(
        "GET", "/admin/clocks?" + urlencode({"state": "open", "department": department, "limit": 200})
    )
    assert {(c["ticket_id"], c["metric"], c["cycle"]) for c in billing["clocks"]} == {
        k for k, v in reference.items() if v["department"] == department
    }


@pytest.mark.parametrize(
    "query",
    ["state=soon", "within=two%20hours", "limit=0", "limit=201", "cursor=not-a-cursor", "cursor=WzEsMiwzXQ",
     # a cursor of JSON nested 1,200 deep: a RecursionError inside json.loads (a 500) until cursors were
     # decoded by `engine.json_input`
     "cursor=" + base64.urlsafe_b64encode(b"[" * 1200 + b"]" * 1200).decode().rstrip("=")],
)  # fmt: skip
def test_a_bad_query_is_422_naming_it(loaded, query):
    admin, _ = loaded
    status, _, answer = admin("GET", f"/admin/clocks?{query}")
    assert status == 422, answer
    assert query.split("=")[0] in " ".join(answer["problems"])


def test_todays_compliance_counts_what_the_engine_decided_today(loaded):
    admin, events = loaded
    status, _, answer = admin("GET", "/admin/compliance/today")
    assert status == 200
    from zoneinfo import ZoneInfo

    config = load_config_file(ROOT / "examples" / "sla.yaml")
    policy = compile_policy(config)
    zone = ZoneInfo(answer["time_zone"])
    assert answer["time_zone"] == str(next(iter(config.calendars.values())).timezone)
    today = NOW.astimezone(zone).date()
    expected: Counter[tuple[str, str | None, str]] = Counter()
    for ticket_events in events.values():
        view = evaluate(policy, replay_ticket(policy, ticket_events), NOW)
        for c in view.clocks:
            decided = (
                c.stopped_at if c.status.value == "met" else c.due_at if c.status.value == "missed" else None
            )
            dept = view.fields.get("department")
            if c.status.value in ("open", "paused"):
                expected[(c.level, dept, "open")] += 1
            elif decided is not None and decided.astimezone(zone).date() == today:
                expected[(c.level, dept, c.status.value)] += 1
    got: Counter[tuple[str, str | None, str]] = Counter()
    for row in answer["rows"]:
        for kind in ("met", "missed", "open"):
            if row[kind]:
                got[(row["level"], row["department"], kind)] = row[kind]
        decided = row["met"] + row["missed"]
        assert row["compliance_pct"] == (round(100 * row["met"] / decided, 2) if decided else None)
    assert got == expected and sum(expected.values()) > 0
    assert answer["date"] == today.isoformat()


def test_the_timeline_is_build_timeline_with_the_ledger_notices_merged(loaded, aws):
    admin, events = loaded
    config = load_config_file(ROOT / "examples" / "sla.yaml")
    policy = compile_policy(config)
    ticket, docs = next(
        (t, build_timeline(policy, ev, NOW))
        for t, ev in events.items()
        if len(build_timeline(policy, ev, NOW)["notices"]) >= 2
    )
    first, *rest = docs["notices"]
    ledger = DynamoNoticeLedger(aws.table)
    view = evaluate(policy, replay_ticket(policy, events[ticket]), NOW)
    sent = next(n for n in view.notices if n.step.key == first["step"] and n.metric.value == first["metric"])
    from slaclock.ports import ClaimOutcome

    assert ledger.claim(sent, now=SAVED_AT, lease=timedelta(minutes=5)) is ClaimOutcome.CLAIMED
    ledger.mark_sent(sent, now=SAVED_AT + timedelta(seconds=2))
    status, _, answer = admin("GET", f"/admin/tickets/{quote(ticket, safe='')}/timeline")
    assert status == 200
    assert {k: v for k, v in answer.items() if k not in ("notices", "actions")} == {
        k: v for k, v in docs.items() if k not in ("notices", "actions")
    }
    by_step = {(n["metric"], n["cycle"], n["step"]): n for n in answer["notices"]}
    assert by_step[(first["metric"], first["cycle"], first["step"])]["status"] == "sent"
    assert by_step[(first["metric"], first["cycle"], first["step"])]["at"] == format_instant(
        SAVED_AT + timedelta(seconds=2)
    )
    assert all(by_step[(n["metric"], n["cycle"], n["step"])]["status"] == "owed" for n in rest)
    assert admin("GET", "/admin/tickets/no-such-ticket/timeline")[0] == 404


def test_the_timelines_actions_are_the_engines_plan_with_the_action_ledgers_records_merged(loaded, aws):
    """Each level's breach and warning owe a Slack message and an EventBridge event: the first owed
    action is done but dead-lettered, the second claimed (running), the rest owed (no record)."""
    from slaclock.adapters.action_ledger import DynamoActionLedger
    from slaclock.engine.action_plan import owed_actions
    from slaclock.engine.config import load_config
    from slaclock.ports import ClaimOutcome

    admin, events = loaded
    doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
    steps = [{"kind": "slack", "webhook_secret": "slaclock/test/slack"}, {"kind": "eventbridge"}]
    for level in doc["levels"].values():
        level["actions"] = {"warning": steps, "breach": steps}
    S3ConfigStore(bucket=aws.bucket, key=aws.config_key).push(yaml.safe_dump(doc), "yaml")
    policy = compile_policy(load_config(doc))
    ticket, docs = next(
        (t, build_timeline(policy, ev, NOW))
        for t, ev in events.items()
        if len(build_timeline(policy, ev, NOW)["actions"]) >= 3
    )
    view = evaluate(policy, replay_ticket(policy, events[ticket]), NOW)
    plan = sorted(owed_actions(policy, view), key=lambda d: d.notice.step.at)
    dead, running = plan[0], plan[1]
    ledger = DynamoActionLedger(aws.table)
    for due in (dead, running):
        assert (
            ledger.claim(due.notice, due.key, now=SAVED_AT, lease=timedelta(minutes=5))
            is ClaimOutcome.CLAIMED
        )
    done_at = SAVED_AT + timedelta(seconds=7)
    ledger.mark_done(dead.notice, dead.key, now=done_at, outcome="dead_letter")

    status, _, answer = admin("GET", f"/admin/tickets/{quote(ticket, safe='')}/timeline")
    assert status == 200
    assert {k: v for k, v in answer.items() if k not in ("notices", "actions")} == {
        k: v for k, v in docs.items() if k not in ("notices", "actions")
    }

    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        return (a["metric"], a["cycle"], a["step"], a["index"], a["kind"])

    def of(due: Any) -> tuple[Any, ...]:
        return (
            due.notice.metric.value,
            due.notice.cycle,
            due.notice.step.key,
            due.index + 1,
            due.action.kind,
        )

    got = {key(a): a for a in answer["actions"]}
    assert len(got) == len(answer["actions"]) == len(docs["actions"])  # no action lost or repeated
    assert set(got) == {key(a) for a in docs["actions"]}
    assert all(got[key(a)]["target"] == a["target"] for a in docs["actions"])
    d, r = got[of(dead)], got[of(running)]
    assert (d["status"], d["at"], d["attempts"]) == ("dead_lettered", format_instant(done_at), 1)
    assert (r["status"], r["at"], r["attempts"]) == ("claimed", format_instant(SAVED_AT), 1)
    owed = [a for a in docs["actions"] if key(a) not in (of(dead), of(running))]
    assert owed and all(got[key(a)] == {**a, "status": "owed", "attempts": 0} for a in owed)
    # the action records are not notices: the notices' merge is unchanged
    assert all("#" not in n["step"] for n in answer["notices"])
    assert len(answer["notices"]) == len(docs["notices"])


def test_the_dry_run_is_slaclock_diff_over_the_periods_tickets_and_stores_nothing(loaded, aws, tmp_path):
    tmp = tmp_path
    admin, events = loaded
    doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
    proposed = copy.deepcopy(doc)
    for level in proposed["levels"].values():
        for target in (level.get("targets") or {}).values():
            if isinstance(target, dict) and "within" in target:
                target["within"] = "90m"  # stricter: outcomes change
                target.pop("warn_before", None)
    start, end = SAVED_AT - timedelta(days=2), NOW
    before_items = aws.client("dynamodb").scan(TableName=aws.table)["Count"]
    body = {"config": proposed, "from": format_instant(start), "to": format_instant(end)}
    status, _, answer = admin("POST", "/admin/config/dry-run", body)
    assert status == 200, answer
    # the same comparison `slaclock diff` writes, over the same tickets' events (the command, run on a file)
    chosen = [e for t in sorted(events) for e in events[t]]  # every loaded ticket has a clock in the period
    (tmp / "events.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in chosen))
    (tmp / "new.yaml").write_text(yaml.safe_dump(proposed))
    argv = ["diff", "--config", str(ROOT / "examples" / "sla.yaml"), "--config", str(tmp / "new.yaml"),
            "--events", str(tmp / "events.jsonl"), "--out", str(tmp / "diff"), "--now", format_instant(NOW),
            "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    expected = list(csv.DictReader((tmp / "diff" / "changes.csv").open(encoding="utf-8", newline="")))
    assert answer["changes_total"] == len(expected) > 0
    assert [{k: str(v) for k, v in c.items()} for c in answer["changes"]] == expected
    # before/after: the cycles of each policy's own replay (its SLA log) decided in the period
    for side, path in (("before", ROOT / "examples" / "sla.yaml"), ("after", tmp / "new.yaml")):
        assert cli.main(["replay", "--config", str(path), "--events", str(tmp / "events.jsonl"),
                         "--out", str(tmp / side), "--now", format_instant(NOW), "--quiet"]) == 0  # fmt: skip
        decided = Counter()
        for row in csv.DictReader((tmp / side / "sla_log.csv").open(encoding="utf-8", newline="")):
            at = (
                row["stopped_at"]
                if row["status"] == "met"
                else row["due_at"]
                if row["status"] == "missed"
                else ""
            )
            if at and start <= datetime.fromisoformat(at) < end:
                decided[row["status"]] += 1
        assert (answer[side]["met"], answer[side]["missed"]) == (decided["met"], decided["missed"])
    assert answer["after"]["missed"] > answer["before"]["missed"]
    assert answer["tickets"] == len(events)
    assert aws.client("dynamodb").scan(TableName=aws.table)["Count"] == before_items


def test_a_bad_dry_run_is_422_with_every_problem_and_a_huge_one_413(loaded, monkeypatch):
    admin, _ = loaded
    doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
    broken = copy.deepcopy(doc)
    broken["levels"] = {"x": {"calendar": "nope"}}
    status, _, answer = admin(
        "POST",
        "/admin/config/dry-run",
        {"config": broken, "from": "2026-01-08T00:00:00Z", "to": "2026-01-07T00:00:00Z"},
    )
    assert status == 422
    text = " ".join(answer["problems"])
    assert "to: must be after from" in text and "config.levels" in text
    status, _, answer = admin(
        "POST", "/admin/config/dry-run", {"config": doc, "from": "2026-01-07", "to": "x"}
    )
    assert status == 422
    from slaclock.services import admin_dry_run

    monkeypatch.setattr(admin_dry_run, "MAX_DRY_RUN_TICKETS", 5)
    body = {"config": doc, "from": format_instant(SAVED_AT - timedelta(days=2)), "to": format_instant(NOW)}
    status, _, answer = admin("POST", "/admin/config/dry-run", body)
    assert status == 413 and "more than 5 tickets" in answer["error"]
