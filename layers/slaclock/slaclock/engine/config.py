"""Configuration model (DESIGN §3): calendars, SLA levels, ordered rules, sources, leads, reports.

The dataclasses below are the engine's typed view of the configuration document. `load_config(doc)`
turns a parsed YAML/JSON document (a mapping) into a `Config`, or raises `ConfigError` listing EVERY
problem with its path (e.g. ``levels.urgent.targets.first_response.within: '1 hour' is not a
duration``). Nothing is half-loaded.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.durations import format_duration, parse_duration, parse_share
from slaclock.engine.errors import ConfigError, ValidationError

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
"""The canonical ticket statuses every provider's values are normalised to (docs/helpdesks.md); a
source's ``options.status_map`` may add its own."""


class Metric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class Target:
    """One metric's promise: `within` business time of the level's calendar.

    `warn_at` is a share of `within` in (0, 1] (``75%`` -> 0.75); `warn_before` is a business-time
    duration before due. At most one of the two is set. While the ticket's status is in
    `pause_when_status`, the clock does not count.
    """

    within: timedelta
    warn_at: float | None = None
    warn_before: timedelta | None = None
    pause_when_status: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Escalation:
    """One rung of an escalation ladder. Exactly one of `at` (share of the target, may exceed 1),
    `before_due` or `after_due` (business-time durations relative to the due instant) is set."""

    notify: tuple[str, ...]
    at: float | None = None
    before_due: timedelta | None = None
    after_due: timedelta | None = None
    webhook: str | None = None


@dataclass(frozen=True, slots=True)
class SlaLevel:
    """An SLA policy. Recipients are `assignee`, literal e-mail addresses, or `lead:<department>`.
    `unassigned` (addresses or `lead:<department>`) stands in for `assignee` when the ticket has no
    assignee address; empty: the lead of the ticket's department does."""

    name: str
    calendar: str
    targets: Mapping[Metric, Target]
    notify_warning: tuple[str, ...] = ("assignee",)
    notify_breach: tuple[str, ...] = ("assignee",)
    escalations: tuple[Escalation, ...] = ()
    unassigned: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Predicate:
    """`field op value`, e.g. ``tags contains URGENT``. `value` is already type-checked for `op`
    (a compiled `re.Pattern` for `matches`, a `timedelta` for `older_than`/`newer_than`, a tuple for
    `in`/`not_in`, a number or an aware UTC `datetime` for `gt`/`lt`, a bool for `exists`, a string,
    number or bool otherwise). Matching semantics: `slaclock.engine.rules`."""

    field: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Predicate | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Rule:
    """Ordered rule: when `when` matches (None matches everything), apply `set_level`; `stop` ends the walk.
    Plain data: `slaclock.engine.policy.compile_policy` compiles the conditions."""

    name: str
    when: Condition | None = None
    set_level: str | None = None
    stop: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """Who may send webhooks to ``POST /webhooks/{name}`` and how to read them.

    `provider`: generic, zendesk, freshdesk, liveagent, intercom, jira, helpscout. The secret is never in
    the document: `secret_ssm_parameter` (SecureString) or `secret_arn` (Secrets Manager) names it.
    `mapping` (generic provider only) maps canonical field names to JMESPath expressions.
    `ticket_prefix` (default ``""``: ids as the helpdesk sends them) is put in front of every ticket id
    this source delivers, so tickets of two helpdesks never share an id (Freshdesk ticket 11 and Help
    Scout ticket 11 become ``11`` and ``hs-11``); at most 32 of ``[A-Za-z0-9_.:-]``. Ingest applies it
    once, right after the provider parsed the delivery; event ids are left as they are.
    """

    name: str
    provider: str
    secret_ssm_parameter: str | None = None
    secret_arn: str | None = None
    mapping: Mapping[str, str] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    ticket_prefix: str = ""


@dataclass(frozen=True, slots=True)
class ReportSubscription:
    """A scheduled report: `period` daily|weekly|monthly in `calendar`'s time zone."""

    name: str
    period: str
    calendar: str
    group_by: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    calendars: Mapping[str, BusinessCalendar]
    levels: Mapping[str, SlaLevel]
    rules: tuple[Rule, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)
    leads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reports: tuple[ReportSubscription, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[tuple[str, str], ...] = ()
    """(path, message) pairs about a VALID document that probably does not do what its author meant,
    e.g. a rule whose level a later catch-all always replaces. `slaclock validate` prints them."""

    def calendar_of(self, level: str) -> BusinessCalendar:
        return self.calendars[self.levels[level].calendar]


# --------------------------------------------------------------------------------------------------
# Vocabulary of the document (DESIGN §3). Rule matching (`slaclock.engine.rules`) reads these too.

RULE_FIELDS: tuple[str, ...] = (
    "channel", "status", "priority", "tags", "department", "assignee", "assignee_status", "requester",
    "customer_group", "created_at", "updated_at", "deleted", "referrer_url", "via_invitation",
    "last_message_by",
)  # fmt: skip
"""Ticket fields a rule may test, besides ``custom.<name>`` (which reads ``fields["custom"][name]``)."""

DATE_FIELDS = frozenset({"created_at", "updated_at"})
BOOLEAN_FIELDS = frozenset({"deleted", "via_invitation"})
LIST_FIELDS = frozenset({"tags"})
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "web", "social", "api")
OPERATORS: tuple[str, ...] = (
    "is", "is_not", "in", "not_in", "contains", "not_contains", "starts_with", "matches", "gt", "lt",
    "exists", "older_than", "newer_than",
)  # fmt: skip
PROVIDERS: tuple[str, ...] = ("zendesk", "freshdesk", "liveagent", "intercom", "jira", "helpscout", "generic")
REPORT_PERIODS: tuple[str, ...] = ("daily", "weekly", "monthly")
REPORT_GROUPS: tuple[str, ...] = ("department", "agent", "level", "metric")

_TOP_KEYS = ("calendars", "levels", "rules", "sources", "leads", "reports")
_LEVEL_KEYS = ("calendar", "targets", "notify", "escalations", "unassigned")
_TARGET_KEYS = ("within", "warn_at", "warn_before", "pause_when_status")
_NOTIFY_KEYS = ("warning", "breach")
_ESCALATION_KEYS = ("at", "before_due", "after_due", "notify", "webhook")
_RULE_KEYS = ("name", "when", "set_level", "stop")
_PREDICATE_KEYS = ("field", "op", "value")
_SOURCE_KEYS = ("provider", "secret", "mapping", "options", "ticket_prefix")
_SECRET_KEYS = ("ssm_parameter", "secrets_manager")
_REPORT_KEYS = ("name", "period", "calendar", "group_by", "filters", "recipients")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TICKET_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{0,32}")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CONDITION_SHAPES = "{all: [...]}, {any: [...]}, {not: ...} or {field, op, value}"


def load_config(doc: Any) -> Config:
    """Validate a parsed configuration document as a whole and return the typed `Config`.

    `doc` is what a YAML or JSON parser returns (a mapping). Every section is checked and EVERY problem
    is collected; if there is any, `ConfigError` is raised with all of them as ``(path, message)``
    pairs, e.g. ``("rules[2].set_level", "unknown level 'gold' (levels: standard, urgent)")``: first the
    top level, then section by section (calendars, leads, levels, rules, sources, reports), in document
    order within each. Nothing is half-loaded. Top-level keys starting with ``x-`` are ignored (a place
    for YAML anchors). `Config.document` keeps a deep copy of `doc`; `Config.warnings` lists what is
    legal but probably unintended.

    The rules must give every ticket a level: `_Loader.check_rule_coverage` says exactly what is
    required. See docs/configuration.md for the whole reference.
    """
    loader = _Loader()
    config = loader.load(doc)
    if loader.errors or config is None:
        raise ConfigError(loader.errors)
    return config


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


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none defined"


class _Loader:
    """Collects `(path, message)` errors while it reads the document; returns None for a bad part."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []
        self.calendar_names: set[str] = set()
        self.level_names: set[str] = set()
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

    # -- the document ----------------------------------------------------------------------------------

    def load(self, doc: Any) -> Config | None:
        if not isinstance(doc, Mapping):
            self.err(
                "", f"the configuration must be a mapping with calendars, levels and rules, not {_kind(doc)}"
            )
            return None
        self.check_keys(doc, "", _TOP_KEYS)
        for key in ("calendars", "levels", "rules"):
            if doc.get(key) is None:
                self.err(key, "required")
        calendars = self.calendars(doc.get("calendars"))
        leads = self.leads(doc.get("leads"))
        self.statuses |= _mapped_statuses(doc.get("sources"))
        if isinstance(doc.get("levels"), Mapping):  # known before rules are read; `levels()` checks them
            self.level_names = {n for n in doc["levels"] if isinstance(n, str) and n.strip()}
            self.levels_readable = True
        levels = self.levels(doc.get("levels"))
        rules = self.rules(doc.get("rules"))
        sources = self.sources(doc.get("sources"))
        reports = self.reports(doc.get("reports"))
        if self.errors:
            return None
        return Config(
            calendars=calendars,
            levels=levels,
            rules=rules,
            sources=sources,
            leads=leads,
            reports=reports,
            document=copy.deepcopy(dict(doc)),
            warnings=tuple(self.warnings),
        )

    def leads(self, value: Any) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        self.leads_readable = isinstance(value, Mapping)
        out: dict[str, tuple[str, ...]] = {}
        for name, addresses in self.named(value, "leads", "leads"):
            self.lead_names.add(name)
            checked = self.emails(addresses, f"leads.{name}", allow_empty=False)
            if checked is not None:
                out[name] = checked
        return out

    def calendars(self, value: Any) -> dict[str, BusinessCalendar]:
        self.calendars_readable = isinstance(value, Mapping)
        if value is None:
            return {}
        out: dict[str, BusinessCalendar] = {}
        for name, item in self.named(value, "calendars", "calendars"):
            path = f"calendars.{name}"
            self.calendar_names.add(name)
            try:
                out[name] = BusinessCalendar.from_dict(item, path=path)
            except ValidationError as e:
                for p, message in e.errors:
                    inside = p == path or p.startswith((path + ".", path + "["))
                    where = p if inside else _join(path, p)
                    zone = item.get("timezone") if isinstance(item, Mapping) else None
                    hint = zone_hint(zone) if where == f"{path}.timezone" else None
                    self.err(where, f"{message}; {hint}" if hint else message)
            except ValueError as e:
                self.err(path, str(e))
            else:
                self.zone_warning(out[name].timezone, f"{path}.timezone")
        if not self.calendar_names and isinstance(value, Mapping):
            self.err("calendars", "at least one calendar is needed")
        return out

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

    # -- levels ----------------------------------------------------------------------------------------

    def levels(self, value: Any) -> dict[str, SlaLevel]:
        if value is None:
            return {}
        out: dict[str, SlaLevel] = {}
        entries = self.named(value, "levels", "levels")
        if not entries and isinstance(value, Mapping):
            self.err("levels", "at least one level is needed")
        for name, item in entries:
            level = self.level(name, item, f"levels.{name}")
            if level is not None:
                out[name] = level
        return out

    def level(self, name: str, value: Any, path: str) -> SlaLevel | None:
        d = self.mapping(value, path, "a level: {calendar, targets, notify, escalations, unassigned}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _LEVEL_KEYS)
        calendar = self.calendar_ref(d.get("calendar"), f"{path}.calendar")
        targets = self.targets(d.get("targets"), f"{path}.targets")
        warning: tuple[str, ...] | None = ("assignee",)
        breach: tuple[str, ...] | None = ("assignee",)
        if "notify" in d:
            notify = self.mapping(d["notify"], f"{path}.notify", "a mapping {warning: [...], breach: [...]}")
            if notify is not None:
                self.check_keys(notify, f"{path}.notify", _NOTIFY_KEYS)
                if "warning" in notify:
                    warning = self.recipients(notify["warning"], f"{path}.notify.warning")
                if "breach" in notify:
                    breach = self.recipients(notify["breach"], f"{path}.notify.breach")
        escalations: tuple[Escalation, ...] = ()
        if "escalations" in d:
            escalations = self.escalations(d["escalations"], f"{path}.escalations", targets or {})
        unassigned: tuple[str, ...] | None = ()
        if "unassigned" in d:
            unassigned = self.recipients(d["unassigned"], f"{path}.unassigned")
            if unassigned is not None and "assignee" in unassigned:
                self.err(
                    f"{path}.unassigned", "stands in for assignee: list e-mail addresses or lead:<department>"
                )
        if (
            len(self.errors) != before
            or calendar is None
            or not targets
            or warning is None
            or breach is None
            or unassigned is None
        ):
            return None
        return SlaLevel(
            name=name,
            calendar=calendar,
            targets=targets,
            notify_warning=warning,
            notify_breach=breach,
            escalations=escalations,
            unassigned=unassigned,
        )

    def pause_statuses(self, values: tuple[str, ...], path: str) -> tuple[str, ...] | None:
        """`values` casefolded (statuses compare ignoring case, as rule conditions do); one outside
        the vocabulary would never match a ticket, so it is an error naming the vocabulary."""
        out = tuple(v.casefold() for v in values)
        before = len(self.errors)
        for i, (given, status) in enumerate(zip(values, out, strict=True)):
            if status in self.statuses:
                continue
            close = difflib.get_close_matches(status, sorted(self.statuses), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.err(
                f"{path}[{i}]",
                f"{given!r} is not a ticket status: {hint}statuses are {', '.join(STATUSES)} and the values "
                "of a source's options.status_map (map a helpdesk's own status there to pause on it)",
            )
        return out if len(self.errors) == before else None

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

    def targets(self, value: Any, path: str) -> dict[Metric, Target] | None:
        metrics = ", ".join(m.value for m in Metric)
        if value is None:
            self.err(path, f"required: a target for at least one of {metrics}")
            return None
        d = self.mapping(value, path, f"a mapping of targets by metric ({metrics})")
        if d is None:
            return None
        if not d:
            self.err(path, f"a target for at least one of {metrics} is needed")
            return None
        out: dict[Metric, Target] = {}
        for key, item in d.items():
            try:
                metric = Metric(key)
            except ValueError:
                self.err(_join(path, key), f"unknown metric {key!r} ({metrics})")
                continue
            target = self.target(item, f"{path}.{key}")
            if target is not None:
                out[metric] = target
        return out

    def target(self, value: Any, path: str) -> Target | None:
        d = self.mapping(value, path, "a target: {within, warn_at | warn_before, pause_when_status}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _TARGET_KEYS)
        within = None
        if "within" not in d:
            self.err(f"{path}.within", "required: the target duration, e.g. 8h")
        else:
            within = self.duration(d["within"], f"{path}.within", positive=True)
        warn_at = warn_before = None
        if "warn_at" in d and "warn_before" in d:
            self.err(path, "warn_at and warn_before are exclusive: keep one")
        if "warn_at" in d:
            warn_at = self.share(d["warn_at"], f"{path}.warn_at")
            if warn_at is not None and not 0 < warn_at <= 1:
                self.err(f"{path}.warn_at", f"{d['warn_at']!r} must be above 0% and at most 100%")
        if "warn_before" in d:
            warn_before = self.duration(d["warn_before"], f"{path}.warn_before", positive=True)
            if warn_before is not None and within is not None and warn_before >= within:
                self.err(
                    f"{path}.warn_before",
                    f"{d['warn_before']!r} must be shorter than within ({format_duration(within)})",
                )
        pause: tuple[str, ...] | None = ()
        if "pause_when_status" in d:
            pause = self.string_list(d["pause_when_status"], f"{path}.pause_when_status")
            if pause is not None:
                pause = self.pause_statuses(pause, f"{path}.pause_when_status")
        if len(self.errors) != before or within is None or pause is None:
            return None
        return Target(
            within=within, warn_at=warn_at, warn_before=warn_before, pause_when_status=frozenset(pause)
        )

    def escalations(self, value: Any, path: str, targets: Mapping[Metric, Target]) -> tuple[Escalation, ...]:
        if not isinstance(value, list):
            self.err(path, "must be a list of steps: {at | before_due | after_due, notify, webhook}")
            return ()
        out = []
        for i, item in enumerate(value):
            step = self.escalation(item, f"{path}[{i}]", targets)
            if step is not None:
                out.append(step)
        return tuple(out)

    def escalation(self, value: Any, path: str, targets: Mapping[Metric, Target]) -> Escalation | None:
        d = self.mapping(value, path, "a step: {at | before_due | after_due, notify, webhook}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _ESCALATION_KEYS)
        when = [k for k in ("at", "before_due", "after_due") if k in d]
        if not when:
            self.err(path, "needs one of at (a share of the target), before_due or after_due (durations)")
        elif len(when) > 1:
            self.err(path, f"{' and '.join(when)} are exclusive: keep one")
        at = before_due = after_due = None
        if "at" in d:
            at = self.share(d["at"], f"{path}.at")
            if at is not None and at <= 0:
                self.err(f"{path}.at", "must be above 0%")
        if "before_due" in d:
            before_due = self.duration(d["before_due"], f"{path}.before_due")
            for metric, target in targets.items():
                if before_due is not None and before_due >= target.within:
                    self.err(
                        f"{path}.before_due",
                        f"{d['before_due']!r} is not shorter than targets.{metric.value}.within "
                        f"({format_duration(target.within)})",
                    )
        if "after_due" in d:
            after_due = self.duration(d["after_due"], f"{path}.after_due")
        notify: tuple[str, ...] | None = ()
        if "notify" in d:
            notify = self.recipients(d["notify"], f"{path}.notify")
        webhook = None
        if "webhook" in d:
            webhook = self.webhook(d["webhook"], f"{path}.webhook")
        elif notify == ():
            self.err(path, "needs notify recipients, a webhook, or both")
        if len(self.errors) != before or notify is None:
            return None
        return Escalation(notify=notify, at=at, before_due=before_due, after_due=after_due, webhook=webhook)

    def webhook(self, value: Any, path: str) -> str | None:
        url = urlsplit(value) if isinstance(value, str) else None
        if (
            url is not None
            and url.hostname
            and (url.scheme == "https" or (url.scheme == "http" and url.hostname in _LOCAL_HOSTS))
        ):
            return str(value)
        self.err(path, f"{value!r} is not an https:// URL")
        return None

    # -- rules -----------------------------------------------------------------------------------------

    def rules(self, value: Any) -> tuple[Rule, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err("rules", f"must be a list of rules, not {_kind(value)}")
            return ()
        if not value:
            self.err(
                "rules", "at least one rule is needed (the last one, without 'when', sets the default level)"
            )
            return ()
        out: list[Rule] = []
        seen: dict[str, int] = {}
        shapes: list[tuple[bool, bool, bool, str]] = []  # (has when, sets a level, stops, name)
        for i, item in enumerate(value):
            path = f"rules[{i}]"
            d = self.mapping(item, path, "a rule: {name, when, set_level, stop}")
            if d is None:
                shapes.append((True, True, False, "?"))  # unknown shape: assume nothing about it
                continue
            before = len(self.errors)
            self.check_keys(d, path, _RULE_KEYS)
            name = d.get("name")
            if not isinstance(name, str) or not name.strip():
                self.err(f"{path}.name", "required: a non-empty string")
                name = f"rules[{i}]"
            elif name in seen:
                self.err(f"{path}.name", f"duplicate rule name {name!r} (also rules[{seen[name]}])")
            else:
                seen[name] = i
            when = None
            if "when" in d:
                if d["when"] is None:
                    self.err(f"{path}.when", "is empty (remove it to match every ticket)")
                else:
                    when = self.condition(d["when"], f"{path}.when")
            level = d.get("set_level")
            if (
                level is not None
                and self.levels_readable
                and (not isinstance(level, str) or level not in self.level_names)
            ):
                self.err(f"{path}.set_level", f"unknown level {level!r} (levels: {_names(self.level_names)})")
            stop = d.get("stop", False)
            if not isinstance(stop, bool):
                self.err(f"{path}.stop", f"must be true or false, not {stop!r}")
                stop = False
            if level is None and not stop:
                self.err(path, "does nothing: give it set_level, stop: true, or both")
            shapes.append(("when" in d, level is not None, stop, name))
            if len(self.errors) == before:
                out.append(Rule(name=name, when=when, set_level=level, stop=stop))
        self.check_rule_coverage(shapes)
        return tuple(out)

    def check_rule_coverage(self, shapes: list[tuple[bool, bool, bool, str]]) -> None:
        """Every ticket must end the walk with a level.

        Only a rule without `when` is known to match every ticket (conditions are not solved). So the
        rules must contain a *catch-all* that sets a level (no `when`, with `set_level`), and no ticket
        may be stopped before it without a level: a `stop: true` rule without `set_level` placed before
        the first catch-all would leave the tickets it matches with no level. (After it, such a rule is
        fine: it keeps the level set so far.) Rules after a catch-all that stops can never run, which is
        reported too.

        A rule that sets a level without stopping, placed before a catch-all that sets one, never decides
        the level (the catch-all always applies after it): that is a warning, not an error.
        """
        catch_all = next(
            (i for i, (has_when, sets, _, _) in enumerate(shapes) if not has_when and sets), None
        )
        final = next((i for i, (has_when, _, stops, _) in enumerate(shapes) if not has_when and stops), None)
        if final is not None:
            for i in range(final + 1, len(shapes)):
                self.err(f"rules[{i}]", f"unreachable: rules[{final}] ({shapes[final][3]!r}) has no 'when' "
                         "and stops the walk")  # fmt: skip
        if catch_all is None or (final is not None and final < catch_all):
            self.err(
                "rules",
                "no rule sets a level for every ticket: add a last rule without 'when' that sets one "
                "(e.g. {name: Everyone else, set_level: standard})",
            )
            return
        for i in range(catch_all):
            has_when, sets, stops, name = shapes[i]
            if sets and not stops:
                self.warnings.append(
                    (
                        f"rules[{i}]",
                        f"{name!r} sets a level that rules[{catch_all}] ({shapes[catch_all][3]!r}), a later "
                        "rule without 'when', always replaces (the last applied rule wins): add stop: true, "
                        "or move the catch-all first",
                    )
                )
            if stops and not sets:
                self.err(
                    f"rules[{i}]",
                    f"stops the walk without setting a level before the catch-all rules[{catch_all}] "
                    f"({shapes[catch_all][3]!r}): a ticket it matches gets no level; give it set_level "
                    f"or move it after rules[{catch_all}]",
                )

    def condition(self, value: Any, path: str) -> Condition | None:
        if not isinstance(value, Mapping):
            self.err(path, f"a condition is one of {_CONDITION_SHAPES}, not {_kind(value)}")
            return None
        combinators = [k for k in ("all", "any", "not") if k in value]
        predicate_keys = [k for k in _PREDICATE_KEYS if k in value]
        if len(combinators) + bool(predicate_keys) > 1:
            self.err(
                path,
                f"mixes {', '.join(combinators + predicate_keys)}: a condition is one of {_CONDITION_SHAPES}",
            )
            return None
        if not combinators:
            return self.predicate(value, path)
        key = combinators[0]
        self.check_keys(value, path, (key,))
        if key == "not":
            if value["not"] is None:
                self.err(f"{path}.not", "is empty")
                return None
            item = self.condition(value["not"], f"{path}.not")
            return Not(item) if item is not None else None
        items = value[key]
        if not isinstance(items, list) or not items:
            self.err(f"{path}.{key}", "must be a non-empty list of conditions")
            return None
        parsed = [self.condition(c, f"{path}.{key}[{j}]") for j, c in enumerate(items)]
        if any(c is None for c in parsed):
            return None
        conditions = tuple(c for c in parsed if c is not None)
        return AllOf(conditions) if key == "all" else AnyOf(conditions)

    def predicate(self, d: Mapping[str, Any], path: str) -> Predicate | None:
        self.check_keys(d, path, _PREDICATE_KEYS)
        before = len(self.errors)
        name, op = d.get("field"), d.get("op")
        if name is None:
            self.err(f"{path}.field", "required")
        elif not _is_rule_field(name):
            self.err(f"{path}.field", f"unknown field {name!r} ({', '.join(RULE_FIELDS)}, custom.<name>)")
        if op is None:
            self.err(f"{path}.op", f"required: one of {', '.join(OPERATORS)}")
        elif op not in OPERATORS:
            self.err(f"{path}.op", f"unknown operator {op!r} ({', '.join(OPERATORS)})")
        if not isinstance(op, str) or op not in OPERATORS:
            return None
        # The value is checked even under an unknown field, so that its own mistakes are listed too.
        known = name if len(self.errors) == before and isinstance(name, str) else ""
        value = self.predicate_value(known, op, d, path)
        if len(self.errors) != before or not isinstance(name, str):
            return None
        return Predicate(field=name, op=op, value=value)

    def predicate_value(self, name: str, op: str, d: Mapping[str, Any], path: str) -> Any:  # noqa: C901
        """The checked value for `op` on field `name` ("" when the field is unknown: no field checks)."""
        vpath = f"{path}.value"
        value = d.get("value")
        if op == "exists":
            if value is None:
                return True
            if not isinstance(value, bool):
                self.err(vpath, f"exists takes true or false (or no value), not {value!r}")
            return value
        if value is None:
            hint = " (use op: exists to test whether a field is set)" if op in ("is", "is_not") else ""
            self.err(vpath, f"required for {op}{hint}")
            return None
        if op in ("older_than", "newer_than"):
            if name and name not in DATE_FIELDS and not name.startswith("custom."):
                dates = "created_at, updated_at, custom.<name>"
                self.err(f"{path}.op", f"{op} applies to date fields ({dates}), not {name}")
                return None
            return self.duration(value, vpath)
        if op in ("gt", "lt"):
            return self.comparable(name, op, value, vpath)
        if op == "matches":
            if not isinstance(value, str):
                self.err(vpath, f"matches takes a regular expression (a string), not {value!r}")
                return None
            try:
                return re.compile(value)
            except re.error as e:
                self.err(vpath, f"bad regular expression {value!r}: {e}")
                return None
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.err(vpath, f"{op} takes a non-empty list of values, not {value!r}")
                return None
            for i, item in enumerate(value):
                self.scalar(name, item, f"{vpath}[{i}]", op)
            return tuple(value)
        if isinstance(value, list):
            other = {"is": "in", "is_not": "not_in"}.get(op)
            hint = f"use {other} for a list" if other else "combine several with any/all"
            self.err(vpath, f"{op} takes one value; {hint}")
            return None
        if op == "starts_with" and not isinstance(value, str):
            self.err(vpath, f"starts_with takes a string, not {value!r}")
            return None
        self.scalar(name, value, vpath, op)
        return value

    def scalar(self, name: str, value: Any, path: str, op: str) -> None:
        if not isinstance(value, str | int | float | bool):
            self.err(path, f"{op} compares with a string, number or true/false, not {_kind(value)}")
        elif name == "channel" and op in ("is", "is_not", "in", "not_in"):
            if not isinstance(value, str) or value.casefold() not in CHANNELS:
                self.err(path, f"unknown channel {value!r} ({', '.join(CHANNELS)})")
        elif (
            name in BOOLEAN_FIELDS and op in ("is", "is_not", "in", "not_in") and not isinstance(value, bool)
        ):
            self.err(path, f"{name} is true or false, not {value!r}")

    def comparable(self, name: str, op: str, value: Any, path: str) -> float | datetime | None:
        if name in LIST_FIELDS:
            self.err(path.rsplit(".", 1)[0] + ".op", f"{op} compares single values; {name} is a list")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            if name in DATE_FIELDS:
                self.err(path, f"{name} is an instant: compare it with an ISO 8601 instant, e.g. "
                         "'2026-01-01T00:00:00Z' (or use older_than/newer_than)")  # fmt: skip
                return None
            return value
        if isinstance(value, str):
            try:
                t = datetime.fromisoformat(value)
            except ValueError:
                t = None
            if t is not None and t.tzinfo is not None:
                return t.astimezone(UTC)
            if t is not None:
                self.err(path, f"{value!r} has no UTC offset (add 'Z' or '+hh:mm')")
                return None
        self.err(path, f"{op} compares with a number or an ISO 8601 instant, not {value!r}")
        return None

    # -- sources, reports ------------------------------------------------------------------------------

    def sources(self, value: Any) -> dict[str, Source]:
        if value is None:
            return {}
        out: dict[str, Source] = {}
        for name, item in self.named(value, "sources", "sources"):
            path = f"sources.{name}"
            if not _SOURCE_NAME.fullmatch(name):
                self.err(path, "a source name is part of the webhook URL: letters, digits, '-' and '_' only")
            source = self.source(name, item, path)
            if source is not None:
                out[name] = source
        self.check_ticket_prefixes(out)
        return out

    def check_ticket_prefixes(self, sources: Mapping[str, Source]) -> None:
        """Warn about every source whose `ticket_prefix` another source shares (both empty included).

        Their ticket ids share one namespace: ticket 11 of one helpdesk and ticket 11 of another would
        be ONE slaclock ticket. A warning, not an error: a configuration that worked before the setting
        existed keeps loading, and two sources of ONE helpdesk (a second webhook, a gap-free secret
        rotation) must share their prefix."""
        if len(sources) < 2:
            return
        by_prefix: dict[str, list[str]] = {}
        for name, source in sources.items():
            by_prefix.setdefault(source.ticket_prefix, []).append(name)
        for prefix, names in by_prefix.items():
            if len(names) < 2:
                continue
            shown = repr(prefix) if prefix else "not set"
            for name in names:
                others = ", ".join(n for n in names if n != name)
                suggestion = name[:31] + ("" if name[:31].endswith(("-", "_")) else "-")
                self.warnings.append(
                    (
                        f"sources.{name}.ticket_prefix",
                        f"{shown}, the same as {others}: the same ticket id from two of these helpdesks "
                        "becomes ONE ticket (their events mixed into one history); give each helpdesk its "
                        f'own prefix, e.g. ticket_prefix: "{suggestion}" (sources of ONE helpdesk may '
                        "share one)",
                    )
                )

    def source(self, name: str, value: Any, path: str) -> Source | None:
        d = self.mapping(value, path, "a source: {provider, secret, mapping, options, ticket_prefix}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, _SOURCE_KEYS)
        provider = d.get("provider")
        if provider is None:
            self.err(f"{path}.provider", f"required: one of {', '.join(PROVIDERS)}")
        elif provider not in PROVIDERS:
            self.err(f"{path}.provider", f"unknown provider {provider!r} ({', '.join(PROVIDERS)})")
        ssm, arn = self.secret(d.get("secret"), f"{path}.secret")
        mapping = None
        if "mapping" in d:
            if provider == "generic":
                mapping = self.jmespath_mapping(d["mapping"], f"{path}.mapping")
            else:
                self.err(f"{path}.mapping", f"only the generic provider takes a mapping, not {provider}")
        options: Mapping[str, Any] = {}
        if "options" in d:
            options = self.mapping(d["options"], f"{path}.options", "a mapping") or {}
            self.source_timezone(options, f"{path}.options.timezone")
        prefix = d.get("ticket_prefix", "")
        if not isinstance(prefix, str) or not _TICKET_PREFIX.fullmatch(prefix):
            self.err(
                f"{path}.ticket_prefix",
                f"must be at most 32 letters, digits, '-', '_', '.' or ':' (e.g. \"hs-\"), not {prefix!r}",
            )
        if len(self.errors) != before or not isinstance(provider, str):
            return None
        return Source(
            name=name,
            provider=provider,
            secret_ssm_parameter=ssm,
            secret_arn=arn,
            mapping=mapping,
            options=dict(options),
            ticket_prefix=prefix,
        )

    def secret(self, value: Any, path: str) -> tuple[str | None, str | None]:
        shapes = "{ssm_parameter: /path} or {secrets_manager: arn-or-name}"
        if value is None:
            self.err(path, f"required: {shapes}")
            return None, None
        d = self.mapping(value, path, shapes)
        if d is None:
            return None, None
        self.check_keys(d, path, _SECRET_KEYS)
        given = [k for k in _SECRET_KEYS if k in d]
        if len(given) != 1:
            self.err(path, "needs exactly one of ssm_parameter, secrets_manager")
        for key in given:
            v = d[key]
            if not isinstance(v, str) or not v.strip() or any(c.isspace() for c in v):
                self.err(f"{path}.{key}", f"must be a parameter name or ARN without spaces, not {v!r}")
            elif key == "ssm_parameter" and not v.startswith("/"):
                self.err(
                    f"{path}.{key}", f"an SSM parameter name is a path like /slaclock/<source>, not {v!r}"
                )
            elif key == "secrets_manager" and v.startswith("/"):
                self.err(f"{path}.{key}", f"a Secrets Manager secret is an ARN or a name, not a path: {v!r}")
            elif key == "ssm_parameter" and not v.startswith("/slaclock/"):
                # template.yaml grants ssm:GetParameter on parameter/slaclock/<stack name>/* only
                self.warnings.append(
                    (
                        f"{path}.{key}",
                        f"{v!r} is outside /slaclock/: the functions' IAM policy reads "
                        "/slaclock/<stack name>/* only and cannot read it unless you widen it",
                    )
                )
        return d.get("ssm_parameter"), d.get("secrets_manager")

    def jmespath_mapping(self, value: Any, path: str) -> dict[str, str] | None:
        """Only the shape is checked (non-empty strings): the engine does not parse JMESPath."""
        d = self.mapping(value, path, "a mapping of field: JMESPath expression")
        if d is None:
            return None
        for key, expression in d.items():
            if not isinstance(key, str) or not key.strip():
                self.err(_join(path, key), "a field name must be a non-empty string")
            elif not isinstance(expression, str) or not expression.strip():
                self.err(_join(path, key), f"must be a JMESPath expression (a string), not {expression!r}")
        return dict(d)

    def reports(self, value: Any) -> tuple[ReportSubscription, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err("reports", f"must be a list of reports, not {_kind(value)}")
            return ()
        out = []
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            path = f"reports[{i}]"
            d = self.mapping(item, path, "a report: {name, period, calendar, group_by, filters, recipients}")
            if d is None:
                continue
            name = d.get("name")
            if isinstance(name, str) and name.strip():
                if name in seen:
                    self.err(f"{path}.name", f"duplicate report name {name!r} (also reports[{seen[name]}])")
                seen.setdefault(name, i)
            report = self.report(d, path)
            if report is not None:
                out.append(report)
        return tuple(out)

    def report(self, d: Mapping[str, Any], path: str) -> ReportSubscription | None:
        before = len(self.errors)
        self.check_keys(d, path, _REPORT_KEYS)
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            self.err(f"{path}.name", "required: a non-empty string")
        period = d.get("period")
        periods = ", ".join(REPORT_PERIODS)
        if period is None:
            self.err(f"{path}.period", f"required: one of {periods}")
        elif period not in REPORT_PERIODS:
            self.err(f"{path}.period", f"unknown period {period!r} ({periods})")
        calendar = self.calendar_ref(d.get("calendar"), f"{path}.calendar")
        group_by: tuple[str, ...] = ()
        if "group_by" in d:
            group_by = self.string_list(d["group_by"], f"{path}.group_by") or ()
            for i, g in enumerate(group_by):
                if g not in REPORT_GROUPS:
                    self.err(f"{path}.group_by[{i}]", f"unknown grouping {g!r} ({', '.join(REPORT_GROUPS)})")
                elif g in group_by[:i]:
                    self.err(f"{path}.group_by[{i}]", f"{g!r} is listed twice")
        filters: dict[str, tuple[str, ...]] = {}
        if "filters" in d:
            filters = self.report_filters(d["filters"], f"{path}.filters")
        recipients: tuple[str, ...] = ()
        if "recipients" in d:
            recipients = self.emails(d["recipients"], f"{path}.recipients") or ()
        if len(self.errors) != before or calendar is None:
            return None
        return ReportSubscription(
            name=str(name),
            period=str(period),
            calendar=calendar,
            group_by=group_by,
            filters=filters,
            recipients=recipients,
        )

    def report_filters(self, value: Any, path: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        d = self.mapping(value, path, f"a mapping of {', '.join(REPORT_GROUPS)} to lists of values")
        for key, values in (d or {}).items():
            if key not in REPORT_GROUPS:
                self.err(_join(path, key), f"unknown filter ({', '.join(REPORT_GROUPS)})")
                continue
            checked = self.string_list(values, f"{path}.{key}", allow_empty=False)
            if checked is None:
                continue
            known = {"level": self.level_names, "metric": {m.value for m in Metric}}.get(key)
            for i, v in enumerate(checked):
                if known is not None and v not in known and (key != "level" or self.levels_readable):
                    self.err(f"{path}.{key}[{i}]", f"unknown {key} {v!r} ({key}s: {_names(known)})")
            out[key] = checked
        return out


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
