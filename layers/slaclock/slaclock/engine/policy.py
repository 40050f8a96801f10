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
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from slaclock.engine.actions import Action
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.config import Config, Metric, SlaLevel, Target
from slaclock.engine.rules import RuleInputs, Walk, compile_walk, rule_inputs

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
    met: tuple[Action, ...] = ()
    """The actions of the level's ``met`` step (run once when a clock of this goal is met)."""


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A configuration compiled for the engine (see the module docstring).

    `goals[level][metric]`: the `Goal` of a clock of that level and metric; absent when the level has
    no target for the metric or its calendar is unknown (such a clock is not an SLA clock). `choose`:
    the rule walk, ``choose(fields, at) -> (level, applied rule names)``. `decision`: what the walk
    reads (`rules.RuleInputs`)."""

    config: Config
    goals: Mapping[str, Mapping[Metric, Goal]]
    choose: Walk
    decision: RuleInputs

    def goal(self, level: str | None, metric: Metric) -> Goal | None:
        """The `Goal` of a clock of `level` (None: no level) and `metric`, or None if it has none."""
        by_metric = self.goals.get(level) if level is not None else None
        return None if by_metric is None else by_metric.get(metric)


def compile_policy(config: Config) -> Policy:
    """Compile `config` once: goals, ladders, the rule walk and its decision key."""
    goals: dict[str, dict[Metric, Goal]] = {}
    for name, level in config.levels.items():
        cal = config.calendars.get(level.calendar)
        if cal is None:
            continue
        goals[name] = {m: _goal(level, cal, t) for m, t in level.targets.items() if t is not None}
    return Policy(
        config=config, goals=goals, choose=compile_walk(config.rules), decision=rule_inputs(config.rules)
    )


def _goal(level: SlaLevel, cal: BusinessCalendar, target: Target) -> Goal:
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
        pause=target.pause_when_status,
        amounts_us=tuple(r.amount // _US for r in ordered),
        rungs=ordered,
        breach=next(i for i, r in enumerate(ordered) if r.kind is StepKind.BREACH),
        met=level.actions.get("met", ()),
    )


__all__ = ["Goal", "Policy", "Rung", "StepKind", "compile_policy"]
