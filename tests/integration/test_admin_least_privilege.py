"""functions/admin's role, as AWS SAM expands template.yaml, allows every call the admin routes make
on moto, grants no S3 or DynamoDB action they do not make, and keeps the table grant to the audit
partition (``AUDIT#*``: the admin function never writes a ticket item).

The calls are recorded and mapped to IAM actions as in test_least_privilege.py (the same `needed`),
plus one rule that mapping does not need elsewhere: a GetObject naming a ``VersionId`` is authorised as
``s3:GetObjectVersion`` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.fakes.world import CONFIG_DOC
from tests.infra.iam import function_grants
from tests.integration.test_admin_config import Admin, admin  # noqa: F401 - fixture
from tests.integration.test_least_privilege import _allows, needed

pytestmark = pytest.mark.integration


@pytest.fixture
def calls(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str | None]]:  # noqa: F811
    import botocore.client

    seen: set[tuple[str, str | None]] = set()
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        service, params = self.meta.service_model.signing_name, dict(api_params)
        if (service, operation_name) == ("s3", "GetObject") and params.get("VersionId"):
            seen.add(("s3:GetObjectVersion", None))
        else:
            seen.update(needed(service, operation_name, params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    _, _, first = admin("PUT", "/admin/config", CONFIG_DOC, headers={"If-None-Match": "*"})
    changed = copy.deepcopy(CONFIG_DOC)
    changed["levels"]["standard"]["targets"]["resolution"]["within"] = "6h"
    assert admin("PUT", "/admin/config", changed, headers={"If-Match": first["etag"]})[0] == 200
    assert admin("GET", "/admin/config")[0] == 200
    assert admin("GET", "/admin/config/versions")[0] == 200
    assert admin("POST", "/admin/config/rollback", {"version": 1})[0] == 200
    return seen


def test_every_call_of_the_admin_routes_is_allowed_by_its_role(calls: set[tuple[str, str | None]]):
    grants = function_grants("AdminFunction")
    refused = sorted((a, r or "") for a, r in calls if not _allows(grants, a, r))
    assert refused == [], f"AdminFunction would get AccessDenied for {refused}"


def test_the_admin_role_grants_no_table_or_bucket_action_it_does_not_call(calls: set[tuple[str, str | None]]):
    granted = {
        (a, r if a.startswith("dynamodb:") else None)
        for g in function_grants("AdminFunction")
        for a in g.actions
        if a.split(":")[0] in ("dynamodb", "s3")
        for r in (g.dynamodb_resources or {None})
    }
    called = {(a, r) for a, r in calls if a.split(":")[0] in ("dynamodb", "s3")}
    assert granted - called == set()


def test_the_admin_table_grant_is_the_audit_partition_only():
    table = [g for g in function_grants("AdminFunction") if any(a.startswith("dynamodb:") for a in g.actions)]
    assert table and all(
        g.condition == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}} for g in table
    )
