"""`DeadLetters` on SQS: the actions that gave up or were refused, one JSON message each, kept for
14 days on an encrypted queue (``ActionDeadLetterQueue`` in template.yaml) for an operator to read and
redrive. A message holds ids, the action's kind, its host and the error: no ticket field, no address."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws


class SqsDeadLetters:
    """Implements `slaclock.ports.DeadLetters`."""

    def __init__(self, *, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.client = client or _aws.client("sqs", mode="standard", max_attempts=5)

    def put(self, record: Mapping[str, Any]) -> None:
        body = json.dumps(dict(record), separators=(",", ":"), sort_keys=True, default=str)
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except (ClientError, BotoCoreError) as err:
            raise _aws.unavailable("sqs", "send_message", err) from err
