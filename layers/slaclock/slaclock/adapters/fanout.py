"""`SweepFanOut` port on Lambda: the sweeper starts another invocation of itself, asynchronously.

``Invoke`` with ``InvocationType=Event`` (Lambda queues it and answers 202 at once; a throttled
invocation waits in Lambda's queue and is retried, the sweeper's reserved concurrency caps how many
run), payload ``{"sweep_part": <n>, "lease_holder": <holder>}`` (`slaclock.runtime.models.
SweepContinuation`). The function is the sweeper's own ARN, read from the invocation's context, so
the template needs no variable for it. Throttling and service faults are retried by botocore; what
survives raises `ServiceUnavailable`.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws


class LambdaSweepFanOut:
    """Implements `slaclock.ports.SweepFanOut`."""

    def __init__(self, function_arn: str, *, client: Any = None) -> None:
        self.function_arn = function_arn
        self.client = client or _aws.client("lambda", mode="standard", max_attempts=5)

    def request(self, part: int, holder: str) -> dict[str, Any]:
        """The Invoke parameters that start the worker of `part`."""
        payload = json.dumps({"sweep_part": part, "lease_holder": holder}, separators=(",", ":"))
        return {"FunctionName": self.function_arn, "InvocationType": "Event", "Payload": payload.encode()}

    def continue_sweep(self, part: int, holder: str) -> None:
        try:
            self.client.invoke(**self.request(part, holder))
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("lambda", "invoke", err) from err
            raise
