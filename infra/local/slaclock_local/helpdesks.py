"""Sign a webhook body the way each helpdesk signs it (the demo and the end-to-end tests play the helpdesk).

    headers = signed_headers("zendesk", secret, body, at)            # what Zendesk would send at `at`
    headers = signed_headers("helpscout", secret, body, at, event="convo.created")

One scheme per provider, mirroring what the provider modules of `slaclock.helpdesk` verify (header
names are taken from them):

=========  =============================================================================================
zendesk    ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret, timestamp + body)) and
           ``X-Zendesk-Webhook-Signature-Timestamp`` (ISO 8601 UTC)
intercom   ``X-Hub-Signature: sha1=<hex HMAC-SHA1(secret, body)>`` (the body's ``created_at`` is the
           timestamp)
jira       ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (+ a delivery identifier)
helpscout  ``X-HelpScout-Signature`` = base64(HMAC-SHA1(secret, body)), event in ``X-HelpScout-Event``
generic    slaclock's ``v1`` scheme (`slaclock.helpdesk.signing.sign`)
freshdesk  no signature: the automation's "Requires authentication" with the secret as API key
           (``Authorization: Basic base64(<secret>:X)``)
liveagent  no signature: the rule's HTTP action sends the secret in ``X-Slaclock-Token``
=========  =============================================================================================
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime

from slaclock.engine.events import format_instant
from slaclock.helpdesk import helpscout, intercom, jira, signing, zendesk
from slaclock.helpdesk._common import TOKEN_HEADER

__all__ = ["signed_headers"]

JSON = {"Content-Type": "application/json"}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def signed_headers(
    provider: str,
    secret: str,
    body: bytes,
    at: datetime,
    *,
    event: str | None = None,
    delivery: str | None = None,
) -> dict[str, str]:
    """The headers `provider` sends with `body` at instant `at` (aware) for a source whose secret is
    `secret`. `event`: Help Scout's event name (required for helpscout). `delivery`: the provider's
    delivery id where it has one (default: a new one)."""
    key = secret.encode("utf-8")
    if provider == "zendesk":
        timestamp = format_instant(at)
        mac = hmac.new(key, timestamp.encode() + body, hashlib.sha256).digest()
        return {
            **JSON,
            zendesk.SIGNATURE: _b64(mac),
            zendesk.TIMESTAMP: timestamp,
            zendesk.INVOCATION: delivery or uuid.uuid4().hex,
        }
    if provider == "intercom":
        return {**JSON, intercom.SIGNATURE: "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()}
    if provider == "jira":
        return {
            **JSON,
            jira.SIGNATURE: "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
            jira.DELIVERY: delivery or str(uuid.uuid4()),
        }
    if provider == "helpscout":
        if not event:
            raise ValueError("a Help Scout webhook names its event (X-HelpScout-Event)")
        return {
            **JSON,
            helpscout.EVENT: event,
            helpscout.SIGNATURE: _b64(hmac.new(key, body, hashlib.sha1).digest()),
        }
    if provider == "generic":
        return {**JSON, **signing.sign(secret, body, at)}
    if provider == "freshdesk":
        return {**JSON, "Authorization": "Basic " + _b64(f"{secret}:X".encode())}
    if provider == "liveagent":
        return {**JSON, TOKEN_HEADER: secret}
    raise ValueError(f"unknown provider {provider!r}")
