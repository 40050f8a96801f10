"""Builders of the AWS events the functions receive, from the JSON files next to this module.

webhook_event("custom", body, headers)          # API Gateway HTTP API (payload v2) POST /webhooks/{source}
check_event("4711", armed_for)                  # the scheduler's input to the check function
sweep_event(at)                                  # the EventBridge rate rule's event
LambdaContext()                                  # what Powertools reads from the context
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from slaclock.engine.events import format_instant

HERE = Path(__file__).parent


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / name).read_text())
    return loaded


def webhook_event(
    source: str, body: bytes, headers: dict[str, str] | None = None, *, base64_encoded: bool = False,
    method: str = "POST", received: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``POST /webhooks/{source}`` with `body` (sent base64-encoded, as API Gateway does for binary
    content, when asked) and `headers` (lower-cased, as HTTP APIs deliver them); `received` sets the
    instant API Gateway received it (``requestContext.time`` / ``timeEpoch``)."""
    event = copy.deepcopy(_load("apigateway-http-v2-webhook.json"))
    path = f"/webhooks/{source}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} /webhooks/{{source}}"
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    event["pathParameters"] = {"source": source}
    if received is not None:
        event["requestContext"]["timeEpoch"] = int(received.timestamp() * 1000)
        event["requestContext"]["time"] = received.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    event["headers"]["content-length"] = str(len(body))
    if base64_encoded:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    else:
        event["body"], event["isBase64Encoded"] = body.decode("utf-8"), False
    return event


def check_event(ticket_id: str, armed_for: datetime | str) -> dict[str, Any]:
    event = dict(_load("scheduler-check.json"))
    event["ticket_id"] = ticket_id
    event["armed_for"] = armed_for if isinstance(armed_for, str) else format_instant(armed_for)
    return event


def sweep_event(at: datetime) -> dict[str, Any]:
    event = copy.deepcopy(_load("eventbridge-scheduled-sweep.json"))
    event["time"] = format_instant(at)
    event["id"] = str(uuid.uuid4())
    return event


class LambdaContext:
    """The attributes of a Lambda context that Powertools and the sweeper read."""

    def __init__(self, function_name: str = "slaclock-test-fn", remaining_ms: int = 60_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/20/[$LATEST]0123456789abcdef"
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
