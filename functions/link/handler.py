"""``GET /links/{token}`` (public): a report link from an e-mail -> `open_link` -> 302 to a fresh
presigned S3 URL valid a few minutes; 404 for a token that is not ours, 410 once it expired.

The token, not AWS credentials, carries the link's lifetime (`slaclock.services.report.links`), so a
7-day link works for 7 days although this function's role credentials last hours. Errors map to HTTP
in `slaclock.runtime.http` (imported on the error path only: the happy path stays small).
"""

from __future__ import annotations

from typing import Any

from slaclock.runtime import link_wiring as wiring
from slaclock.runtime.observability import count, logger, metrics, traced
from slaclock.services.report.links import open_link

wiring.link_settings()  # cold start: refuse a bad environment before the first request
# The token is a credential: no cache may keep the answer, no page may leak it as a Referer.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    token = (event.get("pathParameters") or {}).get("token") or ""
    ports = wiring.link_ports()
    url = open_link(ports.keys, ports.presigner, token, wiring.clock(), ports.redirect_seconds)
    count("ReportLinksOpened")
    return {"statusCode": 302, "headers": {**HEADERS, "Location": url}, "body": ""}


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _answer(event)
    except Exception as exc:  # every failure becomes an HTTP answer, never a trace to the caller
        from slaclock.runtime.http import error_body, json_body

        status, answer, headers = error_body(exc)
        if status >= 500:
            logger.exception("report link failed", extra={"status": status})
        else:
            count("ReportLinksRefused")
            logger.info("report link refused", extra={"status": status, "error": type(exc).__name__})
        return {
            "statusCode": status,
            "headers": {**HEADERS, **headers, "Content-Type": "application/json"},
            "body": json_body(answer),
        }
