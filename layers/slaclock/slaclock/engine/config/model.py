"""The configuration model: calendars, SLA levels, ordered rules, sources, leads, reports.

These frozen dataclasses are the engine's typed view of a configuration document, and plain data:
`slaclock.engine.config.load_config` builds them from a document, `slaclock.engine.policy` compiles
them for the clocks engine. The vocabulary of the document (the fields a rule may test, the operators,
providers, report periods and groups) is defined here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from slaclock.engine.actions import Action
from slaclock.engine.calendar import BusinessCalendar


class Metric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


def metric_of(name: str) -> Metric | str:
    """The `Metric` member of a built-in metric's name, else the name itself (a configured metric)."""
    try:
        return Metric(name)
    except ValueError:
        return name


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
    actions: tuple[Action, ...] = ()


RESPONSE_KINDS: tuple[str, ...] = (
    "internal_notes", "bots", "automations", "auto_replies", "side_conversations",
)  # fmt: skip
"""The kinds of message a ``responses`` rule may decide about (`Responses`)."""


@dataclass(frozen=True, slots=True)
class Responses:
    """Whether a kind of message achieves a response (`first_response`, `next_response`): True
    (``count``), False (``ignore``) or None (not decided here: the event's type decides, i.e. an
    ``agent_replied`` counts and nothing else does, which is the behaviour without rules).

    The kinds, from the event's ``reply`` facts (`slaclock.engine.events.Event`): `internal_notes`
    (``public: false``), `bots` (``author: bot``), `automations` (``author: automation``),
    `auto_replies` (``auto_reply: true``), `side_conversations` (``side_conversation: true``). When
    several apply to one message, ``ignore`` wins over ``count``. A message written by the customer
    (``author: customer``) never achieves a response."""

    internal_notes: bool | None = None
    bots: bool | None = None
    automations: bool | None = None
    auto_replies: bool | None = None
    side_conversations: bool | None = None

    def over(self, base: Responses) -> Responses:
        """These rules, with `base`'s for every kind these leave undecided (a level over the top level)."""
        return Responses(
            *(
                mine if mine is not None else theirs
                for mine, theirs in zip(self.decisions(), base.decisions(), strict=True)
            )
        )

    def decisions(self) -> tuple[bool | None, ...]:
        """The decisions in `RESPONSE_KINDS` order."""
        return (self.internal_notes, self.bots, self.automations, self.auto_replies, self.side_conversations)


@dataclass(frozen=True, slots=True)
class SlaLevel:
    """An SLA policy. Recipients are `assignee`, literal e-mail addresses, or `lead:<department>`.
    `unassigned` (addresses or `lead:<department>`) stands in for `assignee` when the ticket has no
    assignee address; empty: the lead of the ticket's department does. `notify_warning` and
    `notify_breach` are the short form of an e-mail action of those steps."""

    name: str
    calendar: str
    targets: Mapping[Metric | str, Target]
    notify_warning: tuple[str, ...] = ("assignee",)
    notify_breach: tuple[str, ...] = ("assignee",)
    escalations: tuple[Escalation, ...] = ()
    unassigned: tuple[str, ...] = ()
    responses: Responses | None = None
    """This level's ``responses`` rules (None: the configuration's); see `Responses`."""
    calendar_from: str | None = None
    """A ticket field (``custom.region``, ``customer_group``...) whose value chooses the calendar of
    the level's clocks through `calendar_map`; `calendar` is the default (no value, or one the map does
    not list). None: always `calendar`."""
    calendar_map: Mapping[str, str] = field(default_factory=dict)
    """With `calendar_from`: the field's value (casefolded) -> calendar name."""
    breach_thresholds: Mapping[str, int] = field(default_factory=dict)
    """Breach recipients told only when N or more of their clocks are breached at once (recipient ->
    N), once per crossing, with the list; they get no e-mail per breach."""
    interim_reply_answers: bool = False
    """Whether slaclock's own interim ``reply`` (its echo webhook) counts as the agent's answer."""
    actions: Mapping[str, tuple[Action, ...]] = field(default_factory=dict)
    """The actions of the named steps (`slaclock.engine.actions.STEPS`: warning, breach, met), each a
    validated list; a step not listed has none (besides its `notify` e-mail)."""


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
class EventTest:
    """An event predicate of a metric condition (`MetricDefinition`): `test` is one of
    ``event`` (the event's type is `value`), ``answers`` (the event counts as a response under the
    ``responses`` rules: `value` True or False), ``running`` (a clock of metric `value` runs),
    ``becomes``/``leaves`` (ticket field `field`, or ``solved``, takes / stops having `value`),
    ``changes`` (field `field` changes), ``fact`` (``reply.<fact>``/``solved`` tested with `op`)."""

    test: str
    field: str | None = None
    value: Any = None
    op: str = "is"


@dataclass(frozen=True, slots=True)
class MetricAll:
    items: tuple[MetricCondition, ...]


@dataclass(frozen=True, slots=True)
class MetricAny:
    items: tuple[MetricCondition, ...]


@dataclass(frozen=True, slots=True)
class MetricNot:
    item: MetricCondition


MetricCondition = Predicate | EventTest | MetricAll | MetricAny | MetricNot


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """A declarative metric (``metrics.<name>``): its clock starts on an event matching `start`
    (a new cycle each time while none runs when `cycles`), stops on one matching `stop`; `reset` ends
    the running cycle and starts the next; `resume` restarts a stopped one in the same cycle. While the
    status is in `pause` the clock does not count (added to each target's ``pause_when_status``).
    See docs/clocks.md."""

    name: str
    start: MetricCondition
    stop: MetricCondition | None = None
    cycles: bool = False
    resume: MetricCondition | None = None
    reset: MetricCondition | None = None
    pause: frozenset[str] = frozenset()
    description: str = ""
    builtin: bool = False
    """A built-in shipped as is (the document did not define this name)."""


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
    `ticket_url` (optional) is the template of a link to the ticket in the helpdesk, with the
    placeholders ``{ticket_number}`` (the id as the helpdesk sent it, prefix removed) and
    ``{ticket_id}`` (slaclock's id, prefix included); see `slaclock.engine.ticket_links`.
    """

    name: str
    provider: str
    secret_ssm_parameter: str | None = None
    secret_arn: str | None = None
    mapping: Mapping[str, str] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    ticket_prefix: str = ""
    ticket_url: str | None = None
    api_url: str | None = None
    """The helpdesk's API base URL (``https://acme.zendesk.com``), for write-back actions."""
    api_secret: str | None = None
    """The secret (SSM parameter path or Secrets Manager name/ARN) holding the API credentials."""
    api_users: tuple[str, ...] = ()
    """The ids (LiveAgent: the e-mails) of the API users slaclock writes back as: a delivery they
    authored is slaclock's own echo (`slaclock.connectors.echo`)."""


@dataclass(frozen=True, slots=True)
class ReportSubscription:
    """A scheduled report: `period` daily|weekly|monthly in `calendar`'s time zone."""

    name: str
    period: str
    calendar: str
    group_by: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    time_split: bool = False
    """Also write ``time_split.csv`` (each clock's business time by status, assignee and group)."""


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
    responses: Responses = Responses()
    """The top-level ``responses`` rules, for every level that does not decide a kind itself."""
    metrics: Mapping[str, MetricDefinition] = field(default_factory=dict)
    """Every defined metric by name: the built-ins (`slaclock.engine.config.builtin_metrics`) with the
    document's ``metrics`` over them (a definition of a built-in's name replaces it)."""
    agreements: Mapping[str, Agreement] = field(default_factory=dict)
    """The agreements besides the customer's (whose levels and rules are `levels` and `rules`), by
    name: operational-level agreements each running their own clocks beside the customer's."""

    def calendar_of(self, level: str) -> BusinessCalendar:
        return self.calendars[self.levels[level].calendar]

    def level(self, name: str | None) -> SlaLevel | None:
        """The level called `name` in any agreement (level names are unique across them), or None."""
        if name is None:
            return None
        found = self.levels.get(name)
        if found is None:
            for agreement in self.agreements.values():
                found = agreement.levels.get(name)
                if found is not None:
                    break
        return found

    def level_names(self) -> tuple[str, ...]:
        """Every level's name: the customer's, then each agreement's, in document order."""
        return (*self.levels, *(n for a in self.agreements.values() for n in a.levels))


CUSTOMER = "customer"
"""The name of the agreement the top-level ``levels`` and ``rules`` make (the customer's SLA)."""

AT = "@"
"""Between a metric's name and its agreement's in the name of a clock of another agreement than the
customer's (``resolution@billing_ola``): metric names cannot contain it."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """An agreement besides the customer's (an OLA): its own levels and the ordered rules that choose
    one of them per ticket. A ticket no rule gives a level runs no clock of this agreement."""

    name: str
    levels: Mapping[str, SlaLevel]
    rules: tuple[Rule, ...]


def agreement_of(metric: Metric | str) -> tuple[Metric | str, str]:
    """(the metric, the agreement) of a clock's metric name: ``resolution@billing_ola`` is the
    ``resolution`` of ``billing_ola``; a name without `AT` is the customer's."""
    if AT not in metric:
        return metric, CUSTOMER
    base, _, name = metric.rpartition(AT)
    return metric_of(base), name


# Vocabulary of the document. Rule matching (`slaclock.engine.rules`) reads these too.


RULE_FIELDS: tuple[str, ...] = (
    "channel", "status", "priority", "tags", "department", "assignee", "assignee_status", "requester",
    "customer_group", "created_at", "updated_at", "deleted", "referrer_url", "via_invitation",
    "last_message_by",
)  # fmt: skip
"""Ticket fields a rule may test, besides ``custom.<name>`` (which reads ``fields["custom"][name]``)."""

DATE_FIELDS = frozenset({"created_at", "updated_at"})
BOOLEAN_FIELDS = frozenset({"deleted", "via_invitation"})
LIST_FIELDS = frozenset({"tags"})
OPERATORS: tuple[str, ...] = (
    "is", "is_not", "in", "not_in", "contains", "not_contains", "starts_with", "matches", "gt", "lt",
    "exists", "older_than", "newer_than",
)  # fmt: skip
TICKET_URL_FIELDS: tuple[str, ...] = ("ticket_number", "ticket_id")
"""The placeholders of a source's `ticket_url` template."""
