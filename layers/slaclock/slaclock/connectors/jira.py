"""Jira Service Management write-backs (Atlassian account e-mail + API token, Basic).

Secret (JSON): ``{"email": "bot@acme.com", "api_token": "..."}``; base URL ``https://acme.atlassian.net``.
Pages followed:
- Basic auth for REST APIs: https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
- Edit issue (labels, priority, fields):
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put
- Assign issue (``accountId: null`` unassigns):
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-assignee-put
- Create request comment (``public`` false is internal):
  https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-comment-post
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES

_PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}  # Jira's default scheme


class JiraConnector(_base.Connector):
    provider = "jira"
    actions = CAPABILITIES["jira"]

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> JiraConnector:
        creds = _base.credentials(cls.provider, secret_text, ("email", "api_token"))
        return cls(base_url, {"Authorization": _base.basic(creds["email"], creds["api_token"])}, http)

    def _issue(self, ticket: str) -> str:
        return f"/rest/api/3/issue/{quote(ticket, safe='')}"

    def add_tags(self, ticket: str, tags: Sequence[str]) -> None:
        # Labels cannot hold spaces; the "update" verb adds without replacing the others.
        labels = [{"add": tag.replace(" ", "_")} for tag in _base.with_echo_tag(tags)]
        self._send("PUT", self._issue(ticket), {"update": {"labels": labels}})

    def set_priority(self, ticket: str, priority: str) -> None:
        name = _PRIORITY[_base.check_priority(priority)]
        self._send("PUT", self._issue(ticket), {"fields": {"priority": {"name": name}}})

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        self._send("PUT", self._issue(ticket), {"fields": {field: value}})

    def _comment(self, ticket: str, text: str, *, public: bool) -> None:
        path = f"/rest/servicedeskapi/request/{quote(ticket, safe='')}/comment"
        self._send("POST", path, {"body": text, "public": public})

    def internal_note(self, ticket: str, text: str) -> None:
        self._comment(ticket, _base.marked(text), public=False)

    def unassign(self, ticket: str) -> None:
        self._send("PUT", self._issue(ticket) + "/assignee", {"accountId": None})

    def reply(self, ticket: str, text: str) -> None:
        self._comment(ticket, text, public=True)
