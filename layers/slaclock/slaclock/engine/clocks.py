"""SLA clocks (DESIGN §5): the pure, incremental evaluation of one ticket.

CONTRACT (implementation in progress). The engine folds a ticket's events, in (`at`, `id`) order and
with repeated ids ignored, into a `TicketState`; `evaluate(config, state, now)` turns the state into
clocks, the notices owed at `now`, and the next instant a check must run.

    state = replay_ticket(config, events)           # any order, duplicates allowed
    state = apply_event(config, state, event)       # incremental; == replay_ticket(config, events + [event])
    view  = evaluate(config, state, now)            # clocks, notices owed, next_check_at

`TicketState.to_dict()` / `TicketState.from_dict()` round-trip through JSON (it is what the DynamoDB
adapter stores), so the webhook handler can work from the stored state plus one new event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slaclock.engine.config import Config, Metric
from slaclock.engine.events import Event


class ClockStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class StepKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class Step:
    """A notification instant of a clock: its warning, its breach (= due instant), or rung `index`
    (0-based) of its level's escalation ladder. `recipients` are unresolved (`assignee`,
    `lead:<department>`, addresses); the adapters resolve them against the ticket and configuration."""

    kind: StepKind
    at: datetime
    recipients: tuple[str, ...]
    index: int = 0
    webhook: str | None = None

    @property
    def key(self) -> str:
        return f"escalation-{self.index + 1}" if self.kind is StepKind.ESCALATION else self.kind.value


@dataclass(frozen=True, slots=True)
class Clock:
    """One cycle of one metric of one ticket, as of `now`.

    `due_at`: the due instant under `level` (while paused: the instant it would be due if it resumed
    at `now`). `business_seconds`: counted business time (pauses and the solved interval excluded) up to
    `stopped_at`, or up to `now` while running. `remaining_seconds` = target - business_seconds
    (negative when overdue). `steps`: every notification instant of its level, in time order.
    """

    ticket_id: str
    metric: Metric
    cycle: int
    level: str
    calendar: str
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    status: ClockStatus
    target_seconds: float
    business_seconds: float
    remaining_seconds: float
    steps: tuple[Step, ...] = ()

    @property
    def running(self) -> bool:
        return self.status in (ClockStatus.OPEN, ClockStatus.PAUSED) or (
            self.status is ClockStatus.MISSED and self.stopped_at is None
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """A step that has been reached by `now` and is owed exactly once. `key` is stable across
    re-evaluations and deliveries: ``<ticket_id>#<metric>#<cycle>#<step.key>``."""

    ticket_id: str
    metric: Metric
    cycle: int
    level: str
    step: Step
    due_at: datetime

    @property
    def key(self) -> str:
        return f"{self.ticket_id}#{self.metric.value}#{self.cycle}#{self.step.key}"


@dataclass(frozen=True, slots=True)
class TicketView:
    """The evaluation of one ticket at `now`."""

    ticket_id: str
    now: datetime
    fields: Mapping[str, Any]
    level: str | None
    matched_rules: tuple[str, ...]
    deleted: bool
    clocks: tuple[Clock, ...]
    notices: tuple[Notice, ...]
    next_check_at: datetime | None


class TicketState:
    """Folded state of one ticket (opaque to callers; JSON round-trip via to_dict/from_dict)."""

    ticket_id: str
    last_key: tuple[datetime, str] | None

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TicketState:
        raise NotImplementedError


class OutOfOrderEvent(Exception):  # noqa: N818 - a signal, not a failure
    """`apply_event` got an event that sorts before the state's last one: replay the ticket instead."""


def replay_ticket(config: Config, events: Iterable[Event]) -> TicketState:
    raise NotImplementedError


def apply_event(config: Config, state: TicketState | None, event: Event) -> TicketState:
    raise NotImplementedError


def evaluate(config: Config, state: TicketState, now: datetime) -> TicketView:
    raise NotImplementedError
