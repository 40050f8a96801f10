"""functions/admin's role, as AWS SAM expands template.yaml, allows every call the admin routes make
on moto, grants no S3 or DynamoDB action they do not make, writes the audit partition only
(``AUDIT#*``: the admin function never writes a ticket item) and reads the table by Query alone (ticket
items ``T#*``, the open-clocks and clocks-by-outcome indexes).

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
from tests.integration.conftest import AwsStack
from tests.integration.test_admin_config import Admin, admin  # noqa: F401 - fixture
from tests.integration.test_least_privilege import _allows, needed

pytestmark = pytest.mark.integration


@pytest.fixture
def calls(admin: Admin, aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str | None]]:  # noqa: F811
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
    # the read routes: open clocks, today's compliance, a timeline (events and notices), a dry run
    from slaclock.adapters.dynamodb import DynamoEventStore
    from slaclock.engine.events import parse_event

    DynamoEventStore(aws.table).put_if_new(
        parse_event(
            {"id": "e1", "ticket_id": "T-1", "type": "created", "at": "2026-11-21T07:00:00Z", "ticket": {}}
        )
    )
    assert admin("GET", "/admin/clocks?state=at_risk")[0] == 200
    assert admin("GET", "/admin/compliance/today")[0] == 200
    assert admin("GET", "/admin/tickets/T-1/timeline")[0] == 200
    period = {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}
    assert admin("POST", "/admin/config/dry-run", {"config": CONFIG_DOC, **period})[0] == 200
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


def test_the_admin_function_writes_the_audit_partition_only_and_reads_by_query():
    table = [g for g in function_grants("AdminFunction") if any(a.startswith("dynamodb:") for a in g.actions)]
    writes = [g for g in table if g.actions - {"dynamodb:Query"}]
    assert writes and all(
        g.condition == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}} for g in writes
    )
    reads = [g for g in table if g.actions == {"dynamodb:Query"}]
    on_table = [g for g in reads if g.dynamodb_resources == {"table"}]
    assert all(
        g.condition == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*"]}} for g in on_table
    )
    assert {r for g in reads for r in g.dynamodb_resources} == {
        "table",
        "index/open-clocks",
        "index/clocks-by-outcome",
    }
