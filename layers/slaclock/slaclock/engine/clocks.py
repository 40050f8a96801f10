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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.config import Metric
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import Event, EventType, format_instant, merge_into
from slaclock.engine.policy import Policy
from slaclock.engine.policy import StepKind as StepKind  # re-exported: part of `Step`
from slaclock.engine.walk import US, Micros, clock_status, counting_intervals, instant, walk, walk_clock
from slaclock.engine.walk import ClockStatus as ClockStatus  # re-exported: part of `Clock`


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
    exactly what `evaluate(policy, state, now)` shows for it.

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
    elif status is not _MISSED and remaining_seconds > 0:  # due where it would be if it resumed at `now`
        start = Micros()[now]
        (projected,), _, _ = walk(
            cal, [(start, None)], ((timedelta(seconds=target_seconds) - counted) // US,), start, start
        )
        due = None if projected is None else instant(projected)
    seconds = counted.total_seconds()
    if status is not _MISSED:  # a running clock once missed stays missed
        status = clock_status(False, None, due, now, not counting)
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
        # The policy `level`/`matched` were chosen with during THIS fold (never a stored one).
        self.chosen_with: Policy | None = None
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

    def fold_all(self, policy: Policy, ordered: Iterable[Event]) -> None:  # noqa: C901 - the hot loop
        """Fold events sorted by (`at`, `id`), all after every folded one; a repeated id is skipped and
        an event of another ticket raises `ValidationError`. (One loop, with the common steps written
        out: replays fold millions of events.)"""
        inputs = policy.decision
        choose = policy.choose
        # The decision can be reused without even computing its key when the event's update sets no
        # field the rules read, and neither the fields the merge may set besides (status, deleted) nor
        # the event instant are read.
        reads = None
        if not (inputs.reads_at or "status" in inputs.fields or "deleted" in inputs.fields):
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
                if reads is not None and self.chosen_with is policy:
                    if reads.isdisjoint(update):
                        same = True
                    elif self.chosen_key is None:  # no field it reads changed since it was chosen
                        self.chosen_key = inputs.key(fields, at)

                # Merge the event's fields, with the status its type implies.
                if update:
                    merge_into(fields, update)
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
                # with in this fold, under the same policy, the walk would choose the same again.
                if same:
                    level = self.level  # no field the key reads changed: the same key
                else:
                    key: tuple[Any, ...] | None
                    if self.chosen_with is policy:
                        key = inputs.key(fields, at)
                        same = key == self.chosen_key
                    else:  # first decision in this fold (keyed lazily when the quick test applies)
                        key = None if reads is not None else inputs.key(fields, at)
                    if same:
                        level = self.level
                    else:
                        level, self.matched = choose(fields, at)
                        self.chosen_with = policy
                        self.chosen_key = key
                    if level != self.level:
                        if self.created_at is not None and self.deleted_at is None:
                            self._change_level(policy, level, at)
                        self.level = level

                if self.deleted_at is not None:
                    continue  # nothing starts, stops or resumes after a deletion
                if self.created_at is None:
                    if kind is _CREATED:
                        self._create(at, fields, level)
                    elif kind is _DELETED:
                        self.deleted_at = at  # deleted before it was created: it never gets clocks
                    continue
                if kind is _AGENT_REPLIED:  # achieves the waiting response clock
                    self._answer(at)
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

    def _change_level(self, policy: Policy, level: str | None, at: datetime) -> None:
        """The level changes at `at`: each running clock not breached at `at` adopts it (for its whole
        history); the others (stopped, or breached under their old level) are frozen on their level."""
        for c in self.clocks:
            if c.frozen or c.cancelled:
                continue
            if c.stopped_at is not None or _breached_before(policy, self.timeline, c, at):
                c.frozen = True
            else:
                c.level = level
                c.adopted_at = at


def _status_of(fields: Mapping[str, Any]) -> str | None:
    """The ticket's status as the timeline holds it: casefolded, so statuses compare ignoring case."""
    status = fields.get("status")
    return None if status is None else str(status).casefold()


def _breached_before(policy: Policy, timeline: Sequence[StatusChange], c: _ClockLike, at: datetime) -> bool:
    """Whether running clock `c` was already past its due instant (under its current level) before `at`."""
    goal = policy.goal(c.level, c.metric)
    if goal is None:
        return False
    micros = Micros()
    rows, ats = _timeline_us(timeline, micros)
    end = micros[at]
    intervals, _ = counting_intervals(rows, ats, micros[c.started_at], end, goal.pause)
    reached, _, _ = walk(goal.calendar, intervals, (goal.within_us,), end)
    return bool(reached) and reached[0] is not None and reached[0] < end


def _timeline_us(
    timeline: Sequence[StatusChange], micros: Micros
) -> tuple[list[tuple[int, str | None, bool]], list[int]]:
    """The status timeline as `walk.Timeline` rows, and its instants (epoch µs)."""
    ats = [micros[change.at] for change in timeline]
    return [(at, change.status, change.solved) for at, change in zip(ats, timeline, strict=True)], ats


# --------------------------------------------------------------------------------------------------
# Public entry points


def replay_ticket(policy: Policy, events: Iterable[Event]) -> TicketState:
    """Fold all of one ticket's events, in any order and with duplicates: they are sorted by (`at`, `id`)
    and a repeated id is ignored (the first copy in that order is kept). Raises `ValidationError` if
    there is no event or the events belong to several tickets."""
    return _fold_events(policy, events).freeze()


def _fold_events(policy: Policy, events: Iterable[Event]) -> _Fold:
    ordered = sorted(events, key=_EVENT_KEY)
    if not ordered:
        raise ValidationError([("events", "no event to replay")], "invalid replay")
    fold = _Fold.fresh(ordered[0].ticket_id)
    fold.fold_all(policy, ordered)
    return fold


def apply_event(policy: Policy, state: TicketState | None, event: Event) -> TicketState:
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
    fold.fold_all(policy, (event,))
    return fold.freeze()


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
            calendar=level.calendar,
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
                notices.append(Notice(ticket_id, record.metric, record.cycle, level.name, step, due))
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
    policy: Policy, events: Iterable[Event], now: datetime
) -> tuple[str, Mapping[str, Any], list[ClockOutcome]]:
    """``evaluate(policy, replay_ticket(policy, events), now)`` reduced to what the reports show: the
    ticket id, its fields, and for each of its clocks, in the view's order (cancelled ones included),
    the `ClockOutcome` holding the same values as the view's `Clock`. Same errors as `replay_ticket`.

    For offline replays of many tickets: the same walk (`walk.walk_clock`) without the steps (so one
    calendar `add` per clock, for its due instant), no notice and no next check, and no state or view.
    """
    fold = _fold_events(policy, events)
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
                record.metric, record.cycle, level.name, level.calendar, record.started_at,
                None if due is None else instant(due), stop_at, status, business_seconds,
                goal.target_seconds - business_seconds,
            )
        )  # fmt: skip
    return fold.ticket_id, fold.fields, out


# --------------------------------------------------------------------------------------------------
# Evaluation of one clock

_METRIC_ORDER = {_FR: 0, _NR: 1, _RES: 2}
_KIND_ORDER = {_WARNING: 0, _BREACH: 1, _ESCALATION: 2}


_EVENT_KEY = attrgetter("at", "id")  # (at, id): the order of a ticket's events, as Event.key


def _clock_order(c: _ClockLike) -> tuple[int, int]:
    return (_METRIC_ORDER[c.metric], c.cycle)


def _notice_order(n: Notice) -> tuple[datetime, int, int, int, int]:
    return (n.step.at, _METRIC_ORDER[n.metric], n.cycle, _KIND_ORDER[n.step.kind], n.step.index)


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
