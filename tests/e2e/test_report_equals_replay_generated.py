"""The report-equals-replay differential (tests/e2e/test_report_equals_replay.py) on a seeded generated
set, in its own module so that its local stack starts after the demo's has stopped (one per process).

200 tickets (`slaclock_local.sample`, the replay benchmark's simulator) with late and repeated webhooks,
through the canonical generic source, compared at five instants (one exactly at a due instant). The
local stack's transactions cost the transaction, not the table (slaclock_local.moto_transactions), so
this takes about two minutes; the same differential also runs on 300 generated tickets through the use
cases in tests/unit/services/test_report_equals_replay_use_cases.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from slaclock.engine.events import format_instant, parse_event
from slaclock_local.helpdesks import signed_headers
from slaclock_local.sample import generate_events
from slaclock_local.stack import LocalStack

from tests.e2e.test_report_equals_replay import (
    EXAMPLE_CONFIG,
    assert_same,
    instant,
    replay_at,
    report_at,
    session,
    whole_minute_due,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]


N_TICKETS = 200
PER_DAY = 600  # tickets created a day: the 200 arrive within the first working day
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
