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

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from slaclock.engine import json_input
from slaclock.engine.errors import SlaclockError
from slaclock.runtime import admin_wiring as wiring
from slaclock.runtime.http import error_body, json_body

if TYPE_CHECKING:  # the use cases are imported by the route that runs them (cold-start budget)
    from slaclock.services import admin

# Bodies are decoded by the one JSON decoder of every surface (`engine.json_input`): a refusal (nesting,
# NaN, huge numbers) is a `json.JSONDecodeError`, which the resolver turns into a 422 like a syntax error.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=json_input.loads)

JSON = "application/json"
HTML = "text/html"


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
    # IAM: the caller's ARN; JWT: the token's subject, under authorizer.jwt.claims (the documented
    # payload 2.0 shape) or directly under authorizer.claims (as some deliveries carry it).
    raw: Any = (app.current_event.get("requestContext") or {}).get("authorizer")
    flat: Any = raw.get("claims") if isinstance(raw, dict) else None
    claims: dict[str, Any] = ctx.authorizer.jwt_claim or (flat if isinstance(flat, dict) else {})
    who = ctx.authorizer.iam.user_arn or str(claims.get("sub") or "")
    if not who:
        raise Unauthorized("no authenticated principal in the request context")
    from slaclock.services import admin

    return admin.Caller(who=who, request_id=ctx.request_id or "", now=wiring.clock())


def _config_response(view: admin.ConfigView, status: int = 200) -> Response[str]:
    return Response(status, JSON, json_body(view.to_json()), headers={"ETag": view.etag})


def _responses(
    ok: str, model: type[BaseModel] | dict[str, Any], errors: dict[int, str] | None = None
) -> dict[int, Any]:
    """The documented answers of a route: 200 (`model`, or a ``{media type: schema}`` content), 401, and
    its own `errors` (`ErrorAnswer`)."""
    content = (
        {JSON: {"model": model}}
        if isinstance(model, type)
        else {media: {"schema": schema} for media, schema in model.items()}
    )
    out: dict[int, Any] = {200: {"description": ok, "content": content}}
    for code, text in {401: "No authenticated principal", 422: "Invalid request", **(errors or {})}.items():
        out[code] = {"description": text, "content": {JSON: {"model": ErrorAnswer}}}
    return out


@app.get(
    "/admin/config", responses=_responses("The document in force", ConfigAnswer, {404: "Nothing stored yet"})
)
def get_config() -> Response[str]:
    _caller()
    from slaclock.services import admin

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
    from slaclock.services import admin

    caller = _caller()
    view = admin.put_config(wiring.config_ports(), document, app.current_event.headers, caller)
    return _config_response(view)


@app.get("/admin/config/versions", responses=_responses("Kept versions, newest first", VersionsAnswer))
def get_versions() -> Response[str]:
    _caller()
    from slaclock.services import admin

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
    from slaclock.services import admin

    caller = _caller()
    view = admin.rollback(wiring.config_ports(), request.version, app.current_event.headers, caller)
    return _config_response(view)


@app.get(
    "/admin/openapi.json", responses=_responses("This document (OpenAPI 3.1)", {JSON: {"type": "object"}})
)
def get_openapi() -> Response[str]:
    _caller()
    return Response(200, JSON, json_body(openapi_document()))


@app.get("/admin/board", responses=_responses("The board page (HTML)", {HTML: {"type": "string"}}))
def get_board() -> Response[str]:
    from slaclock.board import board_html

    _caller()
    return Response(200, f"{HTML}; charset=utf-8", board_html(), headers=_PAGE_HEADERS)


_PAGE_HEADERS = {
    # The page's own inline script and style only; it fetches this API (same origin) and nothing else.
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


# ------------------------------------------------------------------------------ the board's routes


class OpenClock(BaseModel):
    ticket_id: str
    source: str | None = Field(description="The webhook source (by the ticket id's prefix); null if unknown")
    metric: str
    cycle: int
    level: str
    department: str | None
    group: str | None = Field(description="Not recorded with clocks yet: always null")
    agent: str | None = Field(description="The ticket's assignee at the last save")
    status: Literal["open", "paused", "missed"]
    due_at: str = Field(
        description="Due instant at now, ISO 8601 UTC with Z (a paused clock: if it resumed now)"
    )
    remaining_seconds: float = Field(description="Business seconds left at now (negative: overdue)")
    time_zone: str = Field(description="IANA zone of the clock's calendar")


class ClocksAnswer(BaseModel):
    clocks: list[OpenClock]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")


class ComplianceLine(BaseModel):
    level: str
    department: str | None
    met: int
    missed: int
    open: int
    compliance_pct: float | None = Field(description="100 x met / (met + missed), 2 decimals; null if none")


class ComplianceAnswer(BaseModel):
    date: str = Field(description="Today in time_zone, YYYY-MM-DD")
    time_zone: str
    rows: list[ComplianceLine]


class TimelineEvent(BaseModel):
    at: str
    type: str
    status: str | None
    author: str | None


class TimelineDecision(BaseModel):
    at: str
    level: str | None
    rule: str | None


class TimelineInterval(BaseModel):
    start: str
    end: str | None = Field(description="null: still going at now")
    kind: Literal["counted", "paused", "closed"]


class TimelineClock(BaseModel):
    metric: str
    level: str
    status: str
    due_at: str | None
    stopped_at: str | None
    business_seconds: float
    intervals: list[TimelineInterval]


class TimelineNotice(BaseModel):
    at: str | None
    kind: str
    metric: str
    cycle: int
    step: str | None
    status: Literal["sent", "claimed", "owed"] = Field(
        description="sent (ledger: at = sent), claimed (ledger: being sent or retried; at = claimed), "
        "owed (the engine says it is due by now; its check has not run yet; at = its instant)"
    )


class TimelineAction(BaseModel):
    at: str | None
    kind: str = Field(
        description="The action's kind (email, webhook, eventbridge, slack, teams, a write-back)"
    )
    metric: str
    cycle: int
    step: str = Field(description="The step that owes it: warning, breach, escalation-<n> or met")
    index: int = Field(description="Its 1-based place in the step's list of actions")
    target: str | None = Field(
        description="What it acts on, as actions.csv lists it; null for a ledger record the "
        "configuration in force no longer owes"
    )
    status: Literal["sent", "dead_lettered", "claimed", "owed"] = Field(
        description="sent (ledger: done; at = done), dead_lettered (ledger: given up after its retries, "
        "in the dead-letter queue; at = done), claimed (ledger: running or to be retried; at = claimed), "
        "owed (the engine says it is due by now; its check has not run yet; at = its step's instant)"
    )
    attempts: int = Field(description="Claims so far (0 while owed)")


class TimelineAnswer(BaseModel):
    ticket_id: str
    now: str
    events: list[TimelineEvent]
    decisions: list[TimelineDecision]
    clocks: list[TimelineClock]
    notices: list[TimelineNotice]
    actions: list[TimelineAction] = Field(
        description="Each action the engine owes by now, merged with the action ledger"
    )


def _ports() -> Any:
    return wiring.board_ports()


@app.get(
    "/admin/clocks",
    responses=_responses(
        "Running clocks by due instant", ClocksAnswer, {413: "Too many open clocks to read: narrow within"}
    ),
)
def get_clocks(
    state: Annotated[
        Literal["at_risk", "overdue", "open"],
        Query(description="at_risk: due within `within` (overdue included); overdue: missed; open: all"),
    ] = "at_risk",
    within: Annotated[str, Query(max_length=32, description="A duration (2h, 90m, 1d, PT2H)")] = "2h",
    department: Annotated[str | None, Query(max_length=256)] = None,
    level: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    from slaclock.engine.durations import parse_duration
    from slaclock.services.admin_board import InvalidRequest, open_clocks

    caller = _caller()
    try:
        span = parse_duration(within)
    except ValueError as err:
        raise InvalidRequest([("within", str(err))], "invalid request") from None
    answer = open_clocks(
        _ports(), caller.now, state=state, within=span, department=department, level=level,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    return Response(200, JSON, json_body(answer))


@app.get(
    "/admin/compliance/today",
    responses=_responses("Today's compliance per level and department", ComplianceAnswer),
)
def get_compliance_today(
    department: Annotated[str | None, Query(max_length=256)] = None,
    calendar: Annotated[
        str | None,
        Query(max_length=256, description="Whose local day is today (default: the first calendar)"),
    ] = None,
) -> Response[str]:
    from slaclock.services.admin_board import compliance_today

    caller = _caller()
    answer = compliance_today(_ports(), caller.now, department=department, calendar=calendar)
    return Response(200, JSON, json_body(answer))


@app.get(
    "/admin/tickets/<ticket_id>/timeline",
    responses=_responses(
        "The ticket's SLA timeline", TimelineAnswer, {404: "No stored event of this ticket"}
    ),
)
def get_timeline(ticket_id: Annotated[str, Path(min_length=1, max_length=512)]) -> Response[str]:
    from slaclock.services.admin_board import ticket_timeline

    caller = _caller()
    return Response(200, JSON, json_body(ticket_timeline(_ports(), ticket_id, caller.now)))


class DryRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    config: dict[str, Any] = Field(description="The proposed configuration document (validated whole)")
    start: AwareDatetime = Field(alias="from", description="Period start, ISO 8601 with an offset")
    end: AwareDatetime = Field(alias="to", description="Period end (excluded), at most 93 days after from")


class DryRunChange(BaseModel):
    ticket_id: str
    metric: str
    cycle: int
    change: str = Field(description="old->new status, same-status (level or due moved), added, removed")
    old_status: str
    new_status: str
    old_level: str
    new_level: str
    old_due_at: str
    new_due_at: str
    old_rule: str = Field(description="The rule that chose the level under the configuration in force")
    new_rule: str = Field(description="... under the proposed one")


class DryRunFigures(BaseModel):
    met: int
    missed: int
    compliance_pct: float | None


class DryRunAnswer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    now: str
    tickets: int = Field(
        description="Tickets replayed (decided in the period, or running and started before to)"
    )
    changed_tickets: list[str]
    changes: list[DryRunChange] = Field(description="The first 1000 changed clock cycles")
    changes_total: int
    before: DryRunFigures = Field(description="Clocks decided in the period under the configuration in force")
    after: DryRunFigures = Field(description="... under the proposed one")


@app.post(
    "/admin/config/dry-run",
    responses=_responses(
        "What the proposed configuration would change (nothing is stored)",
        DryRunAnswer,
        {
            413: "More tickets in the period than a dry run replays (500): narrow it",
            422: "Invalid request or document: every problem listed",
        },
    ),
)
def post_dry_run(request: DryRunBody) -> Response[str]:
    from slaclock.services.admin_dry_run import DryRunRequest, dry_run

    caller = _caller()
    answer = dry_run(
        _ports(), DryRunRequest(request.config, _utc(request.start), _utc(request.end)), caller.now
    )
    return Response(200, JSON, json_body(answer))


def _utc(t: datetime) -> datetime:
    from datetime import UTC

    return t.astimezone(UTC)


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
    problems = [_problem(e) for e in exc.errors()]
    return Response(422, JSON, json_body({"error": "invalid request", "problems": problems}))


def _problem(error: Any) -> str:
    """One problem of a `RequestValidationError`: where, then what (a body that is not JSON, or that
    `json_input` refuses, is named by the decoder's message, not its character position)."""
    if error.get("type") == "json_invalid":
        return f"body: not valid JSON: {(error.get('ctx') or {}).get('error', 'decode error')}"
    return f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}"


@app.exception_handler(SlaclockError)  # type: ignore[untyped-decorator]
def refuse(exc: SlaclockError) -> Response[str]:
    status, answer, headers = error_body(exc)
    return Response(status, JSON, json_body(answer), headers=headers)
