"""Outgoing escalation webhooks in the local stack: captured, not sent to the internet.

An escalation step may POST a signed webhook (`slaclock.runtime.outgoing.UrllibWebhookPoster`). A local
run must not call the real receivers of a configuration (``https://hooks.example.com/...``), so while
the stack runs, `OutgoingCapture` replaces the poster's `post` for this process: each call is recorded
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
    _original: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        from slaclock.runtime import outgoing

        if self._original is not None:
            return
        original = outgoing.UrllibWebhookPoster.post
        capture = self

        def post(poster: Any, url: str, body: bytes, headers: Mapping[str, str]) -> None:
            host = urlsplit(url).hostname or ""
            loopback = host in _LOOPBACK
            try:
                if loopback:
                    original(poster, url, body, headers)
            finally:
                with capture._lock:
                    capture.sent.append(
                        CapturedWebhook(capture.now(), url, dict(headers), bytes(body), loopback)
                    )

        self._original = original
        outgoing.UrllibWebhookPoster.post = post  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        from slaclock.runtime import outgoing

        if self._original is not None:
            outgoing.UrllibWebhookPoster.post = self._original  # type: ignore[method-assign]
            self._original = None

    def snapshot(self) -> list[CapturedWebhook]:
        with self._lock:
            return list(self.sent)
