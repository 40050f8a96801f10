"""Intercom write-backs (access token, bearer), acting as the admin the secret names.

Secret (JSON): ``{"access_token": "...", "admin_id": "814860"}``; base URL ``https://api.intercom.io``
(``api.eu.intercom.io`` / ``api.au.intercom.io`` for those regions). Requests pin ``Intercom-Version``.
Intercom's priority is a flag, not a level: `set_priority` is unsupported.
Pages followed (API 2.11):
- Authentication: https://developers.intercom.com/docs/build-an-integration/learn-more/authentication
- Reply to a conversation (``message_type`` comment / note):
  https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/conversations/replyconversation
- Manage a conversation (assignment, ``assignee_id`` "0" un-assigns):
  https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/conversations/manageconversation
- Update a conversation (``custom_attributes``):
  https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/conversations/updateconversation
- Create or update a tag, and add a tag to a conversation:
  https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/tags/createtag and
  https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/tags/attachtagtoconversation
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES

API_VERSION = "2.11"


class IntercomConnector(_base.Connector):
    provider = "intercom"
    actions = CAPABILITIES["intercom"]

    def __init__(self, base_url: str, auth: dict[str, str], http: HttpClient, *, admin_id: str) -> None:
        super().__init__(base_url, auth, http)
        self.admin_id = admin_id

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> IntercomConnector:
        creds = _base.credentials(cls.provider, secret_text, ("access_token", "admin_id"))
        auth = {"Authorization": f"Bearer {creds['access_token']}", "Intercom-Version": API_VERSION}
        return cls(base_url, auth, http, admin_id=creds["admin_id"])

    def _path(self, ticket: str) -> str:
        return f"/conversations/{quote(ticket, safe='')}"

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        for name in _base.with_echo_tag(tags):
            tag = self._send("POST", "/tags", {"name": name}).json() or {}
            self._send(
                "POST", self._path(ticket) + "/tags", {"id": str(tag["id"]), "admin_id": self.admin_id}
            )

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        self._send("PUT", self._path(ticket), {"custom_attributes": {field: value}})

    def _reply(self, ticket: str, message_type: str, text: str) -> None:
        body = {"message_type": message_type, "type": "admin", "admin_id": self.admin_id, "body": text}
        self._send("POST", self._path(ticket) + "/reply", body)

    def internal_note(self, ticket: str, text: str) -> None:
        self._reply(ticket, "note", _base.html(_base.marked(text)))

    def unassign(self, ticket: str) -> None:
        body = {"message_type": "assignment", "type": "admin", "admin_id": self.admin_id, "assignee_id": "0"}
        self._send("POST", self._path(ticket) + "/parts", body)

    def reply(self, ticket: str, text: str) -> None:
        self._reply(ticket, "comment", _base.html(text))
