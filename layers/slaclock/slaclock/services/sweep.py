"""Use case: the sweeper (every 5 minutes) catches what a lost, failed or throttled schedule missed.

`sweep` asks the ticket store for tickets whose armed instant (`next_check_at`) is at or before `now`
(an index query, oldest first, never a scan) and runs the same `run_check` for each. A ticket whose
schedule fired normally has a later `next_check_at` by then and is not returned, so the sweep touches
only the stragglers: a deleted or never-created schedule, a throttled or quota-refused scheduler
call, a check that crashed, and claimed-but-unsent notices whose `retry_at` has come (a check keeps
`next_check_at <= retry_at`). A notice is therefore late by at most the sweep period, never lost.

Everything overdue is drained: the index is read page by page (lazily) for as long as the invocation
has time (`out_of_time()`); `max_tickets` is an optional extra bound (None: none). One ticket's failure
is logged and counted; it does not stop the others.

`run_sweep` adds the fan-out for a backlog larger than one invocation drains. The due index has
`TicketStore.due_parts` partitions; each is drained by at most one invocation at a time, which holds
its lease (`SweepLeases`, one conditional write, ending by itself after `lease`):

- the scheduled sweep takes every free partition and drains them together, oldest first. If it runs
  out of time with tickets left, it keeps the leases and starts one worker per partition
  (`SweepFanOut.continue_sweep`), handing each its lease;
- a worker drains its one partition; out of time again, it renews the lease and starts its own
  continuation; done, it releases the lease. So a backlog is drained by `due_parts` invocations in
  parallel, back to back, until it is empty, and a scheduled sweep that comes meanwhile skips the
  partitions workers hold instead of checking the same tickets twice;
- a worker that dies leaves its lease to end; the next scheduled sweep takes the partition again.
  A fan-out that cannot be started releases the lease (the next scheduled sweep goes on).

Two invocations on one ticket would still be safe (the notice ledger and the versioned save), only
wasteful: the leases keep the drain rate at `due_parts` workers without that waste.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slaclock.ports import ServiceUnavailable, SweepFanOut, SweepLeases
from slaclock.services.check import CheckPorts, CheckResult, run_check

log = logging.getLogger(__name__)

DEFAULT_SWEEP_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """`checked`: results of the tickets checked; `failed`: ids whose check raised; `truncated`: the
    sweep stopped (bound or time) before the index was exhausted. `parts`: the index partitions this
    invocation drained; `fanned_out`: those handed to a worker (or a continuation) to go on;
    `busy`: partitions skipped because another invocation holds them."""

    checked: tuple[CheckResult, ...]
    failed: tuple[str, ...]
    truncated: bool
    parts: tuple[int, ...] = ()
    fanned_out: tuple[int, ...] = ()
    busy: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SweepPorts:
    check: CheckPorts
    leases: SweepLeases
    fan_out: SweepFanOut
    lease: timedelta = DEFAULT_SWEEP_LEASE
    """How long a partition's lease lasts: longer than one invocation plus the wait before an
    asynchronous continuation starts."""


def sweep(
    ports: CheckPorts,
    now: datetime,
    *,
    max_tickets: int | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    parts: Sequence[int] | None = None,
) -> SweepResult:
    """Check every ticket due at `now` (its `next_check_at` <= `now`) in `parts` of the due index
    (None: all), oldest first, until none is left, `out_of_time()` or `max_tickets`."""
    checked: list[CheckResult] = []
    failed: list[str] = []
    due = ports.tickets.due_before(now, parts=parts)
    truncated = False
    for ticket_id in due:
        if (max_tickets is not None and len(checked) + len(failed) >= max_tickets) or out_of_time():
            truncated = True
            break
        try:
            checked.append(run_check(ports, ticket_id, now, armed_for=None))
        except Exception:  # one broken ticket must not starve the others
            log.exception("sweep: check failed", extra={"ticket_id": ticket_id})
            failed.append(ticket_id)
    chosen = tuple(range(ports.tickets.due_parts)) if parts is None else tuple(parts)
    return SweepResult(checked=tuple(checked), failed=tuple(failed), truncated=truncated, parts=chosen)


def run_sweep(
    ports: SweepPorts,
    now: datetime,
    *,
    holder: str,
    part: int | None = None,
    max_tickets: int | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> SweepResult:
    """One sweeper invocation (see the module docstring): the scheduled sweep (`part` None) or a
    worker draining `part` under the lease `holder` was handed. `holder` identifies this chain of
    invocations (the scheduled sweep's request id)."""
    until = now + ports.lease
    wanted = range(ports.check.tickets.due_parts) if part is None else (part,)
    held: list[int] = []
    busy: list[int] = []
    for n in wanted:
        (held if ports.leases.acquire(n, holder=holder, now=now, until=until) else busy).append(n)
    if not held:
        log.info("sweep: every partition is being drained by another invocation", extra={"busy": busy})
        return SweepResult(checked=(), failed=(), truncated=False, busy=tuple(busy))
    result = sweep(ports.check, now, max_tickets=max_tickets, out_of_time=out_of_time, parts=held)
    fanned: list[int] = []
    for n in held:
        if result.truncated and _hand_over(ports, n, holder, now):
            fanned.append(n)
        else:
            ports.leases.release(n, holder=holder)
    return SweepResult(
        checked=result.checked,
        failed=result.failed,
        truncated=result.truncated,
        parts=tuple(held),
        fanned_out=tuple(fanned),
        busy=tuple(busy),
    )


def _hand_over(ports: SweepPorts, part: int, holder: str, now: datetime) -> bool:
    """Renew the lease of `part` and start the invocation that goes on draining it."""
    if not ports.leases.acquire(part, holder=holder, now=now, until=now + ports.lease):
        return False
    try:
        ports.fan_out.continue_sweep(part, holder)
    except ServiceUnavailable as exc:
        log.warning("sweep: could not start a worker; the next sweep goes on", extra={"error": str(exc)})
        return False
    return True
