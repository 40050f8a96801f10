"""Helpdesk connectors: write-backs through each source's own API (add_tags, set_priority,
set_field, internal_note, unassign, reply), and the capability table the configuration validator
uses to refuse a write-back a provider cannot do.

Each connector is built from the source's secret (a JSON object; what it holds is in each module and
in docs/helpdesks.md) and sends through one `HttpClient` (retries, timeouts, a bounded total).
"""

from __future__ import annotations

from slaclock.connectors._base import (
    ADD_TAGS,
    ECHO_TAG,
    INTERNAL_NOTE,
    NOTE_MARK,
    REPLY,
    SET_FIELD,
    SET_PRIORITY,
    UNASSIGN,
    WRITE_BACKS,
    Connector,
    CredentialsError,
    UnsupportedActionError,
)
from slaclock.connectors.echo import is_echo
from slaclock.connectors.freshdesk import FreshdeskConnector
from slaclock.connectors.helpscout import HelpScoutConnector
from slaclock.connectors.http import ConnectorError, GaveUpError, HttpClient, RejectedError
from slaclock.connectors.intercom import IntercomConnector
from slaclock.connectors.jira import JiraConnector
from slaclock.connectors.liveagent import LiveAgentConnector
from slaclock.connectors.zendesk import ZendeskConnector

CONNECTORS: dict[str, type[Connector]] = {
    c.provider: c
    for c in (
        ZendeskConnector,
        FreshdeskConnector,
        JiraConnector,
        HelpScoutConnector,
        IntercomConnector,
        LiveAgentConnector,
    )
}

CAPABILITIES: dict[str, frozenset[str]] = {name: c.actions for name, c in CONNECTORS.items()}
"""provider -> the write-backs its connector can do (``generic`` sources have none)."""


def connector(provider: str, base_url: str, secret_text: str, http: HttpClient) -> Connector:
    """The connector of a source: its provider, API base URL and secret text (from `SecretStore`)."""
    try:
        cls = CONNECTORS[provider]
    except KeyError:
        raise UnsupportedActionError(f"{provider} has no connector") from None
    return cls.from_secret(base_url, secret_text, http)  # type: ignore[attr-defined,no-any-return]


__all__ = [
    "ADD_TAGS",
    "CAPABILITIES",
    "CONNECTORS",
    "ECHO_TAG",
    "INTERNAL_NOTE",
    "NOTE_MARK",
    "REPLY",
    "SET_FIELD",
    "SET_PRIORITY",
    "UNASSIGN",
    "WRITE_BACKS",
    "Connector",
    "ConnectorError",
    "CredentialsError",
    "GaveUpError",
    "HttpClient",
    "RejectedError",
    "UnsupportedActionError",
    "connector",
    "is_echo",
]
