"""Use case: the sweeper (every 5 minutes) catches what a lost, failed or throttled schedule missed.

`sweep` asks the ticket store for tickets whose armed instant (`next_check_at`) is at or before `now`
(an index query, oldest first, never a scan) and runs the same `run_check` for each. A ticket whose
schedule fired normally has a later `next_check_at` by then and is not returned, so the sweep touches
only the stragglers: a deleted or never-created schedule, a throttled scheduler call, a check that
crashed, and claimed-but-unsent notices whose `retry_at` has come (a check keeps `next_check_at <=
retry_at`). A notice is therefore late by at most the sweep period, never lost.

Work per invocation is bounded: at most `max_tickets` tickets, and it stops early when `out_of_time()`
says the invocation is running out of time; the rest stay due for the next sweep (oldest first).
One ticket's failure is logged and counted; it does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slaclock.services.check import CheckPorts, CheckResult, run_check

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """`checked`: results of the tickets checked; `failed`: ids whose check raised; `truncated`: the
    sweep stopped (bound or time) before the index was exhausted."""

    checked: tuple[CheckResult, ...]
    failed: tuple[str, ...]
    truncated: bool


def sweep(
    ports: CheckPorts,
    now: datetime,
    *,
    max_tickets: int = 200,
    out_of_time: Callable[[], bool] = lambda: False,
) -> SweepResult:
    """Check every ticket due at `now` (its `next_check_at` <= `now`), within the bounds above."""
    checked: list[CheckResult] = []
    failed: list[str] = []
    due = ports.tickets.due_before(now)
    truncated = False
    for ticket_id in due:
        if len(checked) + len(failed) >= max_tickets or out_of_time():
            truncated = True
            break
        try:
            checked.append(run_check(ports, ticket_id, now, armed_for=None))
        except Exception:  # one broken ticket must not starve the others
            log.exception("sweep: check failed", extra={"ticket_id": ticket_id})
            failed.append(ticket_id)
    return SweepResult(checked=tuple(checked), failed=tuple(failed), truncated=truncated)
