"""functions/admin's configuration routes against moto (bucket, table and environment from
template.yaml): GET/PUT with If-Match ETags (412/428), every validation error listed (422), the
versions S3 keeps, rollback, the audit log in the table, and `config push` on the same object.

Requests are the HTTP API's payload-2.0 events as API Gateway delivers them after IAM authorisation
(tests/events/apigateway-http-v2-reports.json, an IAM-authorised request: see its routeKey and
``requestContext.authorizer.iam``), re-pointed at the admin routes.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from referencing.jsonschema import DRAFT202012 as DRAFT_2020_12
from slaclock.adapters.config_store import S3ConfigStore
from slaclock.runtime import admin_wiring

from tests.fakes.world import CONFIG_DOC
from tests.integration._handlers import load_handler
from tests.integration.conftest import AwsStack

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/SupportManagers/support-manager"


def admin_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, *, signed: bool = True
) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((EVENTS / "apigateway-http-v2-reports.json").read_text()))
    path, _, query = path.partition("?")
    route, params = documented_path(path)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = query
    event.pop("queryStringParameters", None)
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        event["queryStringParameters"] = {k: ",".join(v for n, v in pairs if n == k) for k, _ in pairs}
    event.pop("pathParameters", None)
    if params:
        event["pathParameters"] = params
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    event["body"] = None if body is None else body if isinstance(body, str) else json.dumps(body)
    if not signed:
        del event["requestContext"]["authorizer"]
    return event


def documented_path(path: str) -> tuple[str, dict[str, str]]:
    """The OpenAPI path template `path` matches (``/admin/tickets/{ticket_id}/timeline``) and its
    parameters (decoded, as API Gateway passes them)."""
    from slaclock.runtime.admin_api import openapi_document

    for template in openapi_document()["paths"]:
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        m = re.match(pattern, path)
        if m:
            return template, {k: unquote(v) for k, v in m.groupdict().items()}
    return path, {}


def conforms(method: str, path: str, status: int, doc: Any) -> None:
    """The answer matches what the OpenAPI document promises for (path, method, status)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from slaclock.runtime.admin_api import openapi_document

    spec = openapi_document()
    path = documented_path(path.partition("?")[0])[0]
    responses = spec["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which the document does not list"
    content = responses[str(status)].get("content", {}).get("application/json")
    if content is None:
        return
    # The response schema's "#/components/..." references point into the whole document.
    schema = json.loads(
        json.dumps(content["schema"]).replace('"#/components/', '"urn:admin-openapi#/components/')
    )
    resource = Resource.from_contents(spec, default_specification=DRAFT_2020_12)
    validator = Draft202012Validator(schema, registry=Registry().with_resource("urn:admin-openapi", resource))
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == [], (method, path, status, errors)


class Admin:
    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def __call__(
        self, method: str, path: str, body: Any = None, **kw: Any
    ) -> tuple[int, dict[str, str], Any]:
        from tests.events.builders import LambdaContext

        answer = self.handler.lambda_handler(admin_event(method, path, body, **kw), LambdaContext("admin"))
        raw = answer.get("body") or "null"
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = raw
        if kw.get("signed", True):
            conforms(method, path, answer["statusCode"], doc)
        return answer["statusCode"], {k.lower(): v for k, v in (answer.get("headers") or {}).items()}, doc


@pytest.fixture
def admin(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Admin]:
    admin_wiring.reset()
    monkeypatch.setattr(admin_wiring, "clock", lambda: NOW)
    yield Admin(load_handler("admin"))
    admin_wiring.reset()


def audit_items(aws: AwsStack) -> list[dict[str, Any]]:
    answer = aws.client("dynamodb").query(
        TableName=aws.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "AUDIT#config"}},
    )
    return list(answer["Items"])


def level_minutes(doc: dict[str, Any]) -> Any:
    return json.dumps(doc["levels"], sort_keys=True)


def test_no_configuration_yet_is_404_and_the_first_put_needs_if_none_match(admin: Admin, aws: AwsStack):
    status, _, answer = admin("GET", "/admin/config")
    assert status == 404
    status, _, answer = admin("PUT", "/admin/config", CONFIG_DOC)
    assert status == 428
    status, headers, answer = admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    assert status == 200, answer
    assert answer["version"] == 1 and answer["document"] == CONFIG_DOC
    assert headers["etag"] == answer["etag"]


def test_put_with_the_current_etag_makes_a_new_version_and_a_stale_one_is_412(admin: Admin, aws: AwsStack):
    S3ConfigStore(bucket=aws.bucket, key=aws.config_key, client=aws.client("s3")).push(
        json.dumps(CONFIG_DOC), "json"
    )
    status, headers, first = admin("GET", "/admin/config")
    assert status == 200 and first["version"] == 1
    changed = copy.deepcopy(CONFIG_DOC)
    changed["levels"]["urgent"]["targets"]["first_response"]["within"] = "15m"
    status, _, second = admin("PUT", "/admin/config", changed, headers={"If-Match": headers["etag"]})
    assert status == 200, second
    assert second["version"] == 2 and second["etag"] != first["etag"]
    # The other admin still holds the first ETag: refused, nothing written.
    before = audit_items(aws)
    status, _, answer = admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-Match": first["etag"]})
    assert status == 412, answer
    assert audit_items(aws) == before
    status, _, now = admin("GET", "/admin/config")
    assert now["version"] == 2 and now["document"] == changed
    # the functions read what the admin API stored (the same object, the same parser)
    config = S3ConfigStore(bucket=aws.bucket, key=aws.config_key, client=aws.client("s3")).load()
    from slaclock.adapters.config_file import validate_document

    assert config == validate_document(changed)


def test_an_invalid_document_is_422_with_every_error_and_writes_nothing(admin: Admin, aws: AwsStack):
    admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    _, headers, _ = admin("GET", "/admin/config")
    bad = copy.deepcopy(CONFIG_DOC)
    bad["calendars"] = "not a mapping"
    bad["levels"] = 7
    before = audit_items(aws)
    status, _, answer = admin("PUT", "/admin/config", bad, headers={"If-Match": headers["etag"]})
    assert status == 422
    assert answer["error"] == "invalid configuration"
    assert len(answer["problems"]) >= 2
    assert any("calendars" in p for p in answer["problems"]) and any(
        "levels" in p for p in answer["problems"]
    )
    assert audit_items(aws) == before
    status, _, versions = admin("GET", "/admin/config/versions")
    assert [v["version"] for v in versions["versions"]] == [1]


def test_a_body_that_is_not_a_json_object_is_422_not_500(admin: Admin):
    for raw in ("[1, 2]", "{", "null", '"text"'):
        status, _, answer = admin("PUT", "/admin/config", raw, headers={"If-Match": '"x"'})
        assert status == 422, (raw, status, answer)


def test_rollback_stores_the_old_text_as_a_new_version_and_the_audit_names_who(admin: Admin, aws: AwsStack):
    _, _, first = admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    changed = copy.deepcopy(CONFIG_DOC)
    changed["levels"]["standard"]["targets"]["resolution"]["within"] = "6h"
    _, _, second = admin("PUT", "/admin/config", changed, headers={"If-Match": first["etag"]})
    assert second["version"] == 2
    status, _, rolled = admin("POST", "/admin/config/rollback", {"version": 1})
    assert status == 200, rolled
    assert rolled["version"] == 3 and rolled["document"] == CONFIG_DOC
    status, _, versions = admin("GET", "/admin/config/versions")
    rows = versions["versions"]
    assert [(r["version"], r["current"]) for r in rows] == [(3, True), (2, False), (1, False)]
    assert {r["author"] for r in rows} == {PRINCIPAL}
    items = audit_items(aws)
    applied = sorted(
        (i for i in items if i["status"]["S"] == "applied"), key=lambda i: int(i["version"]["N"])
    )
    assert [(i["action"]["S"], i["version"]["N"]) for i in applied] == [
        ("put", "1"),
        ("put", "2"),
        ("rollback", "3"),
    ]
    assert applied[-1]["from_version"]["N"] == "1"
    assert len(items) == 3  # each pending entry was completed in place: none is left pending
    assert all(i["who"]["S"] == PRINCIPAL and i["at"]["S"].startswith("2026-11-21T08:00:00") for i in applied)
    status, _, _ = admin("POST", "/admin/config/rollback", {"version": 9})
    assert status == 404
    status, _, _ = admin("POST", "/admin/config/rollback", {"version": "one"})
    assert status == 422


def test_a_request_without_a_principal_is_401_and_stores_nothing(admin: Admin, aws: AwsStack):
    status, _, _ = admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"}, signed=False)
    assert status == 401
    assert audit_items(aws) == []
    assert aws.client("s3").list_object_versions(Bucket=aws.bucket).get("Versions", []) == []
    for method, path in (
        ("GET", "/admin/config"),
        ("GET", "/admin/config/versions"),
        ("GET", "/admin/openapi.json"),
    ):
        assert admin(method, path, signed=False)[0] == 401


def test_a_jwt_caller_is_audited_by_its_subject(admin: Admin, aws: AwsStack):
    """With the JWT authorizer (template parameter AdminJwtIssuer), API Gateway passes the verified
    token's claims as ``requestContext.authorizer.jwt.claims`` (payload format 2.0: API Gateway developer
    guide, "Create AWS Lambda proxy integrations for HTTP APIs"); the audit names the ``sub``."""
    from tests.events.builders import LambdaContext

    subject = "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
    event = admin_event("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    event["requestContext"]["authorizer"] = {
        "jwt": {
            "claims": {"sub": subject, "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
                       "client_id": "client-a", "token_use": "access"},
            "scopes": ["slaclock/admin"],
        }
    }  # fmt: skip
    answer = admin.handler.lambda_handler(event, LambdaContext("admin"))
    assert answer["statusCode"] == 200, answer
    items = audit_items(aws)
    assert [i["status"]["S"] for i in items] == ["applied"] and {i["who"]["S"] for i in items} == {subject}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "body: not valid JSON: nested deeper than 64 levels"),
        ('{"levels": ' + "9" * 5000 + "}", "body: not valid JSON: an integer of 5000 digits (at most 38)"),
        ('{"levels": NaN}', "body: not valid JSON: NaN is not JSON: numbers must be finite"),
        ('{"levels": 1e999}', "body: not valid JSON: the number 1e999 is out of range"),
        ('{"levels": [1,', "body: not valid JSON: Expecting value"),
    ],
)
def test_a_hostile_body_is_422_naming_the_problem_and_stores_nothing(
    admin: Admin, aws: AwsStack, body, problem
):
    """The resolver decodes bodies with the decoder of the webhooks (`engine.json_input`): what the
    standard library would crash on (a RecursionError, Python's 4,300-digit limit: a 500) or let
    through (NaN) is a 422 like a syntax error."""
    admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    _, headers, _ = admin("GET", "/admin/config")
    before = audit_items(aws)
    for method, path in (("PUT", "/admin/config"), ("POST", "/admin/config/dry-run")):
        status, _, answer = admin(method, path, body, headers={"If-Match": headers["etag"]})
        assert status == 422, (path, status, answer)
        assert answer == {"error": "invalid request", "problems": [problem]}
    assert audit_items(aws) == before
    status, _, versions = admin("GET", "/admin/config/versions")
    assert [v["version"] for v in versions["versions"]] == [1]
