"""``POST /webhooks/{source}``: a helpdesk delivery -> `receive_webhook` -> 202 with the event ids.

The request is dated by API Gateway's ``requestContext.timeEpoch`` (when it reached the endpoint), for
payloads that carry no time of their own.

Errors become HTTP answers in `slaclock.runtime.http` (400/401/404/413/503; 500 without details).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from slaclock.helpdesk._common import to_instant
from slaclock.runtime import wiring
from slaclock.runtime.http import error_body, json_body, request_body
from slaclock.runtime.observability import count, logger, metrics, record_schedule, traced
from slaclock.services.ingest import receive_webhook

wiring.webhook_settings()  # cold start: refuse a bad environment before the first request
app = APIGatewayHttpResolver()


@app.post("/webhooks/<source>")
def webhook(source: str) -> Response[str]:
    event = app.current_event
    body = request_body(event)
    now = wiring.clock()
    received = to_instant(event.request_context.time_epoch) or now  # unix ms: API Gateway's receive time
    receipt = receive_webhook(wiring.webhook_ports(), source, event.headers, body, now, received)
    count("EventsIngested", receipt.new_events)
    count("DuplicateEvents", sum(len(t.duplicates) for t in receipt.tickets))
    for ticket in receipt.tickets:  # a refused schedule is not the sender's problem: 202, but counted
        record_schedule(ticket.schedule)
    answer = {"event_ids": list(receipt.event_ids), "tickets": [t.ticket_id for t in receipt.tickets]}
    return Response(202, "application/json", json_body(answer))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def refuse(exc: Exception) -> Response[str]:
    status, answer, headers = error_body(exc)
    if status >= 500:
        count("WebhookErrors")
        logger.error("webhook failed", exc_info=exc, extra={"status": status})
    else:
        count("WebhooksRefused")
        logger.info("webhook refused", extra={"status": status, "error": type(exc).__name__})
    return Response(status, "application/json", json_body(answer), headers=headers)


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
