"""Report links that live as long as they say: an HMAC-signed, expiring token per file, opened by the
link route (``GET /links/{token}``), which answers with a FRESH short-lived presigned redirect.

Why not e-mail presigned S3 URLs: a presigned URL stops working when the credentials that signed it
expire, whatever its ``X-Amz-Expires`` says, and a Lambda function's role credentials are temporary
(hours). A 7-day link signed by the report function would die overnight. A token holds no AWS
credential: it names one object and an expiry instant, signed with a key kept in Secrets Manager. The
link function checks it and presigns the object at that moment, with its own current credentials, for
a few minutes (`redirect_seconds`), so the redirect is always signed by a live session.

Token: ``v1.<payload>.<signature>``, both parts base64url without padding.

- payload = ``<expires_at as Unix seconds>:<object key>`` (UTF-8);
- signature = HMAC-SHA256(key, ``b"slaclock-report-link\\0v1\\0" + payload``), the first 24 bytes
  (192 bits; the label keeps these signatures apart from any other use of the key).

A token is valid while ``now < expires_at``: at its expiry instant it stops (410 Gone). An altered,
truncated or foreign token is 404 (no hint which part was wrong). Only keys under ``reports/`` are
ever served, whatever a token says. `verify` accepts a list of keys (the secret's current and previous
versions), so rotating the key in Secrets Manager does not break links already e-mailed: they are
checked against the previous version until the next rotation.

HMAC (`hmac`, `hashlib`) and base64url (`base64`) are the standard library's; nothing here is
hand-rolled cryptography. Pure: `now` is a parameter, the keys are bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from slaclock.engine.errors import SlaclockError

VERSION = "v1"
LABEL = b"slaclock-report-link\x00" + VERSION.encode() + b"\x00"
SIGNATURE_BYTES = 24
REPORTS_PREFIX = "reports/"
MAX_TOKEN_CHARS = 2048
"""Longer tokens are refused before any decoding (an object key is at most 1,024 bytes)."""
DEFAULT_REDIRECT_SECONDS = 300


class LinkNotFound(SlaclockError):  # noqa: N818 - named after the HTTP answer it becomes (404)
    """The token is malformed, altered, signed with another key, or names no report."""

    http_status = 404


class LinkExpired(SlaclockError):  # noqa: N818 - named after the HTTP answer it becomes (410)
    """The token is authentic but its expiry instant has passed."""

    http_status = 410


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid token grants: one object key, until `expires_at` (aware UTC, excluded)."""

    key: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, LABEL + payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def mint(secret: bytes, key: str, expires_at: datetime) -> str:
    """A token granting `key` until `expires_at` (aware; kept to the second, rounded down)."""
    if not key.startswith(REPORTS_PREFIX):
        raise ValueError(f"report links serve keys under {REPORTS_PREFIX} only, not {key!r}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be aware")
    payload = f"{int(expires_at.timestamp())}:{key}".encode()
    return f"{VERSION}.{_b64(payload)}.{_b64(_signature(secret, payload))}"


def verify(secrets: Sequence[bytes], token: str, now: datetime) -> LinkGrant:
    """The grant of `token` if one of `secrets` signed it and `now` is before its expiry.

    Raises `LinkNotFound` (404) for anything not minted by `mint` with one of `secrets`, and
    `LinkExpired` (410) for an authentic token at or after its expiry instant."""
    parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
    if len(parts) != 3 or parts[0] != VERSION:
        raise LinkNotFound("no such report link")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except (binascii.Error, ValueError):
        raise LinkNotFound("no such report link") from None
    if _b64(payload) != parts[1] or _b64(signature) != parts[2]:
        raise LinkNotFound("no such report link")  # one spelling per token: no malleable variants
    if not any(hmac.compare_digest(_signature(s, payload), signature) for s in secrets):
        raise LinkNotFound("no such report link")
    expiry, _, key = payload.decode("utf-8", errors="replace").partition(":")
    if not expiry.isdigit() or not key.startswith(REPORTS_PREFIX):
        raise LinkNotFound("no such report link")  # signed by us, yet not a link: never served
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    if now >= expires_at:
        raise LinkExpired(f"this report link expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}")
    return LinkGrant(key=key, expires_at=expires_at)


class KeyRing(Protocol):
    """The link signing key: `current` signs, `all` (current first, then the previous version if any)
    verifies. Raises `ServiceUnavailable` when the key cannot be read."""

    def current(self) -> bytes: ...

    def all(self) -> Sequence[bytes]: ...


class Presigner(Protocol):
    def link(self, key: str, expires_in_seconds: int) -> str: ...


@dataclass(frozen=True)
class TokenLinks:
    """Implements `slaclock.ports.LinkIssuer`: ``<base_url><token>``, e.g.
    ``https://abc123.execute-api.eu-west-1.amazonaws.com/links/v1.MTc2...``."""

    base_url: str
    keys: KeyRing

    def link(self, key: str, expires_at: datetime) -> str:
        return self.base_url + mint(self.keys.current(), key, expires_at)


def open_link(keys: KeyRing, presigner: Presigner, token: str, now: datetime, redirect_seconds: int) -> str:
    """``GET /links/{token}``: a presigned GET of the token's object, valid `redirect_seconds` (never
    past the token's own expiry, at least 1 s). Raises `LinkNotFound`, `LinkExpired`."""
    grant = verify(keys.all(), token, now)
    left = (grant.expires_at - now) // timedelta(seconds=1)
    return presigner.link(grant.key, max(1, min(redirect_seconds, left)))
