"""The compiled form of a configuration: what the clocks engine needs, built once per `Config`.

A `Config` (`slaclock.engine.config.load_config`) is plain data. `compile_policy(config)` turns it,
once, into a `Policy`: for every level and metric with a target, the `Goal` a clock of that level and
metric is held to (its calendar, its target in microseconds, its pause statuses and its ladder of
warning, breach and escalation steps), the compiled rule walk that chooses a ticket's level, and what
that walk reads (the key under which a level decision can be reused). The fold and the evaluation
(`slaclock.engine.clocks`) take the `Policy` as an argument; nothing is cached behind the caller's back,
so a caller that evaluates many tickets under one configuration compiles it once and passes it on.

Compiling goes one way: config (data) -> rules (conditions compiled to closures) -> policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from slaclock.engine.actions import Action
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.calendar.requester import COUNTRY_FIELD, REQUESTER, ZONE_FIELD, Calendars, derived_name
from slaclock.engine.config import (
    AT,
    Config,
    EventTest,
    Metric,
    MetricAll,
    MetricAny,
    MetricDefinition,
    MetricNot,
    Responses,
    SlaLevel,
    Target,
    metric_of,
)
from slaclock.engine.config.builtin_metrics import CLASSIC
from slaclock.engine.rules import RuleInputs, Walk, compile_walk, rule_inputs
from slaclock.engine.rules.metrics import MetricTest, compile_metric_condition

_ZERO = timedelta(0)
_US = timedelta(microseconds=1)


class StepKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"
    MET = "met"
    """A clock met in time (its success step: actions only, never part of the ladder)."""


_KIND_ORDER = {StepKind.WARNING: 0, StepKind.BREACH: 1, StepKind.ESCALATION: 2, StepKind.MET: 3}


@dataclass(frozen=True, slots=True)
class Rung:
    """A step of a level's ladder for one metric, before its instant is known: it falls when the
    clock has counted `amount` of business time."""

    amount: timedelta
    kind: StepKind
    recipients: tuple[str, ...]
    index: int = 0
    webhook: str | None = None
    actions: tuple[Action, ...] = ()
    """The step's actions (`slaclock.engine.actions`), run once when the step is owed."""


@dataclass(frozen=True, slots=True)
class Goal:
    """What a clock of one level and one metric is held to.

    `rungs`: the ladder sorted by amount (ties: warning, breach, escalations in order); `amounts_us`:
    their amounts in integer microseconds; `breach`: the position of the breach (whose amount is
    `target.within`). `within_us` and `target_seconds`: `target.within` in microseconds and in seconds."""

    level: SlaLevel
    target: Target
    calendar: BusinessCalendar
    within_us: int
    target_seconds: float
    pause: frozenset[str]
    amounts_us: tuple[int, ...]
    rungs: tuple[Rung, ...]
    breach: int
    calendar_name: str = ""
    """The name of `calendar`: the level's, or the one its ``calendar_from`` chose for the ticket."""
    met: tuple[Action, ...] = ()
    """The actions of the level's ``met`` step (run once when a clock of this goal is met)."""


@dataclass(frozen=True, slots=True, eq=False)
class CompiledMetric:
    """A declarative metric (`MetricDefinition`) with its conditions compiled (`compile_policy`)."""

    name: Metric | str
    start: MetricTest
    stop: MetricTest | None
    cycles: bool
    resume: MetricTest | None
    reset: MetricTest | None


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A configuration compiled for the engine (see the module docstring).

    `goals[level][metric]`: the `Goal` of a clock of that level and metric; absent when the level has
    no target for the metric or its calendar is unknown (such a clock is not an SLA clock). A level
    with ``calendar_from`` also has ``<level> @ <calendar>`` entries (`compile_policy`). `choose`:
    the rule walk, ``choose(fields, at) -> (level, applied rule names)``. `decision`: what the walk
    reads (`rules.RuleInputs`)."""

    config: Config
    goals: Mapping[str, Mapping[Metric | str, Goal]]
    choose: Walk
    decision: RuleInputs
    responses: Mapping[str | None, Responses] = field(default_factory=dict)
    """The ``responses`` rules in force for a clock of each level (None: of no known level); empty when
    no rule decides anything, so the type of an event alone decides (see `answers`)."""
    metrics: tuple[CompiledMetric, ...] = ()
    """The declarative metrics the fold evaluates besides its fast path: those some level has a target
    for (none with the built-ins' classic three only), and the classic three when not `fast`."""
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    """The configuration's calendars and the requester calendars derived for tickets so far
    (`calendar.requester.Calendars`: built on first use, kept in this Policy)."""
    fast: bool = True
    """Whether the classic three (first_response, next_response, resolution) run on the fold's
    compiled fast path: they do unless the configuration redefines one of them, and then all three
    are in `metrics`, evaluated from their definitions like any other."""
    agreements: Mapping[str, Policy] = field(default_factory=dict)
    """Each other agreement (`Config.agreements`) compiled as a policy of its own levels and rules: the
    fold runs one fold per agreement, and names a clock of agreement ``a`` ``<metric>@a``."""

    def answers(self, level: str | None, reply: Mapping[str, object], typed: bool) -> bool:
        """Whether a message with `reply` facts achieves a response clock of `level`; `typed`: whether
        the event is an ``agent_replied`` (the answer when no rule applies). A message written by the
        customer is not judged; of the rules that apply, ``ignore`` wins over ``count``."""
        name = self.level_name(level)
        rules = self.responses.get(name) if name in self.responses else self.responses.get(None)
        if rules is None or reply.get("author") == "customer":
            return typed
        return judge(rules, reply, typed)

    def level_name(self, level: str | None) -> str | None:
        """The configuration's name of a level the walk chose: a level whose ``calendar_from`` chose
        another calendar than its default is chosen as ``<level> @ <calendar>`` (`FOLLOWS`)."""
        return level if level is None or FOLLOWS not in level else level.split(FOLLOWS, 1)[0]

    def goal(self, level: str | None, metric: Metric | str) -> Goal | None:
        """The `Goal` of a clock of `level` (None: no level) and `metric`, or None if it has none. A
        metric ``<metric>@<agreement>`` is that agreement's (`agreements`)."""
        if metric.__class__ is str and AT in metric:
            base, _, name = metric.rpartition(AT)
            sub = self.agreements.get(name)
            return None if sub is None else sub.goal(level, metric_of(base))
        by_metric = self.goals.get(level) if level is not None else None
        return None if by_metric is None else by_metric.get(metric)

    def every_goal(self) -> list[Goal]:
        """Every compiled goal, of every agreement (requester calendars derived so far included)."""
        out = [g for goals in self.goals.values() for g in goals.values()]
        for sub in self.agreements.values():
            out += sub.every_goal()
        return out


FOLLOWS = " @ "
"""Between a level's name and its calendar's in the level the rule walk chooses for a ticket whose
``calendar_from`` field picks another calendar than the level's default (``standard @ ny-office``)."""


def compile_policy(config: Config, calendars: Calendars | None = None) -> Policy:
    """Compile `config` once: goals, ladders, the rule walk and its decision key.

    A level with ``calendar_from`` has one set of goals per calendar its map names: under its own name
    for its default calendar, under ``<level> @ <calendar>`` for each other. The compiled walk chooses
    between them from the ticket's field, after the rules chose the level, and its decision key reads
    that field too; so a change of the field is a change of level for the fold, with its rule (running
    clocks not yet breached adopt the new calendar for their whole history, the others keep theirs)."""
    defs = config.metrics
    calendars = Calendars(config.calendars) if calendars is None else calendars  # an agreement: its parent's
    goals: dict[str, dict[Metric | str, Goal]] = _Goals(config, calendars)
    follows: dict[str, tuple[str, dict[str, str]]] = {}
    for name, level in config.levels.items():
        cal = config.calendars.get(level.calendar)
        if cal is None:
            continue
        goals[name] = {
            m: _goal(level, cal, t, level.calendar, defs.get(m))
            for m, t in level.targets.items()
            if t is not None
        }
        if level.calendar_from is None:
            continue
        if level.calendar_from == REQUESTER:
            follows[name] = (REQUESTER, {})
            continue
        table: dict[str, str] = {}
        for value, cal_name in level.calendar_map.items():
            other = config.calendars.get(cal_name)
            if other is None or cal_name == level.calendar:
                continue
            chosen = f"{name}{FOLLOWS}{cal_name}"
            if chosen not in goals:
                goals[chosen] = {
                    m: _goal(level, other, t, cal_name, defs.get(m))
                    for m, t in level.targets.items()
                    if t is not None
                }
            table[value] = chosen
        follows[name] = (level.calendar_from, table)
    choose, decision = compile_walk(config.rules), rule_inputs(config.rules)
    if follows:
        choose, decision = _following(choose, decision, follows, config.levels)
    base = config.responses
    responses: dict[str | None, Responses] = {None: base}
    for name, level in config.levels.items():
        responses[name] = base if level.responses is None else level.responses.over(base)
    if all(d is None for r in responses.values() for d in r.decisions()):
        responses = {}
    targeted = {str(m) for level in config.levels.values() for m in level.targets}
    todo = list(targeted)
    while todo:  # and the metrics a targeted one's `running` conditions read (their clocks decide)
        d = defs.get(todo.pop())
        for name in _running_names(d) if d is not None else ():
            if name not in targeted:
                targeted.add(name)
                todo.append(name)
    # The classic three run on the fold's compiled fast path unless the document redefines one: then
    # all three are evaluated as definitions (the shipped ones for those it did not redefine).
    fast = all(defs[name].builtin for name in CLASSIC if name in defs)
    metrics = tuple(
        _compile_metric(d)
        for name, d in defs.items()
        if (name in CLASSIC and not fast) or (name in targeted and name not in CLASSIC)
    )
    agreements = {
        name: compile_policy(replace(config, levels=a.levels, rules=a.rules, agreements={}), calendars)
        for name, a in config.agreements.items()
    }
    return Policy(
        config=config, goals=goals, choose=choose, decision=decision, responses=responses, metrics=metrics,
        calendars=calendars, agreements=agreements, fast=fast,
    )  # fmt: skip


def _running_names(d: MetricDefinition) -> set[str]:
    """The metrics that `d`'s conditions test with ``{running: <metric>}``."""
    out: set[str] = set()
    stack: list[object] = [d.start, d.stop, d.resume, d.reset]
    while stack:
        c = stack.pop()
        if isinstance(c, EventTest):
            if c.test == "running":
                out.add(str(c.value))
        elif isinstance(c, MetricAll | MetricAny):
            stack.extend(c.items)
        elif isinstance(c, MetricNot):
            stack.append(c.item)
    return out


def _compile_metric(d: MetricDefinition) -> CompiledMetric:
    def compiled(cond: object) -> MetricTest | None:
        return None if cond is None else compile_metric_condition(cond)  # type: ignore[arg-type]

    return CompiledMetric(
        metric_of(d.name), compile_metric_condition(d.start), compiled(d.stop), d.cycles, compiled(d.resume),
        compiled(d.reset),
    )  # fmt: skip


class _Goals(dict[str, dict[Metric | str, Goal]]):
    """`Policy.goals`: the compiled goals, plus those of a level following the requester's calendar
    (``<level> @ <calendar>|<zone>|<country>``), built on first lookup and kept here."""

    def __init__(self, config: Config, calendars: Calendars) -> None:
        super().__init__()
        self._config = config
        self._calendars = calendars

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key)
        if found is not None or FOLLOWS not in key:
            return found if found is not None else default
        name, cal_name = key.split(FOLLOWS, 1)
        level = self._config.levels.get(name)
        if level is None or level.calendar_from != REQUESTER:
            return default
        try:
            cal = self._calendars[cal_name]
        except KeyError:
            return default
        built = self[key] = {
            m: _goal(level, cal, t, cal_name, self._config.metrics.get(m))
            for m, t in level.targets.items()
            if t is not None
        }
        return built


def _field_text(fields: Mapping[str, Any], path: str) -> str | None:
    """The casefolded text of ticket field `path` (``custom.<name>`` reads inside ``custom``); None
    when it is not a string (such a value chooses the default calendar)."""
    if path.startswith("custom."):
        custom = fields.get("custom")
        value = custom.get(path[len("custom.") :]) if isinstance(custom, Mapping) else None
    else:
        value = fields.get(path)
    return value.casefold() if isinstance(value, str) else None


def _following(
    walk: Walk,
    inputs: RuleInputs,
    follows: Mapping[str, tuple[str, Mapping[str, str]]],
    levels: Mapping[str, SlaLevel],
) -> tuple[Walk, RuleInputs]:
    """The rule walk and its decision key with each ``calendar_from`` applied (see `compile_policy`)."""
    paths = tuple(sorted({path for path, _ in follows.values()}))
    base_key = inputs.key

    requester = {name for name, (path, _) in follows.items() if path == REQUESTER}
    paths = tuple(p for p in paths if p != REQUESTER)
    calendar_of = {name: inputs_level.calendar for name, inputs_level in levels.items()}

    def choose(fields: Mapping[str, Any], at: datetime) -> tuple[str | None, tuple[str, ...]]:
        level, applied = walk(fields, at)
        follow = follows.get(level) if level is not None else None
        if follow is not None and level in requester:
            derived = derived_name(calendar_of[level], fields)
            if derived is not None:
                level = f"{level}{FOLLOWS}{derived}"
        elif follow is not None:
            value = _field_text(fields, follow[0])
            if value is not None:
                level = follow[1].get(value, level)
        return level, applied

    def key(fields: Mapping[str, Any], at: datetime) -> tuple[Any, ...]:
        out = (base_key(fields, at), *(_field_text(fields, p) for p in paths))
        if requester:
            out += (derived_name("", fields),)
        return out

    read = {"custom" if p.startswith("custom.") else p for p in paths}
    if requester:
        read |= {ZONE_FIELD, COUNTRY_FIELD}
    return choose, RuleInputs(key=key, fields=inputs.fields | read, reads_at=inputs.reads_at)


def judge(rules: Responses, reply: Mapping[str, object], typed: bool) -> bool:
    """`rules` applied to a message's `reply` facts (see `Policy.answers`)."""
    author = reply.get("author")
    verdict: bool | None = None
    for decision, applies in (
        (rules.internal_notes, reply.get("public") is False),
        (rules.bots, author == "bot"),
        (rules.automations, author == "automation"),
        (rules.auto_replies, reply.get("auto_reply") is True),
        (rules.side_conversations, reply.get("side_conversation") is True),
    ):
        if decision is None or not applies:
            continue
        if not decision:
            return False
        verdict = True
    return typed if verdict is None else verdict


def _goal(
    level: SlaLevel,
    cal: BusinessCalendar,
    target: Target,
    calendar_name: str = "",
    definition: MetricDefinition | None = None,
) -> Goal:
    within = target.within
    warn = level.actions.get("warning", ())
    rungs: list[Rung] = []
    if target.warn_at is not None:
        rungs.append(Rung(within * target.warn_at, StepKind.WARNING, level.notify_warning, actions=warn))
    elif target.warn_before is not None:
        rungs.append(
            Rung(
                max(within - target.warn_before, _ZERO), StepKind.WARNING, level.notify_warning, actions=warn
            )
        )
    rungs.append(Rung(within, StepKind.BREACH, level.notify_breach, actions=level.actions.get("breach", ())))
    for i, rung in enumerate(level.escalations):
        if rung.at is not None:
            amount = within * rung.at
        elif rung.before_due is not None:
            amount = max(within - rung.before_due, _ZERO)
        elif rung.after_due is not None:
            amount = within + rung.after_due
        else:
            continue
        rungs.append(Rung(amount, StepKind.ESCALATION, rung.notify, i, rung.webhook, rung.actions))
    rungs.sort(key=lambda r: (r.amount, _KIND_ORDER[r.kind], r.index))
    ordered = tuple(rungs)
    return Goal(
        level=level,
        target=target,
        calendar=cal,
        within_us=within // _US,
        target_seconds=within.total_seconds(),
        pause=target.pause_when_status
        if definition is None or not definition.pause
        else target.pause_when_status | definition.pause,
        amounts_us=tuple(r.amount // _US for r in ordered),
        rungs=ordered,
        breach=next(i for i, r in enumerate(ordered) if r.kind is StepKind.BREACH),
        calendar_name=calendar_name or level.calendar,
        met=level.actions.get("met", ()),
    )


__all__ = ["FOLLOWS", "CompiledMetric", "Goal", "Policy", "Rung", "StepKind", "compile_policy", "judge"]
