"""The EventBridge Scheduler adapter against moto (schedule group created from template.yaml)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from moto.core.exceptions import JsonRESTError
from slaclock.adapters.scheduler import RETRY_POLICY, EventBridgeScheduler
from slaclock.engine.schedules import schedule_name
from slaclock.ports import ServiceUnavailable

pytestmark = pytest.mark.integration

T = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)


def make_scheduler(aws, client: Any = None) -> EventBridgeScheduler:
    env = aws.env_for("WebhookFunction")
    return EventBridgeScheduler(
        group_name=env["SLACLOCK_SCHEDULE_GROUP"],
        target_arn=env["SLACLOCK_CHECK_FUNCTION_ARN"],
        role_arn=env["SLACLOCK_SCHEDULER_ROLE_ARN"],
        dead_letter_arn=env["SLACLOCK_SCHEDULER_DLQ_ARN"],
        client=client or aws.client("scheduler"),
    )


def stored(aws, ticket_id: str) -> dict[str, Any]:
    return aws.client("scheduler").get_schedule(Name=schedule_name(ticket_id), GroupName=aws.schedule_group)


def test_arm_creates_a_one_time_utc_schedule_that_targets_the_check_function(aws):
    make_scheduler(aws).arm("4711", T + timedelta(seconds=20))
    s = stored(aws, "4711")
    assert s["ScheduleExpression"] == "at(2026-11-20T15:46:00)"  # rounded UP: never early
    assert s["ScheduleExpressionTimezone"] == "UTC"
    assert s["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert s["ActionAfterCompletion"] == "DELETE"
    assert s["GroupName"] == aws.schedule_group
    target = s["Target"]
    assert target["Arn"] == aws.check_function_arn
    assert target["RoleArn"] == aws.scheduler_role_arn
    assert target["DeadLetterConfig"] == {"Arn": aws.dlq_arn}
    assert target["RetryPolicy"] == RETRY_POLICY
    assert json.loads(target["Input"]) == {"ticket_id": "4711", "armed_for": "2026-11-20T15:46:00Z"}


def test_arming_again_moves_the_same_schedule(aws, api_calls):
    scheduler = make_scheduler(aws)
    scheduler.arm("4711", T)
    scheduler.arm("4711", T + timedelta(hours=2))  # no hint: create first, then update on Conflict
    scheduler.arm("4711", T + timedelta(hours=3), exists=True)  # hinted: one UpdateSchedule
    s = stored(aws, "4711")
    assert s["ScheduleExpression"] == "at(2026-11-20T18:45:00)"
    assert json.loads(s["Target"]["Input"])["armed_for"] == "2026-11-20T18:45:00Z"
    assert len(aws.client("scheduler").list_schedules(GroupName=aws.schedule_group)["Schedules"]) == 1
    calls = [op for svc, op in api_calls if svc == "scheduler"]
    assert calls[:4] == ["CreateSchedule", "CreateSchedule", "UpdateSchedule", "UpdateSchedule"]


def test_a_hint_that_is_wrong_costs_one_extra_call_and_still_arms(aws, api_calls):
    make_scheduler(aws).arm("4711", T, exists=True)  # it did not exist (fired and deleted)
    assert stored(aws, "4711")["ScheduleExpression"] == "at(2026-11-20T15:45:00)"
    assert [op for svc, op in api_calls if svc == "scheduler"][:2] == ["UpdateSchedule", "CreateSchedule"]


def test_disarm_deletes_and_a_missing_schedule_is_fine(aws):
    scheduler = make_scheduler(aws)
    scheduler.arm("4711", T)
    scheduler.disarm("4711")
    scheduler.disarm("4711")
    scheduler.disarm("never-armed")
    assert aws.client("scheduler").list_schedules(GroupName=aws.schedule_group)["Schedules"] == []


def test_tickets_with_any_id_get_their_own_valid_schedule(aws):
    scheduler = make_scheduler(aws)
    ids = ["4711", "Ticket #1/é", "a" * 200, "ZD-😀", "a/b", "a_b"]
    for i, ticket_id in enumerate(ids):
        scheduler.arm(ticket_id, T + timedelta(minutes=i))
    names = [
        s["Name"] for s in aws.client("scheduler").list_schedules(GroupName=aws.schedule_group)["Schedules"]
    ]
    assert sorted(names) == sorted(schedule_name(i) for i in ids)
    for ticket_id in ids:
        assert json.loads(stored(aws, ticket_id)["Target"]["Input"])["ticket_id"] == ticket_id


# ----------------------------------------------------------------------------------- throttling


class _ThrottledError(JsonRESTError):
    code = 429

    def __init__(self) -> None:
        super().__init__("ThrottlingException", "Rate exceeded")


@pytest.fixture
def throttle(monkeypatch):
    """Make moto's scheduler backend answer HTTP 429 ThrottlingException to the next `n` calls of
    each operation named. The error travels the whole HTTP path, so botocore's retry mode sees (and
    retries) every attempt; `attempts` counts them."""
    from moto.scheduler.models import EventBridgeSchedulerBackend

    attempts: list[str] = []

    def arm(n: int, *operations: str) -> list[str]:
        left = {"n": n}
        for operation in operations:
            original = getattr(EventBridgeSchedulerBackend, operation)

            def failing(self, *args, _original=original, _operation=operation, **kwargs):
                attempts.append(_operation)
                if left["n"] > 0:
                    left["n"] -= 1
                    raise _ThrottledError()
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(EventBridgeSchedulerBackend, operation, failing)
        return attempts

    return arm


@pytest.fixture
def no_backoff(monkeypatch):
    """botocore's standard-mode backoff without the sleeping (the attempts are what we test)."""
    import botocore.retries.standard as standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def _client(aws, total_attempts: int):
    config = Config(retries={"mode": "standard", "total_max_attempts": total_attempts})
    return aws.session.client("scheduler", region_name=aws.region, config=config)


def test_throttling_is_retried_by_botocore_and_then_succeeds(aws, throttle, no_backoff):
    attempts = throttle(2, "create_schedule")
    make_scheduler(aws, _client(aws, total_attempts=3)).arm("4711", T)
    assert attempts == ["create_schedule"] * 3
    assert stored(aws, "4711")["ScheduleExpression"] == "at(2026-11-20T15:45:00)"


def test_throttling_that_survives_the_retries_is_service_unavailable(aws, throttle, no_backoff):
    attempts = throttle(100, "create_schedule", "delete_schedule")
    scheduler = make_scheduler(aws, _client(aws, total_attempts=3))
    with pytest.raises(ServiceUnavailable, match="scheduler arm failed: ThrottlingException"):
        scheduler.arm("4711", T)
    assert attempts == ["create_schedule"] * 3
    with pytest.raises(ServiceUnavailable, match="disarm"):
        scheduler.disarm("4711")


def test_the_default_client_uses_botocores_adaptive_retries(aws):
    scheduler = EventBridgeScheduler(group_name="g", target_arn="a", role_arn="r", dead_letter_arn="d")
    retries = scheduler.client.meta.config.retries
    assert retries["mode"] == "adaptive"
    assert retries["total_max_attempts"] >= 3
