"""The admin API on the local stack, over HTTP: the front serves every /admin route of template.yaml,
refuses (403, before the function runs) any request not SigV4-signed with the local credentials,
and a refused request stores nothing; a signed one reaches functions/admin, whose audit log names the
local principal.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from slaclock.runtime.admin_api import app

from tests.fakes.world import CONFIG_DOC

pytestmark = pytest.mark.e2e

ADMIN_ROUTES = sorted((r.method, r.openapi_path) for r in app._static_routes + app._dynamic_routes)


def stored(stack: Any) -> tuple[list[str], list[dict[str, Any]]]:
    s3, dynamodb = stack.client("s3"), stack.client("dynamodb")
    bucket, table = stack.resources.ref("DataBucket"), stack.resources.ref("SlaTable")
    versions = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])]
    audit = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "AUDIT#config"}},
    )["Items"]
    return sorted(versions), audit


def test_the_local_stack_routes_every_admin_route_with_iam(stack):
    routes = {(r.method, r.path): r for r in stack.routes() if r.path.startswith("/admin")}
    assert set(routes) == set(ADMIN_ROUTES)
    assert all(r.iam_auth for r in routes.values())


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_an_unsigned_request_is_403_and_changes_nothing(stack, http, method, path):
    before = stored(stack)
    body = {"version": 1} if path.endswith("rollback") else CONFIG_DOC if method == "PUT" else None
    if path.endswith("dry-run"):
        body = {"config": CONFIG_DOC, "from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}
    path = path.replace("{ticket_id}", "T-1")
    answer = http.request(method, path, json=body, headers={"If-Match": "*"}, signed=False)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden"}
    assert stored(stack) == before


def test_a_forged_signature_is_403(stack, http):
    answer = http.request(
        "GET", "/admin/config", signed=False,
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=local/20261123/eu-west-1/execute-api/"
                 "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
                 "X-Amz-Date": "20261123T080000Z"},
    )  # fmt: skip
    assert answer.status_code == 403


def test_a_signed_put_is_stored_and_audited_as_the_local_principal(stack, http):
    current = http.get("/admin/config")
    assert current.status_code == 200, current.text  # the demo story's configuration
    changed = copy.deepcopy(current.json()["document"])
    before_versions, _ = stored(stack)
    answer = http.request("PUT", "/admin/config", json=changed, headers={"If-Match": current.headers["ETag"]})
    assert answer.status_code == 200, answer.text
    versions, audit = stored(stack)
    assert len(versions) == len(before_versions) + 1
    assert [(a["status"]["S"], a["who"]["S"]) for a in audit][-1][0] == "applied"
    assert {a["who"]["S"] for a in audit} == {f"arn:aws:iam::{stack.resources.account_id}:user/local"}
    stale = http.request(
        "PUT", "/admin/config", json=CONFIG_DOC, headers={"If-Match": current.headers["ETag"]}
    )
    assert stale.status_code == 412
