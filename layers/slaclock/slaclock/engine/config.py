"""Configuration model (DESIGN §3): calendars, SLA levels, ordered rules, sources, leads, reports.

The dataclasses below are the engine's typed view of the configuration document. `load_config(doc)`
turns a parsed YAML/JSON document (a mapping) into a `Config`, or raises `ConfigError` listing EVERY
problem with its path (e.g. ``levels.urgent.targets.first_response.within: '1 hour' is not a
duration``). Nothing is half-loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from slaclock.engine.calendar import BusinessCalendar


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
    """An SLA policy. Recipients are `assignee`, literal e-mail addresses, or `lead:<department>`."""

    name: str
    calendar: str
    targets: Mapping[Metric, Target]
    notify_warning: tuple[str, ...] = ("assignee",)
    notify_breach: tuple[str, ...] = ("assignee",)
    escalations: tuple[Escalation, ...] = ()


@dataclass(frozen=True, slots=True)
class Predicate:
    """`field op value`, e.g. ``tags contains URGENT``. `value` is already type-checked for `op`
    (a compiled `re.Pattern` for `matches`, a `timedelta` for `older_than`/`newer_than`)."""

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
    """Ordered rule: when `when` matches (None matches everything), apply `set_level`; `stop` ends the walk."""

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
    """

    name: str
    provider: str
    secret_ssm_parameter: str | None = None
    secret_arn: str | None = None
    mapping: Mapping[str, str] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


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

    def calendar_of(self, level: str) -> BusinessCalendar:
        return self.calendars[self.levels[level].calendar]


def load_config(doc: Any) -> Config:
    """Validate a parsed configuration document as a whole. Raises `ConfigError` with every problem."""
    raise NotImplementedError
