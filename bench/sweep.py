"""Sweeper drain rate: N overdue tickets, drained by the REAL sweeper handler on moto (issue 11.6).

    .venv/bin/python bench/sweep.py [--tickets 100000] [--budget-seconds 240]

Setup: resources from template.yaml in moto; N urgent tickets (first response due 10 minutes after
creation) are written straight into the table through the adapter's own item builder
(`DynamoTicketStore._ticket_item`, batch writes: seeding through webhooks would only measure moto),
all with their check instant passed and no schedule left: a lost-schedule storm, every ticket owing
its breach e-mail. Then the sweeper runs as Lambda would: the scheduled invocation, and every worker
its fan-out starts (recorded, then run one after the other: one process cannot run them in
parallel), each with a context whose remaining time is `--budget-seconds` minus the real time spent.

Reported: invocations, tickets checked, e-mails sent (each ticket exactly once is verified), wall
time, the drain rate of one invocation (tickets/s), and what that gives per 210-second invocation and
with the 4 shard workers in parallel. The SES pacing is off here (``SLACLOCK_SES_SEND_RATE`` set
very high): on AWS the e-mails of such a storm are capped by the account's SES rate instead (14/s
by default), which the table states too.

moto deep-copies the WHOLE table on every TransactWriteItems to roll a failed one back, which is
quadratic in the table size and would measure moto, not slaclock; the bench installs the local stack's
item-level backup instead (`slaclock_local.moto_transactions`, same rollback). On this machine moto
answers ~100 requests a second and a check makes ~7, so draining 100,000 tickets would take hours:
`--measure-seconds S` measures the rate on the whole 100,000-ticket backlog for S seconds and stops.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class Context:
    def __init__(self, budget_seconds: float, n: int) -> None:
        self.function_name = "bench-sweeper"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench-sweeper"
        self.aws_request_id = f"bench-{n}"
        self.deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def run(n_tickets: int, budget_seconds: float, measure_seconds: float | None) -> dict[str, Any]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, POWERTOOLS_METRICS_NAMESPACE="SlaClockBench",
        POWERTOOLS_SERVICE_NAME="slaclock", LOG_LEVEL="WARNING", POWERTOOLS_TRACE_DISABLED="true",
        SLACLOCK_SES_SEND_RATE="1000000",
    )  # fmt: skip
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import json
    import warnings

    import boto3
    import yaml
    from moto import mock_aws
    from slaclock.adapters.dynamodb import DynamoTicketStore
    from slaclock.adapters.fanout import LambdaSweepFanOut
    from slaclock.engine.clocks import apply_event, evaluate
    from slaclock.engine.config import load_config
    from slaclock.engine.events import parse_event
    from slaclock.engine.policy import compile_policy
    from slaclock.engine.schedules import round_up_to_minute
    from slaclock.runtime import wiring
    from slaclock.runtime.outgoing import UrllibWebhookPoster
    from slaclock_local import moto_transactions
    from slaclock_local.resources import create_from_template

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    moto_transactions.install()
    mock = mock_aws()
    mock.start()
    session = boto3.session.Session(region_name=REGION)
    stack = create_from_template(
        ROOT / "template.yaml", session, parameters={"SenderEmail": "sla@example.com"}, stack_name="bench"
    )
    for fn in stack.functions():
        os.environ.update(stack.environment(fn))
    doc = {
        "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
        "levels": {"urgent": {"calendar": "always", "targets": {"first_response": {"within": "10m"}},
                              "notify": {"breach": ["assignee"]}}},
        "rules": [{"name": "all", "set_level": "urgent"}],
    }  # fmt: skip
    s3 = session.client("s3")
    bucket, key = stack.ref("DataBucket"), stack.ref("ConfigKey")
    s3.delete_bucket_policy(Bucket=bucket)  # moto cannot evaluate aws:SecureTransport
    s3.put_object(Bucket=bucket, Key=key, Body=yaml.safe_dump(doc).encode())
    session.client("ssm").put_parameter(Name="/slaclock/outgoing-webhook", Value="x", Type="SecureString")
    UrllibWebhookPoster.post = lambda self, url, body, headers: None  # type: ignore[method-assign]

    # -- seed: N tickets created at T0, breached at 10:10, schedules lost
    config = load_config(doc)
    policy = compile_policy(config)
    store = DynamoTicketStore(stack.ref("SlaTable"))
    started = time.perf_counter()
    with store.models.ticket.batch_write() as batch:
        for n in range(n_tickets):
            tid = f"b{n:06d}"
            fields = {"status": "open", "assignee": f"agent{n % 50}@example.com"}
            event = parse_event(
                {"id": f"e{n}", "ticket_id": tid, "type": "created", "at": T0.isoformat(), "ticket": fields}
            )
            state = apply_event(policy, None, event)
            view = evaluate(policy, state, T0)
            assert view.next_check_at is not None
            batch.save(store._ticket_item(state, 1, round_up_to_minute(view.next_check_at), None))
    seed_seconds = time.perf_counter() - started

    # -- drain
    now = T0 + timedelta(minutes=15)
    wiring.clock = lambda: now
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_fn_sweeper", ROOT / "functions/sweeper/handler.py")
    assert spec is not None and spec.loader is not None
    sweeper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweeper)
    pending: list[dict[str, Any]] = []
    LambdaSweepFanOut.continue_sweep = lambda self, part, holder: pending.append(  # type: ignore[method-assign]
        json.loads(self.request(part, holder)["Payload"])
    )
    event: dict[str, Any] = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    invocations, checked, per_invocation = 0, 0, []
    started = time.perf_counter()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' EMF and log lines
    try:
        while True:
            t = time.perf_counter()
            answer = sweeper.lambda_handler(event, Context(budget_seconds, invocations))
            invocations += 1
            checked += answer["checked"]
            per_invocation.append((answer["checked"], time.perf_counter() - t))
            if not pending:
                break
            if measure_seconds is not None and time.perf_counter() - started > measure_seconds:
                break  # the rate is measured on the whole backlog; the rest is left undrained
            event = pending.pop(0)
    finally:
        sys.stdout.close()
        sys.stdout = sys.__stdout__
    drain_seconds = time.perf_counter() - started
    from moto.ses.models import ses_backends

    messages = ses_backends[stack.account_id][REGION].sent_messages
    per_ticket = Counter(m.subject.split(",")[0] for m in messages)
    mock.stop()
    return {
        "tickets": n_tickets,
        "seed_seconds": seed_seconds,
        "invocations": invocations,
        "checked": checked,
        "emails": len(messages),
        "exactly_once": len(per_ticket) == checked and set(per_ticket.values()) <= {1},
        "complete": checked == n_tickets,
        "drain_seconds": drain_seconds,
        "rate": checked / sum(s for _, s in per_invocation),
        "budget": budget_seconds,
    }


def report(r: dict[str, Any]) -> str:
    per_invocation = r["rate"] * (r["budget"] - 30)
    lines = [
        f"Sweeper drain, {r['tickets']:,} overdue tickets on moto (each owes its breach e-mail)",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| sweeper invocations (the scheduled one + fan-out workers, in turn) | {r['invocations']} |",
        f"| tickets checked / e-mails sent | {r['checked']:,} / {r['emails']:,} |",
        f"| every checked ticket's breach e-mail exactly once | {'yes' if r['exactly_once'] else 'NO'} |",
        f"| drained whole | {'yes' if r['complete'] else 'no: stopped after --measure-seconds'} |",
        f"| drain wall time, one process | {r['drain_seconds']:.0f} s |",
        f"| drain rate of one invocation | {r['rate']:.0f} tickets/s |",
        f"| tickets per invocation ({r['budget']:.0f} s timeout - 30 s reserve) | {per_invocation:,.0f} |",
        f"| 4 shard workers in parallel | {4 * r['rate']:.0f} tickets/s, "
        f"{r['tickets'] / (4 * r['rate']) / 60:.1f} min for {r['tickets']:,} |",
        f"| the same storm's e-mails at SES's default 14/s | {r['tickets'] / 14 / 60:.0f} min |",
        f"| (seeding {r['tickets']:,} tickets, batch writes) | {r['seed_seconds']:.0f} s |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--budget-seconds", type=float, default=240.0)
    ap.add_argument(
        "--measure-seconds", type=float, default=None,
        help="stop draining after this wall time (the rate is measured on the whole backlog)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if args.budget_seconds <= 30:
        ap.error("--budget-seconds must exceed the sweeper's 30-second reserve")
    result = run(args.tickets, args.budget_seconds, args.measure_seconds)
    print(report(result))
    return 0 if result["exactly_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
