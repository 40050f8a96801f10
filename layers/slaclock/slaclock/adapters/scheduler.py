"""`Scheduler` port on EventBridge Scheduler: one one-time schedule per open ticket.

Each schedule (named `slaclock.engine.schedules.schedule_name(ticket_id)`, in the stack's schedule group):
``at(yyyy-mm-ddThh:mm:ss)`` in UTC, the armed instant rounded UP to the whole minute (the service
fires anywhere within that minute, so never early); flexible time window OFF; deleted by the service
after it fires (``ActionAfterCompletion: DELETE``); target = the check function, invoked with the
scheduler role, input ``{"ticket_id": ..., "armed_for": "<instant>Z"}``; a retry policy and the
dead-letter queue for firings that still fail.

Create or move: one call in the common case. `arm` tries the call its `exists` hint names first
(UpdateSchedule when the schedule probably exists, CreateSchedule otherwise) and falls back to the other
on ResourceNotFound / Conflict. Throttling and service faults are retried by botocore (adaptive mode,
which also paces a sweep's bursts); what survives raises `ServiceUnavailable` and the ticket's stored
`next_check_at` stays authoritative: the sweeper catches it up.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws
from slaclock.engine.events import format_instant
from slaclock.engine.schedules import at_expression, round_up_to_minute, schedule_name

#: How long the service keeps retrying a failed invocation of the check function, and how often.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 20}


class EventBridgeScheduler:
    """Implements `slaclock.ports.Scheduler`."""

    def __init__(
        self,
        *,
        group_name: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str,
        client: Any = None,
    ) -> None:
        self.group_name = group_name
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.dead_letter_arn = dead_letter_arn
        self.client = client or _aws.client("scheduler", mode="adaptive", max_attempts=6)

    def request(self, ticket_id: str, at: datetime) -> dict[str, Any]:
        """The Create/UpdateSchedule parameters that arm `ticket_id` at `at` (rounded up to the minute)."""
        armed_for = round_up_to_minute(at)
        return {
            "Name": schedule_name(ticket_id),
            "GroupName": self.group_name,
            "ScheduleExpression": at_expression(armed_for),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps({"ticket_id": ticket_id, "armed_for": format_instant(armed_for)}),
                "RetryPolicy": dict(RETRY_POLICY),
                "DeadLetterConfig": {"Arn": self.dead_letter_arn},
            },
        }

    def arm(self, ticket_id: str, at: datetime, *, exists: bool | None = None) -> None:
        """Create or move the ticket's schedule to `at` (rounded up to the whole minute if it is not).

        `exists`: a hint only (True: the ticket had an armed instant still in the future, so try
        UpdateSchedule first; False/None: try CreateSchedule first). Raises `ServiceUnavailable`."""
        params = self.request(ticket_id, at)
        first, second = (
            ("update_schedule", "create_schedule") if exists else ("create_schedule", "update_schedule")
        )
        try:
            try:
                getattr(self.client, first)(**params)
            except ClientError as err:
                fallback = "ResourceNotFoundException" if first == "update_schedule" else "ConflictException"
                if _aws.error_code(err) != fallback:
                    raise
                getattr(self.client, second)(**params)
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("scheduler", "arm", err) from err
            raise

    def disarm(self, ticket_id: str) -> None:
        """Delete the ticket's schedule; a missing one (never armed, or fired and deleted) is fine."""
        try:
            self.client.delete_schedule(Name=schedule_name(ticket_id), GroupName=self.group_name)
        except ClientError as err:
            if _aws.error_code(err) == "ResourceNotFoundException":
                return
            if _aws.is_transient(err):
                raise _aws.unavailable("scheduler", "disarm", err) from err
            raise
        except BotoCoreError as err:
            raise _aws.unavailable("scheduler", "disarm", err) from err
