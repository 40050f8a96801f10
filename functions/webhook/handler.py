"""``POST /webhooks/{source}``: a helpdesk delivery -> `receive_webhook` -> 202 with the event ids.

The request is dated by API Gateway's ``requestContext.timeEpoch`` (when it reached the endpoint), for
payloads that carry no time of their own.

API Gateway routes ``POST /webhooks/{source}`` (and nothing else) to this function, so it takes the
event through Powertools' data class rather than its resolver: the resolver's package (every resolver,
AppSync's with asyncio) is about an eighth of this function's cold start, for one route.

Errors become HTTP answers in `slaclock.runtime.http` (400/401/404/413/503; 500 without details).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from slaclock.helpdesk._common import to_instant
from slaclock.runtime import wiring
from slaclock.runtime.http import error_body, json_body, request_body
from slaclock.runtime.observability import count, logger, metrics, record_schedule, traced
from slaclock.services.ingest import receive_webhook

ROUTE = "POST /webhooks/{source}"  # the function's only route; API Gateway routes to it (template.yaml)
wiring.webhook_settings()  # cold start: refuse a bad environment before the first request


def webhook(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    source = (event.path_parameters or {}).get("source", "")
    body = request_body(event)
    now = wiring.clock()
    received = to_instant(event.request_context.time_epoch) or now  # unix ms: API Gateway's receive time
    receipt = receive_webhook(wiring.webhook_ports(), source, event.headers, body, now, received)
    count("EventsIngested", receipt.new_events)
    count("DuplicateEvents", sum(len(t.duplicates) for t in receipt.tickets))
    for ticket in receipt.tickets:  # a refused schedule is not the sender's problem: 202, but counted
        record_schedule(ticket.schedule)
    return {"event_ids": list(receipt.event_ids), "tickets": [t.ticket_id for t in receipt.tickets]}


def refuse(exc: Exception) -> dict[str, Any]:
    status, answer, headers = error_body(exc)
    if status >= 500:
        count("WebhookErrors")
        logger.error("webhook failed", exc_info=exc, extra={"status": status})
    else:
        count("WebhooksRefused")
        logger.info("webhook refused", extra={"status": status, "error": type(exc).__name__})
    return answer_of(status, answer, headers)


def answer_of(status: int, doc: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json_body(doc), "isBase64Encoded": False}


@traced
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = APIGatewayProxyEventV2(event)
    if request.route_key != ROUTE:  # not this function's route: a misconfigured gateway, answered as one
        return answer_of(404, {"error": "Not found"})
    try:
        return answer_of(202, webhook(request))
    except Exception as exc:  # noqa: BLE001 - every error becomes its HTTP answer (runtime.http)
        return refuse(exc)
