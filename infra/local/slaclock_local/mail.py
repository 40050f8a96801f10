"""E-mails the local stack captured: what the functions sent through SES (v2) to moto, which keeps them.

moto's SES backend records every message it accepts (``ses_backends[account][region].sent_messages``;
its v2 ``SendEmail`` is stored there too, with the HTML part as the body when there is one). The stack
runs moto in its own process, so `MailCapture.sync` reads that list in memory after each function
invocation and stamps each new message with the VIRTUAL instant it was sent at and the function that
sent it (moto records neither). Nothing is delivered anywhere.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from slaclock.engine.events import format_instant

__all__ = ["CapturedEmail", "MailCapture", "html_to_text"]


@dataclass(frozen=True, slots=True)
class CapturedEmail:
    """One message as SES accepted it. `sent_at`: virtual instant; `function`: the sender's logical id."""

    message_id: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    body: str
    sent_at: datetime
    function: str

    @property
    def text(self) -> str:
        """The body as plain text (tags stripped, table rows as ``Name: value`` lines, links as
        ``text <url>``)."""
        return html_to_text(self.body) if "<" in self.body else self.body

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from": self.sender,
            "to": list(self.to),
            "cc": list(self.cc),
            "bcc": list(self.bcc),
            "subject": self.subject,
            "sent_at": format_instant(self.sent_at),
            "function": self.function,
            "text": self.text,
            "body": self.body,
        }


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._cell = 0
        self._href: str | None = None

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._line)).strip()
        if text:
            self.lines.append(text)
        self._line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
        if tag in ("p", "tr", "br", "div", "h1", "h2", "h3", "li"):
            self._flush()
            self._cell = 0
        elif tag in ("td", "th"):
            if self._cell:
                self._line.append(": ")
            self._cell += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            self._line.append(f" <{self._href}>")
            self._href = None
        if tag in ("p", "tr", "div", "h1", "h2", "h3", "li", "table"):
            self._flush()

    def handle_data(self, data: str) -> None:
        self._line.append(data)


def html_to_text(body: str) -> str:
    """A readable plain-text rendering of a simple HTML e-mail body."""
    parser = _TextExtractor()
    parser.feed(body)
    parser.close()
    parser._flush()
    return html.unescape("\n".join(parser.lines))


@dataclass
class MailCapture:
    """Collects the messages of moto's SES backend for one account and region."""

    account_id: str
    region: str
    emails: list[CapturedEmail] = field(default_factory=list)
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _backend_messages(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[self.account_id][self.region].sent_messages)

    def start(self) -> None:
        """Ignore whatever the backend holds already (another stack's messages in this process)."""
        with self._lock:
            self._seen = len(self._backend_messages())

    def sync(self, now: datetime, function: str) -> list[CapturedEmail]:
        """Record the messages accepted since the last call as sent at `now` by `function`."""
        with self._lock:
            messages = self._backend_messages()
            new = [self._captured(m, now, function) for m in messages[self._seen :]]
            self._seen = len(messages)
            self.emails.extend(new)
            return new

    @staticmethod
    def _captured(m: Any, now: datetime, function: str) -> CapturedEmail:
        destinations = getattr(m, "destinations", {}) or {}
        if isinstance(destinations, dict):
            to = tuple(destinations.get("ToAddresses", []))
            cc = tuple(destinations.get("CcAddresses", []))
            bcc = tuple(destinations.get("BccAddresses", []))
        else:  # a raw message: one flat list
            to, cc, bcc = tuple(destinations), (), ()
        body = getattr(m, "body", None) or getattr(m, "raw_data", "") or ""
        return CapturedEmail(
            message_id=str(getattr(m, "id", "")),
            sender=str(getattr(m, "source", "")),
            to=to,
            cc=cc,
            bcc=bcc,
            subject=str(getattr(m, "subject", "") or ""),
            body=str(body),
            sent_at=now,
            function=function,
        )

    def snapshot(self) -> list[CapturedEmail]:
        with self._lock:
            return list(self.emails)
