"""LiveAgent API v3 write-backs (``apikey`` header).

Secret (JSON): ``{"api_key": "..."}``; base URL ``https://acme.ladesk.com``. Only `set_field` is
implemented: it is the one write LiveAgent's published v3 reference (and its official client) documents
with a request shape this connector can follow exactly; the other write-backs are refused by the
configuration validator for LiveAgent sources until they are.
Pages followed:
- API v3 overview and authentication: https://support.liveagent.com/911737-API-v3
- Sets ticket attribute, ``PUT /api/v3/tickets/{ticketId}/attributes/{attributeName}`` with a form
  ``value``: https://github.com/QualityUnit/LiveAgent-api-python/blob/master/docs/TicketsApi.md#set_ticket_attribute
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import slaclock.connectors._base as _base
from slaclock.connectors.http import HttpClient
from slaclock.engine.actions import CAPABILITIES


class LiveAgentConnector(_base.Connector):
    provider = "liveagent"
    actions = CAPABILITIES["liveagent"]

    @classmethod
    def from_secret(cls, base_url: str, secret_text: str, http: HttpClient) -> LiveAgentConnector:
        creds = _base.credentials(cls.provider, secret_text, ("api_key",))
        return cls(base_url, {"apikey": creds["api_key"]}, http)

    def set_field(self, ticket: str, field: str, value: Any) -> None:
        path = f"/api/v3/tickets/{quote(ticket, safe='')}/attributes/{quote(field, safe='')}"
        self._send("PUT", path, form_body={"value": str(value)})
