"""Helpdesk provider adapters: a provider's webhook -> canonical events, and its authentication.

One module per provider (`generic`, `zendesk`, `freshdesk`, `liveagent`, `intercom`, `jira`, `helpscout`).
The webhook function calls, for the source named in ``POST /webhooks/{source}``::

    provider = provider_for(source.provider)
    provider.authenticate(headers, body, secret, now)   # AuthError -> 401, nothing stored
    events = provider.parse(headers, body, source)      # PayloadError -> 400 naming the problem
    provider.delivery_id(headers, body)                 # idempotency key, or None

Headers are matched case-insensitively (API Gateway lowercases them). Signed schemes that carry a
timestamp accept it within `TIMESTAMP_TOLERANCE` (5 minutes) of `now`, either way; an older or future
timestamp is an `AuthError`. Event ids are derived from the provider's own ids, so a redelivery
produces the same ids and is deduplicated downstream. `docs/helpdesks.md` documents each provider.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from slaclock.engine.config import Source
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event

TIMESTAMP_TOLERANCE = timedelta(minutes=5)
"""How far a signed timestamp may be from the receive time, either way, before it is refused."""


class AuthError(SlaclockError):
    """The request is not from the source: wrong or missing signature or token, or a signed timestamp
    outside the tolerance window. The webhook answers 401 and stores nothing."""

    http_status = 401


class PayloadError(ValidationError):
    """The body cannot be turned into canonical events; lists every problem with its path
    (``body: not valid JSON (line 1 column 5): ...``, ``detail.id: required``). Answered with 400."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        super().__init__(errors, "malformed webhook payload")


class Provider(Protocol):
    """A helpdesk's webhook dialect. Implementations are stateless."""

    name: str

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Return if the request was sent by the holder of `secret`; raise `AuthError` otherwise."""
        ...

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        """The canonical events the (authenticated) body describes; ``[]`` for topics slaclock ignores.
        Raises `PayloadError`."""
        ...

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The provider's id of this delivery (stable across its retries), or None if it has none."""
        ...


_REGISTRY: dict[str, tuple[str, str]] = {
    "generic": ("slaclock.helpdesk.generic", "GenericProvider"),
    "zendesk": ("slaclock.helpdesk.zendesk", "ZendeskProvider"),
    "freshdesk": ("slaclock.helpdesk.freshdesk", "FreshdeskProvider"),
    "liveagent": ("slaclock.helpdesk.liveagent", "LiveAgentProvider"),
    "intercom": ("slaclock.helpdesk.intercom", "IntercomProvider"),
    "jira": ("slaclock.helpdesk.jira", "JiraProvider"),
    "helpscout": ("slaclock.helpdesk.helpscout", "HelpScoutProvider"),
}

PROVIDER_NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""Every value `Source.provider` may take."""

_instances: dict[str, Provider] = {}


def provider_for(name: str) -> Provider:
    """The provider called `name` (imported on first use, so a cold start loads only its own module).

    Raises `ValueError` naming the known providers for an unknown name (never `KeyError`).
    """
    cached = _instances.get(name)
    if cached is not None:
        return cached
    if name not in _REGISTRY:
        known = ", ".join(PROVIDER_NAMES)
        raise ValueError(f"unknown helpdesk provider {name!r} (known: {known})")
    module_name, class_name = _REGISTRY[name]
    provider: Provider = getattr(importlib.import_module(module_name), class_name)()
    _instances[name] = provider
    return provider


__all__ = [
    "PROVIDER_NAMES",
    "TIMESTAMP_TOLERANCE",
    "AuthError",
    "PayloadError",
    "Provider",
    "provider_for",
]
