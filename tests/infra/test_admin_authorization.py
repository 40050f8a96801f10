"""As AWS SAM translates template.yaml (its own translator, tests/infra/iam.py `transformed`), every
``/admin`` route of the HTTP API requires SigV4 (AWS_IAM), and adding the admin routes left the
helpdesk webhook route public (each helpdesk signs its deliveries; API Gateway cannot check those)."""

from __future__ import annotations

from typing import Any

from tests.infra.iam import transformed


def _http_api_body() -> dict[str, Any]:
    body: dict[str, Any] = transformed()["Resources"]["HttpApi"]["Properties"]["Body"]
    return body


def test_every_admin_route_requires_sigv4_in_the_translated_template():
    body = _http_api_body()
    admin = {(p, m): op.get("security") for p, ops in body["paths"].items() for m, op in ops.items()
             if p.startswith("/admin")}  # fmt: skip
    assert len(admin) == 6
    assert all(security == [{"AWS_IAM": []}] for security in admin.values()), admin
    scheme = body["components"]["securitySchemes"]["AWS_IAM"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_the_webhook_route_stays_public():
    assert _http_api_body()["paths"]["/webhooks/{source}"]["post"].get("security") is None
