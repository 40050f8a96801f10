"""Outgoing escalation webhooks in the local stack: captured, not sent to the internet.

An escalation step may POST a signed webhook (`slaclock.runtime.outgoing.UrllibWebhookPoster`). A local
run must not call the real receivers of a configuration (``https://hooks.example.com/...``), so while
the stack runs, `OutgoingCapture` wraps the poster the composition root builds (`wiring.override`, no
patched method): each call is recorded
(virtual instant, URL, headers, body) and answered as a success. A receiver on loopback
(``http://127.0.0.1:...`` or ``http://localhost:...``) is the exception: it is really called, so a
developer can test a receiver locally. `uninstall` puts the real poster back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from slaclock.engine.events import format_instant
from slaclock.ports import WebhookPoster

__all__ = ["CapturedWebhook", "OutgoingCapture"]

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


@dataclass
class OutgoingCapture:
    now: Callable[[], datetime]
    sent: list[CapturedWebhook] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        from slaclock.runtime import wiring

        wiring.override(webhooks=self.wrap)

    def uninstall(self) -> None:
        from slaclock.runtime import wiring

        wiring.override(webhooks=None)

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
