"""Evaluation: a folded ticket's clocks, the notices owed and the next check at `now` (`evaluate`), or
only what the reports show of its clocks (`clock_outcomes`); both from the one clock walk
(`slaclock.engine.walk.walk_clock`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from slaclock.engine.clocks.fold import (
    _BREACH,
    _ESCALATION,
    _FR,
    _NR,
    _RES,
    _WARNING,
    _ClockLike,
    _fold_events,
    _timeline_us,
)
from slaclock.engine.clocks.state import Clock, Notice, Step, TicketState, TicketView
from slaclock.engine.config import AT, Metric, metric_of
from slaclock.engine.events import Event
from slaclock.engine.policy import Policy
from slaclock.engine.walk import (
    ClockStatus,
    Micros,
    clock_intervals,
    instant,
    split_counted,
    walk_clock,
)


def evaluate(policy: Policy, state: TicketState, now: datetime) -> TicketView:
    """The ticket's clocks, the notices owed and the next check instant at `now` (an aware instant,
    normally not before the last folded event; earlier instants are allowed: the view is still of the
    whole folded history, only statuses, counted time and owed notices are taken at `now`).

    A clock whose level is None, unknown to the policy's configuration, or has no target for its metric
    is not an SLA clock: it is left out of the view (and owes nothing)."""
    clocks: list[Clock] = []
    notices: list[Notice] = []
    pending: datetime | None = None
    ticket_id = state.ticket_id
    micros = Micros()
    now_us = micros[now]
    timeline, ats = _timeline_us(state.timeline, micros)
    for record in sorted(state.clocks, key=_clock_order):
        goal = policy.goal(record.level, record.metric)
        if goal is None:
            continue
        start = record.started_at
        stop = record.stopped_at
        status, due_us, counted, reached, first_projected, projected_from = walk_clock(
            goal, micros[start], None if stop is None else micros[stop], record.cancelled, timeline, ats,
            now_us, True,
        )  # fmt: skip
        # Instants grow with the amount, so the steps are in time order (ties keep the ladder order).
        steps = tuple(
            Step(r.kind, instant(at), r.recipients, r.index, r.webhook)
            for r, at in zip(goal.rungs, reached, strict=False)
            if at is not None
        )
        due = None if due_us is None else instant(due_us)
        adopted = record.adopted_at
        if stop is None:  # the earliest pending step after `now`
            adopted_us = micros[adopted]
            breach = goal.breach
            for i in range(min(first_projected, len(reached))):
                at = reached[i]
                if at is not None and at > now_us and (i == breach or at >= adopted_us):
                    if pending is None or at < micros[pending]:
                        pending = instant(at)
                    break
        business_seconds = counted / 1_000_000  # == timedelta(microseconds=counted).total_seconds()
        level = goal.level
        clock = Clock(
            ticket_id=ticket_id,
            metric=record.metric,
            cycle=record.cycle,
            level=level.name,
            calendar=goal.calendar_name,
            started_at=start,
            due_at=due,
            stopped_at=stop,
            status=status,
            target_seconds=goal.target_seconds,
            business_seconds=business_seconds,
            remaining_seconds=goal.target_seconds - business_seconds,
            steps=steps,
            adopted_at=adopted,
            as_of=now,
            counting=stop is None and not record.cancelled and projected_from is None and now >= start,
        )
        clocks.append(clock)
        for step in steps:
            if step.at > now:
                break
            if (stop is None or step.at < stop) and (step.kind is _BREACH or step.at >= adopted):
                assert due is not None  # noqa: S101 - a clock with steps has a due instant
                notices.append(
                    Notice(ticket_id, record.metric, record.cycle, level.name, step, due, goal.calendar_name)
                )
    notices.sort(key=_notice_order)
    return TicketView(
        ticket_id=ticket_id,
        now=now,
        fields=state.fields,
        level=policy.level_name(state.level),
        matched_rules=state.matched_rules,
        deleted=state.deleted_at is not None,
        clocks=tuple(clocks),
        notices=tuple(notices),
        next_check_at=pending,
    )


ClockOutcome = tuple[
    "Metric | str", int, str, str, datetime, "datetime | None", "datetime | None", ClockStatus, float, float
]
"""What a report shows of one clock: (metric, cycle, level, calendar, started_at, due_at, stopped_at,
status, business_seconds, remaining_seconds), as in `Clock`."""


def clock_outcomes(
    policy: Policy, events: Iterable[Event], now: datetime
) -> tuple[str, Mapping[str, Any], list[ClockOutcome]]:
    """``evaluate(policy, replay_ticket(policy, events), now)`` reduced to what the reports show: the
    ticket id, its fields, and for each of its clocks, in the view's order (cancelled ones included),
    the `ClockOutcome` holding the same values as the view's `Clock`. Same errors as `replay_ticket`.

    For offline replays of many tickets: the same walk (`walk.walk_clock`) without the steps (so one
    calendar `add` per clock, for its due instant), no notice and no next check, and no state or view.
    """
    fold = _fold_events(policy, events)
    records: list[_ClockLike] = fold.clocks  # type: ignore[assignment]
    if fold.others:  # the other agreements' clocks after the customer's (`_clock_order`)
        records = sorted((*records, *fold.others), key=_clock_order)
    elif not records:
        return fold.ticket_id, fold.fields, []
    elif len(records) > 1:
        if records[0].metric is _FR and records[1].metric is _RES:
            # The fold creates first_response and resolution, then next_response cycles in order: the
            # view's order (metric, cycle) is that with resolution moved last.
            records = [records[0], *records[2:], records[1]]
        else:  # pragma: no cover - not a fold's order
            records = sorted(records, key=_clock_order)
    micros = Micros()
    now_us = micros[now]
    timeline, ats = _timeline_us(fold.timeline, micros)
    goal_of = policy.goal
    out: list[ClockOutcome] = []
    for record in records:
        goal = goal_of(record.level, record.metric)
        if goal is None:  # not an SLA clock (see `evaluate`)
            continue
        stop_at = record.stopped_at
        status, due, counted, _, _, _ = walk_clock(
            goal, micros[record.started_at], None if stop_at is None else micros[stop_at], record.cancelled,
            timeline, ats, now_us, False,
        )  # fmt: skip
        business_seconds = counted / 1_000_000  # == timedelta(microseconds=counted).total_seconds()
        level = goal.level
        out.append(
            (
                record.metric, record.cycle, level.name, goal.calendar_name, record.started_at,
                None if due is None else instant(due), stop_at, status, business_seconds,
                goal.target_seconds - business_seconds,
            )
        )  # fmt: skip
    return fold.ticket_id, fold.fields, out


SPLIT_DIMENSIONS: tuple[str, ...] = ("status", "assignee", "group")
"""What a clock's counted time is split by (`time_splits`): the ticket's status, its assignee, and its
group (the ``department`` field)."""

TimeSplit = tuple["Metric | str", int, str, str, int]
"""(metric, cycle, dimension, value, business µs): the business time one clock counted while
`dimension` (one of `SPLIT_DIMENSIONS`) had `value` (``""``: none, e.g. unassigned)."""


def time_splits(policy: Policy, events: Iterable[Event], now: datetime) -> tuple[str, list[TimeSplit]]:
    """Who burned the time: for each clock `clock_outcomes` shows (cancelled ones left out, as the SLA
    log leaves them out), the business time it counted up to its stop (or `now`) split by the
    ticket's status, assignee and group in force while it counted, in `SPLIT_DIMENSIONS` order, each
    dimension's values in ascending order. Only values with counted time appear.

    The split is of the same counting intervals the clock walk measures (`walk.clock_intervals`), cut
    where a value changed, so each dimension's values sum exactly to the clock's ``business_seconds``
    (in µs). The ticket's owners are recorded by the same fold, from its creation on (`_Fold.owners`).
    Same errors as `replay_ticket`."""
    fold = _fold_events(policy, events, owners=True)
    micros = Micros()
    now_us = micros[now]
    timeline, ats = _timeline_us(fold.timeline, micros)
    owners = fold.owners or []
    owner_ats = [micros[at] for at, _, _ in owners]
    dimensions = (
        [(at, status or "") for at, status, _ in timeline],
        [(at, assignee) for at, (_, assignee, _) in zip(owner_ats, owners, strict=True)],
        [(at, group) for at, (_, _, group) in zip(owner_ats, owners, strict=True)],
    )
    out: list[TimeSplit] = []
    every: list[_ClockLike] = [*fold.clocks, *fold.others]
    for record in sorted(every, key=_clock_order):
        goal = policy.goal(record.level, record.metric)
        if goal is None or record.cancelled:
            continue
        start = micros[record.started_at]
        stop = None if record.stopped_at is None else micros[record.stopped_at]
        intervals, _ = clock_intervals(goal, start, stop, timeline, ats, now_us)
        limit = now_us if stop is None else stop
        for name, shares in zip(SPLIT_DIMENSIONS, split_counted(goal.calendar, intervals, limit, dimensions),
                                strict=True):  # fmt: skip
            out.extend((record.metric, record.cycle, name, value, shares[value]) for value in sorted(shares))
    return fold.ticket_id, out


# --------------------------------------------------------------------------------------------------
# Evaluation of one clock


class _MetricOrder(dict[Metric | str, int]):
    """The classic clocks first, then the declarative ones (in the fold's order: definition order),
    then those of the other agreements (``<metric>@<agreement>``) in the same order of their metric."""

    def __missing__(self, metric: Metric | str) -> int:
        if AT not in metric:
            return 3
        return self[metric_of(metric.rpartition(AT)[0])] + 4  # not kept: no state between calls


_METRIC_ORDER = _MetricOrder({_FR: 0, _NR: 1, _RES: 2})
_KIND_ORDER = {_WARNING: 0, _BREACH: 1, _ESCALATION: 2}


def _clock_order(c: _ClockLike) -> tuple[int, int]:
    return (_METRIC_ORDER[c.metric], c.cycle)


def _notice_order(n: Notice) -> tuple[datetime, int, int, int, int]:
    return (n.step.at, _METRIC_ORDER[n.metric], n.cycle, _KIND_ORDER[n.step.kind], n.step.index)
