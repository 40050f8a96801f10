"""The admin API's routes (``/admin/...`` on the HTTP API), its request and response models, and the
OpenAPI 3.1 document generated from them (`openapi_document`): ONE source. powertools' resolver
routes the requests and validates every body and query parameter against the same pydantic models
the document is generated from (a bad one is a 422 naming each problem, before any use case runs).

Authorisation happens in API Gateway (IAM SigV4, or a JWT authorizer when the stack is given an
issuer); the handler still refuses (401) a request whose context names no principal, so a route
wired without its authorizer by mistake fails closed. The principal (IAM ARN or JWT ``sub``) is who
the audit log names.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from pydantic import BaseModel, ConfigDict, Field

from slaclock.engine.errors import SlaclockError
from slaclock.runtime import admin_wiring as wiring
from slaclock.runtime.http import error_body, json_body
from slaclock.services import admin

app = APIGatewayHttpResolver(enable_validation=True)

JSON = "application/json"


class Unauthorized(SlaclockError):  # noqa: N818 - the HTTP condition
    http_status = 401


class ConfigAnswer(BaseModel):
    version: int | None = Field(description="Number of this version among the kept ones (oldest = 1)")
    version_id: str | None = Field(description="S3 version id of the object")
    etag: str = Field(description="Send it back as If-Match to replace this document")
    format: str = Field(description="yaml or json: how the document is stored")
    document: dict[str, Any] = Field(description="The configuration document (see docs/configuration.md)")


class VersionRow(BaseModel):
    version: int
    version_id: str
    etag: str
    stored_at: str = Field(description="When S3 stored it, ISO 8601 UTC")
    size: int
    current: bool
    author: str | None = Field(description="IAM principal / JWT subject when stored by the admin API")


class VersionsAnswer(BaseModel):
    versions: list[VersionRow]


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="The version number to store again as the newest version")


class ErrorAnswer(BaseModel):
    error: str
    problems: list[str] | None = None


def _caller() -> admin.Caller:
    ctx = app.current_event.request_context
    who = ctx.authorizer.iam.user_arn or str(ctx.authorizer.jwt_claim.get("sub") or "")
    if not who:
        raise Unauthorized("no authenticated principal in the request context")
    return admin.Caller(who=who, request_id=ctx.request_id or "", now=wiring.clock())


def _config_response(view: admin.ConfigView, status: int = 200) -> Response[str]:
    return Response(status, JSON, json_body(view.to_json()), headers={"ETag": view.etag})


def _responses(
    ok: str, model: type[BaseModel] | None, errors: dict[int, str] | None = None
) -> dict[int, Any]:
    """The documented answers of a route: 200 (`model`), 401, and its own `errors` (`ErrorAnswer`)."""
    out: dict[int, Any] = {
        200: {"description": ok, "content": {JSON: {"model": model}}} if model else {"description": ok}
    }
    for code, text in {401: "No authenticated principal", 422: "Invalid request", **(errors or {})}.items():
        out[code] = {"description": text, "content": {JSON: {"model": ErrorAnswer}}}
    return out


@app.get(
    "/admin/config", responses=_responses("The document in force", ConfigAnswer, {404: "Nothing stored yet"})
)
def get_config() -> Response[str]:
    _caller()
    return _config_response(admin.read_config(wiring.config_ports()))


@app.put(
    "/admin/config",
    responses=_responses(
        "Stored as a new version",
        ConfigAnswer,
        {
            412: "If-Match is not the current ETag",
            422: "Invalid document: every problem listed",
            428: "If-Match missing",
        },
    ),
)
def put_config(
    document: Annotated[dict[str, Any], Body(description="The whole configuration document")],
    if_match: Annotated[str | None, Header(alias="if-match")] = None,
) -> Response[str]:
    caller = _caller()
    view = admin.put_config(wiring.config_ports(), document, app.current_event.headers, caller)
    return _config_response(view)


@app.get("/admin/config/versions", responses=_responses("Kept versions, newest first", VersionsAnswer))
def get_versions() -> Response[str]:
    _caller()
    return Response(200, JSON, json_body({"versions": admin.config_versions(wiring.config_ports())}))


@app.post(
    "/admin/config/rollback",
    responses=_responses(
        "The old version stored as the newest",
        ConfigAnswer,
        {
            404: "No such version",
            412: "If-Match given and stale",
            422: "Invalid request, or the old version does not validate today",
        },
    ),
)
def post_rollback(request: RollbackRequest) -> Response[str]:
    caller = _caller()
    view = admin.rollback(wiring.config_ports(), request.version, app.current_event.headers, caller)
    return _config_response(view)


@app.get("/admin/openapi.json", responses=_responses("This document (OpenAPI 3.1)", None))
def get_openapi() -> Response[str]:
    _caller()
    return Response(200, JSON, json_body(openapi_document()))


def board_page() -> str:
    """The board's HTML (placeholder until the board page lands; the integrator points this at it)."""
    return "<!doctype html><title>slaclock board</title><p>The board page is not built yet.</p>\n"


@app.get("/admin/board", responses=_responses("The board page (HTML)", None))
def get_board() -> Response[str]:
    _caller()
    return Response(200, "text/html; charset=utf-8", board_page())


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of these routes, generated from the models above."""
    doc: dict[str, Any] = app.get_openapi_schema(
        title="slaclock admin API", version="1", openapi_version="3.1.0"
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    return doc


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid_request(exc: RequestValidationError) -> Response[str]:
    """A body or parameter that does not match the document: 422 naming each problem (never the
    value that was sent)."""
    problems = [
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
    ]
    return Response(422, JSON, json_body({"error": "invalid request", "problems": problems}))


@app.exception_handler(SlaclockError)  # type: ignore[untyped-decorator]
def refuse(exc: SlaclockError) -> Response[str]:
    status, answer, headers = error_body(exc)
    return Response(status, JSON, json_body(answer), headers=headers)
