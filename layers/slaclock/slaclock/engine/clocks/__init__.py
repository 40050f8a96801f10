"""SLA clocks: the pure, incremental evaluation of one ticket.

The engine folds a ticket's events, in (`at`, `id`) order and with repeated ids ignored, into a
`TicketState`; `evaluate(policy, state, now)` turns the state into clocks, the notices owed at `now`,
and the next instant a check must run. `policy` is the configuration compiled once
(`slaclock.engine.policy.compile_policy(config)`).

    state = replay_ticket(policy, events)           # any order, duplicates allowed
    state = apply_event(policy, state, event)       # incremental; == replay_ticket(policy, events + [event])
    view  = evaluate(policy, state, now)            # clocks, notices owed, next_check_at
    tid, fields, outcomes = clock_outcomes(policy, events, now)   # replay + evaluate, for reports only

`TicketState.to_dict()` / `TicketState.from_dict()` round-trip through JSON (it is what the DynamoDB
adapter stores), so the webhook handler can work from the stored state plus one new event.

The fold does no calendar arithmetic except when the level changes (to decide whether a running clock
was already breached under its old level); every due, warning and escalation instant is computed in
`evaluate`, with `BusinessCalendar.elapsed` / `.add` over the clock's counting intervals (never by
stepping time). The full semantics, with timelines, are in ``docs/clocks.md``; in short:

- The ticket exists from its first `created` event. Earlier events (and every event if `created`
  never comes) only merge fields and choose the level: no clock runs before the ticket exists.
- `first_response` and `resolution` (cycle 1) start at `created`. `agent_replied` achieves the waiting
  response clock (`first_response`, else the open `next_response` cycle); with the configuration's
  ``responses`` rules, the message facts of an `agent_replied` or `updated` event decide instead
  (`Policy.answers`). A `customer_replied` while no
  response clock waits starts `next_response` cycle n+1.
- The ticket is *solved* from a `solved`/`closed` event (or an event carrying status solved/closed) until
  a `reopened`, a `customer_replied`, or an event carrying another status. Solving stops `resolution`
  (the solved interval never counts; reopening resumes the same cycle) and achieves the waiting response
  clock at the solve instant.
- `deleted` cancels every running clock; nothing starts or resumes afterwards.
- A clock counts open time of its level's calendar while the ticket's status is not in its target's
  `pause_when_status` and the ticket is not solved.
- On every event the rules choose the level (before the event's lifecycle effect, so a clock stopped by
  the event is judged under the level the event brings). When it changes at instant c, each running clock
  not breached at c (its old due >= c) adopts it for its whole history; a stopped or breached clock is
  frozen on its level forever.
"""

from slaclock.engine.clocks.fold import apply_event, replay_ticket
from slaclock.engine.clocks.state import (
    Clock,
    ClockRecord,
    Notice,
    OutOfOrderEvent,
    StatusChange,
    Step,
    TicketState,
    TicketView,
    clock_at,
    decided_at,
)
from slaclock.engine.clocks.view import (
    SPLIT_DIMENSIONS,
    ClockOutcome,
    TimeSplit,
    clock_outcomes,
    evaluate,
    time_splits,
)
from slaclock.engine.policy import StepKind
from slaclock.engine.walk import ClockStatus

__all__ = [
    "SPLIT_DIMENSIONS",
    "Clock",
    "ClockOutcome",
    "ClockRecord",
    "ClockStatus",
    "Notice",
    "OutOfOrderEvent",
    "StatusChange",
    "Step",
    "StepKind",
    "TicketState",
    "TicketView",
    "TimeSplit",
    "apply_event",
    "clock_at",
    "clock_outcomes",
    "decided_at",
    "evaluate",
    "replay_ticket",
    "time_splits",
]
