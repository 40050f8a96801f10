"""The `generic` provider: anything that can send a webhook.

Body, without a mapping: one canonical event (`engine.events`) or a JSON list of them, taken as they are
(the sender owns the ids, so a redelivery dedupes).

Body, with the source's `mapping`: any JSON, turned into canonical events by JMESPath expressions
(https://jmespath.org) evaluated on each item. Mapping keys:

========================  ==========================================================================
``events``                optional: selects the list of items in the body (default: the body itself,
                          or each element if the body is a list)
``id``                    optional: the sender's event id; when absent or null the id is a hash of
                          the item, so the same item redelivered gets the same id
``ticket_id``             required
``type``                  required; its value goes through `options.type_map` (case-insensitive) and
                          must then be a canonical type (created, agent_replied, ...)
``at``                    required: ISO 8601 (a value without offset is read in `options.timezone`,
                          default UTC) or unix seconds (a number above 1e11 is read as milliseconds)
``ticket.<field>``        any canonical ticket field (status, priority, channel, tags, department,
                          assignee, requester, customer_group, ...); status, priority and channel are
                          normalised like every provider's
``ticket.custom.<name>``  one custom field; ``ticket.custom`` maps a whole object of them
``reply.<fact>``          a message fact (`Event.reply`): ``reply.author`` (agent, customer, bot,
                          automation), ``reply.public``, ``reply.auto_reply``,
                          ``reply.side_conversation`` (booleans), ``reply.via`` (text)
========================  ==========================================================================

A JMESPath literal gives a constant: ``type: "'created'"``.

Authentication (either): the ``v1`` signature of `slaclock.helpdesk.signing` (``X-Slaclock-Timestamp``
+ ``X-Slaclock-Signature``, timestamp within 5 minutes), or for senders that cannot sign, the secret as
a token (``Authorization: Bearer <secret>`` or ``X-Slaclock-Token: <secret>``). A request that carries
a signature is judged by it alone.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

from slaclock.engine.config import Source
from slaclock.engine.errors import ConfigError, EventError
from slaclock.engine.events import REPLY_KEYS, TEXT_FIELDS, TICKET_FIELDS, Event, EventType, parse_event
from slaclock.helpdesk import PayloadError, signing
from slaclock.helpdesk._common import (
    Headers,
    canonical_json,
    channel,
    check_token,
    digest,
    load_json,
    make_event,
    priority,
    scalar,
    source_timezone,
    status,
    tag_list,
    text,
    to_instant,
)

EVENT_KEYS = ("events", "id", "ticket_id", "type", "at")
REQUIRED_KEYS = ("ticket_id", "type", "at")


def validate_mapping(mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem of a `mapping` (unknown key, expression that does not compile, required key
    missing) as (path, message); ``[]`` when it is usable. For the configuration loader."""
    errors: list[tuple[str, str]] = []
    for key, expression in mapping.items():
        path = f"mapping.{key}"
        if not _known_key(str(key)):
            errors.append((path, "unknown mapping key (see docs/helpdesks.md, generic provider)"))
            continue
        if not isinstance(expression, str) or not expression.strip():
            errors.append((path, "must be a JMESPath expression (a non-empty string)"))
            continue
        try:
            _compile(expression)
        except jmespath.exceptions.JMESPathError as exc:
            errors.append((path, f"not a valid JMESPath expression: {str(exc).splitlines()[0]}"))
    for key in REQUIRED_KEYS:
        if key not in mapping:
            errors.append((f"mapping.{key}", "required"))
    return errors


def _known_key(key: str) -> bool:
    if key in EVENT_KEYS:
        return True
    if key.startswith("reply."):
        return key.removeprefix("reply.") in REPLY_KEYS
    if not key.startswith("ticket."):
        return False
    field = key.removeprefix("ticket.")
    if field == "custom" or (field.startswith("custom.") and len(field) > len("custom.")):
        return True
    return field in TICKET_FIELDS


@functools.lru_cache(maxsize=256)
def _compile(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


class GenericProvider:
    name = "generic"

    def authenticate(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        if Headers(headers).get(signing.SIGNATURE_HEADER) is not None:
            signing.verify(secret, headers, body, now)
        else:
            check_token(headers, secret)

    def delivery_id(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return Headers(headers).get("X-Slaclock-Delivery")

    def parse(self, headers: Mapping[str, str], body: bytes, source: Source) -> list[Event]:
        doc = load_json(body)
        if source.mapping:
            return _mapped(doc, source)
        return _canonical(doc)


def _canonical(doc: Any) -> list[Event]:
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise PayloadError([("body", "an empty list: expected one canonical event or a list of them")])
    events: list[Event] = []
    errors: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        prefix = f"[{i}]." if isinstance(doc, list) else ""
        try:
            events.append(parse_event(item))
        except EventError as exc:
            errors.extend(
                (f"{prefix}{path}" if path else prefix.rstrip(".") or "body", msg) for path, msg in exc.errors
            )
    if errors:
        raise PayloadError(errors)
    return events


def _mapped(doc: Any, source: Source) -> list[Event]:
    mapping = dict(source.mapping or {})
    problems = validate_mapping(mapping)
    if problems:
        raise ConfigError([(f"sources.{source.name}.{path}", msg) for path, msg in problems])
    if "events" in mapping:
        selected = _search(mapping, "events", doc)
        if not isinstance(selected, list):
            raise PayloadError(
                [("mapping.events", f"selected {type(selected).__name__}, not a list of items")]
            )
        items, where = selected, "events"
    elif isinstance(doc, list):
        items, where = doc, "body"
    else:
        items, where = [doc], ""
    events: list[Event] = []
    errors: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        prefix = f"{where}[{i}]." if where else ""
        try:
            events.append(_map_item(item, mapping, source))
        except PayloadError as exc:
            errors.extend((f"{prefix}{path}", msg) for path, msg in exc.errors)
    if errors:
        raise PayloadError(errors)
    return events


def _search(mapping: Mapping[str, str], key: str, item: Any) -> Any:
    try:
        return _compile(mapping[key]).search(item)
    except jmespath.exceptions.JMESPathError as exc:
        raise PayloadError([(f"mapping.{key}", str(exc).splitlines()[0])]) from None


def _map_item(item: Any, mapping: Mapping[str, str], source: Source) -> Event:
    errors: list[tuple[str, str]] = []
    values = {key: _search(mapping, key, item) for key in mapping if key != "events"}

    ticket_id = text(values.get("ticket_id"))
    if ticket_id is None:
        errors.append((f"mapping.ticket_id ({mapping['ticket_id']})", "found no ticket id"))

    raw_type = text(values.get("type"))
    type_map = {str(k).lower(): str(v) for k, v in (source.options.get("type_map") or {}).items()}
    ev_type = type_map.get(raw_type.lower(), raw_type) if raw_type else None
    if ev_type not in {t.value for t in EventType}:
        allowed = ", ".join(t.value for t in EventType)
        errors.append(
            (
                f"mapping.type ({mapping['type']})",
                f"{raw_type!r} is not one of {allowed} (see options.type_map)",
            )
        )

    raw_at = values.get("at")
    at = to_instant(raw_at, source_timezone(source))
    if at is None:
        errors.append(
            (f"mapping.at ({mapping['at']})", f"{raw_at!r} is not an ISO 8601 instant or unix time")
        )

    ticket = _ticket_fields(values, source, errors)

    if errors or ticket_id is None or ev_type is None or at is None:
        raise PayloadError(errors)
    event_id = text(values.get("id")) if "id" in values else None
    if event_id is None:
        event_id = f"generic:{digest(canonical_json(item))}"
    reply = {k.removeprefix("reply."): v for k, v in values.items() if k.startswith("reply.")}
    return make_event(event_id, ticket_id, ev_type, at, ticket, reply)


def _ticket_fields(
    values: Mapping[str, Any], source: Source, errors: list[tuple[str, str]]
) -> dict[str, Any]:
    """The ``ticket.*`` mapping results as canonical ticket fields (normalised like every provider's)."""
    ticket: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in values.items():
        if not key.startswith("ticket.") or value is None:
            continue
        field = key.removeprefix("ticket.")
        if field == "custom":
            if isinstance(value, Mapping):
                custom.update({str(k): scalar(v) for k, v in value.items()})
            else:
                errors.append((f"mapping.{key}", f"selected {type(value).__name__}, not an object"))
        elif field.startswith("custom."):
            custom[field.removeprefix("custom.")] = scalar(value)
        elif field in _NORMALISERS:
            ticket[field] = _NORMALISERS[field](value, source)
        elif field == "tags":
            ticket[field] = tag_list(value, f"mapping.{key}")
        elif field in TEXT_FIELDS and not isinstance(value, bool | Mapping | list):
            ticket[field] = text(value)  # a number selected for a text field is its text: 12 -> "12"
        else:
            ticket[field] = scalar(value)
    if custom:
        ticket["custom"] = custom
    return ticket


_NORMALISERS = {"status": status, "priority": priority, "channel": channel}
