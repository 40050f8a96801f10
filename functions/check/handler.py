"""A ticket's one-time schedule fired: ``{"ticket_id", "armed_for"}`` -> `run_check` at now.

A malformed payload raises (a function error, retried, then dead-lettered); a stale firing is a
normal, quiet result.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from slaclock.engine.events import format_instant
from slaclock.runtime import wiring
from slaclock.runtime.models import CheckFiring
from slaclock.runtime.observability import logger, metrics, record_check, traced
from slaclock.services.check import run_check

wiring.check_settings()  # cold start: refuse a bad environment before the first firing


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    firing = parse(event=event, model=CheckFiring)
    result = run_check(wiring.check_ports(), firing.ticket_id, wiring.clock(), firing.armed_for)
    record_check(result)
    logger.info(
        "checked", extra={"stale": result.stale, "sent": len(result.sent), "pending": len(result.pending)}
    )
    return {
        "ticket_id": result.ticket_id,
        "stale": result.stale,
        "sent": [n.key for n in result.sent],
        "pending": list(result.pending),
        "next_check_at": format_instant(result.next_check_at) if result.next_check_at else None,
    }
