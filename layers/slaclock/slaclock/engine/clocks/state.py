"""What the engine shows and stores of a ticket: its clocks (`Clock`, `Step`), the notices owed, the
view (`TicketView`), and the folded state (`TicketState`, which round-trips through JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.config import Metric, metric_of
from slaclock.engine.errors import ValidationError
from slaclock.engine.events import format_instant
from slaclock.engine.policy import StepKind
from slaclock.engine.walk import (
    US,
    ClockStatus,
    Micros,
    clock_status,
    instant,
    walk,
)

_MISSED = ClockStatus.MISSED
_CANCELLED = ClockStatus.CANCELLED


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
    metric: Metric | str
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
    metric: Metric | str
    cycle: int
    level: str
    step: Step
    due_at: datetime
    calendar: str = ""
    """The calendar the clock counts in (the level's, or the one its ``calendar_from`` chose for the
    ticket): e-mails show the due instant in its zone. ``""``: the level's."""

    @property
    def key(self) -> str:
        return f"{self.ticket_id}#{self.metric}#{self.cycle}#{self.step.key}"


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

    metric: Metric | str
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
    agreements: tuple[tuple[str, str | None, tuple[str, ...]], ...] = ()
    """(name, level, matched rules) of each other agreement the fold ran (`Policy.agreements`); their
    clocks are in `clocks`, named ``<metric>@<name>``."""

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
                    str(c.metric), c.cycle, format_instant(c.started_at), c.level,
                    format_instant(c.adopted_at), _iso(c.stopped_at), int(c.frozen) | (int(c.cancelled) << 1),
                ]
                for c in self.clocks
            ],
        } | _agreements_doc(self.agreements)  # fmt: skip

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
                        metric=metric_of(m), cycle=int(n), started_at=_parse_iso(start), level=lv,
                        adopted_at=_parse_iso(adopted), stopped_at=_parse_opt(stop),
                        frozen=bool(flags & 1), cancelled=bool(flags & 2),
                    )
                    for m, n, start, lv, adopted, stop, flags in d["clocks"]
                ),
                agreements=tuple(
                    (str(n), None if lv is None else str(lv), tuple(str(x) for x in r))
                    for n, lv, r in d.get("agreements", ())
                ),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValidationError([("state", str(exc))], "invalid ticket state") from exc


_STATE_VERSION = 1


def _agreements_doc(agreements: tuple[tuple[str, str | None, tuple[str, ...]], ...]) -> dict[str, Any]:
    """The ``agreements`` entry of a stored state: absent when there are none (as before agreements)."""
    return {"agreements": [[n, lv, list(r)] for n, lv, r in agreements]} if agreements else {}


class OutOfOrderEvent(Exception):  # noqa: N818 - a signal, not a failure
    """`apply_event` got an event that sorts before the state's last one: replay the ticket instead."""


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
