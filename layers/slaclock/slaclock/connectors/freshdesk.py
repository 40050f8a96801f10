"""Freshdesk write-backs (API key as the Basic user, any password: ``{api_key}:X``).

Secret (JSON): ``{"api_key": "..."}``; base URL ``https://acme.freshdesk.com``.
Pages followed (https://developers.freshdesk.com/api/):
- Authentication: https://developers.freshdesk.com/api/#authentication
- Update a Ticket: https://developers.freshdesk.com/api/#update_ticket (``tags`` replaces the list, so
  `add_tags` reads the ticket first: https://developers.freshdesk.com/api/#view_a_ticket)
- Add Note: https://developers.freshdesk.com/api/#add_note_to_a_ticket
- Reply: https://developers.freshdesk.com/api/#reply_ticket
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES

_PRIORITY = {"low": 1, "normal": 2, "high": 3, "urgent": 4}  # Freshdesk: 1 Low, 2 Medium, 3 High, 4 Urgent


class FreshdeskConnector(_base.Connector):
    provider = "freshdesk"
    actions = CAPABILITIES["freshdesk"]

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> FreshdeskConnector:
        creds = _base.credentials(cls.provider, secret_text, ("api_key",))
        return cls(base_url, {"Authorization": _base.basic(creds["api_key"], "X")}, http)

    def _path(self, ticket: str) -> str:
        return f"/api/v2/tickets/{quote(ticket, safe='')}"

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        current = self._send("GET", self._path(ticket)).json() or {}
        existing = [t for t in current.get("tags") or [] if isinstance(t, str)]
        self._send("PUT", self._path(ticket), {"tags": _base.with_echo_tag([*existing, *tags])})

    def set_priority(self, ticket: str, priority: str) -> None:
        self._send("PUT", self._path(ticket), {"priority": _PRIORITY[_base.check_priority(priority)]})

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        # custom fields by name: {"custom_fields": {"cf_region": "EU"}}
        self._send("PUT", self._path(ticket), {"custom_fields": {field: value}})

    def internal_note(self, ticket: str, text: str) -> None:
        self._send(
            "POST", self._path(ticket) + "/notes", {"body": _base.html(_base.marked(text)), "private": True}
        )

    def unassign(self, ticket: str) -> None:
        self._send("PUT", self._path(ticket), {"responder_id": None})

    def reply(self, ticket: str, text: str) -> None:
        self._send("POST", self._path(ticket) + "/reply", {"body": _base.html(text)})
