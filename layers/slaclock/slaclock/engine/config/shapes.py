"""The base of the configuration loader: error collection and the generic shapes (mappings, names,
lists of strings, durations, shares, e-mail recipients) every section is made of."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slaclock.engine.config.model import CUSTOMER, RESPONSE_KINDS, RULE_FIELDS, Responses
from slaclock.engine.durations import parse_duration, parse_share
from slaclock.engine.vocabulary import STATUSES

_TOP_KEYS = (
    "calendars", "levels", "rules", "sources", "leads", "reports", "responses", "metrics", "agreements",
)  # fmt: skip
_AGREEMENT_KEYS = ("levels", "rules", "description")
_LEVEL_KEYS = (
    "calendar", "calendar_from", "calendar_map", "targets", "notify", "escalations", "unassigned",
    "responses", "actions", "interim_reply_answers",
)  # fmt: skip
_TARGET_KEYS = ("within", "warn_at", "warn_before", "pause_when_status")
_NOTIFY_KEYS = ("warning", "breach")
_ESCALATION_KEYS = ("at", "before_due", "after_due", "notify", "webhook", "actions")
_RULE_KEYS = ("name", "when", "set_level", "stop")
_PREDICATE_KEYS = ("field", "op", "value")
_SOURCE_KEYS = ("provider", "secret", "mapping", "options", "ticket_prefix", "ticket_url", "api")
_API_KEYS = ("url", "secret", "users")
_SECRET_KEYS = ("ssm_parameter", "secrets_manager")
_REPORT_KEYS = ("name", "period", "calendar", "group_by", "filters", "recipients", "time_split")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
"""A metric's or an agreement's name (it appears in clock names, ``<metric>@<agreement>``)."""
_TICKET_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{0,32}")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CONDITION_SHAPES = "{all: [...]}, {any: [...]}, {not: ...} or {field, op, value}"


def _mapped_statuses(sources: Any) -> set[str]:
    """The (casefolded) values of every source's ``options.status_map`` in the raw `sources` section."""
    out: set[str] = set()
    if not isinstance(sources, Mapping):
        return out
    for source in sources.values():
        options = source.get("options") if isinstance(source, Mapping) else None
        table = options.get("status_map") if isinstance(options, Mapping) else None
        if isinstance(table, Mapping):
            out.update(str(v).casefold() for v in table.values() if v is not None)
    return out


def _source_providers(sources: Any) -> dict[str, str]:
    """source name -> provider in the raw `sources` section (read before the levels, whose actions'
    write-backs must be ones every source can do); a source without ``api`` can do none."""
    out: dict[str, str] = {}
    if not isinstance(sources, Mapping):
        return out
    for name, source in sources.items():
        if isinstance(source, Mapping) and isinstance(source.get("provider"), str):
            out[str(name)] = source["provider"] if "api" in source else f"{source['provider']} without api"
    return out


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none defined"


def _is_rule_field(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    return name in RULE_FIELDS or (name.startswith("custom.") and len(name) > len("custom."))


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


#: Time-zone abbreviations people write for a place, and the IANA zone to use instead. Some are valid
#: zones (``EST``, ``MST``, ``HST``: a fixed offset all year; ``CET``, ``EST5EDT``...: legacy rules),
#: the others are not zones at all; either way a calendar of a city should name the city's zone.
ZONE_ABBREVIATIONS: Mapping[str, str] = {
    "EST": "America/New_York", "EDT": "America/New_York", "EST5EDT": "America/New_York",
    "CST": "America/Chicago", "CDT": "America/Chicago", "CST6CDT": "America/Chicago",
    "MST": "America/Denver", "MDT": "America/Denver", "MST7MDT": "America/Denver",
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PST8PDT": "America/Los_Angeles",
    "HST": "Pacific/Honolulu", "AKST": "America/Anchorage", "AKDT": "America/Anchorage",
    "CET": "Europe/Paris", "CEST": "Europe/Paris", "MET": "Europe/Paris", "EET": "Europe/Athens",
    "EEST": "Europe/Athens", "WET": "Europe/Lisbon", "WEST": "Europe/Lisbon", "BST": "Europe/London",
    "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney", "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland",
}  # fmt: skip


def zone_hint(zone: Any) -> str | None:
    """What to write instead of a time-zone abbreviation (None for anything else).

    >>> zone_hint("EST")
    "use the IANA name of the place, e.g. 'America/New_York' (its daylight saving time included)"
    """
    if not isinstance(zone, str):
        return None
    iana = ZONE_ABBREVIATIONS.get(zone.strip().upper())
    if iana is None:
        return None
    return f"use the IANA name of the place, e.g. {iana!r} (its daylight saving time included)"


class _Shapes:
    """Collects `(path, message)` errors while it reads the document; returns None for a bad part."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.source_providers: dict[str, str] = {}
        self.warnings: list[tuple[str, str]] = []
        self.calendar_names: set[str] = set()
        self.level_names: set[str] = set()
        self.agreement_names: set[str] = {CUSTOMER}  # `_Loader.agreements` adds the others
        self.metric_names: set[str] = set()  # the defined metrics (`_Metrics.metrics`), read before levels
        self.metric_order: list[str] = []  # the same, built-ins first, in definition order
        # False when a section is missing or not a mapping: its names are then unknowable, and the
        # references to them are not checked (one error for the section, not one per reference).
        self.calendars_readable = False
        self.levels_readable = False
        self.leads_readable = True
        self.lead_names: set[str] = set()
        # The statuses a ticket can have: the canonical ones and every source's `status_map` values.
        self.statuses: set[str] = set(STATUSES)

    def err(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    # -- generic shapes ------------------------------------------------------------------------------

    def mapping(self, value: Any, path: str, what: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.err(path, f"must be {what}, not {_kind(value)}")
            return None
        return value

    def check_keys(self, d: Mapping[Any, Any], path: str, allowed: Sequence[str]) -> None:
        for key in d:
            if not isinstance(key, str):
                self.err(_join(path, key), f"key {key!r} must be a string (quote it)")
            elif key not in allowed and not (path == "" and key.startswith("x-")):
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.err(_join(path, key), f"unknown key ({hint})")

    def named(self, value: Any, path: str, what: str) -> list[tuple[str, Any]]:
        """The entries of a section keyed by name (calendars, levels, sources, leads)."""
        d = self.mapping(value, path, f"a mapping of {what} by name")
        if d is None:
            return []
        out = []
        for name, item in d.items():
            if not isinstance(name, str) or not name.strip():
                self.err(_join(path, name), f"a {what[:-1]} name must be a non-empty string")
                continue
            out.append((name, item))
        return out

    def string_list(self, value: Any, path: str, *, allow_empty: bool = True) -> tuple[str, ...] | None:
        if not isinstance(value, list) or (not allow_empty and not value):
            self.err(path, "must be a non-empty list" if isinstance(value, list) else "must be a list")
            return None
        ok = True
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.err(f"{path}[{i}]", f"must be a non-empty string, not {item!r}")
                ok = False
        return tuple(value) if ok else None

    def duration(self, value: Any, path: str, *, positive: bool = False) -> timedelta | None:
        try:
            d = parse_duration(value)
        except ValueError as e:
            self.err(path, str(e))
            return None
        if positive and d <= timedelta(0):
            self.err(path, "must be longer than 0s")
            return None
        return d

    def share(self, value: Any, path: str) -> float | None:
        try:
            return parse_share(value)
        except ValueError as e:
            self.err(path, str(e))
            return None

    def recipients(self, value: Any, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.err(path, "must be a list of recipients (assignee, e-mail addresses, lead:<department>)")
            return None
        before = len(self.errors)
        for i, item in enumerate(value):
            self.recipient(item, f"{path}[{i}]")
        return tuple(value) if len(self.errors) == before else None

    def recipient(self, value: Any, path: str) -> None:
        if value == "assignee" or (isinstance(value, str) and _EMAIL.fullmatch(value)):
            return
        if isinstance(value, str) and value.startswith("lead:"):
            department = value[len("lead:") :]
            if department not in self.lead_names and self.leads_readable:
                self.err(path, f"{value!r} needs leads.{department or '<department>'} (leads: "
                         f"{_names(self.lead_names)})")  # fmt: skip
            return
        self.err(path, f"{value!r} is not a recipient (assignee, an e-mail address, or lead:<department>)")

    def emails(self, value: Any, path: str, *, allow_empty: bool = True) -> tuple[str, ...] | None:
        if not isinstance(value, list) or (not allow_empty and not value):
            self.err(path, "must be a non-empty list of e-mail addresses")
            return None
        before = len(self.errors)
        for i, item in enumerate(value):
            if not (isinstance(item, str) and _EMAIL.fullmatch(item)):
                self.err(f"{path}[{i}]", f"{item!r} is not an e-mail address")
        return tuple(value) if len(self.errors) == before else None

    def responses(self, value: Any, path: str) -> Responses | None:
        """A ``responses`` mapping: each of `RESPONSE_KINDS` to ``count`` or ``ignore``."""
        what = f"a mapping of message kinds ({', '.join(RESPONSE_KINDS)}) to count or ignore"
        d = self.mapping(value, path, what)
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, RESPONSE_KINDS)
        decided: dict[str, bool] = {}
        for kind in RESPONSE_KINDS:
            if kind not in d:
                continue
            item = d[kind]
            if item in ("count", "ignore"):
                decided[kind] = item == "count"
            else:
                self.err(f"{path}.{kind}", f"{item!r} is neither count nor ignore")
        return Responses(**decided) if len(self.errors) == before else None

    def calendar_follow(self, d: Mapping[str, Any], path: str) -> tuple[str | None, dict[str, str]] | None:
        """A level's ``calendar_from`` (a ticket field) and ``calendar_map`` (value -> calendar), both
        or neither, or ``calendar_from: requester`` alone; every unknown calendar of the map is an error
        naming it. None when invalid."""
        if "calendar_from" not in d and "calendar_map" not in d:
            return None, {}
        before = len(self.errors)
        field = d.get("calendar_from")
        if field == "requester":  # the requester's zone and country (engine.calendar.requester)
            if "calendar_map" in d:
                why = "the level's hours in the requester's time zone, with its country's holidays"
                self.err(f"{path}.calendar_map", f"not with calendar_from: requester (the calendar is {why})")
                return None
            return "requester", {}
        if "calendar_from" not in d:
            self.err(f"{path}.calendar_from", "required with calendar_map: the ticket field to read, "
                     "e.g. custom.region")  # fmt: skip
        elif not _is_rule_field(field):
            self.err(f"{path}.calendar_from", f"{field!r} is not a ticket field (custom.<name>, or one of "
                     f"{', '.join(RULE_FIELDS)})")  # fmt: skip
        table: dict[str, str] = {}
        if "calendar_map" not in d:
            self.err(f"{path}.calendar_map", "required with calendar_from: the field's values to calendars, "
                     "e.g. {us: ny-office, apac: sydney-office}")  # fmt: skip
        else:
            what = "a mapping of values to calendars"
            given = self.mapping(d["calendar_map"], f"{path}.calendar_map", what)
            for value, name in (given or {}).items():
                where = _join(f"{path}.calendar_map", value)
                if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
                    self.err(where, "a value must be a non-empty string")
                    continue
                key = str(value).casefold()
                if key in table:
                    self.err(where, f"{value!r} is listed twice (values compare ignoring case)")
                checked = self.calendar_ref(name, where)
                if checked is not None:
                    table[key] = checked
            if given is not None and not given:
                self.err(f"{path}.calendar_map", "must list at least one value")
        if len(self.errors) != before:
            return None
        return str(field), table

    def calendar_ref(self, value: Any, path: str) -> str | None:
        if value is None:
            self.err(path, f"required: one of the calendars ({_names(self.calendar_names)})")
            return None
        if not self.calendars_readable:
            return str(value)
        if not isinstance(value, str) or value not in self.calendar_names:
            self.err(path, f"unknown calendar {value!r} (calendars: {_names(self.calendar_names)})")
            return None
        return value

    def zone_warning(self, zone: str, path: str) -> None:
        """A valid zone that is an abbreviation (``EST``: UTC-5 all year, no daylight saving time)."""
        hint = zone_hint(zone)
        if hint is not None:
            self.warnings.append((path, f"{zone!r} is an abbreviation, not a place: {hint}"))

    def source_timezone(self, options: Mapping[str, Any], path: str) -> None:
        """`options.timezone` (times without an offset in this source's payloads): an IANA zone."""
        zone = options.get("timezone")
        if zone is None:
            return
        try:
            if not isinstance(zone, str) or not zone.strip():
                raise ValueError(zone)
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            hint = zone_hint(zone)
            self.err(path, f"{zone!r} is not a known IANA time zone (e.g. 'Europe/Paris', 'UTC')"
                     + (f"; {hint}" if hint else ""))  # fmt: skip
            return
        self.zone_warning(zone, path)
