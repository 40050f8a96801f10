"""``/admin/...``: the admin API (configuration, clocks, timelines, the board) behind IAM or JWT
authorisation. Routes, models and the OpenAPI document live in `slaclock.runtime.admin_api`; domain
errors become HTTP answers in `slaclock.runtime.http` (a 500 never shows details)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from slaclock.runtime import admin_wiring
from slaclock.runtime.admin_api import app
from slaclock.runtime.http import error_body, json_body
from slaclock.runtime.observability import logger, metrics, traced

admin_wiring.admin_settings()  # cold start: refuse a bad environment before the first request


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def fail(exc: Exception) -> Response[str]:
    status, answer, headers = error_body(exc)
    logger.error("admin request failed", exc_info=exc, extra={"status": status})
    return Response(status, "application/json", json_body(answer), headers=headers)


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
