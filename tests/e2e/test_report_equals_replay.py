"""Differential: a report the report function builds at instant T equals `slaclock replay --now T` of
the same events, row for row, and its compliance day for day and group.

The local embedded stack is driven as a helpdesk drives it: each webhook POSTed at its own virtual
instant (the clock is fast-forwarded to it, so every check due on the way fires into the real check
function first), then ``POST /reports`` at T, the report downloaded from its link, and compared with
the replay command's files for the events the stack stored. Two worlds:

- the demo's week (examples/webhooks/story.yaml, the README's first command), reported at several
  instants, one of them exactly the due instant of a clock whose check fires at that very instant;
  and the daily report e-mails the stack sent agree with the same replay;
- a seeded generated set (`slaclock.sample`, the replay benchmark's simulator) of 25 tickets with
  late and repeated webhooks, through the canonical generic source. (Moto copies the whole table for
  every transactional write, so hundreds of tickets here take tens of minutes: the same differential
  runs on 300 generated tickets through the use cases in tests/unit/test_report_equals_replay_generated.py.)

The report asks for every clock (``include_running``) over a period that holds all the activity, so
both sides list the same clocks. Compared per clock: level, start, due instant, stop, status, business
and remaining seconds. (Requester, department and agent are not: a decided clock's record keeps the
agent that met or missed it, the replay shows the ticket's last one.)
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml
from slaclock import cli
from slaclock.adapters.dynamodb import DynamoEventStore
from slaclock.demo import STORY, load_story, send
from slaclock.engine.events import Event, format_instant, parse_event
from slaclock.local.helpdesks import signed_headers
from slaclock.local.reports import via_api
from slaclock.local.stack import LocalStack
from slaclock.sample import generate_events

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO / "examples" / "sla.yaml"
COMPARED = ("level", "started_at", "due_at", "stopped_at", "status", "business_seconds", "remaining_seconds")
GROUP_BY = ("level", "metric")

session = requests.Session()
session.trust_env = False  # everything is on 127.0.0.1


# ------------------------------------------------------------------------------------------ helpers


def report_at(stack: LocalStack, calendar: str, start: datetime, end: datetime) -> dict[str, str]:
    """``POST /reports`` (every clock, the whole period) at the clock's now; the files' texts."""
    request = {
        "period": {"from": format_instant(start), "to": format_instant(end)},
        "calendar": calendar,
        "group_by": list(GROUP_BY),
        "include_running": True,
        "title": "differential",
    }
    links = via_api(stack, request)
    texts = {}
    for name in ("sla_log.csv", "compliance.csv"):
        answer = session.get(links.files[name], timeout=60)
        assert answer.status_code == 200, answer.text
        texts[name] = answer.content.decode("utf-8")
    return texts


def replay_at(config: Path, events: Iterable[Event], now: datetime, out: Path) -> dict[str, str]:
    """``slaclock replay --config ... --events ... --now T --group-by level,metric``: the files' texts."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "events.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
    code = cli.main([
        "replay", "--config", str(config), "--events", str(path), "--out", str(out / "replay"),
        "--now", format_instant(now), "--group-by", ",".join(GROUP_BY), "--quiet",
    ])  # fmt: skip
    assert code == 0
    files = ("sla_log.csv", "compliance.csv")
    return {name: (out / "replay" / name).read_text(encoding="utf-8") for name in files}


def by_clock(text: str) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    keyed = {(r["ticket_id"], r["metric"], r["cycle"]): {c: r[c] for c in COMPARED} for r in rows}
    assert len(keyed) == len(rows), "one row per clock cycle"
    return keyed


def compliance_rows(text: str) -> list[str]:
    return sorted(text.splitlines()[1:])


def assert_same(report: Mapping[str, str], replay: Mapping[str, str], at: datetime) -> int:
    """The report equals the replay: every clock's values, every compliance row. Returns the rows."""
    ours, theirs = by_clock(report["sla_log.csv"]), by_clock(replay["sla_log.csv"])
    assert ours.keys() == theirs.keys(), (
        f"at {format_instant(at)}: only in the report {sorted(ours.keys() - theirs.keys())[:5]}, "
        f"only in the replay {sorted(theirs.keys() - ours.keys())[:5]}"
    )
    wrong = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert not wrong, f"at {format_instant(at)}, {len(wrong)} rows differ, e.g. {next(iter(wrong.items()))}"
    assert report["compliance.csv"].splitlines()[0] == replay["compliance.csv"].splitlines()[0]
    assert compliance_rows(report["compliance.csv"]) == compliance_rows(replay["compliance.csv"]), at
    return len(ours)


def stored_events(ticket_ids: Iterable[str]) -> list[Event]:
    store = DynamoEventStore(_table())
    return [e for tid in sorted(set(ticket_ids)) for e in store.ticket_events(tid)]


_TABLE: dict[str, str] = {}
DEMO_TICKETS: set[str] = set()  # the demo's ticket ids, as the stack answered them


def _table() -> str:
    return _TABLE["name"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def whole_minute_due(sla_log: str, after: datetime, before: datetime) -> datetime | None:
    """A due instant of a running clock on a whole minute in (after, before): its check is armed for
    that very instant, which is the boundary the report must get right."""
    for r in csv.DictReader(io.StringIO(sla_log)):
        if r["status"] == "open" and r["due_at"]:
            due = instant(r["due_at"])
            if after < due < before and due.second == 0 and due.microsecond == 0:
                return due
    return None


# -------------------------------------------------------------------------------- the demo's week

STORY_DOC = load_story(STORY)
WEEK_START = datetime(2026, 11, 9, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
WEEK_END = WEEK_START + timedelta(days=28)


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[LocalStack]:
    with LocalStack(start_at=STORY_DOC.start, paused=True, poll_seconds=0.1) as stack:
        _TABLE["name"] = stack.environment["SLACLOCK_TABLE"]
        yield stack


def test_the_demo_weeks_reports_equal_replay_at_every_instant_asked(demo_stack, tmp_path):
    stack = demo_stack
    tickets = DEMO_TICKETS
    compared: list[tuple[str, int]] = []

    def compare(label: str) -> None:
        now = stack.now()
        t = time.perf_counter()
        report = report_at(stack, "paris-office", WEEK_START, WEEK_END)
        t2 = time.perf_counter()
        replay = replay_at(EXAMPLE_CONFIG, stored_events(tickets), now, tmp_path / label)
        print(label, f"report {t2 - t:.1f}s replay {time.perf_counter() - t2:.1f}s")
        compared.append((label, assert_same(report, replay, now)))

    steps = list(STORY_DOC.steps)
    middle = len(steps) // 2
    boundary_done = False
    for i, step in enumerate(steps):
        if i == middle:
            compare("mid-week")
        if i >= middle and not boundary_done:
            # The boundary: exactly at a due instant whose check fires at that very instant.
            probe = replay_at(EXAMPLE_CONFIG, stored_events(tickets), stack.now(), tmp_path / f"probe-{i}")
            due = whole_minute_due(probe["sla_log.csv"], stack.now(), step.at)
            if due is not None:
                stack.fast_forward(due)
                compare("at-a-due-instant")
                boundary_done = True
        stack.fast_forward(step.at)
        status, answer = send(stack, step, STORY_DOC.folder)
        assert status == step.expect, (step.file, answer)
        if status == 202:
            tickets.update(answer["tickets"])
    stack.fast_forward(STORY_DOC.end)
    compare("end-of-week")
    labels = [label for label, _ in compared]
    assert "at-a-due-instant" in labels, "the story has a clock due on a whole minute in its second half"
    assert all(n > 0 for _, n in compared)
    print("demo rows compared:", compared)  # noqa: T201 - the closing note quotes these counts


def test_the_demos_daily_emails_and_breaches_agree_with_replay(demo_stack, tmp_path):
    """Run after the week: each daily report e-mail's headline (met, missed) is what replay decided on
    that Paris day, and every breach e-mail's clock is missed in the replay."""
    stack = demo_stack
    emails = stack.emails()
    assert DEMO_TICKETS, "the week was played"
    replay = replay_at(EXAMPLE_CONFIG, stored_events(DEMO_TICKETS), stack.now(), tmp_path / "final")
    rows = list(csv.DictReader(io.StringIO(replay["sla_log.csv"])))
    paris = ZoneInfo("Europe/Paris")

    def decided_on(day: str, status: str) -> int:
        n = 0
        for r in rows:
            if r["status"] != status:
                continue
            at = r["stopped_at"] if status == "met" else r["due_at"]
            if at and instant(at).astimezone(paris).date().isoformat() == day:
                n += 1
        return n

    daily = [e for e in emails if e.subject.startswith("SLA report daily-operations")]
    assert daily, "the daily subscription e-mailed its reports during the week"
    for e in daily:
        day = re.search(r"· (\d{4}-\d{2}-\d{2})", e.subject).group(1)
        m = re.search(r"\((\d+) met, (\d+) missed\)", e.text)
        met, missed = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        assert (met, missed) == (decided_on(day, "met"), decided_on(day, "missed")), (e.subject, e.text)
    missed = {(r["ticket_id"], r["metric"].replace("_", " ")) for r in rows if r["status"] == "missed"}
    breaches = [e for e in emails if "breach" in e.subject.lower()]
    assert breaches
    for e in breaches:
        assert any(tid in e.subject and metric in e.subject.lower() for tid, metric in missed), e.subject


# ------------------------------------------------------------------------- a generated set (seeded)

N_TICKETS = 25
PER_DAY = 150  # tickets created a day: the 25 arrive within the first working day
WINDOW = timedelta(hours=20)  # what happens in it is played (later events are left out)
BATCH = timedelta(minutes=10)
SIM_START = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Paris


def sim_config(tmp: Path) -> Path:
    """examples/sla.yaml with a canonical generic source and no report subscriptions."""
    doc = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    doc["sources"] = {"sim": {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/sim"}}}
    doc.pop("reports", None)
    path = tmp / "sim.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def deliveries(events: Sequence[dict[str, Any]]) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """The simulator's events in arrival order, each POSTed no earlier than it happened; events that
    arrive within `BATCH` of the batch's first go in one delivery, POSTed at the last one's instant
    (the generic source takes a JSON list; a helpdesk that batches is this late)."""
    out: list[tuple[datetime, list[dict[str, Any]]]] = []
    last = SIM_START
    first = SIM_START
    for doc in events:
        at = max(last, instant(doc["at"]))
        if out and at - first < BATCH:
            out[-1][1].append(doc)
            out[-1] = (at, out[-1][1])
        else:
            out.append((at, [doc]))
            first = at
        last = at
    return out


def test_a_generated_set_reports_what_replay_says(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sim")
    config = sim_config(tmp)
    docs = [
        d
        for d in generate_events(N_TICKETS, seed=7, start=SIM_START, per_day=PER_DAY)
        if instant(d["at"]) < SIM_START + WINDOW
    ]
    assert len({d["ticket_id"] for d in docs if d["type"] == "created"}) == N_TICKETS
    plan = deliveries(docs)
    events = [parse_event(d) for d in docs]
    span_end = plan[-1][0] + timedelta(hours=3)
    report_start = SIM_START - timedelta(days=1)
    report_end = span_end + timedelta(days=10)
    compared: list[tuple[str, int]] = []
    with LocalStack(config=config, start_at=SIM_START, paused=True, poll_seconds=0.1) as stack:
        secret = stack.sources["sim"].secret or ""
        url = stack.webhook_url("sim")

        def post(batch: list[dict[str, Any]]) -> None:
            body = json.dumps(batch).encode()
            headers = signed_headers("generic", secret, body, stack.now())
            answer = session.post(url, data=body, headers=headers, timeout=60)
            assert answer.status_code == 202, answer.text

        def compare(label: str) -> None:
            now = stack.now()
            seen = [e for e in events if e.id in delivered]
            report = report_at(stack, "paris-office", report_start, report_end)
            replay = replay_at(config, seen, now, tmp / label)
            compared.append((label, assert_same(report, replay, now)))
            print(label, len(delivered), f"{time.perf_counter() - t0:.1f}s", flush=True)  # noqa: T201

        t0 = time.perf_counter()
        delivered: set[str] = set()
        print("deliveries", len(plan), "events", len(docs), "span", plan[0][0], plan[-1][0], flush=True)  # noqa: T201
        probes = {len(plan) // 3: "a-third-in", 2 * len(plan) // 3: "two-thirds-in"}
        boundary_done = False
        for i, (at, batch) in enumerate(plan):
            if i in probes:
                compare(probes[i])
            if i >= len(plan) // 2 and not boundary_done:
                seen = [e for e in events if e.id in delivered]
                probe = replay_at(config, seen, stack.now(), tmp / f"probe-{i}")
                due = whole_minute_due(probe["sla_log.csv"], stack.now(), at)
                if due is not None:
                    stack.fast_forward(due)
                    compare(f"at-due-{format_instant(due)}")
                    boundary_done = True
            stack.fast_forward(at)
            post(batch)
            delivered.update(d["id"] for d in batch)
        stack.fast_forward(span_end)
        compare("after-the-last-webhook")
        stack.fast_forward(span_end + timedelta(hours=3))
        compare("hours-later")
    assert any(label.startswith("at-due-") for label, _ in compared), compared
    assert all(n >= 2 * N_TICKETS for _, n in compared[-2:]), compared
    print("generated-set rows compared:", compared)  # noqa: T201 - the closing note quotes these counts
