# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Clock records follow the clocks on moto: a deletion delivered late replays the ticket without the
response cycle it prevented, and the same transaction deletes that cycle's record, so the reports'
running partition does not keep it for ever (`services.snapshots.settle_records`)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from tests.fakes.world import CONFIG_DOC, T0
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


def test_a_late_deletion_deletes_the_record_of_the_cycle_it_took_away(pipeline: Pipeline):
    p = pipeline
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["targets"]["next_response"] = {"within": "2h"}
    put_config(p.aws, config_yaml(doc))
    for minute, kind in ((0, "created"), (5, "agent_replied"), (30, "customer_replied")):
        p.now = T0 + (minute + 1) * MIN
        assert p.deliver(p.event(kind, at=T0 + minute * MIN))[0] == 202
    assert {i["sk"]: i["status"] for i in p.items(prefix="C#")} == {
        "C#first_response#00001": "met", "C#next_response#00001": "open", "C#resolution#00001": "open",
    }  # fmt: skip

    p.now = T0 + 40 * MIN
    assert p.deliver(p.event("deleted", at=T0 + 20 * MIN))[0] == 202  # it happened at 10:20

    assert {i["sk"]: i["status"] for i in p.items(prefix="C#")} == {
        "C#first_response#00001": "met", "C#resolution#00001": "cancelled",
    }  # fmt: skip
    assert sorted(p.ticket_item()["records"]) == ["C#first_response#00001", "C#resolution#00001"]
