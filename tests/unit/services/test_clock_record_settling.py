"""A clock record whose clock is gone is deleted by the ticket's next save (`services.snapshots.
settle_records`), and a clock with no record is written: the records reports read are the clocks the
ticket has, after late events and after configuration changes.

On the in-memory ports: the fake store answers `records` as the DynamoDB store does and refuses a
save whose account of them is not exact (tests/fakes `FakeTicketStore.save`)."""

from __future__ import annotations

import copy
from typing import Any

from slaclock.engine.clocks import ClockStatus
from slaclock.engine.config import load_config

from tests.fakes.world import CONFIG_DOC, T0, World, minutes


def records(w: World, ticket_id: str = "4711") -> dict[tuple[str, int], str]:
    """The ticket's clock records: (metric, cycle) -> status."""
    return {(m, c): r.status.value for (tid, m, c), r in w.tickets.clock_records.items() if tid == ticket_id}


def reconfigure(w: World, doc: dict[str, Any]) -> None:
    """Put a new configuration in force (as a new `config.yaml` in S3 would be, a few minutes later)."""
    w.config_source.config = load_config(doc)


def test_a_late_deletion_takes_away_the_cycle_it_prevented():
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["targets"]["next_response"] = {"within": "2h"}
    w = World(doc)
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.ingest(w.event("agent_replied", at=T0 + minutes(5)), now=T0 + minutes(6))
    w.ingest(w.event("customer_replied", at=T0 + minutes(30)), now=T0 + minutes(31))
    assert records(w) == {
        ("first_response", 1): "met", ("resolution", 1): "open", ("next_response", 1): "open",
    }  # fmt: skip

    # The deletion at 10:20 arrives late: replayed, the ticket never had the 10:30 response cycle.
    w.ingest(w.event("deleted", at=T0 + minutes(20)), now=T0 + minutes(40))

    assert records(w) == {("first_response", 1): "met", ("resolution", 1): "cancelled"}
    assert w.tickets.get("4711").records == {("first_response", 1), ("resolution", 1)}


def test_a_dropped_target_takes_its_running_record_away_and_keeps_the_decided_one():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.ingest(w.event("agent_replied", at=T0 + minutes(5)), now=T0 + minutes(6))
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["targets"] = {"next_response": {"within": "2h"}}  # none for the others
    reconfigure(w, doc)

    w.ingest(w.event("updated", at=T0 + minutes(10), priority="high"), now=T0 + minutes(11))

    # resolution runs on without a target: nothing would ever decide its record, so it is gone; the
    # first response was met under the configuration of its day, and stays so
    assert records(w) == {("first_response", 1): "met"}


def test_a_gained_target_is_recorded_at_the_next_event_though_its_clock_did_not_change():
    doc = copy.deepcopy(CONFIG_DOC)
    del doc["levels"]["standard"]["targets"]["resolution"]
    w = World(doc)
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    assert records(w) == {("first_response", 1): "open"}
    reconfigure(w, CONFIG_DOC)

    w.ingest(w.event("updated", at=T0 + minutes(10), priority="high"), now=T0 + minutes(11))

    assert records(w) == {("first_response", 1): "open", ("resolution", 1): "open"}
    assert w.tickets.clock_records[("4711", "resolution", 1)].due_at == T0 + minutes(8 * 60)


GROUP_OLA: dict[str, Any] = {  # docs/configuration.md, `agreements`
    "metrics": {"ownership_time": {"start": {"field": "department", "op": "exists", "value": True},
                                   "reset": {"changes": "department"}, "cycles": True,
                                   "stop": {"field": "solved", "op": "is", "value": True}}},
    "agreements": {"group_ola": {
        "levels": {"billing_ola": {"calendar": "always", "targets": {"ownership_time": {"within": "2h"}}}},
        "rules": [{"name": "billing", "when": {"field": "department", "op": "is", "value": "billing"},
                   "set_level": "billing_ola", "stop": True}]}},
}  # fmt: skip


def test_an_agreement_the_configuration_drops_leaves_the_records():
    w = World({**CONFIG_DOC, **GROUP_OLA})
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    assert records(w)[("ownership_time@group_ola", 1)] == "open"
    reconfigure(w, CONFIG_DOC)

    w.ingest(w.event("updated", at=T0 + minutes(10), priority="high"), now=T0 + minutes(11))

    assert records(w) == {("first_response", 1): "open", ("resolution", 1): "open"}


def test_a_check_settles_the_records_too():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    doc = copy.deepcopy(CONFIG_DOC)
    del doc["levels"]["standard"]["targets"]["resolution"]
    reconfigure(w, doc)

    result = w.fire()  # the first-response warning at 10:30, under the new configuration

    assert result.sent and records(w) == {("first_response", 1): "open"}
    # the next check, with nothing else to do, writes nothing
    saves = w.tickets.saves
    w.check(now=T0 + minutes(31))
    assert w.tickets.saves == saves


def test_nothing_is_removed_or_rewritten_while_the_clocks_stay():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.tickets.written.clear()
    for i in range(3):
        w.ingest(w.event("updated", at=T0 + minutes(2 + i), priority=f"p{i}"), now=T0 + minutes(3 + i))
    assert w.tickets.written == []
    assert {r.status for r in w.tickets.clock_records.values()} == {ClockStatus.OPEN}
