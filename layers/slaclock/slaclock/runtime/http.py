"""Domain errors -> HTTP answers, in ONE place (every HTTP handler registers `error_response`).

    status  error                                    body
    400     ValidationError (PayloadError, ...)      {"error": "...", "problems": ["path: message", ...]}
    401     AuthError                                {"error": "unauthorized", "reason": "..."}
    404     UnknownSourceError                       {"error": "..."}
    413     PayloadTooLargeError                     {"error": "..."}
    503     ConflictError, ServiceUnavailable        {"error": "..."} + Retry-After: 5 (the sender retries)
    4xx     a SlaclockError with `http_status`       {"error": "..."}
    4xx     the router's own (no route: 404)         {"error": "..."}
    500     anything else                            {"error": "internal error"}: no message, no trace

The sender's mistake is never a 500, and a 500 never shows a stack trace or an exception's text (it
is logged with the request id instead). The reasons given for 400 and 401 name the problem only
(a field path, "signature does not match"): never the secret, the expected signature or the body.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from slaclock.engine import json_input
from slaclock.engine.errors import SlaclockError, ValidationError


def _router_error(exc: BaseException) -> bool:
    """Whether `exc` is the Powertools router's own answer (no route 404, method 405 ...). Checked
    without importing the router: a function that has no router (the webhook) cannot raise one."""
    module = sys.modules.get("aws_lambda_powertools.event_handler.exceptions")
    return module is not None and isinstance(exc, module.ServiceError)


RETRY_AFTER_SECONDS = 5


def status_for(exc: BaseException) -> int:
    """The HTTP status of an exception (500 for anything that is not a mapped domain error).

    Every domain error but `ValidationError` declares its status as a class attribute
    (``class ReportNotFound(SlaclockError): http_status = 404``; `AuthError` 401, `UnknownSourceError`
    404, `PayloadTooLargeError` 413, `ConflictError` and `ServiceUnavailable` 503) rather than being
    listed here, so this module imports no use case, port or provider (a cold start of the report
    function loads none of the ingest path)."""
    if _router_error(exc):  # the router's own answers: no route (404), method (405) ...
        code: int = exc.status_code  # type: ignore[attr-defined]
        return code
    declared = getattr(exc, "http_status", None)
    if isinstance(exc, SlaclockError) and isinstance(declared, int) and 400 <= declared <= 599:
        return declared
    return 400 if isinstance(exc, ValidationError) else 500


def error_body(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, extra headers) for `exc`."""
    status = status_for(exc)
    if isinstance(exc, ValidationError):
        return status, {"error": exc.what, "problems": exc.messages()}, {}
    if status == 401:  # AuthError
        return status, {"error": "unauthorized", "reason": str(exc)}, {}
    if status == 503:
        return (
            status,
            {"error": "temporarily unavailable, retry later"},
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if status == 500:
        return status, {"error": "internal error"}, {}
    if _router_error(exc):
        return status, {"error": exc.msg}, {}  # type: ignore[attr-defined]
    return status, {"error": str(exc)}, {}


def json_body(doc: Any) -> str:
    """Compact JSON, non-ASCII kept as is; escaped (``\\ud800``) when a string holds a lone surrogate,
    which no UTF-8 encoder would write."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc, separators=(",", ":"))
    return text


def request_body(event: Any) -> bytes:
    """The raw body of an API Gateway HTTP API event (a powertools `APIGatewayProxyEventV2`): base64
    decoded when the gateway encoded it, else the text as UTF-8; ``b""`` when there is none."""
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")


def json_request(event: Any, *, max_bytes: int, what: str) -> Any:
    """The JSON document of a request body (`request_body`), or a `ValidationError` (400) named
    `what` when the body is larger than `max_bytes` or is not JSON. An empty body is ``None``."""
    body = request_body(event)
    if len(body) > max_bytes:
        raise ValidationError([("", f"the body is larger than {max_bytes} bytes")], what)
    try:
        return json_input.loads(body or b"null")
    except json_input.JsonLimitError as e:
        raise ValidationError([("", f"the body is refused: {e.msg}")], what) from None
    except ValueError:  # a syntax error, or bytes that are not UTF-8
        raise ValidationError([("", "the body is not valid JSON")], what) from None
