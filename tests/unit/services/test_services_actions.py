"""The steps' actions run by the check: each exactly once, after the step's e-mail, isolated from one
another; a failing one goes to the dead-letter queue; a met step fires once when a clock is met."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from slaclock.engine.clocks import StepKind
from slaclock.ports import ActionRejected
from slaclock.services.check import run_check

from tests.fakes.world import CONFIG_DOC, T0, World, minutes

SLACK = {"kind": "slack", "webhook_secret": "slaclock/test/slack"}


def world(**level_actions: Any) -> World:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"] = {
        "zd": {
            "provider": "zendesk",
            "secret": {"ssm_parameter": "/slaclock/custom"},
            "ticket_url": "https://acme.zendesk.com/agent/tickets/{ticket_number}",
            "api": {"url": "https://acme.zendesk.com", "secret": {"secrets_manager": "slaclock/test/zd"}},
        }
    }
    standard = doc["levels"]["standard"]
    standard["actions"] = level_actions
    standard["escalations"] = [
        {"at": "60%", "actions": [{"kind": "unassign"}]},
        *standard["escalations"],
    ]
    return World(doc)


def test_breach_actions_run_once_after_the_e_mail_and_never_again() -> None:
    w = world(breach=[SLACK, {"kind": "add_tags", "tags": ["sla-breached"]}])
    w.ingest(w.event("created", at=T0))
    first = w.check(now=T0 + minutes(61))
    assert [c.kind for c in w.actions.calls] == ["unassign", "slack", "add_tags"]
    assert first.actions_sent == 3 and first.actions_dead_lettered == 0
    assert [m.subject.split(":")[0] for m in w.mailer.sent] == ["SLA warning", "SLA breached"]
    slack = w.actions.calls[1]
    assert slack.ticket == "4711" and slack.notice.step.kind is StepKind.BREACH
    assert slack.values["ticket_url"] == "https://acme.zendesk.com/agent/tickets/4711"
    tags = w.actions.calls[2]
    assert (tags.provider, tags.api_url, tags.api_secret) == (
        "zendesk",
        "https://acme.zendesk.com",
        "slaclock/test/zd",
    )
    # a redelivered check, and one whose ticket cache was lost, repeat nothing: the ledger answers
    w.check(now=T0 + minutes(62))
    assert len(w.actions.calls) == 3
    w.tickets.items["4711"].notified = frozenset()
    again = w.check(now=T0 + minutes(63))
    assert len(w.actions.calls) == 3 and again.actions_sent == 0


def test_a_failing_action_never_blocks_the_e_mail_nor_the_next_action() -> None:
    w = world(breach=[SLACK, {"kind": "add_tags", "tags": ["x"]}])
    w.ingest(w.event("created", at=T0))
    w.actions.fail_next = 2  # the 60% unassign and the breach's slack give up
    result = w.check(now=T0 + minutes(61))
    assert [m.subject.split(":")[0] for m in w.mailer.sent] == ["SLA warning", "SLA breached"]
    assert [c.kind for c in w.actions.calls] == ["add_tags"]
    assert result.actions_dead_lettered == 2 and result.pending == ()
    assert [r["kind"] for r in w.dead_letters.records] == ["unassign", "slack"]
    record = w.dead_letters.records[1]
    assert record["ticket_id"] == "4711" and "gave up" in record["error"]
    assert not {"requester", "assignee"} & set(record)
    w.check(now=T0 + minutes(70))  # dead-lettered is done: not tried again
    assert [c.kind for c in w.actions.calls] == ["add_tags"]


def test_a_refused_action_is_dead_lettered_too() -> None:
    w = world(breach=[SLACK])
    w.ingest(w.event("created", at=T0))
    w.actions.fail_next, w.actions.error = 1, ActionRejected("POST hooks.slack.com answered 404")
    w.check(now=T0 + minutes(36))  # the 60% rung
    assert w.dead_letters.records[0]["error"].startswith("ActionRejected")


def test_when_the_dead_letter_queue_refuses_the_action_is_retried_after_its_lease() -> None:
    w = world()
    w.ingest(w.event("created", at=T0))
    w.actions.fail_next = 1
    w.dead_letters.fail_next = 1
    result = w.check(now=T0 + minutes(37))
    assert len(result.pending) == 1 and result.pending[0].endswith("#escalation-1#action-1-unassign")
    assert result.retry_at == T0 + minutes(42)
    w.check(now=T0 + minutes(39))  # still leased: nothing
    assert w.actions.calls == []
    w.check(now=T0 + minutes(42))
    assert [c.kind for c in w.actions.calls] == ["unassign"]


def test_the_met_step_fires_once_when_the_clock_is_met_in_time() -> None:
    w = world(met=[SLACK], breach=[SLACK])
    w.ingest(w.event("created", at=T0))
    ingest = w.ingest(w.event("agent_replied", at=T0 + minutes(20)))
    # the delivery that met the clock arms a check for the next minute, so the met step is not late
    assert ingest[0].next_check_at == T0 + minutes(21)
    w.fire()
    met = [c for c in w.actions.calls if c.notice.step.kind is StepKind.MET]
    assert len(met) == 1 and met[0].notice.metric.value == "first_response"
    assert met[0].notice.key == "4711#first_response#1#met"
    w.check(now=T0 + minutes(30))
    assert len([c for c in w.actions.calls if c.notice.step.kind is StepKind.MET]) == 1


def test_email_eventbridge_and_webhook_actions_use_their_ports() -> None:
    w = world(
        breach=[
            {"kind": "email", "to": ["oncall@example.com"]},
            {"kind": "eventbridge", "detail_type": "Acme SLA"},
            {
                "kind": "webhook",
                "url": "https://hooks.example.com/acme",
                "secret": "/slaclock/outgoing-webhook",
            },
        ]
    )
    w.ingest(w.event("created", at=T0))
    w.check(now=T0 + minutes(61))
    assert any(
        m.to == ("oncall@example.com",) and m.subject.startswith("SLA breached") for m in w.mailer.sent
    )
    assert ("Acme SLA", "4711#first_response#1#breach") in [(t, d["notice"]) for t, d in w.publisher.events]
    url, body, headers = w.webhooks.posts[-1]
    assert url == "https://hooks.example.com/acme" and b'"type":"breach"' in body
    assert any(k.lower().startswith("x-slaclock-signature") for k in headers)


def test_a_check_without_actions_wired_sends_its_e_mails_and_runs_none() -> None:
    w = world(breach=[SLACK])
    w.check_ports = replace(w.check_ports, action_ledger=None)
    w.ingest(w.event("created", at=T0))
    result = run_check(w.check_ports, "4711", T0 + minutes(61))
    assert w.actions.calls == [] and result.actions_sent == 0 and result.pending == ()
    assert [m.subject.split(":")[0] for m in w.mailer.sent] == ["SLA warning", "SLA breached"]
