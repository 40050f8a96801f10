"""What every helpdesk connector shares: the action names, the credentials a secret holds, and the
`Connector` base whose methods a provider implements only for the actions it can do."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from html import escape
from typing import Any, ClassVar

from slaclock.connectors.http import ConnectorError, HttpClient, Request, Response

ADD_TAGS = "add_tags"
SET_PRIORITY = "set_priority"
SET_FIELD = "set_field"
INTERNAL_NOTE = "internal_note"
UNASSIGN = "unassign"
REPLY = "reply"
WRITE_BACKS = frozenset({ADD_TAGS, SET_PRIORITY, SET_FIELD, INTERNAL_NOTE, UNASSIGN, REPLY})

PRIORITIES = ("low", "normal", "high", "urgent")
"""slaclock's priority names; each connector maps them to its provider's own values."""

ECHO_TAG = "slaclock"
"""Added with every tag write-back, so the ticket's history shows which tags slaclock set."""

NOTE_MARK = "[slaclock]"
"""Starts every internal note slaclock writes: the note's echo webhook is recognised by it."""


class UnsupportedActionError(ConnectorError):
    """The provider's API cannot do this action (the configuration validator refuses it beforehand)."""


class CredentialsError(ConnectorError):
    """The source's secret does not hold what its provider needs (names the missing key, never a value)."""


def credentials(provider: str, secret_text: str, required: Sequence[str]) -> dict[str, str]:
    """The JSON object a source's secret holds, with every `required` key present and a string."""
    try:
        data = json.loads(secret_text)
    except ValueError:
        raise CredentialsError(f"{provider} secret is not a JSON object") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"{provider} secret is not a JSON object")
    missing = [key for key in required if not isinstance(data.get(key), str) or not data[key]]
    if missing:
        raise CredentialsError(f"{provider} secret lacks {', '.join(missing)}")
    return {key: str(value) for key, value in data.items()}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise UnsupportedActionError(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}")
    return priority


class Connector:
    """One helpdesk account (a source): `base_url` (``https://acme.zendesk.com``) and its auth header.
    Methods not overridden raise `UnsupportedActionError`; `actions` lists those that are."""

    provider: ClassVar[str]
    actions: ClassVar[frozenset[str]]

    def __init__(self, base_url: str, auth: dict[str, str], http: HttpClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.http = http

    def _send(self, method: str, path: str, json_body: Any = None, **kw: Any) -> Response:
        return self.http.send(
            Request(method, self.base_url + path, headers=self.auth, json_body=json_body, **kw)
        )

    def _no(self, action: str) -> UnsupportedActionError:
        return UnsupportedActionError(f"{self.provider} cannot {action}")

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        raise self._no(ADD_TAGS)

    def set_priority(self, ticket: str, priority: str) -> None:
        raise self._no(SET_PRIORITY)

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        raise self._no(SET_FIELD)

    def internal_note(self, ticket: str, text: str) -> None:
        raise self._no(INTERNAL_NOTE)

    def unassign(self, ticket: str) -> None:
        raise self._no(UNASSIGN)

    def reply(self, ticket: str, text: str) -> None:
        raise self._no(REPLY)


def marked(text: str) -> str:
    """An internal note's text with slaclock's mark in front (see `NOTE_MARK`)."""
    return text if text.startswith(NOTE_MARK) else f"{NOTE_MARK} {text}"


def html(text: str) -> str:
    """Plain text as the HTML body Freshdesk, Intercom and Help Scout take: markup in the text is shown,
    not rendered (their note and reply bodies are HTML)."""
    return escape(text, quote=False)


def with_echo_tag(tags: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*tags, ECHO_TAG]))
