"""Use case (part of a check): Hootsuite's threshold notice. A breach recipient with
``notify_when_breached_at_least: N`` gets no e-mail per breach; it is told once when N or more of its
clocks are breached at once, with the list, and again only after the count fell below N and crossed
it anew.

For each owed breach of a level with thresholds, not yet counted (its key ``<notice>#threshold`` is
not in the ticket's cache), each such recipient's addresses (resolved against the ticket as any
recipient) get the clock added to their `BreachTally`. The tally's clocks are re-read (each ticket
evaluated at `now`): those no longer breached and open (answered, solved, deleted) are removed. With N
or more left, the one check that wins `cross` e-mails the list; with fewer, the tally is `reset`. The
count only grows when a breach arrives, so checking at each breach sees every crossing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slaclock.engine.clocks import ClockStatus, StepKind, TicketView, evaluate
from slaclock.engine.config import Config
from slaclock.engine.policy import Policy
from slaclock.ports import ServiceUnavailable
from slaclock.services.notify import resolve_recipients

log = logging.getLogger(__name__)

THRESHOLD = "#threshold"


def clock_id(ticket_id: str, metric: str, cycle: int) -> str:
    return f"{ticket_id}#{metric}#{cycle}"


def run_thresholds(
    ports: Any, config: Config, policy: Policy, view: TicketView, now: datetime, done: frozenset[str]
) -> set[str]:
    """Count this ticket's owed breaches for the threshold recipients; the keys counted (cached on the
    ticket so a later check does not count them again; counting twice is harmless: a set)."""
    tally = getattr(ports, "breach_tally", None)
    counted: set[str] = set()
    if tally is None:
        return counted
    for notice in view.notices:
        level = config.level(notice.level)
        key = notice.key + THRESHOLD
        if (
            notice.step.kind is not StepKind.BREACH
            or level is None
            or not level.breach_thresholds
            or key in done
        ):
            continue
        clock = clock_id(notice.ticket_id, str(notice.metric), notice.cycle)
        try:
            for token, n in level.breach_thresholds.items():
                for address in resolve_recipients([token], view.fields, config.leads, level.unassigned):
                    _count(ports, tally, policy, address, clock, n, now)
        except ServiceUnavailable as exc:
            log.warning(
                "breach threshold not counted; retried",
                extra={"ticket_id": notice.ticket_id, "error": str(exc)},
            )
            continue
        counted.add(key)
    return counted


def _count(ports: Any, tally: Any, policy: Policy, address: str, clock: str, n: int, now: datetime) -> None:
    clocks = tally.add(address, clock)
    live = sorted(c for c in clocks if _still_breached(ports, policy, c, now))
    gone = set(clocks) - set(live)
    if gone:
        tally.remove(address, gone)
    if len(live) < n:
        tally.reset(address)
        return
    if tally.cross(address):
        lines = "\n".join(f"- ticket {c.split('#')[0]}: {c.split('#')[1].replace('_', ' ')}" for c in live)
        subject = f"SLA: {len(live)} of your tickets are breached (you asked to be told at {n})"
        text = f"{subject}\n\n{lines}\n"
        items = "".join(f"<li>{c.split('#')[0]}: {c.split('#')[1]}</li>" for c in live)
        ports.mailer.send((address,), subject, text, f"<p>{subject}</p><ul>{items}</ul>")


def _still_breached(ports: Any, policy: Policy, clock: str, now: datetime) -> bool:
    ticket_id, metric, cycle = clock.rsplit("#", 2)
    stored = ports.tickets.get(ticket_id)
    if stored is None:
        return False
    view = evaluate(policy, stored.state, now)
    return any(
        str(c.metric) == metric
        and c.cycle == int(cycle)
        and c.status is ClockStatus.MISSED
        and c.stopped_at is None
        for c in view.clocks
    )
