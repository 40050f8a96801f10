"""Canonical ticket events: the one form every provider adapter produces.

The outcome for a ticket is a function of the SET of its events, ordered by (`at`, `id`); a repeated
`id` is ignored. `ticket` holds the fields as of that event; a partial update is merged onto the
previous state (a key absent from `ticket` keeps its previous value; ``null`` clears it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

from slaclock.engine.errors import EventError


class EventType(StrEnum):
    CREATED = "created"
    AGENT_REPLIED = "agent_replied"
    CUSTOMER_REPLIED = "customer_replied"
    UPDATED = "updated"
    SOLVED = "solved"
    CLOSED = "closed"
    REOPENED = "reopened"
    DELETED = "deleted"


TICKET_FIELDS = frozenset(
    {
        "channel", "status", "priority", "tags", "department", "assignee", "assignee_status",
        "requester", "customer_group", "created_at", "updated_at", "deleted", "referrer_url",
        "via_invitation", "last_message_by", "custom", "subject", "requester_time_zone",
        "requester_country",
    }
)  # fmt: skip


TEXT_FIELDS = frozenset(
    {
        "channel", "status", "priority", "department", "assignee", "assignee_status", "requester",
        "customer_group", "referrer_url", "last_message_by", "subject", "requester_time_zone",
        "requester_country",
    }
)  # fmt: skip
"""Ticket fields that hold a string (or null). ``subject`` (the ticket's title) is shown in notice
e-mails and, on request, in the SLA log; rules do not test it. ``requester_time_zone`` (an IANA zone)
and ``requester_country`` (ISO 3166 alpha-2) choose a level's calendar with ``calendar_from:
requester`` (`slaclock.engine.calendar.requester`)."""
INSTANT_FIELDS = frozenset({"created_at", "updated_at"})
"""Ticket fields that hold an ISO 8601 instant with offset (or null)."""
FLAG_FIELDS = frozenset({"deleted", "via_invitation"})
"""Ticket fields that hold a boolean (or null)."""

AUTHORS = ("agent", "customer", "bot", "automation")
"""Who wrote a message (`Event.reply["author"]`): a person on the team, the requester's side, a bot
(a helpdesk's AI agent or chatbot), or an automation (a trigger, workflow or integration)."""
REPLY_FLAGS = frozenset({"public", "auto_reply", "side_conversation"})
"""The boolean facts of `Event.reply`."""
REPLY_KEYS = frozenset({"author", "via", *REPLY_FLAGS})
"""The facts a message event may carry in `Event.reply` (see `Event`)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One canonical event. `at` is an aware datetime in UTC.

    `reply`: for an event that is a message (a reply, an internal note, a bot's or an automation's
    message), the facts the helpdesk sent about it, each optional: ``author`` (one of `AUTHORS`),
    ``public`` (false: an internal note the requester does not see), ``auto_reply`` (an automatic
    acknowledgement), ``side_conversation`` (written in a side conversation with a third party, not on
    the ticket's own thread) and ``via`` (the helpdesk's own name of the channel or mechanism, as
    sent). None: the event says nothing about a message. The configuration's ``responses`` rules read
    them to decide whether the message achieves a response (docs/clocks.md); the event `type` alone
    decides when no rule applies.
    """

    id: str
    ticket_id: str
    type: EventType
    at: datetime
    ticket: Mapping[str, Any]
    reply: Mapping[str, Any] | None = None

    @property
    def key(self) -> tuple[datetime, str]:
        """Total order of a ticket's events: by instant, then by id."""
        return (self.at, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The canonical document (`parse_event` reads it back); ``reply`` only when the event has it."""
        d = {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "type": self.type.value,
            "at": format_instant(self.at),
            "ticket": dict(self.ticket),
        }
        if self.reply is not None:
            d["reply"] = dict(self.reply)
        return d


EVENT_ORDER: Callable[[Event], tuple[datetime, str]] = attrgetter("at", "id")
"""`Event.key` as a sort key (at C speed): the order a ticket's events are folded in."""


def format_instant(t: datetime) -> str:
    """ISO 8601 in UTC with `Z`; microseconds kept only when present."""
    t = t.astimezone(UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}"
    return text + "Z"


SHOWN_CHARACTERS = 60
"""Most characters of a refused value an error message quotes (a hostile one may be a megabyte)."""


def shown(value: Any) -> str:
    """`value` as an error message quotes it: its ``repr``, cut to `SHOWN_CHARACTERS` with the size of
    the whole when longer (``'xxxx…' (100,000 characters)``)."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters as text"
    return f"{text[:SHOWN_CHARACTERS]}… ({size})"


def parse_instant(value: Any, path: str, errors: list[tuple[str, str]]) -> datetime | None:
    """An ISO 8601 instant WITH an offset (or `Z`), as an aware UTC datetime; appends to `errors`."""
    if not isinstance(value, str):
        errors.append((path, f"{shown(value)} is not an ISO 8601 instant"))
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        errors.append((path, f"{shown(value)} is not an ISO 8601 instant"))
        return None
    if t.tzinfo is None:
        errors.append((path, f"{shown(value)} has no UTC offset (add 'Z' or '+hh:mm')"))
        return None
    return t.astimezone(UTC)


def parse_event(d: Any) -> Event:
    """Validate one canonical event document. Raises `EventError` listing every problem.

    >>> parse_event({"id": "e1", "ticket_id": "7", "type": "created",
    ...              "at": "2026-11-20T15:45:00Z", "ticket": {"status": "open"}}).type
    <EventType.CREATED: 'created'>
    """
    if d.__class__ is not dict:
        return _parse_checked(d)
    # A fast path for a well-formed event as `json` decodes one (plain dicts, lists and strings): it
    # accepts only what the full validation accepts and builds the same event (without going through
    # the frozen dataclass's __init__); anything unusual goes to the full validation, which decides and
    # lists every problem.
    try:
        ev_id = d["id"]
        ticket_id = d["ticket_id"]
        ev_type = _TYPES[d["type"]]
        at = datetime.fromisoformat(d["at"])
    except (KeyError, TypeError, ValueError):  # missing, unhashable, not a type, not an ISO 8601 text
        return _parse_checked(d)
    tz = at.tzinfo
    if tz is not UTC:
        if tz is None:
            return _parse_checked(d)
        at = at.astimezone(UTC)
    ticket = d.get("ticket")
    if "reply" in d:
        return _parse_checked(d)
    if not (
        ev_id.__class__ is str
        and ev_id
        and ticket_id.__class__ is str
        and ticket_id
        and _EVENT_KEYS.issuperset(d)
        and (ticket is None or _plain_ticket(ticket))
    ):
        return _parse_checked(d)
    event = _new(Event)
    _set_id(event, ev_id)
    _set_ticket_id(event, ticket_id)
    _set_type(event, ev_type)
    _set_at(event, at)
    _set_ticket(event, {} if ticket is None else dict(ticket))
    _set_reply(event, None)
    return event


def _plain_ticket(ticket: Any) -> bool:
    """Whether the full validation accepts `ticket`, for a plain dict of known fields (else False: then
    the full validation decides)."""
    if ticket.__class__ is not dict or not TICKET_FIELDS.issuperset(ticket):
        return False
    tags = ticket.get("tags")
    if tags is not None:
        if tags.__class__ is not list:
            return False
        try:
            "".join(tags)  # a TypeError unless every element is a str, as the full check wants
        except TypeError:
            return False
    custom = ticket.get("custom")
    return custom is None or custom.__class__ is dict


def _parse_checked(d: Any) -> Event:
    """`parse_event` with every check, listing every problem."""
    errors: list[tuple[str, str]] = []
    if not isinstance(d, Mapping):
        raise EventError([("", "an event must be a JSON object")])
    ev_id = d.get("id")
    if not isinstance(ev_id, str | int) or isinstance(ev_id, bool) or str(ev_id) == "":
        errors.append(("id", "required, a non-empty string"))
    ticket_id = d.get("ticket_id")
    if not isinstance(ticket_id, str | int) or isinstance(ticket_id, bool) or str(ticket_id) == "":
        errors.append(("ticket_id", "required, a non-empty string"))
    raw_type: Any = d.get("type")
    try:
        ev_type = EventType(raw_type)
    except ValueError:
        allowed = ", ".join(t.value for t in EventType)
        errors.append(("type", f"{shown(raw_type)} is not one of {allowed}"))
        ev_type = None
    at = parse_instant(d.get("at"), "at", errors)
    ticket = d.get("ticket", {})
    if ticket is None:
        ticket = {}
    if not isinstance(ticket, Mapping):
        errors.append(("ticket", "must be an object of ticket fields"))
        ticket = {}
    else:
        for name in ticket:
            if name not in TICKET_FIELDS:
                errors.append((f"ticket.{_name(name)}", "unknown ticket field"))
        tags = ticket.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(x, str) for x in tags)):
            errors.append(("ticket.tags", "must be a list of strings"))
        custom = ticket.get("custom")
        if custom is not None and not isinstance(custom, Mapping):
            errors.append(("ticket.custom", "must be an object"))
    reply = _reply(d.get("reply"), errors)
    unknown = set(d) - _EVENT_KEYS
    for name in sorted(unknown):
        errors.append((_name(name), "unknown event key"))
    if errors or ev_type is None or at is None:
        raise EventError(errors)
    return Event(
        id=str(ev_id), ticket_id=str(ticket_id), type=ev_type, at=at, ticket=dict(ticket), reply=reply
    )


def _name(key: Any) -> str:
    """A key as a problem's path names it: as it is, or `shown` when it is long."""
    text = str(key)
    return text if len(text) <= SHOWN_CHARACTERS else shown(text)


def _reply(value: Any, errors: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The event's ``reply`` facts checked (None stays None); appends every problem to `errors`."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(("reply", f"must be an object of message facts ({', '.join(sorted(REPLY_KEYS))})"))
        return None
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"reply.{key}"
        if key not in REPLY_KEYS:
            errors.append(
                (f"reply.{_name(key)}", f"unknown message fact (facts: {', '.join(sorted(REPLY_KEYS))})")
            )
        elif item is None:
            continue  # unknown: as if absent
        elif key == "author":
            if item not in AUTHORS:
                errors.append((path, f"{shown(item)} is not one of {', '.join(AUTHORS)}"))
            else:
                out[key] = item
        elif key == "via":
            if not isinstance(item, str):
                errors.append((path, f"must be a string, not {json_kind(item)}"))
            else:
                out[key] = item
        elif not isinstance(item, bool):
            errors.append((path, f"must be true or false, not {json_kind(item)}"))
        else:
            out[key] = item
    return out


def field_type_errors(ticket: Mapping[str, Any], prefix: str = "ticket") -> list[tuple[str, str]]:
    """Every ticket field of `ticket` whose value has the wrong JSON type, as (path, message):
    `TEXT_FIELDS` hold a string, `FLAG_FIELDS` a boolean, `INSTANT_FIELDS` an ISO 8601 instant with
    offset, ``tags`` a list of strings, ``custom`` an object of strings, numbers, booleans and lists of
    them. Null is always allowed (it clears the field). ``[]`` when every field is well typed.

    The rule for what a delivery may store (`slaclock.services.ingest.check_events` applies it before
    the first write). `parse_event` does not: events stored before the rule existed, and exports
    replayed from elsewhere, keep loading (reports render any scalar)."""
    errors: list[tuple[str, str]] = []
    for name, value in ticket.items():
        if value is None:
            continue
        path = f"{prefix}.{name}"
        if name in TEXT_FIELDS:
            if not isinstance(value, str):
                errors.append((path, f"must be a string, not {json_kind(value)}"))
        elif name in FLAG_FIELDS:
            if not isinstance(value, bool):
                errors.append((path, f"must be true or false, not {json_kind(value)}"))
        elif name in INSTANT_FIELDS:
            parse_instant(value, path, errors)
        elif name == "tags":
            if not (isinstance(value, list) and all(isinstance(t, str) for t in value)):
                errors.append((path, "must be a list of strings"))
        elif name == "custom":
            if not isinstance(value, Mapping):
                errors.append((path, f"must be an object, not {json_kind(value)}"))
                continue
            for key, item in value.items():
                if not _scalar_or_list(item):
                    errors.append((f"{path}.{key}", f"must be a string, number, boolean or a list of them, "
                                                    f"not {json_kind(item)}"))  # fmt: skip
    return errors


def _scalar_or_list(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, list) and all(
        v is None or isinstance(v, str | int | float | bool) for v in value
    )


def json_kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages: ``a string``, ``a number``, ``a boolean``,
    ``an object``, ``an array`` or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


_TYPES: dict[str, EventType] = {t.value: t for t in EventType}
_EVENT_KEYS = frozenset({"id", "ticket_id", "type", "at", "ticket", "reply", "source"})


def _slot_setters() -> tuple[Callable[[Event, Any], None], ...]:
    """The setters of `Event`'s slots, in field order: `parse_event` builds events with them (the frozen
    dataclass's ``__init__`` goes through ``object.__setattr__``, twice as slow). A test checks that an
    event built so equals the one ``Event(...)`` builds."""
    names = tuple(f.name for f in dataclass_fields(Event))
    assert names == ("id", "ticket_id", "type", "at", "ticket", "reply"), names  # noqa: S101 - update
    return tuple(Event.__dict__[n].__set__ for n in names)


_new = object.__new__
_set_id, _set_ticket_id, _set_type, _set_at, _set_ticket, _set_reply = _slot_setters()


def merge_fields(previous: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a partial ticket update onto the previous fields. `custom` merges key by key."""
    merged = dict(previous)
    merge_into(merged, update)
    return merged


def merge_into(fields: dict[str, Any], update: Mapping[str, Any]) -> None:
    """`merge_fields` in place: `fields` becomes the merge of `update` onto it."""
    if "custom" not in update:
        fields.update(update)
        return
    custom = fields.get("custom")
    fields.update(update)
    value = update["custom"]
    if (value.__class__ is dict or isinstance(value, Mapping)) and (
        custom.__class__ is dict or isinstance(custom, Mapping)
    ):
        fields["custom"] = {**custom, **value}
