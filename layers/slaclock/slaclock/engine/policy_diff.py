"""Two policies over the same tickets, in one pass: what changes between them, ticket by ticket.

    diff = PolicyDiff(old_config, new_config, now, group_by=("department",))
    for events in tickets:                   # each ticket's events, any order, repeats allowed
        changes.extend(diff.ticket(events))   # its clock cycles whose outcome differs
    diff.old.compliance, diff.new.notices    # each side's compliance tallies and notice counts

Each ticket is folded and evaluated at `now` under each policy exactly as `engine.replay` does (the
same `replay_ticket`, `evaluate` and SLA log rows), so each side's figures equal its own replay's;
events after `now` are left out. A side counts the SLA log rows (met, missed, still running), feeds
them to a `ComplianceAccumulator`, and counts the notices that policy would have sent by `now`: the
warning, breach and escalation steps reached (`TicketView.notices`: each owed once, so a check that
fired twice is still one notice). Memory is one ticket's events plus the tallies (days × groups).

`compare` runs it over an in-memory event list (the admin API's use); `slaclock diff` streams a file
by ticket into `PolicyDiff.ticket`. Pure: no disk, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from slaclock.engine.clocks import evaluate, replay_ticket
from slaclock.engine.config import Config
from slaclock.engine.events import Event
from slaclock.engine.policy import StepKind, compile_policy
from slaclock.engine.replay import group_by_ticket, latest_instant
from slaclock.engine.reports import (
    ComplianceAccumulator,
    ComplianceRow,
    Tally,
    format_instant,
    pct,
    sla_log_rows,
)
from slaclock.engine.rules import deciding_rule

NOTICE_KINDS: tuple[str, ...] = tuple(kind.value for kind in StepKind if kind is not StepKind.MET)
"""``warning``, ``breach``, ``escalation``: the kinds of notice a policy sends (a ``met`` step only
runs actions: `slaclock replay`'s actions.csv lists them)."""

CHANGE_COLUMNS: tuple[str, ...] = (
    "ticket_id", "metric", "cycle", "change", "old_status", "new_status",
    "old_level", "new_level", "old_due_at", "new_due_at", "old_rule", "new_rule",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClockChange:
    """One clock cycle whose outcome differs. `change`: ``met->missed`` (any ``A->B`` of statuses),
    ``same-status`` (level or due instant moved), ``added`` / ``removed`` (only the new / old policy
    starts that clock; its other side reads ``absent``). `*_rule`: the rule that chose the ticket's
    level under each policy (``""`` when none did)."""

    ticket_id: str
    metric: str
    cycle: int
    change: str
    old_status: str
    new_status: str
    old_level: str
    new_level: str
    old_due_at: str
    new_due_at: str
    old_rule: str
    new_rule: str

    def cells(self) -> tuple[str, ...]:
        """The `CHANGE_COLUMNS` cells."""
        return (
            self.ticket_id, self.metric, str(self.cycle), self.change, self.old_status, self.new_status,
            self.old_level, self.new_level, self.old_due_at, self.new_due_at, self.old_rule, self.new_rule,
        )  # fmt: skip

    @property
    def order(self) -> tuple[str, str, int]:
        return self.ticket_id, self.metric, self.cycle


@dataclass(slots=True)
class Side:
    """One policy's totals over the tickets seen so far."""

    compliance: ComplianceAccumulator
    tickets: int = 0
    clocks: int = 0
    met: int = 0
    missed: int = 0
    running: int = 0
    notices: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NOTICE_KINDS, 0))
    period_met: int = 0
    period_missed: int = 0

    @property
    def compliance_pct(self) -> float:
        return pct(self.met, self.met + self.missed)

    def period_figures(self) -> dict[str, int | float | None]:
        """``{"met", "missed", "compliance_pct"}`` of the cycles decided in the diff's `period` (met: at
        its stop; missed: at its due instant, even while still running); None when none was decided."""
        met, missed = self.period_met, self.period_missed
        return {
            "met": met,
            "missed": missed,
            "compliance_pct": pct(met, met + missed) if met + missed else None,
        }

    def daily(self) -> list[ComplianceRow]:
        """Compliance per day over every group (the groups' tallies added up)."""
        days: dict[date, Tally] = {}
        for (day, _), tally in self.compliance._tallies.items():
            days.setdefault(day, Tally()).merge(tally)
        whole = ComplianceAccumulator()
        for day, tally in days.items():
            whole.tally(day, ()).merge(tally)
        return list(whole.rows())


_Outcome = tuple[str, str, str]  # status, level, due instant (as the SLA log writes them)


class PolicyDiff:
    """Both policies' evaluation of each ticket at `now`, compared (see the module docstring)."""

    def __init__(
        self,
        old: Config,
        new: Config,
        now: datetime | None,
        group_by: str | Sequence[str] = (),
        period: tuple[datetime, datetime] | None = None,
    ) -> None:
        self.now = now
        self.period = period
        """[start, end): each side also counts the cycles decided in it (`Side.period_figures`)."""
        self.configs = (old, new)
        self._policies = (compile_policy(old), compile_policy(new))
        self._zones = tuple({n: c.timezone for n, c in cfg.calendars.items()} for cfg in self.configs)
        self.old = Side(ComplianceAccumulator(group_by))
        self.new = Side(ComplianceAccumulator(group_by))
        self.events = 0
        self.events_after_now = 0
        self.moved: dict[str, int] = {}
        """How many cycles changed, by `ClockChange.change`."""

    def ticket(self, events: Sequence[Event]) -> list[ClockChange]:
        """Evaluate one ticket's events under both policies; its changed cycles, by (metric, cycle).
        With no `now` (an event set without events) there is nothing to evaluate."""
        now = self.now
        if now is None:
            return []
        kept = [e for e in events if e.at <= now]
        self.events += len(kept)
        self.events_after_now += len(events) - len(kept)
        if not kept:
            return []
        outcomes: list[dict[tuple[str, int], _Outcome]] = []
        rules: list[str] = []
        for policy, zones, config, side in zip(
            self._policies, self._zones, self.configs, (self.old, self.new), strict=True
        ):
            view = evaluate(policy, replay_ticket(policy, kept), now)
            side.tickets += 1
            for notice in view.notices:
                if notice.step.kind is not StepKind.MET:
                    side.notices[notice.step.kind.value] += 1
            mine: dict[tuple[str, int], _Outcome] = {}
            for row in sla_log_rows(view, zones):
                side.clocks += 1
                if row.status == "met":
                    side.met += 1
                elif row.status == "missed":
                    side.missed += 1
                else:
                    side.running += 1
                side.compliance.add(row)
                if self.period is not None:
                    decided = (
                        row.stopped_at
                        if row.status == "met"
                        else row.due_at
                        if row.status == "missed"
                        else None
                    )
                    if decided is not None and self.period[0] <= decided < self.period[1]:
                        if row.status == "met":
                            side.period_met += 1
                        else:
                            side.period_missed += 1
                mine[(row.metric, row.cycle)] = (row.status, row.level, format_instant(row.due_at))
            outcomes.append(mine)
            rules.append(deciding_rule(config, view.matched_rules) or "")
        old, new = outcomes
        changes = []
        for key in sorted(old.keys() | new.keys()):
            a, b = old.get(key), new.get(key)
            change = _change(a, b)
            if change is None:
                continue
            self.moved[change] = self.moved.get(change, 0) + 1
            a_, b_ = a or ("absent", "", ""), b or ("absent", "", "")
            changes.append(
                ClockChange(kept[0].ticket_id, key[0], key[1], change, a_[0], b_[0], a_[1], b_[1], a_[2],
                            b_[2], rules[0], rules[1])
            )  # fmt: skip
        return changes


def _change(old: _Outcome | None, new: _Outcome | None) -> str | None:
    """How a clock cycle's outcome moved, or None if nothing that matters changed."""
    if old is None or new is None:
        return "added" if old is None else "removed"
    if old[0] != new[0]:
        return f"{old[0]}->{new[0]}"
    if old[1:] != new[1:]:
        return "same-status"
    return None


def compare(
    old: Config,
    new: Config,
    events: Iterable[Event],
    now: datetime | None = None,
    group_by: str | Sequence[str] = (),
    period: tuple[datetime, datetime] | None = None,
) -> tuple[PolicyDiff, list[ClockChange]]:
    """`PolicyDiff` over an in-memory event set (default `now`: the latest event's instant); the
    changes in (ticket id, metric, cycle) order."""
    tickets = group_by_ticket(events)
    at = now if now is not None else latest_instant(e for evs in tickets.values() for e in evs)
    diff = PolicyDiff(old, new, at, group_by, period)
    changes = [c for evs in tickets.values() for c in diff.ticket(evs)]
    return diff, sorted(changes, key=_order)


def _order(change: ClockChange) -> tuple[str, str, int]:
    return change.order


def sorted_changes(changes: Iterable[ClockChange]) -> Iterator[ClockChange]:
    """`changes` in (ticket id, metric, cycle) order."""
    return iter(sorted(changes, key=_order))


__all__ = ["CHANGE_COLUMNS", "NOTICE_KINDS", "ClockChange", "PolicyDiff", "Side", "compare", "sorted_changes"]
