"""The three triggers of ``functions/report``, each importing its use case when it first runs.

The handler stays a router: a cold start imports this module, the settings and Powertools only; the
report use case (`slaclock.services.report`: request models, builder, summary page, external sort,
e-mail), the trigger models and the adapters are imported by the first invocation of the trigger
that needs them, so none of them is paid for at import time.

- `request` / `status`: ``POST /reports`` and ``GET /reports/{id}`` (the JSON answer).
- `build_jobs`: the report queue's SQS batch, through Powertools' batch processor: one
  `run_report_job` per record; a record that fails is a batch item failure (its message comes back,
  then goes to the DLQ), the others are not retried. A batch that fails whole is answered the same
  way (``raise_on_entire_batch_failure=False``), not raised.
- `scheduled`: an EventBridge Scheduler firing (`ScheduledReports`) -> `schedule_reports`.
- `refused`: an HTTP error's (status, body, headers), logged (500s with their trace, others by name).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slaclock.runtime import report_wiring as wiring
from slaclock.runtime.http import error_body
from slaclock.runtime.observability import count, logger

MAX_BODY_BYTES = 64 * 1024
"""The largest ``POST /reports`` body accepted (a 400 beyond it)."""


def request(doc: Any) -> dict[str, Any]:
    """Queue the report `doc` asks for; the 202 answer (id, status, href)."""
    from slaclock.services.report import request_report

    job = request_report(wiring.report_ports(), doc, wiring.clock())
    count("ReportsRequested")
    return {"id": job.id, "status": job.status.value, "href": f"/reports/{job.id}"}


def status(report_id: str) -> dict[str, Any]:
    """A report's status (fresh links when it is done); `ReportNotFound` (404) for an unknown id."""
    from slaclock.services.report import report_status

    return report_status(wiring.report_ports(), report_id, wiring.clock())


def refused(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]]:
    status_code, answer, headers = error_body(exc)
    if status_code >= 500:
        logger.exception("report request failed", extra={"status": status_code})
    else:
        logger.info("report request refused", extra={"status": status_code, "error": type(exc).__name__})
    return status_code, answer, headers


def build_jobs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Build the report of each queue message; ``{"batchItemFailures": [...]}`` of those that failed."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, _build_one, processor, context))


def _build_one(record: Any) -> None:
    from slaclock.runtime.report_models import ReportJobMessage
    from slaclock.services.report import run_report_job

    try:
        job_id = ReportJobMessage.model_validate_json(record.body).job_id
        logger.set_correlation_id(job_id)
        outcome = run_report_job(wiring.report_ports(), job_id, wiring.clock())
    except Exception:  # the message comes back; after its retries it goes to the report DLQ
        logger.exception("report job failed", extra={"message_id": record.message_id})
        count("ReportsFailed")
        raise
    if outcome is not None:
        count("ReportsBuilt", 1 if outcome.built else 0)
        count("ReportRows", outcome.figures.get("rows", 0) if outcome.built else 0)


def scheduled(event: dict[str, Any]) -> dict[str, Any]:
    """Queue the reports of the subscriptions whose period this firing closed."""
    from slaclock.runtime.report_models import ScheduledReports
    from slaclock.services.report import schedule_reports

    firing = ScheduledReports.model_validate(event)
    window = timedelta(seconds=firing.window_seconds)
    queued = schedule_reports(wiring.report_ports(), firing.report_schedule, firing.scheduled_at, window)
    logger.info("reports scheduled", extra={"period": firing.report_schedule, "queued": len(queued)})
    return {"queued": queued}
