"""Every 5 minutes (EventBridge rate rule): `sweep` the tickets whose check instant passed unchecked.

Bounded per invocation (``SLACLOCK_SWEEP_MAX_TICKETS``, and it stops ``SLACLOCK_SWEEP_RESERVE_SECONDS``
before the timeout); what is left stays due for the next sweep.
"""

from __future__ import annotations

from typing import Any

from slaclock.runtime import wiring
from slaclock.runtime.observability import count, logger, metrics, record_check, traced
from slaclock.services.sweep import sweep

wiring.sweeper_settings()  # cold start: refuse a bad environment before the first sweep


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = wiring.sweeper_settings()
    reserve_ms = settings.sweep_reserve_seconds * 1000
    result = sweep(
        wiring.sweeper_ports(), wiring.clock(), max_tickets=settings.sweep_max_tickets,
        out_of_time=lambda: context.get_remaining_time_in_millis() < reserve_ms,
    )  # fmt: skip
    for checked in result.checked:
        record_check(checked)
    count("SweptTickets", len(result.checked), always=True)
    count("CheckFailures", len(result.failed))  # a ticket whose check raised: alarmed (template.yaml)
    logger.info(
        "swept",
        extra={"checked": len(result.checked), "failed": len(result.failed), "truncated": result.truncated},
    )
    return {"checked": len(result.checked), "failed": list(result.failed), "truncated": result.truncated}
