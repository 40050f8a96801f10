"""Every 5 minutes (EventBridge rate rule): `run_sweep` the tickets whose check instant passed unchecked.

It drains every overdue ticket while the invocation has time (it stops starting checks
``SLACLOCK_SWEEP_RESERVE_SECONDS`` before the timeout); a larger backlog is handed to one worker per
partition of the due index, each an asynchronous invocation of this same function with a
``{"sweep_part", "lease_holder"}`` payload, which continues itself until its partition is empty.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from slaclock.runtime import wiring
from slaclock.runtime.models import SweepContinuation
from slaclock.runtime.observability import count, logger, metrics, record_check, traced
from slaclock.services.sweep import run_sweep

wiring.sweeper_settings()  # cold start: refuse a bad environment before the first sweep


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = wiring.sweeper_settings()
    reserve_ms = settings.sweep_reserve_seconds * 1000
    worker = parse(event=event, model=SweepContinuation) if "sweep_part" in event else None
    result = run_sweep(
        wiring.sweep_ports(context.invoked_function_arn), wiring.clock(),
        holder=worker.lease_holder if worker else context.aws_request_id,
        part=worker.sweep_part if worker else None,
        max_tickets=settings.sweep_max_tickets,
        out_of_time=lambda: context.get_remaining_time_in_millis() < reserve_ms,
    )  # fmt: skip
    for checked in result.checked:
        record_check(checked)
    count("SweptTickets", len(result.checked), always=True)
    count("CheckFailures", len(result.failed))  # a ticket whose check raised: alarmed (template.yaml)
    count("SweepFanOut", len(result.fanned_out))
    answer = {
        "checked": len(result.checked),
        "failed": list(result.failed),
        "truncated": result.truncated,
        "parts": list(result.parts),
        "fanned_out": list(result.fanned_out),
        "busy": list(result.busy),
    }
    logger.info("swept", extra={**answer, "failed": len(result.failed)})
    return answer
