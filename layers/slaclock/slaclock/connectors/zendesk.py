"""Zendesk Support write-backs (API token auth: ``{email}/token:{api_token}``, Basic).

Secret (JSON): ``{"email": "agent@acme.com", "api_token": "..."}``; base URL ``https://acme.zendesk.com``.
Pages followed:
- Update Ticket: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
- Add Tags: https://developer.zendesk.com/api-reference/ticketing/ticket-management/tags/#add-tags
- Authentication (API token): https://developer.zendesk.com/api-reference/introduction/security-and-auth/
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES

_PRIORITY = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}


class ZendeskConnector(_base.Connector):
    provider = "zendesk"
    actions = CAPABILITIES["zendesk"]

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> ZendeskConnector:
        creds = _base.credentials(cls.provider, secret_text, ("email", "api_token"))
        return cls(
            base_url, {"Authorization": _base.basic(f"{creds['email']}/token", creds["api_token"])}, http
        )

    def _ticket(self, ticket: str, fields: dict[str, Any]) -> None:
        # Update Ticket: PUT /api/v2/tickets/{ticket_id} with {"ticket": {...}}
        self._send("PUT", f"/api/v2/tickets/{quote(ticket, safe='')}", {"ticket": fields})

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        # Add Tags: PUT /api/v2/tickets/{ticket_id}/tags adds to the ticket's tags (POST would replace them)
        self._send(
            "PUT", f"/api/v2/tickets/{quote(ticket, safe='')}/tags", {"tags": _base.with_echo_tag(tags)}
        )

    def set_priority(self, ticket: str, priority: str) -> None:
        self._ticket(ticket, {"priority": _PRIORITY[_base.check_priority(priority)]})

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        # custom_fields: [{"id": <ticket field id>, "value": ...}]
        self._ticket(ticket, {"custom_fields": [{"id": int(field), "value": value}]})

    def internal_note(self, ticket: str, text: str) -> None:
        self._ticket(ticket, {"comment": {"body": _base.marked(text), "public": False}})

    def unassign(self, ticket: str) -> None:
        self._ticket(ticket, {"assignee_id": None})

    def reply(self, ticket: str, text: str) -> None:
        self._ticket(ticket, {"comment": {"body": text, "public": True}})
