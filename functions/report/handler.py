"""Reports: one function, three triggers, one use case each.

- HTTP (API Gateway HTTP API, IAM-authorised): ``POST /reports`` -> `request_report` -> 202 + id;
  ``GET /reports/{id}`` -> `report_status` (fresh links when done). Errors map in one place
  (`slaclock.runtime.http`; 404 for an unknown report).
- SQS (the report queue, batch size 1): ``{"job_id"}`` -> `run_report_job`; a failure is returned as a
  batch item failure, so the message comes back (and ends in the report DLQ after its retries).
- EventBridge Scheduler (one schedule per period kind): `ScheduledReports` -> `schedule_reports`.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from slaclock.runtime import report_wiring as wiring
from slaclock.runtime.http import error_body, json_body
from slaclock.runtime.observability import count, logger, metrics, traced
from slaclock.runtime.report_models import ReportJobMessage, ScheduledReports
from slaclock.services.report import (
    ReportRequestError,
    report_status,
    request_report,
    run_report_job,
    schedule_reports,
)

wiring.report_settings()  # cold start: refuse a bad environment before the first request
app = APIGatewayHttpResolver()
MAX_BODY_BYTES = 64 * 1024


@app.post("/reports")
def create_report() -> Response[str]:
    event = app.current_event
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    if len(body) > MAX_BODY_BYTES:
        raise ReportRequestError([("", f"the body is larger than {MAX_BODY_BYTES} bytes")])
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        raise ReportRequestError([("", "the body is not valid JSON")]) from None
    job = request_report(wiring.report_ports(), doc, wiring.clock())
    count("ReportsRequested")
    answer = {"id": job.id, "status": job.status.value, "href": f"/reports/{job.id}"}
    return Response(202, "application/json", json_body(answer), headers={"Location": f"/reports/{job.id}"})


@app.get("/reports/<report_id>")
def get_report(report_id: str) -> Response[str]:
    return Response(
        200, "application/json", json_body(report_status(wiring.report_ports(), report_id, wiring.clock()))
    )


@app.exception_handler(Exception)
def refuse(exc: Exception) -> Response[str]:
    status, answer, headers = error_body(exc)
    if status >= 500:
        logger.exception("report request failed", extra={"status": status})
    else:
        logger.info("report request refused", extra={"status": status, "error": type(exc).__name__})
    return Response(status, "application/json", json_body(answer), headers=headers)


def _build(records: list[dict[str, Any]]) -> dict[str, Any]:
    failures = []
    for record in records:
        try:
            job_id = ReportJobMessage.model_validate_json(record["body"]).job_id
            logger.set_correlation_id(job_id)
            outcome = run_report_job(wiring.report_ports(), job_id, wiring.clock())
            if outcome is not None:
                count("ReportsBuilt", 1 if outcome.built else 0)
                count("ReportRows", outcome.figures.get("rows", 0) if outcome.built else 0)
        except Exception:  # the message comes back; after its retries it goes to the report DLQ
            logger.exception("report job failed", extra={"message_id": record.get("messageId")})
            count("ReportsFailed")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "requestContext" in event:
        return app.resolve(event, context)
    if "Records" in event:
        return _build(event["Records"])
    firing = ScheduledReports.model_validate(event)
    window = timedelta(seconds=firing.window_seconds)
    queued = schedule_reports(wiring.report_ports(), firing.report_schedule, firing.scheduled_at, window)
    logger.info("reports scheduled", extra={"period": firing.report_schedule, "queued": len(queued)})
    return {"queued": queued}
