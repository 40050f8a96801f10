"""Which actions a ticket owes at `now` (pure): every reached step's actions, and the ``met`` step's
once a clock is met in time. Each owed action has a stable key, claimed once in the action ledger.

    for due in owed_actions(policy, view):
        due.key      # "<notice key>#action-<n>-<kind>", e.g. "T1#first_response#1#breach#action-2-slack"
        due.notice   # the step's Notice (a met step: kind MET, at the clock's stop, its due instant)
        due.action   # the validated `Action`

A met step is owed for a clock whose status is met (stopped before its due instant) when its level
lists ``met`` actions; it is a `Notice` like the others, so the ledger, the replay and the local stack
treat it the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slaclock.engine.actions import Action
from slaclock.engine.clocks import ClockStatus, Notice, Step, TicketView
from slaclock.engine.config import Config, Source
from slaclock.engine.events import format_instant
from slaclock.engine.policy import Policy, StepKind

ACTION_COLUMNS = ("ticket", "metric", "cycle", "step", "kind", "target", "instant")
"""The columns of `slaclock replay`'s ``actions.csv``: one row per action a ticket would trigger."""


@dataclass(frozen=True, slots=True)
class ActionDue:
    """One action of one owed step; `index` is its 0-based place in the step's list."""

    notice: Notice
    index: int
    action: Action

    @property
    def key(self) -> str:
        return action_key(self.notice, self.index, self.action.kind)


def action_key(notice: Notice, index: int, kind: str) -> str:
    return f"{notice.key}#action-{index + 1}-{kind}"


def step_actions(policy: Policy, notice: Notice) -> tuple[Action, ...]:
    """The actions of `notice`'s step under `policy` (none if its level or metric has no goal)."""
    goal = policy.goal(notice.level, notice.metric)
    if goal is None:
        return ()
    step = notice.step
    if step.kind is StepKind.MET:
        return goal.met
    for rung in goal.rungs:
        if rung.kind is step.kind and rung.index == step.index:
            return rung.actions
    return ()


def met_notices(policy: Policy, view: TicketView) -> tuple[Notice, ...]:
    """A met step for each clock of `view` met in time whose level has ``met`` actions."""
    out = []
    for clock in view.clocks:
        if clock.status is not ClockStatus.MET or clock.stopped_at is None or clock.due_at is None:
            continue
        goal = policy.goal(clock.level, clock.metric)
        if goal is None or not goal.met:
            continue
        step = Step(StepKind.MET, clock.stopped_at, ())
        out.append(
            Notice(view.ticket_id, clock.metric, clock.cycle, clock.level, step, clock.due_at, clock.calendar)
        )
    return tuple(out)


def met_actions_owed(policy: Policy | None, view: TicketView, done: frozenset[str]) -> bool:
    """Whether a met step of `view` has an action not in `done` (ingest then arms a check at once)."""
    if policy is None:
        return False
    return any(
        action_key(n, i, a.kind) not in done
        for n in met_notices(policy, view)
        for i, a in enumerate(step_actions(policy, n))
    )


def owed_actions(policy: Policy, view: TicketView) -> Iterator[ActionDue]:
    """Every action `view` owes: its notices' steps in order, then its met steps."""
    for notice in (*view.notices, *met_notices(policy, view)):
        for i, action in enumerate(step_actions(policy, notice)):
            if applies(policy.config, action, notice.ticket_id):
                yield ActionDue(notice, i, action)


def applies(config: Config, action: Action, ticket_id: str) -> bool:
    """False for a write-back whose ``sources`` leave out the ticket's source (it is not owed)."""
    names = action.params.get("sources") if action.is_write_back else None
    if names is None:
        return True
    source = source_of(config, ticket_id)
    return source is not None and source.name in names


def source_of(config: Config, ticket_id: str) -> Source | None:
    """The source a ticket came from: the one whose non-empty `ticket_prefix` starts its id (the
    longest), else the only source without a prefix; None when that is ambiguous or there is none."""
    sources = config.sources.values()
    prefixed = [s for s in sources if s.ticket_prefix and ticket_id.startswith(s.ticket_prefix)]
    if prefixed:
        return max(prefixed, key=lambda s: len(s.ticket_prefix))
    bare = [s for s in sources if not s.ticket_prefix]
    return bare[0] if len(bare) == 1 else None


def action_target(config: Config, due: ActionDue) -> str:
    """What an action acts on, as a replay lists it: the e-mail addresses, the webhook URL, the
    EventBridge detail type, the chat webhook's secret name, or the ticket's source (a write-back)."""
    action = due.action
    p = action.params
    if action.kind == "email":
        return " ".join(p["to"])
    if action.kind == "webhook":
        return str(p["url"])
    if action.kind == "eventbridge":
        return str(p.get("detail_type", "slaclock.notice"))
    if action.kind in ("slack", "teams"):
        return str(p["webhook_secret"])
    source = source_of(config, due.notice.ticket_id)
    return source.name if source is not None else "(no source)"


def has_actions(policy: Policy) -> bool:
    """Whether any step of `policy` has an action (a replay then writes ``actions.csv``)."""
    return any(g.met or any(r.actions for r in g.rungs) for g in policy.every_goal())


def action_rows(config: Config, policy: Policy, view: TicketView) -> Iterator[tuple[str, ...]]:
    """The ``actions.csv`` rows (`ACTION_COLUMNS`) of the actions `view` owes, in order."""
    for due in owed_actions(policy, view):
        n = due.notice
        yield (
            n.ticket_id,
            str(n.metric),
            str(n.cycle),
            n.step.key,
            due.action.kind,
            action_target(config, due),
            format_instant(n.step.at),
        )


__all__ = [
    "ACTION_COLUMNS",
    "ActionDue",
    "action_key",
    "action_rows",
    "action_target",
    "applies",
    "has_actions",
    "met_actions_owed",
    "met_notices",
    "owed_actions",
    "source_of",
    "step_actions",
]
