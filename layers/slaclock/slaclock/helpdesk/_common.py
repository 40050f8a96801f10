"""Shared pieces of the provider adapters: header lookup, JSON loading, instants, HMAC and token checks,
field normalisation and the final hand-off to the engine's `parse_event`.

Normalisation turns each helpdesk's vocabulary into canonical values: status ``new``, ``open``,
``pending``, ``on_hold``, ``solved``, ``closed``; priority ``low``, ``normal``, ``high``, ``urgent``;
channel ``email``, ``chat``, ``phone``, ``web``, ``social``, ``api``. A value the tables do not know is
kept as a lowercase slug (``Waiting on Third Party`` -> ``waiting_on_third_party``), and every source
may override the tables with `options.status_map`, `options.priority_map`, `options.channel_map`
(keys matched case-insensitively, values used as they are).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slaclock.engine import json_input
from slaclock.engine.config import Source
from slaclock.engine.errors import EventError
from slaclock.engine.events import Event, EventType, format_instant, json_kind, parse_event
from slaclock.engine.limits import MAX_INTEGER_DIGITS
from slaclock.helpdesk import TIMESTAMP_TOLERANCE, AuthError, PayloadError

TOKEN_HEADER = "X-Slaclock-Token"  # noqa: S105 - a header name, not a secret


class Headers:
    """A case-insensitive, read-only view of request headers (API Gateway lowercases them)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._h = {str(k).lower(): v for k, v in headers.items()}

    def get(self, name: str) -> str | None:
        value = self._h.get(name.lower())
        return None if value is None else str(value)


# ---------------------------------------------------------------- body


def load_json(body: bytes) -> Any:
    """Decode a UTF-8 JSON body (`engine.json_input.loads`: RFC 8259, with NaN and Infinity, numbers
    beyond a double's range, integers of more than `MAX_INTEGER_DIGITS` digits and nesting deeper
    than `MAX_JSON_DEPTH` refused); a `PayloadError` at ``body`` names the first problem, a syntax
    error with its line and column. Lone UTF-16 surrogates (``"\\ud800"``) are valid JSON and are
    kept: an id or a ticket field that holds one is refused where events are checked
    (`slaclock.services.ingest`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError([("body", f"not UTF-8 text (bad byte at offset {exc.start})")]) from None
    if not text.strip():
        raise PayloadError([("body", "empty; a JSON document is required")])
    try:
        return json_input.loads(text)
    except json_input.JsonLimitError as exc:
        raise PayloadError([("body", exc.msg)]) from None
    except json.JSONDecodeError as exc:
        detail = f"not valid JSON (line {exc.lineno} column {exc.colno}): {exc.msg}"
        raise PayloadError([("body", detail)]) from None


def peek_json(body: bytes) -> Any:
    """`load_json`'s document, or None when `body` is not one it accepts: for reading a field (a
    delivery id, a signed time) before `parse` reports the body's problems."""
    try:
        return load_json(body)
    except PayloadError:
        return None


def load_object(body: bytes) -> dict[str, Any]:
    doc = load_json(body)
    if not isinstance(doc, dict):
        raise PayloadError([("body", f"must be a JSON object, not {type(doc).__name__}")])
    return doc


def dig(obj: Any, path: str) -> Any:
    """``dig(d, "a.b.c")`` -> ``d["a"]["b"]["c"]``, or None where a step is missing or not an object."""
    for key in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any) -> str | None:
    """A non-empty stripped string from a string or number, else None (booleans are not ids)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        s = str(value).strip()
        return s or None
    return None


def string_field(
    record: Mapping[str, Any], key: str, errors: list[tuple[str, str]], prefix: str = ""
) -> str | None:
    """`text(record[key])` for a field that names something (an event, a topic, a trigger): None when
    it is absent or null; a boolean, object or array appends ``(prefix + key, "... is not a string")``
    to `errors` (and gives None) instead of passing for "not sent"."""
    value = record.get(key)
    if isinstance(value, bool | Mapping | list):
        errors.append((f"{prefix}{key}", f"{json_kind(value)} is not a string"))
        return None
    return text(value)


def pydantic_errors(exc: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A pydantic `ValidationError` as (dotted path, message) pairs."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        msg = "required" if err.get("type") == "missing" else str(err.get("msg", "invalid"))
        out.append((path, msg))
    return out


# ---------------------------------------------------------------- instants

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


_LAST_UNIX_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last instant a datetime holds


def unix_instant(seconds: Any) -> datetime | None:
    """An aware UTC datetime from unix seconds (an int or float, not a boolean) from 1970 up to
    9999-12-31T23:59:59Z; None for anything else (a millisecond value above that range included)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not 0 <= seconds <= _LAST_UNIX_SECOND:  # also False for NaN
        return None
    return datetime.fromtimestamp(seconds, UTC)


def to_instant(value: Any, default_tz: tzinfo = UTC, path: str = "") -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string (``Z``, ``+01:00``, ``+0100``, any number of
    fraction digits, ``YYYY-MM-DD HH:MM:SS``) or unix time (seconds; a number above 1e11 is read as
    milliseconds). A string without offset is read in `default_tz`. None if it is absent, empty or
    not readable as either.

    A boolean, object or array can never be a time: `PayloadError` at `path` (``true is not a date
    or time``), so a provider's fallback never hides a field of the wrong type."""
    if value is None:
        return None
    if isinstance(value, bool | Mapping | list):
        shown = str(value).lower() if isinstance(value, bool) else json_kind(value)
        raise PayloadError([(path, f"{shown} is not a date or time")])
    if isinstance(value, int | float):
        return unix_instant(value / 1000 if abs(value) > 1e11 else value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s:
        return None
    if s.isascii() and s.isdigit():
        if len(s) > MAX_INTEGER_DIGITS:
            return None
        return to_instant(int(s), default_tz)
    s = _LONG_FRACTION.sub(r"\1", s)
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=default_tz)
    try:
        return t.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59 in a zone east of UTC
        return None


def source_timezone(source: Source) -> tzinfo:
    """`options.timezone` (IANA name) for payload times written without an offset; UTC by default."""
    name = source.options.get("timezone") if source.options else None
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise PayloadError([("source.options.timezone", f"{name!r} is not an IANA time zone")]) from None


def check_window(instant: datetime, now: datetime, what: str) -> None:
    """`AuthError` unless `instant` is within `TIMESTAMP_TOLERANCE` of `now`, either way."""
    skew = (now - instant).total_seconds()
    limit = TIMESTAMP_TOLERANCE.total_seconds()
    if skew > limit:
        raise AuthError(f"{what} is {int(skew)} s old (tolerance {int(limit)} s): refused as a replay")
    if -skew > limit:
        raise AuthError(f"{what} is {int(-skew)} s in the future (tolerance {int(limit)} s)")


# ---------------------------------------------------------------- authentication


def hmac_digest(secret: str, message: bytes, algorithm: str) -> bytes:
    return hmac.new(secret.encode(), message, algorithm).digest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two strings (as UTF-8)."""
    return hmac.compare_digest(a.encode(), b.encode())


def signature_header(headers: Mapping[str, str], name: str) -> str:
    """The value of the signature header `name`, stripped; `AuthError` ``missing <name>`` when it is
    absent or blank."""
    value = (Headers(headers).get(name) or "").strip()
    if not value:
        raise AuthError(f"missing {name}")
    return value


def check_hex_signature(signature: str, secret: str, body: bytes, algorithm: str, header: str) -> None:
    """`AuthError` unless `signature` is ``<algorithm>=<hex HMAC-<algorithm>(secret, body)>`` (the
    ``X-Hub-Signature`` form, e.g. ``sha256=5d7f...``). Surrounding blanks and the case of the hex
    digits are ignored; compared in constant time. `header` names the header in the error."""
    expected = f"{algorithm}=" + hmac_digest(secret, body, algorithm).hex()
    if not same(signature.strip().lower(), expected):
        raise AuthError(f"{header} does not match")


def check_base64_signature(signature: str, secret: str, message: bytes, algorithm: str, header: str) -> None:
    """`AuthError` unless `signature` is base64(HMAC-<algorithm>(secret, message)) (standard alphabet,
    padded). Surrounding blanks are ignored; compared in constant time. `header` names the header in
    the error."""
    expected = base64.b64encode(hmac_digest(secret, message, algorithm)).decode()
    if not same(signature.strip(), expected):
        raise AuthError(f"{header} does not match")


def check_token(headers: Mapping[str, str], secret: str) -> None:
    """Per-source shared token, for helpdesks that do not sign. Accepted forms:
    ``Authorization: Bearer <secret>``, ``X-Slaclock-Token: <secret>``, or HTTP Basic auth whose
    password (or user name, for helpdesks that send ``<api key>:X``) is the secret."""
    if not secret:
        raise AuthError("no secret is configured for this source")
    h = Headers(headers)
    candidates: list[str] = []
    header_token = h.get(TOKEN_HEADER)
    if header_token:
        candidates.append(header_token.strip())
    auth = (h.get("authorization") or "").strip()
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        candidates.append(credentials.strip())
    elif scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("Authorization: Basic credentials are not base64 'user:password'") from None
        user, _, password = decoded.partition(":")
        candidates.extend([password, user])
    if not candidates:
        raise AuthError(f"missing token: send 'Authorization: Bearer <secret>' or '{TOKEN_HEADER}'")
    matched = False
    for candidate in candidates:  # no early exit: timing does not reveal which form matched
        matched |= same(candidate, secret)
    if not matched:
        raise AuthError("token does not match")


# ---------------------------------------------------------------- normalisation


def slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", value.strip().lower()).strip("_")


STATUS = {
    "new": "new", "open": "open", "opened": "open", "active": "open", "reopened": "open",
    "pending": "pending", "waiting_on_customer": "pending", "waiting_for_customer": "pending",
    "hold": "on_hold", "on_hold": "on_hold", "onhold": "on_hold", "snoozed": "on_hold",
    "postponed": "on_hold", "waiting_on_third_party": "on_hold",
    "solved": "solved", "resolved": "solved", "done": "solved",
    "closed": "closed", "archived": "closed",
}  # fmt: skip
PRIORITY = {
    "low": "low", "lowest": "low", "minor": "low", "trivial": "low",
    "normal": "normal", "medium": "normal", "none": "normal",
    "high": "high", "major": "high",
    "urgent": "urgent", "highest": "urgent", "critical": "urgent", "blocker": "urgent",
}  # fmt: skip
CHANNEL = {
    "email": "email", "mail": "email", "e_mail": "email", "emailfwd": "email",
    "chat": "chat", "messaging": "chat", "native_messaging": "chat", "messenger": "chat",
    "conversation": "chat", "live_chat": "chat", "mobile_sdk": "chat",
    "phone": "phone", "voice": "phone", "call": "phone", "phone_call": "phone", "phone_call_inbound": "phone",
    "phone_call_incoming": "phone", "phone_call_outbound": "phone", "phone_call_outgoing": "phone",
    "web": "web", "web_form": "web", "webform": "web", "portal": "web", "web_widget": "web",
    "contact_form": "web", "feedback_widget": "web", "beacon": "web",
    "api": "api", "web_service": "api", "coreapi": "api",
    "social": "social", "twitter": "social", "facebook": "social", "facebook_post": "social",
    "facebook_message": "social", "instagram": "social", "instagram_dm": "social", "whatsapp": "social",
    "twitter_dm": "social", "tweet": "social", "line": "social", "wechat": "social",
}  # fmt: skip


def _override(source: Source, key: str) -> dict[str, str]:
    table = source.options.get(key) if source.options else None
    if not isinstance(table, Mapping):
        return {}
    return {str(k).strip().lower(): str(v) for k, v in table.items()}


def _normalise(
    value: Any, table: Mapping[str, str], source: Source, option: str, extra: Mapping[str, str] | None
) -> str | None:
    raw = text(value)
    if raw is None or raw == "-":
        return None
    override = _override(source, option).get(raw.lower())
    if override is not None:
        return override
    key = slug(raw)
    if extra and key in extra:
        key = extra[key]
    return table.get(key, key) or None


def status(value: Any, source: Source, extra: Mapping[str, str] | None = None) -> str | None:
    """Normalised status: the source's `status_map` (raw value), then the provider's `extra` table
    (slug -> value), then the shared table, else the slug itself."""
    return _normalise(value, STATUS, source, "status_map", extra)


def priority(value: Any, source: Source, extra: Mapping[str, str] | None = None) -> str | None:
    return _normalise(value, PRIORITY, source, "priority_map", extra)


def channel(value: Any, source: Source, extra: Mapping[str, str] | None = None) -> str | None:
    return _normalise(value, CHANNEL, source, "channel_map", extra)


def lookup(source: Source, option: str, key: Any) -> str | None:
    """``options[option][str(key)]``: the source's table from a helpdesk id (user, group, mailbox...)
    to the name slaclock uses (an e-mail address, a department). None when absent."""
    k = text(key)
    table = source.options.get(option) if source.options else None
    if k is None or not isinstance(table, Mapping):
        return None
    value = table.get(k)
    return None if value is None else str(value)


def tag_list(value: Any, path: str = "tags") -> list[str] | None:
    """Tags from a list (of strings or of objects with `name`/`tag`) or a comma/space separated string,
    without repeats (first occurrence kept; linear in the number of tags). None when absent; a number,
    boolean or object is `PayloadError` at `path`, never read as "no tags"."""
    if value is None:
        return None
    if isinstance(value, str):
        return list(dict.fromkeys(value.replace(",", " ").split()))  # split(): runs of any whitespace
    if not isinstance(value, list):
        raise PayloadError([(path, f"{json_kind(value)} is not a list of tags")])
    out: dict[str, None] = {}
    for item in value:
        if item.__class__ is str:  # the common case, without text()'s checks
            t: str | None = item.strip()
        else:
            if isinstance(item, Mapping):
                item = item.get("name", item.get("tag"))
            t = text(item)
        if t:
            out[t] = None
    return list(out)


def scalar(value: Any) -> Any:
    """A value fit for ``custom.*``: scalars and lists of scalars; None for anything else."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return list(value)
    return None


def subject(
    record: Any, paths: tuple[str, ...], errors: list[tuple[str, str]], prefix: str = ""
) -> str | None:
    """The ticket's subject (the canonical ``subject``, shown in notice e-mails and the SLA log): the
    first of `paths` (dotted, read by `dig`) that holds non-blank text, stripped; a number is its text.
    None when none does. A boolean, object or array at one of them appends ``(prefix + path, "... is
    not a string")`` to `errors`: a subject of the wrong type is refused, never dropped as "not sent".
    Its length is not cut here: like every text field it counts towards the delivery's ticket-field
    budget (`slaclock.services.ingest.MAX_FIELDS_BYTES`), beyond which the delivery is a 400 naming
    the largest field."""
    found: str | None = None
    for path in paths:
        value = dig(record, path)
        if isinstance(value, bool | Mapping | list):
            errors.append((f"{prefix}{path}", f"{json_kind(value)} is not a string"))
        elif found is None:
            found = text(value)
    return found


def email(value: Any) -> str | None:
    t = text(value)
    return t.lower() if t and "@" in t else None


def put(fields: dict[str, Any], name: str, value: Any) -> None:
    """Set `name` only when the payload said something about it (None means "unknown here")."""
    if value is not None and value != [] and value != {}:
        fields[name] = value


# ---------------------------------------------------------------- events


def digest(*parts: Any) -> str:
    """A short, stable hash of `parts` (for ids when the helpdesk gives none)."""
    blob = json.dumps([str(p) for p in parts], separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


EVENT_TYPES = frozenset(t.value for t in EventType)
"""The canonical event type names (``created``, ``agent_replied``, ...)."""


def event_type(raw: str) -> EventType | None:
    """`raw` as a canonical event type, case-insensitively (``Agent_Replied`` -> agent_replied); None if
    it names none."""
    lowered = raw.lower()
    return EventType(lowered) if lowered in EVENT_TYPES else None


def not_an_event_type(raw: str) -> str:
    """The error message for a value that `event_type` refuses, listing the canonical types."""
    return f"{raw!r} is not one of {', '.join(sorted(EVENT_TYPES))}"


def make_event(
    event_id: str,
    ticket_id: str,
    event_type: EventType | str,
    at: datetime,
    ticket: Mapping[str, Any],
    reply: Mapping[str, Any] | None = None,
) -> Event:
    """Validate through the engine's `parse_event` (one set of rules for every source); its errors
    come back as a `PayloadError`. `reply`: the message facts (`Event.reply`; None-valued facts are
    dropped, and no fact at all is no ``reply``)."""
    doc: dict[str, Any] = {
        "id": event_id,
        "ticket_id": ticket_id,
        "type": event_type.value if isinstance(event_type, EventType) else event_type,
        "at": format_instant(at),
        "ticket": dict(ticket),
    }
    facts = {k: v for k, v in (reply or {}).items() if v is not None}
    if facts:
        doc["reply"] = facts
    try:
        return parse_event(doc)
    except EventError as exc:
        raise PayloadError(exc.errors) from None


def required(
    errors: list[tuple[str, str]], path: str, value: Any, convert: Callable[[Any], Any] = text
) -> Any:
    """`convert(value)`, or None after appending ``(path, "required")`` when it is missing or empty."""
    out = convert(value)
    if out is None:
        errors.append((path, "required" if value in (None, "", [], {}) else f"{value!r} is not valid here"))
    return out


RECEIVED_AT_HEADER = "X-Slaclock-Received-At"


def stamp_received(headers: Mapping[str, str], received: datetime) -> dict[str, str]:
    """`headers` with ``X-Slaclock-Received-At`` set to `received` (ISO 8601 UTC);
    a value the caller sent under that name, in any case, is dropped: only the webhook function dates
    a request."""
    stamped = {k: v for k, v in headers.items() if str(k).lower() != RECEIVED_AT_HEADER.lower()}
    stamped[RECEIVED_AT_HEADER.lower()] = format_instant(received.astimezone(UTC))
    return stamped


def received_at(headers: Mapping[str, str]) -> datetime | None:
    """When the request arrived, for payloads that carry no time of their own: the webhook function's
    ``X-Slaclock-Received-At`` (ISO 8601 or unix time, set from API Gateway's ``requestContext.timeEpoch``),
    else the HTTP ``Date`` header; None if neither is readable."""
    from email.utils import parsedate_to_datetime

    h = Headers(headers)
    stamped = to_instant(h.get(RECEIVED_AT_HEADER))
    if stamped is not None:
        return stamped
    raw = h.get("date")
    if not raw:
        return None
    try:
        t = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def change_instant(
    record: Mapping[str, Any],
    stamp: str,
    fallback: str,
    *,
    source: Source,
    headers: Mapping[str, str],
    errors: list[tuple[str, str]],
    prefix: str = "",
    form: str = "an ISO 8601 instant",
) -> datetime | None:
    """When the change a webhook reports happened, for payloads that carry a ticket time stamp.

    ``record[stamp]``, or ``record[fallback]`` when that is missing or empty, read by `to_instant`
    (a time without offset is in the source's `options.timezone`); when the payload has neither, when
    the request arrived (`received_at`). None after appending an error at ``prefix + stamp`` when the
    value is not readable (``'<value>' is not <form>``) or no instant is known at all."""
    first = record.get(stamp)
    key = stamp if first or isinstance(first, bool | Mapping | list) else fallback
    raw_at = record.get(key)
    at = to_instant(raw_at, source_timezone(source), f"{prefix}{key}")
    if raw_at is not None and at is None:
        errors.append((f"{prefix}{stamp}", f"{raw_at!r} is not {form}"))
    elif at is None:
        at = received_at(headers)
        if at is None:
            errors.append((f"{prefix}{stamp}", "required: the instant of the change"))
    return at


def canonical_json(doc: Any) -> str:
    """Key-sorted compact JSON: the same document always hashes the same, however it was formatted."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
