"""Cost and cold start of the serverless pipeline (issue 4, item 10).

    .venv/bin/python bench/ingest.py [--tickets 300] [--seed 7] [--import-runs 5] [--no-imports]
                                     [--no-cost] [--worst-runs 3]

Part 1, cost. A realistic mix of webhooks (`slaclock_local.sample`: tickets created over weeks, replies,
pauses, solves, reopenings, level changes; ~3% late and ~2% duplicated deliveries, in ARRIVAL order)
goes through the REAL webhook handler, one canonical event per delivery (generic provider, signed),
on moto with the resources created from template.yaml. Simulated time advances with the deliveries;
every schedule that comes due fires the REAL check handler first (deleted after firing, as
``ActionAfterCompletion: DELETE`` does), so checks, e-mails and re-arming are counted too.

Every AWS API call is counted with botocore's ``after-call`` event hook, registered on every client
created (boto3's and pynamodb's alike), per function. DynamoDB capacity: moto answers
ReturnConsumedCapacity with constants (1.0 per write, 0.5 per read, whatever the size), so units are
ESTIMATED from the item sizes in the requests and answers with DynamoDB's rules: a write is
ceil(size / 1 KB) write units (x2 inside TransactWriteItems), plus the global secondary index writes
it causes (an item entering or leaving an index: 1, its index key changing: 2 — tracked with a shadow
of each item's index keys); a read is ceil(size / 4 KB) read units, halved when eventually
consistent, a Query summing the sizes it returns (0.5 minimum). A refused conditional write still
costs its write units.

Prices: us-east-1 (N. Virginia), public on-demand, no free tier: DynamoDB $0.625 / million write
request units, $0.125 / million read request units; EventBridge Scheduler $1.00 / million scheduled
invocations (its API calls are not billed); Lambda arm64 $0.20 / million requests + $0.0000133334 /
GB-second at 512 MB, billed on the in-process handler time measured here (moto included, so an upper
bound); API Gateway HTTP API $1.00 / million requests; SES $0.10 / 1,000 e-mails; EventBridge custom
events $1.00 / million; S3 GET $0.40 / million; SSM standard parameters: free.

Part 0, worst bodies. 1 MiB bodies of the most expensive shapes (tens of thousands of tags, thousands of
custom fields, one huge string, batches of 5,000 and of 100 events, JSON nested 100,000 deep) through the REAL
webhook handler on moto, on a warm function: the time to the answer, which must stay far inside the
function's 30 s timeout whether the body is accepted or refused.

Part 2, cold start. Each handler module is imported in a fresh interpreter with
``PYTHONDONTWRITEBYTECODE=1`` and an empty ``PYTHONPYCACHEPREFIX`` (no .pyc anywhere: every module,
stdlib included, is compiled from source, as for ``import boto3`` alone in the same conditions).
Reported: the import alone, and the import plus the first invocation's wiring (settings + adapters
built, no AWS call), median of ``--import-runs`` runs, each against ``import boto3``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
PRICES = {
    "dynamodb_wru": 0.625e-6,
    "dynamodb_rru": 0.125e-6,
    "scheduler_invocation": 1.00e-6,
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000133334,
    "http_api_request": 1.00e-6,
    "ses_email": 0.10e-3,
    "eventbridge_event": 1.00e-6,
    "s3_get": 0.40e-6,
}
LAMBDA_GB = 0.5
#: Assumed round-trip of one AWS call from Lambda in the same Region (moto's in-process time is not a
#: model of it): DynamoDB single-digit milliseconds, the other services a little more.
CALL_LATENCY = {"dynamodb": 0.008, "default": 0.025}
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
INDEX_KEYS = {
    "due-checks": ("due_shard", "next_check_at"),
    "clocks-by-outcome": ("outcome_day", "outcome_at"),
}


# ---------------------------------------------------------------------------------- item sizes


def _value_size(v: dict[str, Any]) -> int:
    (kind, x), = v.items()  # fmt: skip
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        return math.ceil(len(str(x).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(x)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(e) for e in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(e) for k, e in x.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: e}) for e in x)
    return 0


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for an item in low-level form (attribute names + values)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def rru(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


# ------------------------------------------------------------------------------------ the meter


class Meter:
    """Counts API calls and estimated DynamoDB units per function, through botocore event hooks."""

    def __init__(self) -> None:
        self.function = "setup"
        self.calls: dict[str, Counter[str]] = defaultdict(Counter)
        self.rru: defaultdict[str, float] = defaultdict(float)
        self.wru: Counter[str] = Counter()
        self.parts: dict[str, Counter[str]] = defaultdict(Counter)  # write units by item kind
        self.in_calls: defaultdict[str, float] = defaultdict(
            float
        )  # seconds spent inside AWS calls (moto), per function
        self.reported: defaultdict[str, float] = defaultdict(
            float
        )  # moto's ConsumedCapacity (constants), for the record
        self.shadow: dict[tuple[str, str], dict[str, Any]] = {}
        self._pending: dict[int, dict[str, Any]] = {}

    def install(self) -> None:
        import botocore.session

        meter = self
        original = botocore.session.Session.create_client

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", meter.before)
            client.meta.events.register("before-call.*.*", meter.started)
            client.meta.events.register("after-call.*.*", meter.after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "dynamodb" and model.name in READS | WRITES:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
            context["bench_params"] = params

    def started(self, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if "bench_started" in context:
            self.in_calls[self.function] += time.perf_counter() - context["bench_started"]
        service, op = model.service_model.service_name, model.name
        self.calls[self.function][f"{service}.{op}"] += 1
        if service != "dynamodb" or op not in READS | WRITES:
            return
        params = context.get("bench_params", {})
        ok = http_response.status_code < 300
        reported = parsed.get("ConsumedCapacity")
        if isinstance(reported, dict):
            self.reported[self.function] += float(reported.get("CapacityUnits", 0))
        if op == "GetItem":
            self.rru[self.function] += rru(
                item_size(parsed.get("Item", {})), bool(params.get("ConsistentRead"))
            )
        elif op == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self.rru[self.function] += max(
                0.5, rru(size, bool(params.get("ConsistentRead"))) if size else 0.5
            )
        elif op in ("PutItem", "UpdateItem", "DeleteItem"):
            item = params.get("Item") or {**params.get("Key", {})}
            size = item_size(item) if "Item" in params else self._updated_size(params)
            self._add(item, wru(size), "" if ok else " (refused)")
            if ok:
                self._add(item, self._index_writes(item if "Item" in params else None, params), " index")
        elif op == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()  # fmt: skip
                item = body.get("Item") or body.get("Key", {})
                self._add(item, 2 * wru(item_size(item)), " (transaction)")
                if ok and kind == "Put":
                    self._add(item, self._index_writes(item, body), " index")

    def _add(self, item: dict[str, Any], units: int, how: str) -> None:
        if not units:
            return
        sk = item.get("sk", {}).get("S", "")
        kind = {"E#": "event", "C#": "clock record", "N#": "notice"}.get(sk[:2], "ticket")
        self.wru[self.function] += units
        self.parts[self.function][kind + how] += units

    def _updated_size(self, params: dict[str, Any]) -> int:
        # An update is billed on the larger of the item before and after; the ledger's items are small
        # (< 1 KB): key + the values set.
        return item_size(params.get("Key", {})) + sum(
            _value_size(v) for v in params.get("ExpressionAttributeValues", {}).values()
        )

    def _index_writes(self, item: dict[str, Any] | None, params: dict[str, Any]) -> int:
        if item is None:
            return 0  # UpdateItem of ledger items: no index attribute
        key = (item["pk"]["S"], item["sk"]["S"])
        old = self.shadow.get(key, {})
        new: dict[str, Any] = {}
        units = 0
        for index, names in INDEX_KEYS.items():
            before = tuple(old.get(n) for n in names)
            after = tuple(json.dumps(item[n]) if n in item else None for n in names)
            in_before, in_after = all(before), all(after)
            if in_after:
                new.update(dict(zip(names, after, strict=True)))
            if in_before and in_after:
                units += 0 if before == after and index == "due-checks" else (2 if before != after else 1)
            elif in_before or in_after:
                units += 1
        self.shadow[key] = new
        return units


# ------------------------------------------------------------------------------------ the world


def _load_handler(name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"bench_fn_{name}", ROOT / "functions" / name / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Context:
    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        self.aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_cost(n_tickets: int, seed: int) -> dict[str, Any]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, POWERTOOLS_METRICS_NAMESPACE="SlaClockBench",
        POWERTOOLS_SERVICE_NAME="slaclock", LOG_LEVEL="WARNING", POWERTOOLS_TRACE_DISABLED="true",
    )  # fmt: skip
    os.environ.pop("AWS_ENDPOINT_URL", None)
    meter = Meter()
    meter.install()

    import warnings

    import boto3
    import yaml
    from moto import mock_aws
    from moto.scheduler.models import scheduler_backends
    from slaclock.helpdesk.signing import sign
    from slaclock.runtime import wiring
    from slaclock.runtime.outgoing import UrllibWebhookPoster
    from slaclock_local.resources import create_from_template
    from slaclock_local.sample import generate_events

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    mock = mock_aws()
    mock.start()
    session = boto3.session.Session(region_name=REGION)
    parameters = {"SenderEmail": "sla@example.com"}
    stack = create_from_template(ROOT / "template.yaml", session, parameters=parameters, stack_name="bench")
    for fn in stack.functions():
        os.environ.update(stack.environment(fn))
    doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
    doc.setdefault("sources", {})["bench"] = {
        "provider": "generic",
        "secret": {"ssm_parameter": "/slaclock/bench"},
    }
    s3 = session.client("s3")
    bucket, key = stack.ref("DataBucket"), stack.ref("ConfigKey")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=yaml.safe_dump(doc).encode())
    except s3.exceptions.ClientError:  # moto cannot evaluate aws:SecureTransport in the bucket policy
        s3.delete_bucket_policy(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=yaml.safe_dump(doc).encode())
    ssm = session.client("ssm")
    ssm.put_parameter(Name="/slaclock/bench", Value="bench-secret", Type="SecureString")
    ssm.put_parameter(Name="/slaclock/outgoing-webhook", Value="out-secret", Type="SecureString")
    UrllibWebhookPoster.post = lambda self, url, body, headers: None  # type: ignore[method-assign]

    now = {"t": datetime(2026, 1, 5, tzinfo=UTC)}
    wiring.clock = lambda: now["t"]
    webhook, check = _load_handler("webhook"), _load_handler("check")
    group = scheduler_backends[stack.account_id][REGION].schedule_groups[stack.ref("CheckScheduleGroup")]
    seconds: defaultdict[str, float] = defaultdict(float)
    invocations: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    def invoke(name: str, handler: Any, event: dict[str, Any]) -> Any:
        meter.function = name
        started = time.perf_counter()
        try:
            return handler.lambda_handler(event, Context(name))
        finally:
            seconds[name] += time.perf_counter() - started
            invocations[name] += 1
            meter.function = "bench"

    def fire_due(until: datetime) -> None:
        while True:
            due = [(json.loads(s.target["Input"])["armed_for"], name) for name, s in group.schedules.items()]
            if not due:
                return
            armed_for, name = min(due)
            at = datetime.fromisoformat(armed_for)
            if at > until:
                return
            payload = json.loads(group.schedules.pop(name).target["Input"])  # fired, then deleted
            now["t"] = max(now["t"], at + timedelta(seconds=1))
            invoke("check", check, payload)

    events = list(generate_events(n_tickets, seed=seed))
    for doc_event in events:
        arrive = max(datetime.fromisoformat(doc_event["at"]) + timedelta(seconds=2), now["t"])
        fire_due(arrive)
        now["t"] = arrive
        body = json.dumps(doc_event).encode()
        headers = {
            "content-type": "application/json",
            **{k.lower(): v for k, v in sign("bench-secret", body, arrive).items()},
        }
        event = _webhook_event("bench", body, headers)
        answer = invoke("webhook", webhook, event)
        statuses[answer["statusCode"]] += 1
    fire_due(now["t"] + timedelta(days=30))  # let every open ticket's remaining checks fire
    mock.stop()
    if set(statuses) != {202}:
        print(f"WARNING: not every webhook was accepted: {dict(statuses)}", file=sys.stderr)
    return {
        "tickets": n_tickets,
        "webhooks": len(events),
        "statuses": dict(statuses),
        "invocations": dict(invocations),
        "seconds": dict(seconds),
        "calls": {k: dict(v) for k, v in meter.calls.items()},
        "rru": dict(meter.rru),
        "wru": dict(meter.wru),
        "moto_reported_units": dict(meter.reported),
        "parts": {k: dict(v) for k, v in meter.parts.items()},
        "in_calls": dict(meter.in_calls),
    }


# ------------------------------------------------------------------------------------ worst bodies


def _worst_bodies() -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(shape, source, body, headers) of 1 MiB bodies of the shapes that cost the most to judge: each
    is at most the 1 MiB limit, signed like a genuine delivery so that it reaches the parser."""
    from slaclock.helpdesk.signing import sign

    at = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)
    limit = 1024 * 1024

    def generic(doc: Any) -> tuple[str, bytes, dict[str, str]]:
        raw = json.dumps(doc).encode()
        return "bench", raw, {k.lower(): v for k, v in sign("bench-secret", raw, at).items()}

    def token(doc: Any) -> tuple[str, bytes, dict[str, str]]:
        return "freshdesk", json.dumps(doc).encode(), {"authorization": "Bearer bench-secret"}

    def event(**ticket: Any) -> dict[str, Any]:
        return {
            "id": "e1",
            "ticket_id": "4711",
            "type": "created",
            "at": "2026-11-20T16:00:00Z",
            "ticket": ticket,
        }

    def freshdesk(**fields: Any) -> dict[str, Any]:
        base = {"ticket_id": "11", "triggered_event": "{ticket_action:created}", "ticket_status": "Open",
                "ticket_created_at": "2026-11-20T16:00:00Z"}  # fmt: skip
        return {"freshdesk_webhook": {**base, **fields}}

    def batch(n: int) -> list[dict[str, Any]]:
        return [{**event(status="open"), "id": f"e{i}", "ticket_id": f"t{i % 50}"} for i in range(n)]

    fill = limit - 2_000
    shapes: list[tuple[str, tuple[str, bytes, dict[str, str]]]] = [
        ("40,000 distinct tags (freshdesk, comma list)",
         token(freshdesk(ticket_tags=",".join(f"tag-{i:020d}" for i in range(40_000))))),
        ("120,000 repeats of one tag (freshdesk)",
         token(freshdesk(ticket_tags=",".join(["URGENT"] * 120_000)))),
        ("40,000 distinct tags (generic, canonical list)",
         generic(event(tags=[f"tag-{i:018d}" for i in range(40_000)]))),
        ("9,000 custom fields (generic)",
         generic(event(custom={f"cf_{i:05d}": "v" * 80 for i in range(9_000)}))),
        ("one 1 MB string field (generic)", generic(event(department="x" * fill))),
        ("5,000 small events in one batch (generic)", generic(batch(5_000))),
        ("100 small events in one batch, 50 tickets (generic)", generic(batch(100))),
        ("60,000 integers in an ignored key (freshdesk)", token({**freshdesk(), "zz": list(range(60_000))})),
        ("JSON nested 100,000 deep (generic)", ("bench", b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                               {"authorization": "Bearer bench-secret"})),
    ]  # fmt: skip
    out = []
    for shape, (source, raw, headers) in shapes:
        assert len(raw) <= limit, (shape, len(raw))
        out.append((shape, source, raw, {"content-type": "application/json", **headers}))
    return out


def run_worst(runs: int) -> list[dict[str, Any]]:
    """Each worst body through the REAL webhook handler on moto (a warm function: one warm-up call
    first), `runs` times each on a fresh stack; the handler's wall time, best and median."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, POWERTOOLS_METRICS_NAMESPACE="SlaClockBench",
        POWERTOOLS_SERVICE_NAME="slaclock", LOG_LEVEL="ERROR", POWERTOOLS_TRACE_DISABLED="true",
    )  # fmt: skip
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import warnings

    import boto3
    import yaml
    from moto import mock_aws
    from slaclock.runtime import wiring
    from slaclock_local.resources import create_from_template

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    wiring.clock = lambda: datetime(2026, 11, 20, 16, 2, 42, tzinfo=UTC)
    results = []
    for shape, source, raw, headers in _worst_bodies():
        times, status, answer = [], 0, ""
        for _ in range(runs):
            with mock_aws():
                session = boto3.session.Session(region_name=REGION)
                stack = create_from_template(
                    ROOT / "template.yaml", session, parameters={"SenderEmail": "sla@example.com"},
                    stack_name="bench",
                )  # fmt: skip
                for fn in stack.functions():
                    os.environ.update(stack.environment(fn))
                doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
                doc.setdefault("sources", {}).update(
                    bench={"provider": "generic", "secret": {"ssm_parameter": "/slaclock/bench"}},
                    freshdesk={"provider": "freshdesk", "secret": {"ssm_parameter": "/slaclock/bench"},
                               "options": {"domain": "acme"}},
                )  # fmt: skip
                s3 = session.client("s3")
                s3.delete_bucket_policy(
                    Bucket=stack.ref("DataBucket")
                )  # moto cannot evaluate SecureTransport
                s3.put_object(
                    Bucket=stack.ref("DataBucket"), Key=stack.ref("ConfigKey"), Body=yaml.safe_dump(doc)
                )
                session.client("ssm").put_parameter(
                    Name="/slaclock/bench", Value="bench-secret", Type="SecureString"
                )
                wiring.reset()
                webhook = _load_handler("webhook")
                webhook.lambda_handler(_webhook_event(source, b"{}", headers), Context("webhook"))  # warm-up
                started = time.perf_counter()
                result = webhook.lambda_handler(_webhook_event(source, raw, headers), Context("webhook"))
                times.append(time.perf_counter() - started)
                status = result["statusCode"]
                answer = json.loads(result["body"])
                wiring.reset()
        said = (
            "; ".join(answer.get("problems", [])) or answer.get("error", "")
            if isinstance(answer, dict)
            else ""
        )
        results.append(
            {"shape": shape, "bytes": len(raw), "status": status, "times": times, "answer": said[:90]}
        )
    return results


def report_worst(results: list[dict[str, Any]]) -> str:
    lines = [
        "Worst 1 MiB bodies through the webhook handler on moto (warm function; function timeout 30 s)",
        f"  {'shape':<48} {'bytes':>9} {'status':>6} {'best':>8} {'median':>8}  answer",
    ]
    for r in results:
        lines.append(
            f"  {r['shape']:<48} {r['bytes']:>9,} {r['status']:>6} {min(r['times']):>7.2f}s"
            f" {statistics.median(r['times']):>7.2f}s  {r['answer']}"
        )
    return "\n".join(lines)


def _webhook_event(source: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (ROOT / "tests" / "events" / "apigateway-http-v2-webhook.json").read_text()
    )
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/{source}"
    event["pathParameters"] = {"source": source}
    event["headers"].update(headers)
    event["headers"]["content-length"] = str(len(body))
    event["body"], event["isBase64Encoded"] = body.decode(), False
    return event


def _per(calls: dict[str, int], prefix: str, names: set[str] | None = None) -> int:
    return sum(
        n for k, n in calls.items() if k.startswith(prefix) and (names is None or k.split(".")[1] in names)
    )


def _parts(r: dict[str, Any], function: str, per: int) -> str:
    parts = sorted(r["parts"].get(function, {}).items(), key=lambda kv: -kv[1])
    return ", ".join(f"{kind} {units / per:.2f}" for kind, units in parts)


def report_cost(r: dict[str, Any]) -> str:
    hooks, checks = r["webhooks"], r["invocations"].get("check", 0)
    wc, cc = r["calls"].get("webhook", {}), r["calls"].get("check", {})
    rru, wru, secs = r["rru"], r["wru"], r["seconds"]
    emails, put_events = cc.get("sesv2.SendEmail", 0), cc.get("events.PutEvents", 0)
    other = {k: n for k, n in sorted(wc.items()) if not k.startswith(("dynamodb.", "scheduler."))}
    by_op = ", ".join(f"{k} {n / hooks:.2f}" for k, n in sorted(wc.items()))
    check_ops = ", ".join(f"{k} {n / checks:.2f}" for k, n in sorted(cc.items())) if checks else "-"
    lines = [
        f"{r['tickets']} tickets, {hooks} webhooks (answers: {r['statuses']}), {checks} scheduled checks",
        "",
        "Per webhook (webhook function):",
        f"  DynamoDB read requests   {_per(wc, 'dynamodb.', READS) / hooks:.2f}"
        f"   ({rru.get('webhook', 0) / hooks:.2f} read units)",
        f"  DynamoDB write requests  {_per(wc, 'dynamodb.', WRITES) / hooks:.2f}"
        f"   ({wru.get('webhook', 0) / hooks:.2f} write units, index writes included)",
        f"  write units by item      {_parts(r, 'webhook', hooks)}",
        f"  Scheduler calls          {_per(wc, 'scheduler.') / hooks:.2f}",
        f"  other AWS calls          {sum(other.values()) / hooks:.3f}   {other}",
        f"  calls by operation       {by_op}",
        "",
        f"Per check (check function, {checks} checks, {emails} e-mails):",
        f"  calls by operation       {check_ops}",
        f"  DynamoDB units           {rru.get('check', 0) / max(checks, 1):.2f} read,"
        f" {wru.get('check', 0) / max(checks, 1):.2f} write",
        f"  write units by item      {_parts(r, 'check', max(checks, 1))}",
    ]
    scale = 10_000 / r["tickets"]
    p = PRICES
    compute = {f: secs.get(f, 0) - r["in_calls"].get(f, 0) for f in ("webhook", "check")}
    waiting = {
        f: sum(n * CALL_LATENCY.get(k.split(".")[0], CALL_LATENCY["default"]) for k, n in calls.items())
        for f, calls in (("webhook", wc), ("check", cc))
    }
    handler_seconds = sum(compute.values()) + sum(waiting.values())
    cost = {
        "DynamoDB writes": (wru.get("webhook", 0) + wru.get("check", 0)) * p["dynamodb_wru"],
        "DynamoDB reads": (rru.get("webhook", 0) + rru.get("check", 0)) * p["dynamodb_rru"],
        "Scheduler invocations": checks * p["scheduler_invocation"],
        "Lambda requests": (hooks + checks) * p["lambda_request"],
        "Lambda duration": handler_seconds * LAMBDA_GB * p["lambda_gb_second"],
        "HTTP API requests": hooks * p["http_api_request"],
        "SES e-mails": emails * p["ses_email"],
        "EventBridge events": put_events * p["eventbridge_event"],
        "S3 config GETs": (_per(wc, "s3.") + _per(cc, "s3.")) * p["s3_get"],
    }
    lines += ["", f"Cost per 10,000 tickets (x{scale:g}; {REGION} on-demand prices, no free tier):"]
    lines += [f"  {name:<24} ${value * scale:8.4f}" for name, value in cost.items()]
    lines.append(f"  {'total':<24} ${sum(cost.values()) * scale:8.4f}")
    per = {"webhook": hooks, "check": max(checks, 1)}
    ms = {f: (1000 * compute[f] / per[f], 1000 * waiting[f] / per[f]) for f in per}
    lines += [
        "",
        "Lambda duration billed above = the handlers' own time (measured, AWS calls excluded) + an assumed"
        f" {1000 * CALL_LATENCY['dynamodb']:.0f} ms per DynamoDB call and"
        f" {1000 * CALL_LATENCY['default']:.0f} ms per other AWS call:",
        f"  webhook {ms['webhook'][0]:.1f} ms compute + {ms['webhook'][1]:.1f} ms waiting;"
        f" check {ms['check'][0]:.1f} ms compute + {ms['check'][1]:.1f} ms waiting"
        f" (moto's own time inside the calls, not used: webhook"
        f" {1000 * r['in_calls'].get('webhook', 0) / hooks:.0f} ms, check"
        f" {1000 * r['in_calls'].get('check', 0) / per['check']:.0f} ms).",
        f"moto's own ConsumedCapacity (constants, not used): {r['moto_reported_units']}",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ cold start

_IMPORT_SNIPPET = """
import importlib.util, json, os, sys, time
target = sys.argv[1]
t0 = time.perf_counter()
if target == "boto3":
    import boto3
    t1 = time.perf_counter(); t2 = t1
else:
    path = os.path.join(sys.argv[2], "functions", target, "handler.py")
    spec = importlib.util.spec_from_file_location("handler", path)
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    t1 = time.perf_counter()
    from slaclock.runtime import wiring
    {"webhook": wiring.webhook_ports, "check": wiring.check_ports, "sweeper": wiring.sweeper_ports}[target]()
    t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "wired": t2 - t0, "modules": len(sys.modules)}))
"""

_ENV = {
    "SLACLOCK_TABLE": "bench-SlaTable", "SLACLOCK_CONFIG_BUCKET": "bench-databucket",
    "SLACLOCK_SCHEDULE_GROUP": "bench-checks", "SLACLOCK_SENDER": "sla@example.com",
    "SLACLOCK_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bench-SchedulerRole",
    "SLACLOCK_CHECK_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:bench-check",
    "SLACLOCK_SCHEDULER_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:bench-DeadLetterQueue",
    "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "SlaClock",
}  # fmt: skip


def _timed_import(target: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, **_ENV, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": cache}
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_SNIPPET, target, str(ROOT)],
            env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
        )  # fmt: skip
    loaded: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def run_imports(runs: int) -> dict[str, Any]:
    """`runs` rounds; each round imports boto3 and every handler back to back in fresh interpreters,
    so a ratio is taken between neighbours under the same machine load."""
    rounds: list[dict[str, dict[str, float]]] = []
    for _ in range(runs):
        rounds.append({t: _timed_import(t) for t in ("boto3", "webhook", "check", "sweeper")})
    return {"rounds": rounds}


def report_imports(r: dict[str, Any], runs: int) -> str:
    rounds = r["rounds"]
    base = [x["boto3"]["import"] for x in rounds]
    head = f"Cold imports without .pyc, {runs} rounds: import boto3 = {1000 * min(base):.0f} ms best,"
    lines = [
        f"{head} {1000 * statistics.median(base):.0f} ms median ({rounds[0]['boto3']['modules']:.0f} modules)"
    ]
    for name in ("webhook", "check", "sweeper"):
        imp = [x[name]["import"] / x["boto3"]["import"] for x in rounds]
        wired = [x[name]["wired"] / x["boto3"]["import"] for x in rounds]
        best_imp = min(x[name]["import"] for x in rounds) / min(base)
        best_wired = min(x[name]["wired"] for x in rounds) / min(base)
        lines.append(
            f"  {name:<8} import: {statistics.median(imp):.2f}x boto3 (median of per-round ratios),"
            f" {best_imp:.2f}x best-to-best;  import + wiring: {statistics.median(wired):.2f}x,"
            f" {best_wired:.2f}x best-to-best  ({rounds[0][name]['modules']:.0f} modules)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--import-runs", type=int, default=5)
    ap.add_argument("--no-imports", action="store_true")
    ap.add_argument("--no-cost", action="store_true")
    ap.add_argument("--worst-runs", type=int, default=3, help="runs of each worst body (0: skip them)")
    args = ap.parse_args(argv)
    if args.worst_runs:
        print(report_worst(run_worst(args.worst_runs)))
        print()
    if not args.no_cost:
        print(report_cost(run_cost(args.tickets, args.seed)))
        print()
    if not args.no_imports:
        print(report_imports(run_imports(args.import_runs), args.import_runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
