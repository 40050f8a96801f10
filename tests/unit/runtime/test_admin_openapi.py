"""The admin API's OpenAPI 3.1 document is the one source of its routes: generated from the pydantic
models of `slaclock.runtime.admin_api` (which also validate the requests), committed as
docs/admin-openapi.json, and every route the resolver serves is in it and in template.yaml, each with
IAM (or JWT) authorisation. (Each answer of the integration tests is checked against it:
tests/integration/test_admin_config.py `conforms`.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slaclock.runtime.admin_api import app, openapi_document
from slaclock_local.resources import load_template

from tests.integration.test_admin_config import conforms

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_document_is_the_generated_one():
    committed = json.loads((ROOT / "docs" / "admin-openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), "regenerate docs/admin-openapi.json (see docs/operating.md)"
    assert committed["openapi"].startswith("3.1")


def test_every_route_is_in_the_document_and_in_the_template_with_iam():
    served = {(r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes}
    documented = {(m.upper(), p) for p, ops in openapi_document()["paths"].items() for m in ops}
    resources = load_template(ROOT / "template.yaml")["Resources"]
    routes = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    deployed = {tuple(r["RouteKey"].split(" ", 1)) for r in routes if " /admin" in r["RouteKey"]}
    assert served == documented == deployed
    assert all(  # tests/infra/test_admin_authorization.py: what each mode resolves to
        r["AuthorizationType"] == {"Fn::If": ["HasAdminJwt", "JWT", "AWS_IAM"]} for r in routes
    )


def test_an_answer_the_document_does_not_describe_is_caught():
    conforms("GET", "/admin/config", 404, {"error": "x"})
    with pytest.raises(AssertionError):
        conforms("GET", "/admin/config", 404, {"error": 5})
    with pytest.raises(AssertionError):
        conforms("GET", "/admin/config", 200, {"version": 1})  # etag, format, document missing
    with pytest.raises(AssertionError):
        conforms("GET", "/admin/config", 418, {"error": "x"})  # a status the document does not list
