"""`WebhookPoster` on urllib3 (already in the Lambda runtime, under botocore): escalation webhooks.

Retries are urllib3's `Retry` (no hand-written loop): connection errors, and 429 / 5xx answers, up to
`attempts` tries in all with exponential backoff (0.5 s, 1 s, ...) and the receiver's Retry-After
honoured. A final failure, or any other non-2xx answer, raises `ServiceUnavailable` naming the status
only. Lives in `runtime` rather than `adapters` because it talks to the team's receivers, not AWS.
"""

from __future__ import annotations

from collections.abc import Mapping

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

from slaclock.ports import ServiceUnavailable

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class UrllibWebhookPoster:
    """Implements `slaclock.ports.WebhookPoster`."""

    def __init__(
        self, *, timeout_seconds: float = 5.0, attempts: int = 3, backoff_seconds: float = 0.5
    ) -> None:
        retry = Retry(
            total=attempts - 1,
            backoff_factor=backoff_seconds,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds)
        self._pool = urllib3.PoolManager(retries=retry, timeout=timeout)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        try:
            response = self._pool.request("POST", url, body=body, headers=dict(headers))
        except HTTPError as err:
            raise ServiceUnavailable(f"webhook POST failed: {type(err).__name__}") from err
        if not 200 <= response.status < 300:
            raise ServiceUnavailable(f"webhook POST answered {response.status}")
