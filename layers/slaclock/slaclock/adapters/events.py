"""`EventPublisher` port on EventBridge ``PutEvents`` (source ``slaclock``).

Integrations subscribe with a rule on ``{"source": ["slaclock"], "detail-type": ["SLA Warning",
"SLA Breached", "SLA Escalation"]}`` (the detail types come from `slaclock.services.notify.DETAIL_TYPES`).
PutEvents can answer 200 and still fail an entry, so `FailedEntryCount` is checked;
a failed entry or an error that survives botocore's retries raises `ServiceUnavailable`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slaclock.adapters import _aws

SOURCE = "slaclock"
SLA_WARNING = "SLA Warning"
SLA_BREACHED = "SLA Breached"


class EventBridgePublisher:
    """Implements `slaclock.ports.EventPublisher`."""

    def __init__(self, *, bus_name: str = "default", client: Any = None) -> None:
        self.bus_name = bus_name
        self.client = client or _aws.client("events", mode="standard", max_attempts=5)

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Put one event; `detail` must be JSON-serialisable (datetimes are written with str())."""
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(dict(detail), default=str, separators=(",", ":")),
            "EventBusName": self.bus_name,
        }
        try:
            answer = self.client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as err:
            raise _aws.unavailable("events", "put_events", err) from err
        if answer.get("FailedEntryCount", 0):
            code = next(
                (e.get("ErrorCode") for e in answer.get("Entries", []) if e.get("ErrorCode")), "unknown"
            )
            raise _aws.unavailable("events", "put_events", code=f"entry failed: {code}")
