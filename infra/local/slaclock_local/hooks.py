"""Outgoing calls in the local stack (escalation webhooks, and the actions' HTTP: helpdesk write-backs
through the connectors, Slack, Teams): captured, not sent to the internet.

An escalation step may POST a signed webhook (`slaclock.runtime.outgoing.UrllibWebhookPoster`). A local
run must not call the real receivers of a configuration (``https://hooks.example.com/...``), so while
the stack runs, `OutgoingCapture` wraps the poster the composition root builds (`wiring.override`, no
patched method): each call is recorded
(virtual instant, URL, headers, body) and answered as a success. A receiver on loopback
(``http://127.0.0.1:...`` or ``http://localhost:...``) is the exception: it is really called, so a
developer can test a receiver locally. `uninstall` puts the real poster back.

The actions' HTTP client (`slaclock.connectors.http.HttpClient`) is wrapped the same way
(`wiring.override(http=...)`): every request is recorded (`CapturedCall`: instant, method, URL, the
JSON body, the answer's status or the error) and shown at ``GET /_local/actions``; one to loopback (a
local server speaking a helpdesk's API) is really sent, through the real client and its retries; any
other is answered 200 ``{}`` without leaving the machine. Header values are not kept (credentials).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from slaclock.connectors.http import ConnectorError, HttpClient, Request, Response
from slaclock.engine.events import format_instant
from slaclock.ports import WebhookPoster

__all__ = ["CapturedCall", "CapturedWebhook", "OutgoingCapture"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class CapturedWebhook:
    at: datetime
    url: str
    headers: Mapping[str, str]
    body: bytes
    delivered: bool
    """True when the URL was on loopback and really called."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at),
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
            "delivered": self.delivered,
        }


@dataclass(frozen=True, slots=True)
class CapturedCall:
    """One outgoing HTTP call of an action (a helpdesk write-back, a Slack or Teams message)."""

    at: datetime
    method: str
    url: str
    body: Any
    status: int | None
    error: str | None
    delivered: bool
    """True when the URL was on loopback and really called."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at),
            "method": self.method,
            "url": self.url,
            "host": urlsplit(self.url).hostname,
            "body": self.body,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
        }


@dataclass
class OutgoingCapture:
    now: Callable[[], datetime]
    sent: list[CapturedWebhook] = field(default_factory=list)
    calls: list[CapturedCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        from slaclock.runtime import wiring

        wiring.override(webhooks=self.wrap, http=self.wrap_http)

    def uninstall(self) -> None:
        from slaclock.runtime import wiring

        wiring.override(webhooks=None, http=None)

    def wrap_http(self, real: HttpClient) -> HttpClient:
        """`real`, recording every request; only a loopback receiver is really called."""
        return _CapturingHttp(real, self)

    def record_call(self, call: CapturedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def actions(self) -> list[CapturedCall]:
        with self._lock:
            return list(self.calls)

    def wrap(self, real: WebhookPoster) -> WebhookPoster:
        """`real`, recording every POST; only a loopback receiver is really called."""
        return _CapturingPoster(real, self)

    def record(self, url: str, body: bytes, headers: Mapping[str, str], delivered: bool) -> None:
        with self._lock:
            self.sent.append(CapturedWebhook(self.now(), url, dict(headers), bytes(body), delivered))

    def snapshot(self) -> list[CapturedWebhook]:
        with self._lock:
            return list(self.sent)


@dataclass(frozen=True, slots=True)
class _CapturingPoster:
    """Implements `slaclock.ports.WebhookPoster` for the local stack (see the module's docstring)."""

    real: WebhookPoster
    capture: OutgoingCapture

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        loopback = (urlsplit(url).hostname or "") in _LOOPBACK
        try:
            if loopback:
                self.real.post(url, body, headers)
        finally:
            self.capture.record(url, body, headers, loopback)


class _CapturingHttp(HttpClient):
    """The actions' `HttpClient` in the local stack (see the module's docstring)."""

    def __init__(self, real: HttpClient, capture: OutgoingCapture) -> None:  # noqa: D107
        self.real = real
        self.capture = capture

    def send(self, request: Request) -> Response:
        loopback = (urlsplit(request.url).hostname or "") in _LOOPBACK
        body = request.json_body if request.form_body is None else dict(request.form_body)
        status: int | None = None
        error: str | None = None
        try:
            if not loopback:
                status = 200
                return Response(200, b"{}")
            answer = self.real.send(request)
            status = answer.status
            return answer
        except ConnectorError as err:
            status, error = (err.status or None), f"{type(err).__name__}: {err}"
            raise
        finally:
            self.capture.record_call(
                CapturedCall(self.capture.now(), request.method, request.url, body, status, error, loopback)
            )
