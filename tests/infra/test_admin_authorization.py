"""As AWS SAM translates template.yaml (its own translator, tests/infra/iam.py `transformed`), every
``/admin`` route of the HTTP API has an authorizer in both modes: AWS_IAM (SigV4) by default, the JWT
authorizer of the issuer and audience given when ``AdminJwtIssuer`` is set; the helpdesk webhook route
stays public (each helpdesk signs its deliveries; API Gateway cannot check those). Every route the
admin function serves (`slaclock.runtime.admin_api`) is deployed, and nothing else under /admin."""

from __future__ import annotations

from typing import Any

import pytest
from slaclock.runtime.admin_api import app

from tests.infra.iam import _conditions, resolve_ifs, transformed

JWT = {
    "AdminJwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
    "AdminJwtAudience": "client-a,client-b",
}


def _resources(**parameters: str) -> dict[str, Any]:
    """The translated template's resources with the conditions of `parameters` applied (a resource
    whose Condition is false is left out, as CloudFormation leaves it out)."""
    template = transformed(tuple(sorted(parameters.items())))
    conditions = _conditions(parameters)
    return {
        name: resolve_ifs(res, conditions)
        for name, res in template["Resources"].items()
        if conditions.get(res.get("Condition", ""), True)
    }


def _admin_routes(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route" and " /admin" in r["Properties"]["RouteKey"]
    }


def _served() -> set[str]:
    return {f"{r.method} {r.openapi_path}" for r in app._static_routes + app._dynamic_routes}


def test_every_admin_route_requires_sigv4_by_default():
    resources = _resources()
    routes = _admin_routes(resources)
    assert set(routes) == _served()
    assert all(r["AuthorizationType"] == "AWS_IAM" and "AuthorizerId" not in r for r in routes.values()), (
        routes
    )
    assert "AdminJwtAuthorizer" not in resources
    assert all(r["Target"] == {"Fn::Sub": "integrations/${AdminIntegration}"} for r in routes.values())


def test_with_an_issuer_every_admin_route_takes_the_jwt_authorizer():
    resources = _resources(**JWT)
    routes = _admin_routes(resources)
    assert set(routes) == _served()
    assert all(
        r["AuthorizationType"] == "JWT" and r["AuthorizerId"] == {"Ref": "AdminJwtAuthorizer"}
        for r in routes.values()
    ), routes
    authorizer = resources["AdminJwtAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Issuer": {"Ref": "AdminJwtIssuer"},
        "Audience": {"Fn::Split": [",", {"Ref": "AdminJwtAudience"}]},
    }


@pytest.mark.parametrize("parameters", [{}, JWT], ids=["iam", "jwt"])
def test_the_webhook_route_stays_public(parameters):
    body = transformed(tuple(sorted(parameters.items())))["Resources"]["HttpApi"]["Properties"]["Body"]
    assert list(body["paths"]) == ["/webhooks/{source}"]
    assert body["paths"]["/webhooks/{source}"]["post"].get("security") is None


def test_api_gateway_may_invoke_the_admin_function_for_admin_paths_only():
    permission = _resources()["AdminInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${HttpApi}/*/*/admin/*")
