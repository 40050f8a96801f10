"""Reports: one function, three triggers, one use case each (`slaclock.services.report`).

- HTTP (API Gateway HTTP API, IAM-authorised): ``POST /reports`` -> `request_report` -> 202 + id;
  ``GET /reports/{id}`` -> `report_status` (fresh links when done). Errors map in one place
  (`slaclock.runtime.http`; 404 for an unknown report).
- SQS (the report queue, batch size 1): ``{"job_id"}`` -> `run_report_job`, per record
  (`slaclock.runtime.report_triggers.build_jobs`); a failure is a batch item failure, so the message
  comes back (and ends in the report DLQ after its retries).
- EventBridge Scheduler (one schedule per period kind): `ScheduledReports` -> `schedule_reports`.

Cold start: only the router, the observability singletons and the settings are imported here; each
trigger imports the use case, its models and the adapters when it first runs (`report_triggers`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from slaclock.runtime import report_triggers as triggers
from slaclock.runtime import report_wiring as wiring
from slaclock.runtime.http import json_body, json_request
from slaclock.runtime.observability import logger, metrics, traced

wiring.report_settings()  # cold start: refuse a bad environment before the first request
app = APIGatewayHttpResolver()


@app.post("/reports")
def create_report() -> Response[str]:
    doc = json_request(app.current_event, max_bytes=triggers.MAX_BODY_BYTES, what="invalid report request")
    answer = triggers.request(doc)
    return Response(202, "application/json", json_body(answer), headers={"Location": answer["href"]})


@app.get("/reports/<report_id>")
def get_report(report_id: str) -> Response[str]:
    return Response(200, "application/json", json_body(triggers.status(report_id)))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def refuse(exc: Exception) -> Response[str]:
    status, answer, headers = triggers.refused(exc)
    return Response(status, "application/json", json_body(answer), headers=headers)


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "requestContext" in event:
        return app.resolve(event, context)
    if "Records" in event:
        return triggers.build_jobs(event, context)
    return triggers.scheduled(event)
