"""One HTTP client for every outgoing call of an action (helpdesk write-backs, Slack, Teams).

Retries are urllib3's `Retry`, not a hand-written loop: connection errors and 429 / 5xx answers are
retried with exponential backoff (``backoff_seconds`` x 2^n, capped at ``backoff_max_seconds``), the
receiver's ``Retry-After`` is honoured, and every method is retried (a write-back is made idempotent by
the notice ledger that claims it, not by the verb). The whole call, retries and sleeps included, is
bounded: a ``Retry-After`` that would end beyond ``deadline_seconds`` is not waited for, and the call
gives up. Giving up raises `GaveUpError` (the dead-letter path's signal); any other non-2xx answer raises
`RejectedError` (the request is wrong or not allowed: retrying cannot help).

Logs and error messages name the method, the host and the status only: never the path (which may
hold an e-mail or a customer id), the body or a header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

from slaclock.engine import json_input

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ALL_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class ConnectorError(Exception):
    """An outgoing call failed; `status` is the last HTTP status (0 when there was no answer)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class GaveUpError(ConnectorError):
    """Retries and the time budget are spent (429 / 5xx / timeouts): send the action to dead letters."""


class RejectedError(ConnectorError):
    """The receiver refused the request (4xx other than 429): retrying the same request cannot help."""


@dataclass(frozen=True)
class Request:
    """One outgoing HTTP call, shaped by a connector or a message builder and sent by `HttpClient`."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    form_body: Mapping[str, str] | None = None

    def body(self) -> tuple[bytes | None, str | None]:
        """(bytes, content type) of the body: JSON, or a form for the few APIs that take one."""
        if self.form_body is not None:
            return urlencode(dict(self.form_body)).encode("ascii"), "application/x-www-form-urlencoded"
        if self.json_body is None:
            return None, None
        text = json.dumps(self.json_body, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8"), "application/json"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        """The answer's JSON document (None when empty), decoded as every JSON text from outside is
        (`engine.json_input`). An answer that is not JSON, or is nested too deep, is a `RejectedError`
        (the action goes to dead letters naming it; no byte of the answer is quoted)."""
        if not self.body:
            return None
        try:
            return json_input.loads(self.body)
        except ValueError as e:  # a syntax error, a refusal, or bytes that are not UTF-8
            reason = e.msg if isinstance(e, json.JSONDecodeError) else "not UTF-8 text"
            raise RejectedError(f"answer {self.status} is not JSON: {reason}", status=self.status) from None


class TimeBudgetSpent(HTTPError):  # noqa: N818 (urllib3's own naming: caught as its HTTPError)
    """Raised inside urllib3's retry loop when the next wait would end after the deadline; `status`
    is the last answer's (0: there was none, e.g. a timeout)."""

    def __init__(self, status: int = 0) -> None:
        super().__init__("time budget spent" + (f" after answer {status}" if status else ""))
        self.status = status


class _BoundedRetry(Retry):
    """urllib3's `Retry` that also stops once the call's time budget would be exceeded: a sleep
    (backoff or Retry-After) that would end after the deadline is not taken."""

    deadline: float = float("inf")

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.deadline = self.deadline
        return retry

    def sleep(self, response: Any = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = self.get_backoff_time()
        if time.monotonic() + wait > self.deadline:
            raise TimeBudgetSpent(int(getattr(response, "status", 0) or 0))
        super().sleep(response)


class HttpClient:
    """Sends `Request`s: timeouts per attempt, retries on 429 / 5xx / connection errors, a bounded total."""

    def __init__(
        self,
        *,
        timeout_seconds: float = 5.0,
        attempts: int = 5,
        backoff_seconds: float = 0.5,
        backoff_max_seconds: float = 10.0,
        deadline_seconds: float = 30.0,
    ) -> None:
        self.timeout = urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds)
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.deadline_seconds = deadline_seconds
        self._pool = urllib3.PoolManager()

    def _retry(self) -> _BoundedRetry:
        retry = _BoundedRetry(
            total=self.attempts - 1,
            backoff_factor=self.backoff_seconds,
            backoff_max=self.backoff_max_seconds,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=ALL_METHODS,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        retry.deadline = time.monotonic() + self.deadline_seconds
        return retry

    def send(self, request: Request) -> Response:
        host = urlsplit(request.url).hostname or "?"
        what = f"{request.method} {host}"
        headers = {"Accept": "application/json", **request.headers}
        body, content_type = request.body()
        if content_type is not None:
            headers.setdefault("Content-Type", content_type)
        try:
            answer = self._pool.request(
                request.method,
                request.url,
                body=body,
                headers=headers,
                retries=self._retry(),
                timeout=self.timeout,
                redirect=False,
            )
        except TimeBudgetSpent as err:
            raise GaveUpError(f"{what} gave up: {err}", status=err.status) from None
        except HTTPError as err:
            reason = getattr(err, "reason", None)
            if isinstance(reason, TimeBudgetSpent):
                raise GaveUpError(f"{what} gave up: {reason}", status=reason.status) from None
            raise GaveUpError(f"{what} gave up: {type(reason or err).__name__}") from None
        if 200 <= answer.status < 300:
            return Response(answer.status, answer.data)
        if answer.status in RETRY_STATUSES:
            raise GaveUpError(f"{what} gave up: answered {answer.status}", status=answer.status)
        raise RejectedError(f"{what} answered {answer.status}", status=answer.status)
