"""The fold: a ticket's events, in (`at`, `id`) order and with repeated ids ignored, into a `TicketState`
(`replay_ticket`, or one more event at a time with `apply_event`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from typing import Any

from slaclock.engine.clocks.state import ClockRecord, OutOfOrderEvent, StatusChange, TicketState
from slaclock.engine.config import AT, Metric, metric_of
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import EVENT_ORDER, Event, EventType, format_instant, merge_into
from slaclock.engine.policy import Policy, StepKind
from slaclock.engine.rules.metrics import Moment
from slaclock.engine.walk import (
    ClockStatus,
    Micros,
    counting_intervals,
    walk,
)

# --------------------------------------------------------------------------------------------------
# The fold

# Enum members as module constants: attribute access on an Enum class is slow on Python 3.11.
_CREATED = EventType.CREATED
_AGENT_REPLIED = EventType.AGENT_REPLIED
_CUSTOMER_REPLIED = EventType.CUSTOMER_REPLIED
_UPDATED = EventType.UPDATED
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
        metric: Metric | str,
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
        "timeline", "clocks", "chosen_with", "chosen_key", "owners", "others", "agreed",
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
        self.owners: list[tuple[datetime, str, str]] | None = None  # see `track_owners`
        self.others: tuple[ClockRecord, ...] = ()  # the other agreements' clocks (`_fold_agreements`)
        self.agreed: tuple[tuple[str, str | None, tuple[str, ...]], ...] = ()  # and their levels

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
        fold.owners = None
        fold.others = ()
        fold.agreed = ()
        return fold

    def track_owners(self) -> None:
        """Also record, from the ticket's creation, who owned it: `owners` holds (instant, assignee,
        department) from that instant on (``""`` for none), one entry per change, as the status
        timeline does for statuses. Only a fold that asks keeps it (`time_splits`): it is not stored."""
        self.owners = []

    def freeze(self) -> TicketState:
        return TicketState(
            ticket_id=self.ticket_id, last_key=self.last_key, fields=self.fields,
            seen_ids=frozenset(self.seen), created_at=self.created_at, deleted_at=self.deleted_at,
            level=self.level, matched_rules=self.matched, timeline=tuple(self.timeline),
            clocks=(*(c.record() for c in self.clocks), *self.others), agreements=self.agreed,
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
        judging = bool(policy.responses)  # False: the event type alone decides what answers
        declared = policy.metrics  # empty with the classic clocks only (the fast path)
        fast = policy.fast  # False: the classic three are in `declared` too (one was redefined)
        ticket_id = self.ticket_id
        seen = self.seen
        fields = self.fields  # this fold's own dict (see __init__): updated in place
        timeline = self.timeline  # appended to in place
        owners = self.owners  # None unless tracked
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

                prior = dict(fields) if declared else fields
                relevelled: dict[int, tuple[str | None, datetime, bool]] | None = None
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
                            relevelled = self._change_level(policy, level, at, bool(declared))
                        self.level = level

                if self.deleted_at is not None:
                    continue  # nothing starts, stops or resumes after a deletion
                if self.created_at is None:
                    if kind is _CREATED:
                        self._create(at, fields, level, fast)
                        if declared:
                            self._declared(policy, event, prior, solved, was_solved, relevelled)
                        if owners is not None:
                            _note_owner(owners, at, fields)
                    elif kind is _DELETED:
                        self.deleted_at = at  # deleted before it was created: it never gets clocks
                    continue
                if kind is _DELETED:
                    self._delete(at, fields, was_solved)
                    continue
                if not fast:  # the classic clocks are declared ones: `_declared` below
                    pass
                elif kind is _AGENT_REPLIED:  # achieves the waiting response clock
                    if judging and event.reply is not None:
                        self._answer_if(policy, event.reply, True, at)
                    else:
                        self._answer(at)
                elif judging and kind is _UPDATED and event.reply is not None:  # a note, a bot...
                    self._answer_if(policy, event.reply, False, at)
                elif kind is _CUSTOMER_REPLIED:
                    if not solved and self._waiting() is None:
                        clocks = self.clocks
                        cycle = 1 + sum(1 for c in clocks if c.metric is _NR)
                        clocks.append(_Clock(_NR, cycle, at, self.level, at))
                if fast and solved is not was_solved:
                    if solved:
                        self._solve(at)
                    else:  # reopened: resolution resumes
                        for c in self.clocks:
                            if c.metric is _RES and not c.cancelled:
                                c.stopped_at = None
                if declared:
                    self._declared(policy, event, prior, solved, was_solved, relevelled)
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
                if owners is not None:
                    _note_owner(owners, at, fields)
        finally:  # the (at, id) of the last folded event
            if last_folded is not None:
                self.last_key = (last_folded.at, last_folded.id)

    def _create(self, at: datetime, fields: Mapping[str, Any], level: str | None, fast: bool = True) -> None:
        """The ticket is created at `at`: its status timeline starts, and (on the fast path, see
        `Policy.fast`) its first_response and resolution clocks."""
        status = _status_of(fields)
        solved = status in _TERMINAL_STATUSES
        self.created_at = at
        self.timeline.append(_status_change(at, status, solved))
        if not fast:
            return
        self.clocks.append(_Clock(_FR, 1, at, level, at))
        self.clocks.append(_Clock(_RES, 1, at, level, at))
        if solved:  # created already solved: stops at once
            self._solve(at)

    def _declared(
        self,
        policy: Policy,
        event: Event,
        prior: Mapping[str, Any],
        solved: bool,
        was_solved: bool,
        relevelled: Mapping[int, tuple[str | None, datetime, bool]] | None = None,
    ) -> None:
        """The declarative metrics' clocks (`Policy.metrics`) after `event`: each metric's running
        cycle is reset (ended, the next one started) or stopped, or a new cycle starts, or the last
        stopped one resumes, as its conditions say (docs/clocks.md). A cycle `event` ends keeps the
        level it ran under before `event`: the level change `event` brought (`relevelled`: the clocks
        it re-levelled, with their level, adoption instant and frozen flag before it) is for the
        cycles still running after it (a group's ownership cycle is judged by that group's level)."""
        at, kind, clocks = event.at, event.type, self.clocks
        reply = event.reply
        typed = kind is _AGENT_REPLIED
        answers = typed if reply is None else policy.answers(self.level, reply, typed)
        running = frozenset(str(c.metric) for c in clocks if c.stopped_at is None and not c.cancelled)
        moment = Moment(kind.value, at, prior, self.fields, reply, solved, was_solved, answers, running)
        for m in policy.metrics:
            last: _Clock | None = None
            for c in clocks:
                if c.metric == m.name:
                    last = c
            current = last if last is not None and last.running else None
            seen = moment
            if current is not None and reply is not None and current.level != self.level:
                # `{answers}` for a running clock: under the `responses` rules of the clock's level
                seen = replace(moment, answers=policy.answers(current.level, reply, typed))
            if current is not None and m.reset is not None and m.reset(seen):
                current.stopped_at = at
                if relevelled is not None and id(current) in relevelled:
                    current.level, current.adopted_at, current.frozen = relevelled[id(current)]
                clocks.append(_Clock(m.name, current.cycle + 1, at, self.level, at))
                continue
            if current is None:
                if (last is None or m.cycles) and m.start(moment):
                    current = _Clock(m.name, 1 if last is None else last.cycle + 1, at, self.level, at)
                    clocks.append(current)
                elif last is not None and not last.cancelled and m.resume is not None and m.resume(moment):
                    last.stopped_at = None
                    current = last
            if current is not None and m.stop is not None and m.stop(seen if current is last else moment):
                current.stopped_at = at
                if relevelled is not None and id(current) in relevelled:
                    current.level, current.adopted_at, current.frozen = relevelled[id(current)]

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
        if c.metric is not _NR and c.metric is not _RES:  # declarative clocks after the classic ones
            for i in range(last - 1, 0, -1):
                c = clocks[i]
                if c.metric is _NR:
                    return i if c.stopped_at is None and not c.cancelled else None
        return None

    def _answer(self, at: datetime) -> None:
        i = self._waiting()
        if i is not None:
            self.clocks[i].stopped_at = at

    def _answer_if(self, policy: Policy, reply: Mapping[str, Any], typed: bool, at: datetime) -> None:
        """A message with `reply` facts: it achieves the waiting response clock if the ``responses``
        rules of that clock's level say it counts (`Policy.answers`)."""
        i = self._waiting()
        if i is not None:
            c = self.clocks[i]
            if policy.answers(c.level, reply, typed):
                c.stopped_at = at

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

    def _change_level(
        self, policy: Policy, level: str | None, at: datetime, declared: bool = False
    ) -> dict[int, tuple[str | None, datetime, bool]] | None:
        """The level changes at `at`: each running clock not breached at `at` adopts it (for its whole
        history); the others (stopped, or breached under their old level) are frozen on their level.
        With `declared` metrics, returns the declarative clocks that adopted it, by ``id``, with their
        level, adoption instant and frozen flag before (see `_declared`)."""
        before: dict[int, tuple[str | None, datetime, bool]] | None = {} if declared else None
        for c in self.clocks:
            if c.frozen or c.cancelled:
                continue
            if c.stopped_at is not None or _breached_before(policy, self.timeline, c, at):
                c.frozen = True
            else:
                if before is not None and c.metric.__class__ is str:
                    before[id(c)] = (c.level, c.adopted_at, c.frozen)
                c.level = level
                c.adopted_at = at
        return before


def _note_owner(owners: list[tuple[datetime, str, str]], at: datetime, fields: Mapping[str, Any]) -> None:
    """Record the ticket's assignee and department from `at` on, if they changed (several events at
    one instant: the last one's values hold from `at`)."""
    assignee, department = fields.get("assignee"), fields.get("department")
    value = ("" if assignee is None else str(assignee), "" if department is None else str(department))
    if owners and owners[-1][1:] == value:
        return
    if owners and owners[-1][0] == at:
        owners.pop()
        if owners and owners[-1][1:] == value:
            return
    owners.append((at, *value))


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


def _fold_events(policy: Policy, events: Iterable[Event], owners: bool = False) -> _Fold:
    ordered = sorted(events, key=EVENT_ORDER)
    if not ordered:
        raise ValidationError([("events", "no event to replay")], "invalid replay")
    fold = _Fold.fresh(ordered[0].ticket_id)
    if owners:
        fold.track_owners()
    fold.fold_all(policy, ordered)
    if policy.agreements:
        _fold_agreements(policy, None, ordered, fold)
    return fold


def _fold_agreements(
    policy: Policy, before: TicketState | None, ordered: Sequence[Event], fold: _Fold
) -> None:
    """Fold each other agreement of `policy` over the same `ordered` events as `fold` (the customer
    agreement's), from its part of `before` (None: from nothing): one fold per agreement, each
    choosing its own level with its own rules. Their clocks, renamed ``<metric>@<agreement>``, and
    their (name, level, rules) go to `fold.others` and `fold.agreed`. An agreement `before` did not
    run (the configuration gained it) raises `OutOfOrderEvent`: the ticket is then replayed from its
    events, so the agreement counts its whole history."""
    held: list[tuple[str, str | None, tuple[str, ...]]] = []
    others: list[ClockRecord] = []
    if before is not None and before.last_key is None:  # nothing folded yet
        before = None
    known = {} if before is None else {name: (level, rules) for name, level, rules in before.agreements}
    for name, sub in policy.agreements.items():
        if before is None:
            part = _Fold.fresh(fold.ticket_id)
        elif name in known:
            part = _Fold(_part_of(before, name, *known[name]))
        else:
            raise OutOfOrderEvent(f"agreement {name} is new to ticket {fold.ticket_id}: replay it")
        part.fold_all(sub, ordered)
        held.append((name, part.level, part.matched))
        suffix = AT + name
        others += (
            ClockRecord(f"{c.metric}{suffix}", c.cycle, c.started_at, c.level, c.adopted_at, c.stopped_at,
                        c.frozen, c.cancelled)
            for c in part.clocks
        )  # fmt: skip
    fold.others = tuple(others)
    fold.agreed = tuple(held)


def _part_of(
    state: TicketState, agreement: str | None, level: str | None, rules: tuple[str, ...]
) -> TicketState:
    """The state of one agreement's fold within `state`: its level, rules and clocks (under their
    metric's own name); `agreement` None: the customer's (the clocks without `AT`)."""
    if agreement is None:
        return replace(state, clocks=tuple(c for c in state.clocks if AT not in c.metric), agreements=())
    suffix = AT + agreement
    return replace(
        state,
        level=level,
        matched_rules=rules,
        clocks=tuple(
            replace(c, metric=metric_of(c.metric[: -len(suffix)]))
            for c in state.clocks
            if c.metric.endswith(suffix)
        ),
        agreements=(),
    )


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
    if not policy.agreements and not state.agreements:  # the customer agreement alone (the fast path)
        fold = _Fold(state)
        fold.fold_all(policy, (event,))
        return fold.freeze()
    fold = _Fold(_part_of(state, None, state.level, state.matched_rules))
    fold.fold_all(policy, (event,))
    _fold_agreements(policy, state, (event,), fold)
    return fold.freeze()
