# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Several agreements end to end on moto (docs/configuration.md, ``agreements``): a webhook for a
ticket in the billing group writes the customer's clock records and the group's own (``<metric>@
<agreement>``), the check fires the group's breach at its instant, and its e-mail names the agreement.
The group SLA is Zendesk's "ownership time" (https://support.zendesk.com/hc/en-us/articles/5322445643802)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from tests.fakes.world import CONFIG_DOC, T0
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)

OWNERSHIP = {
    "start": {"field": "department", "op": "exists", "value": True},
    "reset": {"changes": "department"},
    "stop": {"field": "solved", "op": "is", "value": True},
    "cycles": True,
}


def test_a_group_sla_runs_beside_the_customer_sla_and_its_breach_names_the_agreement(pipeline: Pipeline):
    p = pipeline
    doc = copy.deepcopy(CONFIG_DOC)
    for level in doc["levels"].values():
        level["targets"] = {"resolution": {"within": "8h"}}
        level.pop("escalations", None)
    doc["metrics"] = {"ownership_time": OWNERSHIP}
    doc["agreements"] = {
        "group_sla": {
            "levels": {"billing_30m": {"calendar": "always", "targets": {"ownership_time": {"within": "30m"}},
                                       "notify": {"breach": ["assignee"]}}},
            "rules": [{"name": "Billing group", "set_level": "billing_30m",
                       "when": {"field": "department", "op": "is", "value": "billing"}}],
        }
    }  # fmt: skip
    put_config(p.aws, config_yaml(doc))

    p.now = T0 + MIN
    assert p.deliver(p.event("created", at=T0, department="billing"))[0] == 202
    records = {i["sk"]: i for i in p.items(prefix="C#")}
    assert sorted(records) == ["C#ownership_time@group_sla#00001", "C#resolution#00001"]
    assert records["C#ownership_time@group_sla#00001"]["level"] == "billing_30m"
    assert p.armed_for() == "2026-11-20T10:30:00Z"  # the group's due instant, before the customer's

    result = p.fire()

    assert result["sent"] == ["4711#ownership_time@group_sla#1#breach"]
    (mail,) = p.emails()
    assert mail.subject.startswith("SLA breached (group_sla): ticket 4711, ownership_time")
    assert "Agreement" in mail.body and "group_sla" in mail.body
    assert {i["sk"]: i["status"] for i in p.items(prefix="C#")} == {
        "C#ownership_time@group_sla#00001": "missed",
        "C#resolution#00001": "open",
    }
    assert p.armed_for() == "2026-11-20T18:00:00Z"  # next: the customer's resolution
