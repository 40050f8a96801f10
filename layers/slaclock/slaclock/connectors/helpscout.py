"""Help Scout Mailbox API 2.0 write-backs (OAuth2 bearer token).

Secret (JSON): ``{"access_token": "..."}`` (an app's token, from the client-credentials flow); base URL
``https://api.helpscout.net``. Help Scout has no ticket priority: `set_priority` is unsupported.
Pages followed:
- Authentication: https://developer.helpscout.com/mailbox-api/overview/authentication/
- Update Conversation (JSON Patch; ``remove /assignTo`` un-assigns):
  https://developer.helpscout.com/mailbox-api/endpoints/conversations/update/
- Update Tags (replaces the list, so `add_tags` reads the conversation first):
  https://developer.helpscout.com/mailbox-api/endpoints/conversations/tags/update/ and
  https://developer.helpscout.com/mailbox-api/endpoints/conversations/get/
- Update Custom Fields: https://developer.helpscout.com/mailbox-api/endpoints/conversations/custom_fields/update/
- Create Note: https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/note/
- Create Reply (needs the customer): https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/reply/
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES


class HelpScoutConnector(_base.Connector):
    provider = "helpscout"
    actions = CAPABILITIES["helpscout"]

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> HelpScoutConnector:
        creds = _base.credentials(cls.provider, secret_text, ("access_token",))
        return cls(base_url, {"Authorization": f"Bearer {creds['access_token']}"}, http)

    def _path(self, ticket: str) -> str:
        return f"/v2/conversations/{quote(ticket, safe='')}"

    def _conversation(self, ticket: str) -> dict[str, Any]:
        body = self._send("GET", self._path(ticket)).json()
        return body if isinstance(body, dict) else {}

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        existing = [
            t["tag"]
            for t in self._conversation(ticket).get("tags") or []
            if isinstance(t, dict) and "tag" in t
        ]
        self._send("PUT", self._path(ticket) + "/tags", {"tags": _base.with_echo_tag([*existing, *tags])})

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        self._send("PUT", self._path(ticket) + "/fields", {"fields": [{"id": int(field), "value": value}]})

    def internal_note(self, ticket: str, text: str) -> None:
        self._send("POST", self._path(ticket) + "/notes", {"text": _base.html(_base.marked(text))})

    def unassign(self, ticket: str) -> None:
        self._send("PATCH", self._path(ticket), {"op": "remove", "path": "/assignTo"})

    def reply(self, ticket: str, text: str) -> None:
        customer = (self._conversation(ticket).get("primaryCustomer") or {}).get("id")
        if customer is None:
            raise _base.UnsupportedActionError("helpscout conversation has no primary customer to reply to")
        self._send(
            "POST", self._path(ticket) + "/reply", {"customer": {"id": customer}, "text": _base.html(text)}
        )
