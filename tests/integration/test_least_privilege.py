# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Each function's IAM role, as AWS SAM expands template.yaml, allows what the function calls on moto,
and its DynamoDB and Scheduler grants are no wider than those calls.

Every AWS call a handler makes is recorded (botocore's `BaseClient._make_api_call`, which boto3 and
pynamodb clients share) and mapped to the IAM action it needs, as the service authorization reference
defines them (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html:
TransactWriteItems is authorised per item as PutItem / UpdateItem / DeleteItem / ConditionCheckItem;
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html: HeadObject is
s3:GetObject). A call no statement of the function's role allows is a deployment that fails in a real
account; a DynamoDB or Scheduler action granted but never called is privilege it does not need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.fakes.world import T0
from tests.infra.iam import FUNCTIONS, Grant, function_grants
from tests.integration._handlers import Pipeline, pipeline  # noqa: F401 - fixture

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)

#: IAM action of a call whose name differs from its API operation.
_ACTION_OF = {("s3", "HeadObject"): "s3:GetObject", ("s3", "ListObjectVersions"): "s3:ListBucketVersions"}
_TRANSACT_ITEM_ACTION = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def needed(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(IAM action, DynamoDB resource: "table" or "index/<name>"; None for other services)."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT_ITEM_ACTION[kind]}", "table")
                for item in params["TransactItems"]
                for kind in item
            ]
        index = params.get("IndexName")
        return [(f"dynamodb:{operation}", f"index/{index}" if index else "table")]
    return [(_ACTION_OF.get((service, operation), f"{service}:{operation}"), None)]


class Recorder:
    """The IAM actions each function needed, attributed by which handler was running."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.needed: dict[str, set[tuple[str, str | None]]] = {f: set() for f in FUNCTIONS}

    @contextlib.contextmanager
    def inside(self, function: str) -> Iterator[None]:
        self.current = function
        try:
            yield
        finally:
            self.current = None


@pytest.fixture
def recorder(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import botocore.client

    rec = Recorder()
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        if rec.current is not None:
            service = self.meta.service_model.signing_name  # the IAM prefix: sesv2 signs as "ses"
            rec.needed[rec.current].update(needed(service, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    for function, module in (("WebhookFunction", pipeline.webhook), ("CheckFunction", pipeline.check),
                             ("SweeperFunction", pipeline.sweeper)):  # fmt: skip
        handler = module.lambda_handler

        def wrapped(event: Any, context: Any, _handler: Any = handler, _function: str = function) -> Any:
            with rec.inside(_function):
                return _handler(event, context)

        monkeypatch.setattr(module, "lambda_handler", wrapped)
    return rec


def a_busy_day(p: Pipeline) -> None:
    """Every path that touches AWS: new tickets, a check moved, a duplicate, an out-of-order event, a
    close, a warning, a breach, an escalation with its webhook, a lost schedule caught by a sweep."""
    p.now = T0 + MIN
    assert p.deliver(p.event("created", at=T0))[0] == 202  # new ticket: schedule created
    assert p.deliver(p.event("created", at=T0, id="evt-1"))[0] == 202  # duplicate
    p.fire()  # warning
    p.fire()  # breach
    p.fire()  # escalation (webhook signed with the outgoing secret)
    p.check_at("4711", T0 + 30 * MIN)  # a repeated firing while the next schedule exists: updated
    late = p.event("customer_replied", at=T0 + 3 * MIN, ticket_id="42")
    p.deliver(p.event("created", at=T0, ticket_id="42"))
    p.deliver(p.event("agent_replied", at=T0 + 5 * MIN, ticket_id="42"))  # the check moves
    p.deliver(late)  # out of order: the ticket is replayed from its stored events
    p.deliver(p.event("closed", at=T0 + 6 * MIN, ticket_id="42"))  # schedule deleted

    p.deliver(p.event("created", at=p.now, ticket_id="lost"))
    schedule = p.schedule("lost")
    assert schedule is not None
    p.aws.client("scheduler").delete_schedule(Name=schedule["Name"], GroupName=p.aws.schedule_group)
    p.now += 40 * MIN
    assert p.sweep()["checked"] >= 1


@pytest.fixture
def busy_day(pipeline: Pipeline, recorder: Recorder) -> Recorder:
    a_busy_day(pipeline)
    return recorder


def _covers(granted: frozenset[str], resource: str) -> bool:
    return resource in granted or ("index/*" in granted and resource.startswith("index/"))


def _allows(grants: list[Grant], action: str, resource: str | None) -> bool:
    return any(
        action in g.actions and (resource is None or _covers(g.dynamodb_resources, resource)) for g in grants
    )


@pytest.mark.parametrize("function", ["WebhookFunction", "CheckFunction", "SweeperFunction"])
def test_every_call_a_function_makes_is_allowed_by_its_role(busy_day: Recorder, function: str):
    grants = function_grants(function)
    calls = busy_day.needed[function]
    assert calls, "the flow made no AWS call for this function"
    refused = sorted((a, r or "") for a, r in calls if not _allows(grants, a, r))
    assert refused == [], f"{function} would get AccessDenied for {refused}"


@pytest.mark.parametrize(
    ("function", "services"),
    [
        ("WebhookFunction", ("dynamodb", "scheduler")),
        # Checks may also need UpdateSchedule (the schedule exists already) and DeleteSchedule (nothing
        # left to arm) on paths this day does not take; what they call is checked by the test above.
        ("CheckFunction", ("dynamodb",)),
        ("SweeperFunction", ("dynamodb",)),
    ],
)
def test_a_function_is_granted_no_table_or_schedule_action_it_does_not_call(
    busy_day: Recorder, function: str, services: tuple[str, ...]
):
    called = {(a, r) for a, r in busy_day.needed[function] if a.split(":")[0] in services}
    granted = {
        (a, r if a.startswith("dynamodb:") else None)
        for g in function_grants(function)
        for a in g.actions
        if a.split(":")[0] in services
        for r in (g.dynamodb_resources or {None})
    }
    assert granted - called == set(), f"{function} is granted more than it calls"


def test_the_webhook_calls_only_reads_puts_and_one_query_on_the_table(busy_day: Recorder):
    dynamodb = {(a, r) for a, r in busy_day.needed["WebhookFunction"] if a.startswith("dynamodb:")}
    assert dynamodb == {
        ("dynamodb:GetItem", "table"),
        ("dynamodb:PutItem", "table"),
        ("dynamodb:Query", "table"),
    }
