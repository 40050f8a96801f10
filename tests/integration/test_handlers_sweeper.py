# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""functions/sweeper on moto: lost, throttled and failed schedules caught through the due-checks index."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from slaclock.adapters.dynamodb import DynamoTicketStore
from slaclock.runtime import wiring

from tests.fakes.world import T0
from tests.integration._handlers import (  # noqa: F401 - fixtures
    Pipeline,
    emitted_metrics,
    pipeline,
    ses_outage,
    throttled_scheduler,
)

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


def test_a_deleted_schedule_is_caught_by_the_next_sweep(pipeline: Pipeline, api_calls):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    schedule = p.schedule()
    p.aws.client("scheduler").delete_schedule(Name=schedule["Name"], GroupName=p.aws.schedule_group)

    p.now = T0 + 29 * MIN
    assert p.sweep()["checked"] == 0
    p.now = T0 + 35 * MIN
    api_calls.clear()
    result = p.sweep()

    assert (result["checked"], result["failed"], result["truncated"]) == (1, [], False)
    assert result["fanned_out"] == [] and p.workers == []
    assert [m.subject.split(":")[0] for m in p.emails()] == ["SLA warning"]
    assert p.armed_for() == "2026-11-20T11:00:00Z"
    assert ("dynamodb", "Scan") not in api_calls and ("dynamodb", "Query") in api_calls


def test_a_throttled_scheduler_at_ingest_is_caught_by_the_sweeper(pipeline: Pipeline, throttled_scheduler):
    p = pipeline
    p.now = T0 + MIN
    assert p.deliver(p.event("created", at=T0))[0] == 202
    assert p.schedule() is None

    throttled_scheduler["on"] = False
    p.now = T0 + 32 * MIN
    assert p.sweep()["checked"] == 1
    assert len(p.emails()) == 1 and p.armed_for() == "2026-11-20T11:00:00Z"


def test_a_failed_email_whose_schedule_is_lost_is_retried_by_the_sweeper_once(pipeline: Pipeline, ses_outage):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    p.fire()  # SES refuses: claimed, not sent, retry armed for 10:36
    schedule = p.schedule()
    p.aws.client("scheduler").delete_schedule(Name=schedule["Name"], GroupName=p.aws.schedule_group)
    ses_outage["on"] = False

    p.now = T0 + 34 * MIN
    assert p.sweep()["checked"] == 0  # not due before the lease ends
    p.now = T0 + 40 * MIN
    assert p.sweep()["checked"] == 1
    p.now = T0 + 45 * MIN
    p.sweep()
    assert [m.subject.split(":")[0] for m in p.emails()] == ["SLA warning"]


def test_a_ticket_whose_check_fails_is_counted_for_its_alarm_and_the_others_are_checked(
    pipeline: Pipeline, monkeypatch, capsys
):
    p = pipeline
    p.now = T0 + MIN
    for ticket_id in ("broken", "fine"):
        p.deliver(p.event("created", at=T0, ticket_id=ticket_id))
    client = p.aws.client("scheduler")
    for s in client.list_schedules(GroupName=p.aws.schedule_group)["Schedules"]:
        client.delete_schedule(Name=s["Name"], GroupName=p.aws.schedule_group)
    original = DynamoTicketStore.get

    def get(self, ticket_id):
        if ticket_id == "broken":
            raise RuntimeError("an item the code cannot read")
        return original(self, ticket_id)

    monkeypatch.setattr(DynamoTicketStore, "get", get)
    p.now = T0 + 31 * MIN
    capsys.readouterr()

    result = p.sweep()
    assert (result["checked"], result["failed"], result["truncated"]) == (1, ["broken"], False)
    metrics = emitted_metrics(capsys.readouterr().out, p.aws)
    assert metrics["CheckFailures"] == 1 and metrics["SweptTickets"] == 1 and metrics["Warnings"] == 1


def test_an_unsent_notice_is_counted_for_its_alarm(pipeline: Pipeline, ses_outage, capsys):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    capsys.readouterr()

    p.fire()  # SES refuses the warning: claimed, not sent, retried in about 6 minutes

    assert emitted_metrics(capsys.readouterr().out, p.aws).get("NoticesPending") == 1
    assert p.emails() == []


def _lose_every_schedule(p: Pipeline) -> None:
    client = p.aws.client("scheduler")
    for page in client.get_paginator("list_schedules").paginate(GroupName=p.aws.schedule_group):
        for s in page["Schedules"]:
            client.delete_schedule(Name=s["Name"], GroupName=p.aws.schedule_group)


@pytest.mark.slow
def test_a_sweep_drains_every_overdue_ticket_not_200(pipeline: Pipeline):
    p = pipeline
    p.now = T0 + MIN
    events = [p.event("created", at=T0, ticket_id=f"t{n}") for n in range(205)]
    for i in range(0, len(events), 50):
        assert p.deliver(*events[i : i + 50])[0] == 202
    _lose_every_schedule(p)
    p.now = T0 + 31 * MIN

    result = p.sweep()

    assert (result["checked"], result["truncated"], p.workers) == (205, False, [])
    assert len(p.emails()) == 205


def test_a_backlog_one_sweep_cannot_drain_fans_out_and_each_worker_continues_itself(
    pipeline: Pipeline, capsys
):
    p = pipeline
    p.now = T0 + MIN
    for n in range(12):
        p.deliver(p.event("created", at=T0, ticket_id=f"t{n}"))
    _lose_every_schedule(p)
    p.now = T0 + 31 * MIN
    capsys.readouterr()

    tick = p.sweep(remaining_ms=1_000)  # already inside its reserve: it checks nothing, hands over

    assert (tick["checked"], tick["truncated"], tick["fanned_out"]) == (0, True, [0, 1, 2, 3])
    assert [json.loads(w["Payload"])["sweep_part"] for w in p.workers] == [0, 1, 2, 3]
    assert emitted_metrics(capsys.readouterr().out, p.aws)["SweepFanOut"] == 4
    assert p.sweep()["busy"] == [0, 1, 2, 3] and p.emails() == []  # the workers own the shards

    first = p.run_worker(remaining_ms=1_000)  # a worker short of time continues itself
    assert first["fanned_out"] == first["parts"] and len(p.workers) == 4
    while p.workers:
        p.run_worker()
    subjects = sorted(m.subject.split(",")[0] for m in p.emails())
    assert subjects == sorted(f"SLA warning: ticket t{n}" for n in range(12))  # each once
    assert p.sweep()["parts"] == [0, 1, 2, 3]  # every lease released


def test_a_max_tickets_bound_still_applies_when_set(pipeline: Pipeline, monkeypatch):
    p = pipeline
    p.now = T0 + MIN
    for n in range(3):
        p.deliver(p.event("created", at=T0, ticket_id=f"t{n}"))
    _lose_every_schedule(p)
    monkeypatch.setenv("SLACLOCK_SWEEP_MAX_TICKETS", "2")
    wiring.reset()
    p.now = T0 + 31 * MIN

    result = p.sweep()
    assert (result["checked"], result["truncated"], len(p.workers)) == (2, True, 4)
    while p.workers:
        p.run_worker()
    assert len(p.emails()) == 3
