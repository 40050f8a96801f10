"""Hand a synthesised webhook document to the provider's own `parse` (the one mapping for both paths)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slaclock.engine.config import Source
from slaclock.engine.events import Event
from slaclock.helpdesk import PayloadError, provider_for
from slaclock.history import RecordError


def parse_as_webhook(
    provider: str, doc: dict[str, Any], source: Source, headers: Mapping[str, str] | None = None
) -> list[Event]:
    """The events `provider`'s webhook parser makes of `doc`; its `PayloadError` as a `RecordError`.

    `headers` only name the event where the provider reads it there (Help Scout's ``X-HelpScout-Event``);
    every synthesised document carries its own instant, so nothing depends on when a request would have
    arrived."""
    body = json.dumps(doc, separators=(",", ":"), default=str).encode()
    try:
        return provider_for(provider).parse(headers or {}, body, source)
    except PayloadError as e:
        raise RecordError("; ".join(e.messages())) from None
