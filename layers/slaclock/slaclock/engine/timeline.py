"""A ticket's SLA timeline: "why is this one breached?" in one JSON-ready document.

`build_timeline(policy, events, now)` replays one ticket's events and lays out what the engine decided:

- ``events``: the events in the engine's order (by instant, then id; a repeated id once), each with
  the ticket's status after it and its author (the event's own ``last_message_by``, else null).
- ``decisions``: each level decision that changed the level or the rule behind it, with the rule that
  chose it: the last matching rule that sets a level (rules are walked in order; each matching rule
  that sets a level replaces the one chosen so far, and ``stop`` ends the walk).
- ``clocks``: each SLA clock as `evaluate` shows it at `now` (metric, level, status, due and stop
  instants, counted business seconds) with its wall-clock intervals from its start to its stop (or to
  `now` while it runs), each ``counted`` (the clock counts: the ticket is not solved and its status is
  not one its target pauses on), ``paused`` (a pause status) or ``closed`` (solved, before a reopening).
  The last interval of a running clock has ``end`` null: it goes on after `now`. The calendar's business
  time over the ``counted`` intervals is exactly ``business_seconds`` (outside opening hours and on
  holidays a counted interval adds nothing).
- ``notices``: the warning, breach and escalation checks the engine would have fired by `now` (each
  with its metric, cycle and step key: the notice ledger's key, so the admin API can merge the two).
- ``actions``: each action the engine owes by `now` (`slaclock.engine.action_plan.owed_actions`, the
  plan ``slaclock replay`` writes as ``actions.csv``: the same metric, cycle, step, kind, target and
  instant), in instant order (a step's actions in their listed order), each with its 1-based
  ``index`` in its step's list: with the step key, the action ledger's key.

Events after `now` are left out (as ``slaclock replay --now`` does). All instants are ISO 8601 UTC
with ``Z``. Pure: no I/O, no clock reading; `now` is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

# What the timeline uses of the engine, all here so a change of these interfaces is adapted in one
# place: the incremental fold, the evaluation, the counting intervals, the rule walk's result, and a
# level's target (`_pause_of`).
from slaclock.engine.action_plan import action_target, owed_actions
from slaclock.engine.clocks import StatusChange, TicketState, apply_event, evaluate
from slaclock.engine.config import Config, Metric, agreement_of
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, format_instant
from slaclock.engine.policy import Policy
from slaclock.engine.rules import deciding_rule
from slaclock.engine.walk import Micros, counting_intervals, instant

Interval = tuple[datetime, "datetime | None", str]
"""(start, end or None for "still going at now", kind): kind is counted, paused or closed."""


def build_timeline(policy: Policy, events: Iterable[Event], now: datetime) -> dict[str, Any]:
    """The timeline document of one ticket's `events` under the compiled `policy` at the aware instant `now`
    (see the module docstring for its shape). Raises `ValidationError` when no event is at or before
    `now` or the events belong to several tickets."""
    config = policy.config
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    kept = [e for e in ordered if e.at <= now]
    if not kept:
        raise ValidationError([("events", "no event at or before now")], "invalid timeline")
    state: TicketState | None = None
    seen: set[str] = set()
    event_rows: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    decided: tuple[str | None, str | None] | None = None
    for event in kept:
        if event.id in seen:
            continue
        seen.add(event.id)
        state = apply_event(policy, state, event)
        status = state.fields.get("status")
        author = event.ticket.get("last_message_by")
        event_rows.append(
            {
                "at": format_instant(event.at),
                "type": event.type.value,
                "status": None if status is None else str(status),
                "author": author if isinstance(author, str) else None,
            }
        )
        decision = (state.level, deciding_rule(config, state.matched_rules))
        if decision != decided:
            decided = decision
            decisions.append({"at": format_instant(event.at), "level": decision[0], "rule": decision[1]})
    assert state is not None  # noqa: S101 - at least one event was folded
    view = evaluate(policy, state, now)
    clocks = []
    for clock in view.clocks:
        pause = _pause_of(config, clock.level, clock.metric)
        end = clock.stopped_at if clock.stopped_at is not None else now
        intervals = clock_intervals(
            state.timeline, clock.started_at, end, pause, running=clock.stopped_at is None
        )
        clocks.append(
            {
                "metric": str(clock.metric),
                "level": clock.level,
                "status": clock.status.value,
                "due_at": _iso(clock.due_at),
                "stopped_at": _iso(clock.stopped_at),
                "business_seconds": clock.business_seconds,
                "intervals": [
                    {"start": format_instant(a), "end": _iso(b), "kind": k} for a, b, k in intervals
                ],
            }
        )
    notices = [
        {
            "at": format_instant(n.step.at),
            "kind": n.step.kind.value,
            "metric": str(n.metric),
            "cycle": n.cycle,
            "step": n.step.key,
        }
        for n in view.notices
    ]
    actions = [
        {
            "at": format_instant(due.notice.step.at),
            "kind": due.action.kind,
            "metric": str(due.notice.metric),
            "cycle": due.notice.cycle,
            "step": due.notice.step.key,
            "index": due.index + 1,
            "target": action_target(config, due),
        }
        # sorted is stable: a step's actions keep their listed order
        for due in sorted(owed_actions(policy, view), key=lambda d: d.notice.step.at)
    ]
    return {
        "ticket_id": state.ticket_id,
        "now": format_instant(now),
        "events": event_rows,
        "decisions": decisions,
        "clocks": clocks,
        "notices": notices,
        "actions": actions,
    }


def clock_intervals(
    timeline: Sequence[StatusChange], start: datetime, end: datetime, pause: frozenset[str], *, running: bool
) -> list[Interval]:
    """The intervals of [start, end) of a clock over a ticket's status `timeline`: the engine's
    counting intervals as ``counted``, every gap between them split where the status changes into
    ``closed`` (solved) and ``paused``.
    With `running`, the interval that reaches `end` (= now) gets end None. Empty when end <= start."""
    if end <= start:
        return []
    micros = Micros()
    ats = [micros[change.at] for change in timeline]
    rows = [(at, change.status, change.solved) for at, change in zip(ats, timeline, strict=True)]
    end_us = micros[end]
    counted = [
        (instant(a), end if b is None else instant(min(b, end_us)))
        for a, b in counting_intervals(rows, ats, micros[start], end_us, pause)[0]
    ]
    out: list[Interval] = []
    cursor = start
    for a, b in counted:
        if a > cursor:
            out.extend(_gaps(timeline, cursor, a))
        out.append((a, b, "counted"))
        cursor = b
    if cursor < end:
        out.extend(_gaps(timeline, cursor, end))
    if running and out and out[-1][1] == end:
        out[-1] = (out[-1][0], None, out[-1][2])
    return out


def _gaps(timeline: Sequence[StatusChange], a: datetime, b: datetime) -> list[Interval]:
    """[a, b), a stretch in which the clock does not count, split by the status changes inside it."""
    out: list[Interval] = []
    for i, change in enumerate(timeline):
        nxt = timeline[i + 1].at if i + 1 < len(timeline) else None
        lo = max(change.at, a) if i else a  # the first change also covers anything before it
        hi = b if nxt is None else min(nxt, b)
        if hi <= lo:
            continue
        kind = "closed" if change.solved else "paused"
        if out and out[-1][2] == kind and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi, kind)
        else:
            out.append((lo, hi, kind))
    return out


def _iso(t: datetime | None) -> str | None:
    return None if t is None else format_instant(t)


def _pause_of(config: Config, level: str, metric: Metric | str) -> frozenset[str]:
    """The statuses `level`'s target for `metric` pauses on (a clock in the view has a target:
    `evaluate` leaves out the others)."""
    base = agreement_of(metric)[0]  # another agreement's level is in `config.agreements`
    found = config.level(level)
    target = None if found is None else found.targets.get(base)
    assert target is not None  # noqa: S101 - see above
    definition = config.metrics.get(str(base))
    return target.pause_when_status | definition.pause if definition is not None else target.pause_when_status
