"""slaclock's own webhook signature (scheme ``v1``), used in both directions.

Incoming: the `generic` provider verifies requests signed this way. Outgoing: slaclock signs its
escalation webhooks the same way, so a receiver can reuse `verify`. Tests and the demo sign requests
with `sign`.

Scheme ``v1``::

    X-Slaclock-Timestamp: 1795190700                  # unix seconds (UTC) when the request was signed
    X-Slaclock-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

The timestamp is part of the signed message, so it cannot be changed without the secret; a receiver
refuses a timestamp more than `TIMESTAMP_TOLERANCE` (5 minutes) away from its clock, either way, which
bounds replays. Several comma-separated ``v1=`` values may be sent (e.g. while a sender rotates secrets);
one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from slaclock.helpdesk import AuthError
from slaclock.helpdesk._common import check_window

TIMESTAMP_HEADER = "X-Slaclock-Timestamp"
SIGNATURE_HEADER = "X-Slaclock-Signature"
SCHEME = "v1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` + `body` keyed by `secret` (UTF-8)."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, ts: int | datetime) -> dict[str, str]:
    """The headers that sign `body` at `ts` (unix seconds, or an aware datetime truncated to seconds).

    >>> sign("s3cret", b"{}", 1795190700)["X-Slaclock-Timestamp"]
    '1795190700'
    """
    timestamp = int(ts.timestamp()) if isinstance(ts, datetime) else int(ts)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SCHEME}={signature(secret, body, timestamp)}",
    }


MAX_TIMESTAMP_DIGITS = 10
"""Unix seconds have 10 digits until the year 2286; a 13-digit value is milliseconds."""


def _unix_seconds(raw: str) -> int:
    """The header's unix seconds; `AuthError` naming what is wrong (not digits, milliseconds, too long)
    before any conversion, so no value can overflow."""
    if not raw.isascii() or not raw.isdigit():
        raise AuthError(f"{TIMESTAMP_HEADER} is not unix seconds")
    if len(raw) > MAX_TIMESTAMP_DIGITS:
        if len(raw) == 13:
            raise AuthError(f"{TIMESTAMP_HEADER} looks like milliseconds: send unix seconds (10 digits)")
        raise AuthError(f"{TIMESTAMP_HEADER} has {len(raw)} digits: unix seconds have at most 10")
    return int(raw)


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Check a ``v1`` signature; raise `AuthError` if it is missing, wrong, or its timestamp is more
    than `TIMESTAMP_TOLERANCE` (5 minutes) away from `now` (an aware datetime), either way.
    Headers match case-insensitively."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ts = lowered.get(TIMESTAMP_HEADER.lower())
    raw_sig = lowered.get(SIGNATURE_HEADER.lower())
    if not raw_sig:
        raise AuthError(f"missing {SIGNATURE_HEADER}")
    if raw_ts is None:
        raise AuthError(f"missing {TIMESTAMP_HEADER}")
    timestamp = _unix_seconds(raw_ts.strip())
    check_window(datetime.fromtimestamp(timestamp, UTC), now, TIMESTAMP_HEADER)
    expected = f"{SCHEME}={signature(secret, body, timestamp)}".encode()
    candidates = [part.strip().encode() for part in raw_sig.split(",")]
    # compare every candidate (no early exit) so timing does not depend on which one matched
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise AuthError(f"{SIGNATURE_HEADER} does not match")
