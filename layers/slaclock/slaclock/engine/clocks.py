"""SLA clocks (DESIGN §5): the pure, incremental evaluation of one ticket.

The engine folds a ticket's events, in (`at`, `id`) order and with repeated ids ignored, into a
`TicketState`; `evaluate(config, state, now)` turns the state into clocks, the notices owed at `now`,
and the next instant a check must run.

    state = replay_ticket(config, events)           # any order, duplicates allowed
    state = apply_event(config, state, event)       # incremental; == replay_ticket(config, events + [event])
    view  = evaluate(config, state, now)            # clocks, notices owed, next_check_at
    tid, fields, outcomes = clock_outcomes(config, events, now)   # replay + evaluate, for reports only

`TicketState.to_dict()` / `TicketState.from_dict()` round-trip through JSON (it is what the DynamoDB
adapter stores), so the webhook handler can work from the stored state plus one new event.

The fold does no calendar arithmetic except when the level changes (to decide whether a running clock
was already breached under its old level); every due, warning and escalation instant is computed in
`evaluate`, with `BusinessCalendar.elapsed` / `.add` over the clock's counting intervals (never by
stepping time). The full semantics, with timelines, are in ``docs/clocks.md``; in short:

- The ticket exists from its first `created` event. Earlier events (and every event if `created`
  never comes) only merge fields and choose the level: no clock runs before the ticket exists.
- `first_response` and `resolution` (cycle 1) start at `created`. `agent_replied` achieves the waiting
  response clock (`first_response`, else the open `next_response` cycle). A `customer_replied` while no
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

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Any

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.config import Config, Metric, SlaLevel, Target
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, EventType, format_instant
from slaclock.engine.rules import choose_level, rule_inputs


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
    (negative when overdue). `steps`: the notification instants of its level, in time order (ties:
    warning, breach, escalations in ladder order); for a stopped clock only those before its stop and
    its breach, since later ones are never owed nor armed.
    `adopted_at`: the instant `level` took effect for this clock (its start, or the level change it
    adopted); warning and escalation steps before it are skipped, never owed.
    `as_of`: the evaluation's `now`; `counting`: the clock is running and counts business time at
    `as_of` (not paused, not solved). With no later event, its fields at any later instant follow
    from these two alone (`clock_at`): that is how a stored record stays true as time passes.
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
    adopted_at: datetime | None = None
    as_of: datetime | None = None
    counting: bool = False

    @property
    def running(self) -> bool:
        return self.status in (ClockStatus.OPEN, ClockStatus.PAUSED) or (
            self.status is ClockStatus.MISSED and self.stopped_at is None
        )


def decided_at(status: str, due_at: datetime | None, stopped_at: datetime | None) -> datetime | None:
    """The instant a clock's outcome was decided: the stop for met, the due instant for missed."""
    if status == ClockStatus.MET.value:
        return stopped_at
    if status == ClockStatus.MISSED.value:
        return due_at
    return None


def clock_at(
    status: ClockStatus,
    due_at: datetime | None,
    stopped_at: datetime | None,
    business_seconds: float,
    remaining_seconds: float,
    target_seconds: float,
    as_of: datetime | None,
    counting: bool,
    cal: BusinessCalendar,
    now: datetime,
) -> tuple[ClockStatus, datetime | None, float, float]:
    """(status, due_at, business_seconds, remaining_seconds) at `now` of a clock whose fields were
    evaluated at `as_of` (`Clock.as_of`, `Clock.counting`), with no event of its ticket after `as_of`:
    exactly what `evaluate(config, state, now)` shows for it.

    - A stopped or cancelled clock, or `now` <= `as_of` (or `as_of` unknown): the fields as given.
    - Counting: it keeps counting, ``business(now) = business(as_of) + cal.elapsed(as_of, now)``; its
      due instant is fixed; it is ``missed`` once `now` is strictly after it (at the due instant itself
      it is still ``open``).
    - Not counting (paused, or solved-and-reopened pending): its business time is frozen; a due instant
      it reached before the pause is fixed (``missed`` after it), otherwise it is where the clock would be
      due if it resumed at `now` (``cal.add(now, remaining)``), so it stays ``paused``.

    Durations are exact: the stored seconds hold whole microseconds (`timedelta(seconds=...)` gives
    them back), and `BusinessCalendar.elapsed` is additive, so no rounding creeps in.
    """
    if stopped_at is not None or status is _CANCELLED or as_of is None or now <= as_of:
        return status, due_at, business_seconds, remaining_seconds
    counted = timedelta(seconds=business_seconds)
    due = due_at
    if counting:
        counted += cal.elapsed(as_of, now)
    elif status is not _MISSED and remaining_seconds > 0:
        due = _utc(cal.add(now, timedelta(seconds=target_seconds) - counted))
    seconds = counted.total_seconds()
    if due is not None and now > due:
        status = _MISSED
    elif status is not _MISSED:
        status = _OPEN if counting else _PAUSED
    return status, due, seconds, target_seconds - seconds


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


# --------------------------------------------------------------------------------------------------
# Folded state


@dataclass(frozen=True, slots=True)
class StatusChange:
    """From `at` on (until the next change), the ticket's status is `status` and it is `solved` or not."""

    at: datetime
    status: str | None
    solved: bool


@dataclass(frozen=True, slots=True)
class ClockRecord:
    """What the fold knows of one clock cycle (no calendar arithmetic): its span, its level and since
    when (`adopted_at`), whether it is `frozen` on that level (it was stopped or breached when the level
    changed) and whether it was `cancelled` (then `stopped_at` is the deletion instant).

    `level` is None while the ticket has no level; `stopped_at` of `resolution` is the solve instant
    while solved and None again once reopened."""

    metric: Metric
    cycle: int
    started_at: datetime
    level: str | None
    adopted_at: datetime
    stopped_at: datetime | None = None
    frozen: bool = False
    cancelled: bool = False

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.cancelled


@dataclass(frozen=True, slots=True)
class TicketState:
    """Folded state of one ticket: everything `evaluate` and the next `apply_event` need, nothing more
    (no events are kept, only their ids). Opaque to callers; JSON round-trip via to_dict/from_dict.

    `last_key` is the (`at`, `id`) of the last folded event; `created_at` None means no `created` event
    was folded yet (no clock runs); `timeline` holds the status changes since creation."""

    ticket_id: str
    last_key: tuple[datetime, str] | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    seen_ids: frozenset[str] = frozenset()
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    level: str | None = None
    matched_rules: tuple[str, ...] = ()
    timeline: tuple[StatusChange, ...] = ()
    clocks: tuple[ClockRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON-safe document (instants as ISO 8601 UTC strings). Inverse: `from_dict`."""
        return {
            "v": _STATE_VERSION,
            "ticket_id": self.ticket_id,
            "last": None if self.last_key is None else [format_instant(self.last_key[0]), self.last_key[1]],
            "fields": dict(self.fields),
            "seen": sorted(self.seen_ids),
            "created": _iso(self.created_at),
            "deleted": _iso(self.deleted_at),
            "level": self.level,
            "rules": list(self.matched_rules),
            "timeline": [[format_instant(s.at), s.status, int(s.solved)] for s in self.timeline],
            "clocks": [
                [
                    c.metric.value, c.cycle, format_instant(c.started_at), c.level,
                    format_instant(c.adopted_at), _iso(c.stopped_at), int(c.frozen) | (int(c.cancelled) << 1),
                ]
                for c in self.clocks
            ],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TicketState:
        """Rebuild a state stored by `to_dict`. Raises `ValidationError` if the document is not one."""
        try:
            if d.get("v") != _STATE_VERSION:
                raise ValueError(f"unsupported state version {d.get('v')!r}")
            last = d["last"]
            level = d["level"]
            if level is not None and not isinstance(level, str):
                raise TypeError(f"level {level!r} is not a name")
            return cls(
                ticket_id=str(d["ticket_id"]),
                last_key=None if last is None else (_parse_iso(last[0]), str(last[1])),
                fields=dict(d["fields"]),
                seen_ids=frozenset(str(x) for x in d["seen"]),
                created_at=_parse_opt(d["created"]),
                deleted_at=_parse_opt(d["deleted"]),
                level=level,
                matched_rules=tuple(str(x) for x in d["rules"]),
                timeline=tuple(StatusChange(_parse_iso(at), st, bool(sv)) for at, st, sv in d["timeline"]),
                clocks=tuple(
                    ClockRecord(
                        metric=Metric(m), cycle=int(n), started_at=_parse_iso(start), level=lv,
                        adopted_at=_parse_iso(adopted), stopped_at=_parse_opt(stop),
                        frozen=bool(flags & 1), cancelled=bool(flags & 2),
                    )
                    for m, n, start, lv, adopted, stop, flags in d["clocks"]
                ),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValidationError([("state", str(exc))], "invalid ticket state") from exc


_STATE_VERSION = 1


class OutOfOrderEvent(Exception):  # noqa: N818 - a signal, not a failure
    """`apply_event` got an event that sorts before the state's last one: replay the ticket instead."""


# --------------------------------------------------------------------------------------------------
# The fold

# Enum members as module constants: attribute access on an Enum class is slow on Python 3.11.
_CREATED = EventType.CREATED
_AGENT_REPLIED = EventType.AGENT_REPLIED
_CUSTOMER_REPLIED = EventType.CUSTOMER_REPLIED
_SOLVED = EventType.SOLVED
_CLOSED = EventType.CLOSED
_REOPENED = EventType.REOPENED
_DELETED = EventType.DELETED
_FR = Metric.FIRST_RESPONSE
_NR = Metric.NEXT_RESPONSE
_RES = Metric.RESOLUTION
_WARNING = StepKind.WARNING
_BREACH = StepKind.BREACH
_ESCALATION = StepKind.ESCALATION
_OPEN = ClockStatus.OPEN
_PAUSED = ClockStatus.PAUSED
_MET = ClockStatus.MET
_MISSED = ClockStatus.MISSED
_CANCELLED = ClockStatus.CANCELLED

_TERMINAL_STATUSES = frozenset({"solved", "closed"})
_IMPLIED_STATUS = {_SOLVED: "solved", _CLOSED: "closed", _REOPENED: "open"}


def _status_change_factory() -> Callable[[datetime, str | None, bool], StatusChange]:
    """``make(at, status, solved)``: the same as ``StatusChange(...)``, faster (sets the slots directly
    instead of going through the frozen dataclass's ``object.__setattr__``)."""
    names = tuple(f.name for f in dataclass_fields(StatusChange))
    if names != ("at", "status", "solved"):  # pragma: no cover - kept in step by a test
        return StatusChange
    set_at, set_status, set_solved = (StatusChange.__dict__[n].__set__ for n in names)
    new = object.__new__

    def make(at: datetime, status: str | None, solved: bool) -> StatusChange:
        change = new(StatusChange)
        set_at(change, at)
        set_status(change, status)
        set_solved(change, solved)
        return change

    return make


_status_change = _status_change_factory()


class _Clock:
    """The fold's mutable working copy of a `ClockRecord` (same attributes): stopping, cancelling or
    re-levelling a clock updates it in place instead of building a new frozen record each time."""

    __slots__ = ("metric", "cycle", "started_at", "level", "adopted_at", "stopped_at", "frozen", "cancelled")

    def __init__(
        self,
        metric: Metric,
        cycle: int,
        started_at: datetime,
        level: str | None,
        adopted_at: datetime,
        stopped_at: datetime | None = None,
        frozen: bool = False,
        cancelled: bool = False,
    ) -> None:
        self.metric = metric
        self.cycle = cycle
        self.started_at = started_at
        self.level = level
        self.adopted_at = adopted_at
        self.stopped_at = stopped_at
        self.frozen = frozen
        self.cancelled = cancelled

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.cancelled

    def record(self) -> ClockRecord:
        return ClockRecord(
            self.metric, self.cycle, self.started_at, self.level, self.adopted_at, self.stopped_at,
            self.frozen, self.cancelled,
        )  # fmt: skip


_ClockLike = ClockRecord | _Clock


class _Fold:
    """Mutable working copy of a `TicketState` while events are folded (cheap: no copies per event)."""

    __slots__ = (
        "ticket_id", "last_key", "fields", "seen", "created_at", "deleted_at", "level", "matched",
        "timeline", "clocks", "chosen_with", "chosen_key",
    )  # fmt: skip

    def __init__(self, state: TicketState) -> None:
        self.ticket_id = state.ticket_id
        self.last_key = state.last_key
        self.fields: dict[str, Any] = dict(state.fields)
        self.seen: set[str] = set(state.seen_ids)
        self.created_at = state.created_at
        self.deleted_at = state.deleted_at
        self.level = state.level
        self.matched = state.matched_rules
        self.timeline: list[StatusChange] = list(state.timeline)
        self.clocks: list[_Clock] = [
            _Clock(
                c.metric, c.cycle, c.started_at, c.level, c.adopted_at, c.stopped_at, c.frozen, c.cancelled
            )
            for c in state.clocks
        ]
        # The configuration `level`/`matched` were chosen with during THIS fold (never a stored one).
        self.chosen_with: Config | None = None
        self.chosen_key: tuple[Any, ...] | None = None  # its `rules.RuleInputs.key` (None: not keyed)

    @classmethod
    def fresh(cls, ticket_id: str) -> _Fold:
        """The fold of a ticket with no event yet (`_Fold(TicketState(ticket_id))`, without the state)."""
        fold = cls.__new__(cls)
        fold.ticket_id = ticket_id
        fold.last_key = None
        fold.fields = {}
        fold.seen = set()
        fold.created_at = None
        fold.deleted_at = None
        fold.level = None
        fold.matched = ()
        fold.timeline = []
        fold.clocks = []
        fold.chosen_with = None
        fold.chosen_key = None
        return fold

    def freeze(self) -> TicketState:
        return TicketState(
            ticket_id=self.ticket_id, last_key=self.last_key, fields=self.fields,
            seen_ids=frozenset(self.seen), created_at=self.created_at, deleted_at=self.deleted_at,
            level=self.level, matched_rules=self.matched, timeline=tuple(self.timeline),
            clocks=tuple(c.record() for c in self.clocks),
        )  # fmt: skip

    # -- events ------------------------------------------------------------------------------------

    def fold_all(self, config: Config, ordered: Iterable[Event]) -> None:  # noqa: C901 - the hot loop
        """Fold events sorted by (`at`, `id`), all after every folded one; a repeated id is skipped and
        an event of another ticket raises `ValidationError`. (One loop, with the common steps written
        out: replays fold millions of events.)"""
        inputs = rule_inputs(config)
        # The decision can be reused without even computing its key when the event's update sets no
        # field the rules read, and neither the fields the merge may set besides (status, deleted) nor
        # the event instant are read.
        reads = None
        if not (inputs is None or inputs.reads_at or "status" in inputs.fields or "deleted" in inputs.fields):
            reads = inputs.fields
        ticket_id = self.ticket_id
        seen = self.seen
        fields = self.fields  # this fold's own dict (see __init__): updated in place
        timeline = self.timeline  # appended to in place
        last_folded: Event | None = None
        try:
            for event in ordered:
                if event.ticket_id != ticket_id:
                    raise ValidationError(
                        [("ticket_id", f"events of tickets {ticket_id!r} and {event.ticket_id!r} mixed")],
                        "invalid replay",
                    )
                event_id = event.id
                if event_id in seen:
                    continue
                seen.add(event_id)
                at = event.at
                kind = event.type
                last_folded = event
                was_solved = timeline[-1].solved if timeline else False

                # The quick test of the level decision (below) needs the key it was chosen with before the
                # fields change: a decision made in this fold is keyed lazily, when first compared.
                update = event.ticket
                same = False
                if reads is not None and self.chosen_with is config:
                    if reads.isdisjoint(update):
                        same = True
                    elif self.chosen_key is None:  # no field it reads changed since it was chosen
                        self.chosen_key = inputs.key(fields, at)  # type: ignore[union-attr]

                # Merge the event's fields (`events.merge_fields`), with the status its type implies.
                if update:
                    if "custom" in update:
                        _merge_with_custom(fields, update)
                    else:
                        fields.update(update)
                    status_set = "status" in update
                else:
                    status_set = False
                if not status_set:
                    implied = _IMPLIED_STATUS.get(kind)
                    if implied is not None:
                        fields["status"] = implied
                if kind is _DELETED and "deleted" not in update:
                    fields["deleted"] = True
                # Solved after it? The event type wins over an explicit status.
                if kind is _SOLVED or kind is _CLOSED:
                    solved = True
                elif kind is _REOPENED:
                    solved = False
                elif status_set:
                    status = fields.get("status")
                    solved = status is not None and str(status).casefold() in _TERMINAL_STATUSES
                elif kind is _CUSTOMER_REPLIED:
                    solved = False
                    if was_solved:
                        fields["status"] = "open"  # a customer writing back reopens a solved ticket
                else:
                    solved = was_solved

                # The level the event brings takes effect at its instant, before its lifecycle effect. The
                # walk is a function of the values of the fields the rules read and of the outcome of their
                # date tests at `at` (`rules.RuleInputs.key`): when that key is the one the level was chosen
                # with in this fold, under the same configuration, the walk would choose the same again.
                if same:
                    level = self.level  # no field the key reads changed: the same key
                else:
                    key: tuple[Any, ...] | None
                    if inputs is not None and self.chosen_with is config:
                        key = inputs.key(fields, at)
                        same = key == self.chosen_key
                    else:  # first decision in this fold (keyed lazily when the quick test applies)
                        key = None if inputs is None or reads is not None else inputs.key(fields, at)
                    if same:
                        level = self.level
                    else:
                        level, matched = choose_level(config, fields, at)
                        self.matched = tuple(matched)
                        self.chosen_with = config
                        self.chosen_key = key
                    if level != self.level:
                        if self.created_at is not None and self.deleted_at is None:
                            self._change_level(config, level, at)
                        self.level = level

                if self.deleted_at is not None:
                    continue  # nothing starts, stops or resumes after a deletion
                if self.created_at is None:
                    if kind is _CREATED:
                        self._create(at, fields, level)
                    elif kind is _DELETED:
                        self.deleted_at = at  # deleted before it was created: it never gets clocks
                    continue
                if kind is _AGENT_REPLIED:  # achieves the waiting response clock (`_answer`)
                    clocks = self.clocks
                    c = clocks[0]
                    if c.stopped_at is None and not c.cancelled:
                        c.stopped_at = at
                    else:
                        c = clocks[-1]
                        if c.metric is _NR and c.stopped_at is None and not c.cancelled:
                            c.stopped_at = at
                elif kind is _CUSTOMER_REPLIED:
                    if not solved and self._waiting() is None:
                        clocks = self.clocks
                        cycle = 1 + sum(1 for c in clocks if c.metric is _NR)
                        clocks.append(_Clock(_NR, cycle, at, self.level, at))
                elif kind is _DELETED:
                    self._delete(at, fields, was_solved)
                    continue
                if solved is not was_solved:
                    if solved:
                        self._solve(at)
                    else:  # reopened: resolution resumes
                        for c in self.clocks:
                            if c.metric is _RES and not c.cancelled:
                                c.stopped_at = None
                # A change of status or of the solved flag at `at` (nothing if neither changed).
                # Statuses compare ignoring case (as rule conditions and `pause_when_status` do).
                status = fields.get("status")
                if status is not None:
                    status = (status if status.__class__ is str else str(status)).casefold()
                last = timeline[-1]
                if last.status != status or last.solved is not solved:
                    if last.at == at:  # several events at one instant: see `_note_status`
                        self._note_status(at, status, solved)
                    else:
                        timeline.append(_status_change(at, status, solved))
        finally:  # the (at, id) of the last folded event
            if last_folded is not None:
                self.last_key = (last_folded.at, last_folded.id)

    def _create(self, at: datetime, fields: Mapping[str, Any], level: str | None) -> None:
        status = _status_of(fields)
        solved = status in _TERMINAL_STATUSES
        self.created_at = at
        self.timeline.append(_status_change(at, status, solved))
        self.clocks.append(_Clock(_FR, 1, at, level, at))
        self.clocks.append(_Clock(_RES, 1, at, level, at))
        if solved:  # created already solved: stops at once
            self._solve(at)

    def _delete(self, at: datetime, fields: Mapping[str, Any], was_solved: bool) -> None:
        """`deleted` cancels every running clock."""
        self.deleted_at = at
        for c in self.clocks:
            if c.stopped_at is None and not c.cancelled:
                c.stopped_at = at
                c.cancelled = True
        status = _status_of(fields)
        last = self.timeline[-1]
        if last.status != status or last.solved is not was_solved:
            self._note_status(at, status, was_solved)

    def _waiting(self) -> int | None:
        """Index of the response clock waiting for an agent, if any."""
        clocks = self.clocks
        c = clocks[0]
        if c.stopped_at is None and not c.cancelled:
            return 0
        last = len(clocks) - 1
        c = clocks[last]
        if c.metric is _NR and c.stopped_at is None and not c.cancelled:
            return last
        return None

    def _answer(self, at: datetime) -> None:
        i = self._waiting()
        if i is not None:
            self.clocks[i].stopped_at = at

    def _solve(self, at: datetime) -> None:
        self._answer(at)
        for c in self.clocks:
            if c.metric is _RES and c.stopped_at is None and not c.cancelled:
                c.stopped_at = at

    def _note_status(self, at: datetime, status: str | None, solved: bool) -> None:
        """Record that from `at` the status is `status` and the ticket `solved` or not: a change from the
        last entry of the timeline."""
        timeline = self.timeline
        if timeline[-1].at == at:  # several events at one instant: the last one's status holds from `at`
            timeline.pop()
            if timeline and timeline[-1].status == status and timeline[-1].solved == solved:
                return
        timeline.append(_status_change(at, status, solved))

    def _change_level(self, config: Config, level: str | None, at: datetime) -> None:
        """The level changes at `at`: each running clock not breached at `at` adopts it (for its whole
        history); the others (stopped, or breached under their old level) are frozen on their level."""
        for c in self.clocks:
            if c.frozen or c.cancelled:
                continue
            if c.stopped_at is not None or _breached_before(config, self.timeline, c, at):
                c.frozen = True
            else:
                c.level = level
                c.adopted_at = at


def _merge_with_custom(fields: dict[str, Any], update: Mapping[str, Any]) -> None:
    """`events.merge_fields` in place, for an update that has `custom` (merged key by key)."""
    custom = fields.get("custom")
    fields.update(update)
    value = update["custom"]
    if (value.__class__ is dict or isinstance(value, Mapping)) and (
        custom.__class__ is dict or isinstance(custom, Mapping)
    ):
        fields["custom"] = {**custom, **value}


def _status_of(fields: Mapping[str, Any]) -> str | None:
    """The ticket's status as the timeline holds it: casefolded, so statuses compare ignoring case."""
    status = fields.get("status")
    return None if status is None else str(status).casefold()


def _breached_before(config: Config, timeline: Sequence[StatusChange], c: _ClockLike, at: datetime) -> bool:
    """Whether running clock `c` was already past its due instant (under its current level) before `at`."""
    resolved = _resolve(config, c.level, c.metric)
    if resolved is None:
        return False
    _, target, cal = resolved
    within = target.within
    acc = _ZERO
    for a, b in _counting_intervals(timeline, c.started_at, at, target.pause_when_status)[0]:
        assert b is not None  # noqa: S101 - clipped at `at`
        seg = cal.elapsed(a, b)
        if acc + seg >= within:
            return _utc(cal.add(a, within - acc)) < at
        acc += seg
    return False


# --------------------------------------------------------------------------------------------------
# Public entry points


def replay_ticket(config: Config, events: Iterable[Event]) -> TicketState:
    """Fold all of one ticket's events, in any order and with duplicates: they are sorted by (`at`, `id`)
    and a repeated id is ignored (the first copy in that order is kept). Raises `ValidationError` if
    there is no event or the events belong to several tickets."""
    return _fold_events(config, events).freeze()


def _fold_events(config: Config, events: Iterable[Event]) -> _Fold:
    ordered = sorted(events, key=_EVENT_KEY)
    if not ordered:
        raise ValidationError([("events", "no event to replay")], "invalid replay")
    fold = _Fold.fresh(ordered[0].ticket_id)
    fold.fold_all(config, ordered)
    return fold


def apply_event(config: Config, state: TicketState | None, event: Event) -> TicketState:
    """Fold one more event onto `state` (None: the ticket's first event). Equal to `replay_ticket` of all
    the events when `event` sorts after every folded one. A repeated id returns `state` unchanged; an
    event that sorts before the last folded one raises `OutOfOrderEvent` (replay the ticket instead)."""
    if state is None:
        state = TicketState(ticket_id=event.ticket_id)
    elif event.ticket_id != state.ticket_id:
        raise ValidationError(
            [("ticket_id", f"event of ticket {event.ticket_id!r} applied to ticket {state.ticket_id!r}")],
            "invalid event",
        )
    if event.id in state.seen_ids:
        return state
    if state.last_key is not None and event.key < state.last_key:
        raise OutOfOrderEvent(
            f"event {event.id} at {format_instant(event.at)} sorts before {state.last_key[1]}"
        )
    fold = _Fold(state)
    fold.fold_all(config, (event,))
    return fold.freeze()


def evaluate(config: Config, state: TicketState, now: datetime) -> TicketView:
    """The ticket's clocks, the notices owed and the next check instant at `now` (an aware instant,
    normally not before the last folded event; earlier instants are allowed: the view is still of the
    whole folded history, only statuses, counted time and owed notices are taken at `now`).

    A clock whose level is None, unknown to `config`, or has no target for its metric is not an SLA
    clock: it is left out of the view (and owes nothing)."""
    clocks: list[Clock] = []
    notices: list[Notice] = []
    pending: datetime | None = None
    ticket_id = state.ticket_id
    for record in sorted(state.clocks, key=_clock_order):
        resolved = _resolve(config, record.level, record.metric)
        if resolved is None:
            continue
        level, target, cal = resolved
        clock, next_at = _evaluate_clock(ticket_id, record, level, target, cal, state.timeline, now)
        clocks.append(clock)
        adopted = record.adopted_at
        stop = record.stopped_at
        due = clock.due_at
        for step in clock.steps:
            if step.at > now:
                break
            if (stop is None or step.at < stop) and (step.kind is _BREACH or step.at >= adopted):
                assert due is not None  # noqa: S101 - a clock with steps has a due instant
                notices.append(Notice(ticket_id, record.metric, record.cycle, level.name, step, due))
        if next_at is not None and (pending is None or next_at < pending):
            pending = next_at
    notices.sort(key=_notice_order)
    return TicketView(
        ticket_id=ticket_id,
        now=now,
        fields=state.fields,
        level=state.level,
        matched_rules=state.matched_rules,
        deleted=state.deleted_at is not None,
        clocks=tuple(clocks),
        notices=tuple(notices),
        next_check_at=pending,
    )


ClockOutcome = tuple[
    Metric, int, str, str, datetime, "datetime | None", "datetime | None", ClockStatus, float, float
]
"""What a report shows of one clock: (metric, cycle, level, calendar, started_at, due_at, stopped_at,
status, business_seconds, remaining_seconds), as in `Clock`."""


def clock_outcomes(
    config: Config, events: Iterable[Event], now: datetime
) -> tuple[str, Mapping[str, Any], list[ClockOutcome]]:
    """``evaluate(config, replay_ticket(config, events), now)`` reduced to what the reports show: the
    ticket id, its fields, and for each of its clocks, in the view's order (cancelled ones included),
    the `ClockOutcome` holding the same values as the view's `Clock`. Same errors as `replay_ticket`.

    For offline replays of many tickets: it computes no warning or escalation instant, no notice and
    no next check (so one calendar `add` per clock, for its due instant), builds no state or view, and
    does its arithmetic on integer microseconds (`BusinessCalendar.elapsed_us` / `add_us`): the same
    walk as `evaluate`'s over the same intervals, exact, so the same instants and durations.
    """
    fold = _fold_events(config, events)
    records = fold.clocks
    if not records:
        return fold.ticket_id, fold.fields, []
    if len(records) > 1:
        if records[0].metric is _FR and records[1].metric is _RES:
            # The fold creates first_response and resolution, then next_response cycles in order: the
            # view's order (metric, cycle) is that with resolution moved last.
            records = [records[0], *records[2:], records[1]]
        else:  # pragma: no cover - not a fold's order
            records = sorted(records, key=_clock_order)
    # Instants as epoch µs, converted once per ticket (a clock starts and stops at event instants, most
    # of them on the status timeline).
    global _LAST_NOW  # noqa: PLW0603 - a one-entry cache: a replay evaluates every ticket at one `now`
    micros = _Micros()
    last_now, now_us = _LAST_NOW  # one immutable pair: consistent even if another thread replaces it
    if now is last_now:
        micros[now] = now_us
    else:
        now_us = micros[now]
        _LAST_NOW = (now, now_us)
    timeline = [(micros[c.at], c.status, c.solved) for c in fold.timeline]
    ats = [at for at, _, _ in timeline]
    targets = _targets(config)
    out: list[ClockOutcome] = []
    for record in records:
        resolved = targets.get(record.level, _NO_TARGETS).get(record.metric)
        if resolved is None:  # not an SLA clock (see `evaluate`)
            continue
        level_name, calendar_name, cal, within, target_seconds, pause = resolved
        started_at = record.started_at
        start = micros[started_at]
        stop_at = record.stopped_at
        stop = None if stop_at is None else micros[stop_at]
        intervals, paused_since = _counting_us(timeline, ats, start, stop, pause)
        projected_from = stop if stop is not None else paused_since
        if stop is None and paused_since is not None and now_us > paused_since:
            projected_from = now_us  # paused at the end of what is known: as if it resumed at `now`
        if projected_from is not None:
            intervals.append((projected_from, None))
        due, counted = _due_and_counted_us(
            cal, intervals, within, now_us if stop is None else stop, projected_from
        )
        if record.cancelled:
            status = _CANCELLED
        elif stop is not None:
            status = _MET if due is None or stop <= due else _MISSED
        elif due is not None and now_us > due:
            status = _MISSED
        elif _paused_at_us(timeline, now_us, start, pause):
            status = _PAUSED
        else:
            status = _OPEN
        business_seconds = counted / 1_000_000  # == timedelta(microseconds=counted).total_seconds()
        out.append(
            (
                record.metric, record.cycle, level_name, calendar_name, started_at,
                None if due is None else _EPOCH + due * _US, stop_at, status, business_seconds,
                target_seconds - business_seconds,
            )
        )  # fmt: skip
    return fold.ticket_id, fold.fields, out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


_LAST_NOW: tuple[datetime | None, int] = (None, 0)  # the last `now` of `clock_outcomes`, in epoch µs


class _Micros(dict[datetime, int]):
    """``micros[t]``: the aware instant `t` as integer microseconds since the Unix epoch, computed once."""

    def __missing__(self, t: datetime) -> int:
        x = self[t] = (t - _EPOCH) // _US
        return x


_Resolved = tuple[str, str, BusinessCalendar, int, float, frozenset[str]]
_NO_TARGETS: dict[Any, _Resolved] = {}
_TARGETS: dict[int, tuple[Config, dict[Any, dict[Any, _Resolved]]]] = {}


def _targets(config: Config) -> dict[Any, dict[Any, _Resolved]]:
    """``targets[level name][metric]``: what `_resolve` finds for a clock of that level and metric, as
    (level name, calendar name, calendar, `within` in µs, `within` in seconds, pause statuses); absent
    where `_resolve` finds nothing. Built once per configuration object and cached."""
    cached = _TARGETS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    table: dict[Any, dict[Any, _Resolved]] = {}
    for name, level in config.levels.items():
        cal = config.calendars.get(level.calendar)
        if cal is None:
            continue
        table[name] = {
            metric: (
                level.name, level.calendar, cal, target.within // _US, target.within.total_seconds(),
                target.pause_when_status,
            )
            for metric, target in level.targets.items()
            if target is not None
        }  # fmt: skip
    if len(_TARGETS) >= 64:
        _TARGETS.clear()
    _TARGETS[id(config)] = (config, table)  # holds the config: its id cannot be reused meanwhile
    return table


def _counting_us(
    timeline: Sequence[tuple[int, str | None, bool]],
    ats: Sequence[int],
    start: int,
    end: int | None,
    pause: frozenset[str],
) -> tuple[list[tuple[int, int | None]], int | None]:
    """`_counting_intervals` over a timeline of (epoch µs, status, solved) and µs instants; `ats` holds
    the timeline's instants (ascending)."""
    n = len(timeline)
    i = bisect_right(ats, start) - 1  # the last change at or before `start` (else the first)
    if i < 0:
        i = 0
    out: list[tuple[int, int | None]] = []
    paused_since: int | None = None
    while i < n:
        at, status, solved = timeline[i]
        a = at if at > start else start
        i += 1
        b = ats[i] if i < n else None
        if end is not None and (b is None or b > end):
            b = end
        if b is not None and b <= a:
            if end is not None and b >= end:
                break
            continue
        if not solved and status not in pause:
            paused_since = None
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        elif paused_since is None:
            paused_since = a
        if end is not None and b == end:
            break
    return out, (paused_since if end is None else None)


def _due_and_counted_us(
    cal: BusinessCalendar,
    intervals: Sequence[tuple[int, int | None]],
    within: int,
    limit: int,
    projected_from: int | None,
) -> tuple[int | None, int]:
    """`_walk` for the one amount `within` (the due instant), in µs, as ``(reached[0], counted)``: the
    same walk without the bookkeeping of several amounts (the due instant of a stopped clock falls in
    its projection or before its stop either way)."""
    due = None
    acc = 0
    counted = 0
    for a, b in intervals:
        if b is None:
            if a != projected_from and a < limit:
                counted += cal.elapsed_us(a, limit)
            if due is None:
                due = cal.add_us(a, within - acc)
            break
        seg = cal.elapsed_us(a, b)
        if due is None and acc + seg >= within:
            due = cal.add_us(a, within - acc)
        if a < limit:
            counted += seg if b <= limit else cal.elapsed_us(a, limit)
        acc += seg
    return due, counted


# --------------------------------------------------------------------------------------------------
# Evaluation of one clock

_ZERO = timedelta(0)
_METRIC_ORDER = {_FR: 0, _NR: 1, _RES: 2}
_KIND_ORDER = {_WARNING: 0, _BREACH: 1, _ESCALATION: 2}


_EVENT_KEY = attrgetter("at", "id")  # (at, id): the order of a ticket's events, as Event.key


def _event_key(e: Event) -> tuple[datetime, str]:
    return (e.at, e.id)


def _clock_order(c: _ClockLike) -> tuple[int, int]:
    return (_METRIC_ORDER[c.metric], c.cycle)


def _notice_order(n: Notice) -> tuple[datetime, int, int, int, int]:
    return (n.step.at, _METRIC_ORDER[n.metric], n.cycle, _KIND_ORDER[n.step.kind], n.step.index)


def _resolve(
    config: Config, level_name: str | None, metric: Metric
) -> tuple[SlaLevel, Target, BusinessCalendar] | None:
    if level_name is None:
        return None
    level = config.levels.get(level_name)
    if level is None:
        return None
    target = level.targets.get(metric)
    if target is None:
        return None
    cal = config.calendars.get(level.calendar)
    if cal is None:
        return None
    return level, target, cal


def _counting_intervals(
    timeline: Sequence[StatusChange], start: datetime, end: datetime | None, pause: frozenset[str]
) -> tuple[list[tuple[datetime, datetime | None]], datetime | None]:
    """The intervals of [start, end) (end None: unbounded) during which a clock with pause statuses
    `pause` counts: not solved and status not in `pause`. Adjacent intervals are merged; only the last
    one may be unbounded. Second item: when `end` is None and the ticket does not count at the end of
    the timeline, the instant that last non-counting stretch began (else None)."""
    # One implementation: the integer-microsecond walk the replay's fast path uses.
    ats = [(change.at - _EPOCH) // _US for change in timeline]
    rows = [(at, change.status, change.solved) for at, change in zip(ats, timeline, strict=True)]
    stop = None if end is None else (end - _EPOCH) // _US
    out, paused = _counting_us(rows, ats, (start - _EPOCH) // _US, stop, pause)
    return (
        [(_EPOCH + a * _US, None if b is None else _EPOCH + b * _US) for a, b in out],
        None if paused is None else _EPOCH + paused * _US,
    )


def counting_intervals(
    timeline: Sequence[StatusChange], start: datetime, end: datetime | None, pause: frozenset[str]
) -> list[tuple[datetime, datetime | None]]:
    """The wall-clock intervals of [start, end) (end None: unbounded) in which a clock whose target
    pauses on statuses `pause` counts, over a ticket's status `timeline` (`TicketState.timeline`): the
    ticket not solved and its status not in `pause`. Adjacent intervals are merged; only the last may be
    unbounded. The clock's business time is its calendar's `elapsed` over these, so this is what
    `evaluate` counts (one implementation)."""
    return _counting_intervals(timeline, start, end, pause)[0]


@dataclass(frozen=True, slots=True)
class _Rung:
    """A step of a level's ladder for one metric, before its instant is known: it falls when the
    clock has counted `amount` of business time."""

    amount: timedelta
    kind: StepKind
    recipients: tuple[str, ...]
    index: int = 0
    webhook: str | None = None


_PLANS: dict[tuple[int, Metric], tuple[SlaLevel, tuple[timedelta, ...], tuple[_Rung, ...], int]] = {}


def _plan(
    level: SlaLevel, metric: Metric, target: Target
) -> tuple[tuple[timedelta, ...], tuple[_Rung, ...], int]:
    """The ladder of `level` for `metric`, sorted by amount (ties: warning, breach, escalations in
    order), as (amounts, rungs, position of the breach). Cached per level object (configurations are
    immutable); the cache holds the level so its id cannot be reused while cached."""
    cached = _PLANS.get((id(level), metric))
    if cached is not None and cached[0] is level:
        return cached[1], cached[2], cached[3]
    within = target.within
    rungs: list[_Rung] = []
    if target.warn_at is not None:
        rungs.append(_Rung(within * target.warn_at, _WARNING, level.notify_warning))
    elif target.warn_before is not None:
        rungs.append(_Rung(max(within - target.warn_before, _ZERO), _WARNING, level.notify_warning))
    rungs.append(_Rung(within, _BREACH, level.notify_breach))
    for i, rung in enumerate(level.escalations):
        if rung.at is not None:
            amount = within * rung.at
        elif rung.before_due is not None:
            amount = max(within - rung.before_due, _ZERO)
        elif rung.after_due is not None:
            amount = within + rung.after_due
        else:
            continue
        rungs.append(_Rung(amount, _ESCALATION, rung.notify, i, rung.webhook))
    rungs.sort(key=lambda r: (r.amount, _KIND_ORDER[r.kind], r.index))
    ordered = tuple(rungs)
    breach = next(i for i, r in enumerate(ordered) if r.kind is _BREACH)
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[(id(level), metric)] = (level, tuple(r.amount for r in ordered), ordered, breach)
    return _PLANS[(id(level), metric)][1:]


def _evaluate_clock(
    ticket_id: str,
    record: ClockRecord,
    level: SlaLevel,
    target: Target,
    cal: BusinessCalendar,
    timeline: Sequence[StatusChange],
    now: datetime,
) -> tuple[Clock, datetime | None]:
    """The clock at `now`, and its earliest pending step instant after `now` (None if none)."""
    start = record.started_at
    stop = record.stopped_at
    intervals, projected_from = _spans(record, target, timeline, now)
    amounts, rungs, breach = _plan(level, record.metric, target)
    limit = now if stop is None else stop
    # A stopped clock's steps after its stop are never owed nor armed: only its due instant is computed.
    reached, projected, counted = _walk(
        cal, intervals, amounts, limit, projected_from, None if stop is None else breach
    )
    # Instants grow with the amount, so the steps are in time order (ties keep the ladder order).
    steps = tuple(
        Step(r.kind, at, r.recipients, r.index, r.webhook)
        for r, at in zip(rungs, reached, strict=False)
        if at is not None
    )
    due = reached[breach] if breach < len(reached) else None
    next_at: datetime | None = None
    if stop is None:
        adopted = record.adopted_at
        for i in range(min(projected, len(reached))):
            at = reached[i]
            if at is not None and at > now and (i == breach or at >= adopted):
                next_at = at
                break

    status = _clock_status(record, target, due, timeline, now)
    target_seconds = target.within.total_seconds()
    business_seconds = counted.total_seconds()
    clock = Clock(
        ticket_id=ticket_id,
        metric=record.metric,
        cycle=record.cycle,
        level=level.name,
        calendar=level.calendar,
        started_at=start,
        due_at=due,
        stopped_at=stop,
        status=status,
        target_seconds=target_seconds,
        business_seconds=business_seconds,
        remaining_seconds=target_seconds - business_seconds,
        steps=steps,
        adopted_at=record.adopted_at,
        as_of=now,
        counting=stop is None and not record.cancelled and projected_from is None and now >= start,
    )
    return clock, next_at


def _spans(
    record: _ClockLike, target: Target, timeline: Sequence[StatusChange], now: datetime
) -> tuple[list[tuple[datetime, datetime | None]], datetime | None]:
    """The intervals a clock counts in (`_counting_intervals` from its start to its stop), ending with an
    unbounded one: the last counting interval of a running clock, or the projection from its stop (a
    stopped clock: where its instants would have fallen had it kept counting) or from `now` (a clock
    paused at the end of what is known: its instants if it resumed at `now`). Second item: where the
    projection starts (None without one)."""
    stop = record.stopped_at
    intervals, paused_since = _counting_intervals(timeline, record.started_at, stop, target.pause_when_status)
    projected_from: datetime | None = None
    if stop is not None:
        projected_from = stop
    elif paused_since is not None:
        projected_from = now if now > paused_since else paused_since
    if projected_from is not None:
        intervals.append((projected_from, None))
    return intervals, projected_from


def _clock_status(
    record: _ClockLike, target: Target, due: datetime | None, timeline: Sequence[StatusChange], now: datetime
) -> ClockStatus:
    stop = record.stopped_at
    if record.cancelled:
        return _CANCELLED
    if stop is not None:
        return _MET if due is None or stop <= due else _MISSED
    if due is not None and now > due:
        return _MISSED
    if _paused_at(timeline, now, record.started_at, target.pause_when_status):
        return _PAUSED
    return _OPEN


def _walk(
    cal: BusinessCalendar,
    intervals: Sequence[tuple[datetime, datetime | None]],
    amounts: Sequence[timedelta],
    limit: datetime,
    projected_from: datetime | None,
    only_in_projection: int | None = None,
) -> tuple[list[datetime | None], int, timedelta]:
    """One walk over a clock's counting intervals: for each of the ascending `amounts` of counted
    business time, the earliest instant it is reached; the position of the first one reached in the
    projected (hypothetical) interval starting at `projected_from`, or len(amounts); and the business
    time counted before `limit` outside the projection. One `elapsed` per interval, one `add` per amount.
    With `only_in_projection` set, the projected interval yields only that amount's instant (the others
    are None)."""
    reached: list[datetime | None] = []
    first_projected = len(amounts)
    k = 0
    n = len(amounts)
    acc = _ZERO
    counted = _ZERO
    for a, b in intervals:
        if b is None:
            if a == projected_from:
                first_projected = k
                if only_in_projection is not None:
                    while k < n:
                        reached.append(
                            _utc(cal.add(a, amounts[k] - acc)) if k == only_in_projection else None
                        )
                        k += 1
                    break
            else:
                counted += cal.elapsed(a, limit) if a < limit else _ZERO
            while k < n:
                reached.append(_utc(cal.add(a, amounts[k] - acc)))
                k += 1
            break
        seg = cal.elapsed(a, b)
        while k < n and acc + seg >= amounts[k]:
            reached.append(_utc(cal.add(a, amounts[k] - acc)))
            k += 1
        if a < limit:
            counted += seg if b <= limit else cal.elapsed(a, limit)
        acc += seg
    return reached, first_projected, counted


def _paused_at(
    timeline: Sequence[StatusChange], now: datetime, start: datetime, pause: frozenset[str]
) -> bool:
    """Whether a running clock does not count at `now` because of the ticket's status."""
    if now < start:
        return False
    i = len(timeline) - 1
    while i > 0 and timeline[i].at > now:
        i -= 1
    change = timeline[i]
    return change.solved or change.status in pause


def _paused_at_us(
    timeline: Sequence[tuple[int, str | None, bool]], now: int, start: int, pause: frozenset[str]
) -> bool:
    """`_paused_at` over a timeline of (epoch µs, status, solved) and µs instants."""
    if now < start:
        return False
    i = len(timeline) - 1
    while i > 0 and timeline[i][0] > now:
        i -= 1
    _, status, solved = timeline[i]
    return solved or status in pause


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is UTC else t.astimezone(UTC)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else format_instant(t)


def _parse_iso(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not an ISO 8601 instant")
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return t.astimezone(UTC)


def _parse_opt(text: Any) -> datetime | None:
    return None if text is None else _parse_iso(text)
