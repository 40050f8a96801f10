# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""A team's own KPI (docs/configuration.md, ``metrics``) end to end on moto: a webhook for a ticket
under a level that targets only a configured metric writes that metric's clock record, and the check
fires its breach e-mail."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from tests.fakes.world import CONFIG_DOC, T0
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)

BILLING = {
    "description": "Time in the billing group",
    "start": {"field": "department", "becomes": "billing"},
    "stop": {"field": "department", "leaves": "billing"},
    "cycles": True,
}


def test_a_custom_kpi_writes_its_clock_record_and_the_check_sends_its_breach(pipeline: Pipeline):
    p = pipeline
    doc = copy.deepcopy(CONFIG_DOC)
    doc["metrics"] = {"billing_time": BILLING}
    for level in doc["levels"].values():
        level["targets"] = {"billing_time": {"within": "30m"}}
        level.pop("escalations", None)
    put_config(p.aws, config_yaml(doc))

    p.now = T0 + MIN
    assert p.deliver(p.event("created", at=T0, department="billing"))[0] == 202
    (clock,) = [i for i in p.items(prefix="C#")]
    assert clock["sk"] == "C#billing_time#00001" and clock["status"] == "open"
    assert p.armed_for() == "2026-11-20T10:30:00Z"

    result = p.fire()

    assert result["sent"] == ["4711#billing_time#1#breach"]
    (mail,) = p.emails()
    assert mail.subject.startswith("SLA breached: ticket 4711, billing_time")
    (clock,) = [i for i in p.items(prefix="C#")]
    assert clock["status"] == "missed"
    assert [i["sk"] for i in p.items(prefix="N#")] == ["N#billing_time#1#breach"]
