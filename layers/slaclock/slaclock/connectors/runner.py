"""`ActionRunner` on the connectors: Slack and Teams messages and the helpdesk write-backs.

A chat action's webhook URL is a secret (``webhook_secret``: an incoming-webhook URL is a credential);
a write-back's credentials are the secret named by the ticket's source (``api.secret``), read through
the same `SecretStore` as the sources' webhook secrets (Powertools parameters, cached per container).
Every call goes through one `HttpClient` (retries on 429 / 5xx / connection errors with backoff and
Retry-After, bounded in time): giving up is `ServiceUnavailable`, a refusal `ActionRejected`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import slaclock.connectors._base as _base
from slaclock.connectors.chat import ChatNotice, slack_request, teams_request
from slaclock.connectors.http import ConnectorError, GaveUpError, HttpClient
from slaclock.engine.errors import SlaclockError
from slaclock.ports import ActionCall, ActionRejected, SecretStore, ServiceUnavailable


class ConnectorActionRunner:
    """Implements `slaclock.ports.ActionRunner`."""

    def __init__(self, secrets: SecretStore, http: HttpClient) -> None:
        self.secrets = secrets
        self.http = http

    def _secret(self, name: str) -> str:
        try:
            return self.secrets.secret(name)
        except SlaclockError as exc:  # unreadable now: a later attempt may read it
            raise ServiceUnavailable(f"secret unreadable: {type(exc).__name__}") from None

    def run(self, call: ActionCall, *, now: datetime) -> str:
        try:
            return self._run(call, now)
        except GaveUpError as exc:
            raise ServiceUnavailable(str(exc)) from None
        except ConnectorError as exc:  # rejected, unsupported, bad credentials
            raise ActionRejected(str(exc)) from None

    def _run(self, call: ActionCall, now: datetime) -> str:
        if call.kind in ("slack", "teams"):
            url = self._secret(str(call.params["webhook_secret"])).strip()
            notice = call.notice
            chat = ChatNotice(
                ticket=call.ticket,
                ticket_url=call.values.get("ticket_url", ""),
                level=notice.level,
                metric=str(notice.metric),
                step=notice.step.key,
                due=notice.due_at,
                now=now,
                zone=call.zone,
            )
            request = slack_request(url, chat) if call.kind == "slack" else teams_request(url, chat)
            self.http.send(request)
            return urlsplit(url).hostname or "?"
        if call.provider is None or call.api_url is None or call.api_secret is None:
            raise ActionRejected("the ticket's source has no api to write back to")
        from slaclock.connectors import connector

        helpdesk = connector(call.provider, call.api_url, self._secret(call.api_secret), self.http)
        ticket, p = call.ticket, call.params
        if call.kind == _base.ADD_TAGS:
            helpdesk.add_tags(ticket, list(p["tags"]))
        elif call.kind == _base.SET_PRIORITY:
            helpdesk.set_priority(ticket, str(p["priority"]))
        elif call.kind == _base.SET_FIELD:
            helpdesk.set_field(ticket, str(p["field"]), p["value"])
        elif call.kind == _base.INTERNAL_NOTE:
            helpdesk.internal_note(ticket, call.text or "")
        elif call.kind == _base.UNASSIGN:
            helpdesk.unassign(ticket)
        elif call.kind == _base.REPLY:
            helpdesk.reply(ticket, call.text or "")
        else:
            raise ActionRejected(f"unknown action kind {call.kind!r}")
        return urlsplit(call.api_url).hostname or "?"
