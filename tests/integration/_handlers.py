"""The real handlers on moto: `Pipeline` drives functions/{webhook,check,sweeper}/handler.py with API
Gateway, scheduler and EventBridge events and reads back what AWS holds (table, schedules, e-mails,
EventBridge events). Built on the `aws` fixture (tests/integration/conftest.py: resources created from
template.yaml, every function's environment set).

The functions read the clock through `slaclock.runtime.wiring.clock`; `Pipeline.now` replaces it so a
test can walk a ticket through its warning and breach instants without waiting.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from slaclock.adapters.fanout import LambdaSweepFanOut
from slaclock.engine.events import Event
from slaclock.engine.schedules import schedule_name
from slaclock.helpdesk.signing import sign
from slaclock.runtime import wiring
from slaclock.runtime.outgoing import UrllibWebhookPoster

from tests.events.builders import LambdaContext, check_event, sweep_event, webhook_event
from tests.fakes.world import CONFIG_DOC, SOURCE_SECRET, T0, WEBHOOK_SECRET, canonical_event
from tests.integration.conftest import AwsStack

ROOT = Path(__file__).resolve().parents[2]


def load_handler(name: str) -> ModuleType:
    """functions/<name>/handler.py as module ``slaclock_fn_<name>`` (each folder has a `handler.py`)."""
    module_name = f"slaclock_fn_{name}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Pipeline:
    aws: AwsStack
    clock: Clock
    webhook: ModuleType
    check: ModuleType
    sweeper: ModuleType
    queue_url: str
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    """Sweeper invocations the sweeper started (its fan-out): Lambda Invoke parameters, not run."""
    _n: int = 0

    # -- time
    @property
    def now(self) -> datetime:
        return self.clock.now

    @now.setter
    def now(self, value: datetime) -> None:
        self.clock.now = value

    # -- building inputs
    def event(
        self, type: str, *, at: datetime, ticket_id: str = "4711", id: str | None = None, **fields: Any
    ) -> Event:
        self._n += 1
        return canonical_event(type, at=at, ticket_id=ticket_id, id=id or f"evt-{self._n}", fields=fields)

    def body(self, *events: Event) -> bytes:
        return json.dumps([e.to_dict() for e in events]).encode()

    def signed(
        self, body: bytes, *, at: datetime | None = None, secret: str = SOURCE_SECRET
    ) -> dict[str, str]:
        return {"content-type": "application/json", **sign(secret, body, at or self.now)}

    # -- invoking the functions
    def post(
        self, source: str, body: bytes, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Invoke the webhook function, received by API Gateway at `now` (unless `received=` says
        otherwise); returns (status, JSON body, headers)."""
        kwargs.setdefault("received", self.now)
        answer = self.webhook.lambda_handler(
            webhook_event(source, body, headers, **kwargs), LambdaContext("webhook")
        )
        return answer["statusCode"], json.loads(answer["body"] or "null"), answer.get("headers") or {}

    def deliver(self, *events: Event, source: str = "custom") -> tuple[int, dict[str, Any]]:
        body = self.body(*events)
        status, doc, _ = self.post(source, body, self.signed(body))
        return status, doc

    def fire(self, ticket_id: str = "4711", *, delay: timedelta = timedelta(seconds=2)) -> dict[str, Any]:
        """The scheduler fires the ticket's schedule: moves the clock to its instant + `delay`, deletes
        the schedule (ActionAfterCompletion: DELETE) and invokes the check with its input."""
        schedule = self.schedule(ticket_id)
        assert schedule is not None, f"no schedule for ticket {ticket_id}"
        payload = json.loads(schedule["Target"]["Input"])
        self.now = max(self.now, datetime.fromisoformat(payload["armed_for"]) + delay)
        self.aws.client("scheduler").delete_schedule(Name=schedule["Name"], GroupName=self.aws.schedule_group)
        return self.invoke_check(payload)

    def invoke_check(self, payload: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.check.lambda_handler(payload, LambdaContext("check"))
        return result

    def check_at(self, ticket_id: str, armed_for: datetime) -> dict[str, Any]:
        return self.invoke_check(check_event(ticket_id, armed_for))

    def sweep(self, **context: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.sweeper.lambda_handler(
            sweep_event(self.now), LambdaContext("sweeper", **context)
        )
        return result

    def run_worker(self, **context: Any) -> dict[str, Any]:
        """Run the oldest sweeper invocation the fan-out started, with the payload it was given."""
        invoke = self.workers.pop(0)
        assert invoke["InvocationType"] == "Event"
        result: dict[str, Any] = self.sweeper.lambda_handler(
            json.loads(invoke["Payload"]), LambdaContext("sweeper", **context)
        )
        return result

    # -- reading back
    def schedule(self, ticket_id: str = "4711") -> dict[str, Any] | None:
        client = self.aws.client("scheduler")
        try:
            found: dict[str, Any] = client.get_schedule(
                Name=schedule_name(ticket_id), GroupName=self.aws.schedule_group
            )
        except client.exceptions.ResourceNotFoundException:
            return None
        return found

    def armed_for(self, ticket_id: str = "4711") -> str | None:
        schedule = self.schedule(ticket_id)
        return None if schedule is None else str(json.loads(schedule["Target"]["Input"])["armed_for"])

    def ticket_item(self, ticket_id: str = "4711") -> dict[str, Any] | None:
        table = self.aws.session.resource("dynamodb", region_name=self.aws.region).Table(self.aws.table)
        item: dict[str, Any] | None = table.get_item(Key={"pk": f"T#{ticket_id}", "sk": "STATE"}).get("Item")
        return item

    def items(self, ticket_id: str = "4711", prefix: str = "") -> list[dict[str, Any]]:
        table = self.aws.session.resource("dynamodb", region_name=self.aws.region).Table(self.aws.table)
        from boto3.dynamodb.conditions import Key

        cond = Key("pk").eq(f"T#{ticket_id}")
        if prefix:
            cond = cond & Key("sk").begins_with(prefix)
        return list(table.query(KeyConditionExpression=cond, ConsistentRead=True)["Items"])

    def state(self, ticket_id: str = "4711") -> Any:
        stored = wiring.webhook_ports().tickets.get(ticket_id)
        assert stored is not None
        return stored.state

    def emails(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[self.aws.account_id][self.aws.region].sent_messages)

    def bus_events(self) -> list[dict[str, Any]]:
        """Every EventBridge event the rule on the bus forwarded so far (drains the queue)."""
        sqs = self.aws.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


def emitted_metrics(stdout: str, aws: AwsStack) -> dict[str, float]:
    """The metrics the functions published (Powertools' EMF lines on stdout), summed by name, that
    template.yaml's alarms can see: namespace POWERTOOLS_METRICS_NAMESPACE, dimensions service =
    POWERTOOLS_SERVICE_NAME and stack = SLACLOCK_STACK_NAME (exactly those), as the template sets them."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] != aws.env["POWERTOOLS_METRICS_NAMESPACE"]:
                continue
            if (
                [sorted(d) for d in directive["Dimensions"]] != [["service", "stack"]]
                or doc.get("service") != aws.env["POWERTOOLS_SERVICE_NAME"]
                or doc.get("stack") != aws.env["SLACLOCK_STACK_NAME"]
            ):
                continue
            for metric in directive["Metrics"]:
                values = doc[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
    return totals


def put_config(aws: AwsStack, text: str) -> None:
    """Upload the configuration document where the functions read it."""
    s3 = aws.client("s3")
    try:
        s3.put_object(Bucket=aws.bucket, Key=aws.config_key, Body=text.encode())
    except s3.exceptions.ClientError as err:
        # moto evaluates the template's DenyInsecureTransport bucket policy without knowing
        # aws:SecureTransport and refuses every call; the policy is AWS's to enforce, not ours.
        if err.response["Error"]["Code"] not in ("403", "AccessDenied"):
            raise
        s3.delete_bucket_policy(Bucket=aws.bucket)
        s3.put_object(Bucket=aws.bucket, Key=aws.config_key, Body=text.encode())


def config_yaml(doc: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump(doc or CONFIG_DOC, sort_keys=False)


@pytest.fixture
def pipeline(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The three functions wired to moto, with the test configuration, the source secrets, a queue
    that receives every ``slaclock`` event of the bus, and outgoing webhooks recorded (no network)."""
    put_config(aws, config_yaml())
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/slaclock/custom", Value=SOURCE_SECRET, Type="SecureString")
    # where the template says this stack's outgoing webhook secret lives (/slaclock/<stack>/...)
    outgoing = aws.env["SLACLOCK_WEBHOOK_SIGNING_SECRET"]
    assert outgoing == f"/slaclock/{aws.stack.stack_name}/outgoing-webhook"
    ssm.put_parameter(Name=outgoing, Value=WEBHOOK_SECRET, Type="SecureString")
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="slaclock-events-probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = aws.client("events")
    bus = aws.env.get("SLACLOCK_EVENT_BUS", "default")
    events.put_rule(Name="probe", EventBusName=bus, EventPattern=json.dumps({"source": ["slaclock"]}))
    events.put_targets(Rule="probe", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    clock = Clock()
    monkeypatch.setattr(wiring, "clock", clock)
    pipe = Pipeline(
        aws=aws, clock=clock, webhook=load_handler("webhook"), check=load_handler("check"),
        sweeper=load_handler("sweeper"), queue_url=queue_url,
    )  # fmt: skip

    def record(self: UrllibWebhookPoster, url: str, body: bytes, headers: Any) -> None:
        pipe.posts.append((url, body, dict(headers)))

    monkeypatch.setattr(UrllibWebhookPoster, "post", record)

    def start_worker(self: LambdaSweepFanOut, part: int, holder: str) -> None:
        assert self.function_arn == LambdaContext("sweeper").invoked_function_arn  # itself
        pipe.workers.append(self.request(part, holder))

    monkeypatch.setattr(LambdaSweepFanOut, "continue_sweep", start_worker)
    wiring.reset()
    yield pipe
    wiring.reset()


@pytest.fixture
def throttled_scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """EventBridge Scheduler answers ThrottlingException to every call while ``state["on"]`` (botocore
    still retries, with its backoff sleeps skipped); set it False to let the service recover."""
    import time
    import types

    import botocore.endpoint
    import botocore.retries.bucket
    from moto.core.exceptions import JsonRESTError
    from moto.scheduler.models import EventBridgeSchedulerBackend

    state = {"on": True}

    def throttling(original: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state["on"]:
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            return original(self, *args, **kwargs)

        return call

    for name in ("create_schedule", "update_schedule", "delete_schedule"):
        monkeypatch.setattr(
            EventBridgeSchedulerBackend, name, throttling(getattr(EventBridgeSchedulerBackend, name))
        )
    no_sleep = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    no_sleep.sleep = lambda seconds: None
    monkeypatch.setattr(botocore.endpoint, "time", no_sleep)
    # adaptive mode's client-side rate limiter would pace the retries too
    monkeypatch.setattr(
        botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True
    )
    yield state


@pytest.fixture
def ses_outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """SES v2 refuses every SendEmail (SendingPausedException) while ``state["on"]``."""
    from moto.core.exceptions import JsonRESTError
    from moto.sesv2.models import SESV2Backend

    state = {"on": True}
    original = SESV2Backend.send_email

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        if state["on"]:
            raise JsonRESTError("SendingPausedException", "Email sending is paused for this account")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SESV2Backend, "send_email", send_email)
    yield state
