# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""functions/check on moto: a warning and an escalation due at the same minute reach the assignee as
ONE SES e-mail with the ticket's helpdesk link; SES refusing the second message leaves only that
notice claimed, recorded as delivered to the first address, and the retry e-mails the other address
only. Read back from SES, EventBridge and the notice ledger."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from slaclock.runtime import wiring

from tests.fakes.world import CONFIG_DOC, T0
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)
WARNING = "4711#first_response#1#warning"
ESCALATION = "4711#first_response#1#escalation-1"


@pytest.fixture
def coalescing(pipeline: Pipeline) -> Pipeline:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["escalations"] = [
        {"before_due": "30m", "notify": ["assignee", "head@example.com"]}
    ]
    doc["sources"]["custom"]["ticket_url"] = "https://acme.example.com/agent/tickets/{ticket_number}"
    put_config(pipeline.aws, config_yaml(doc))
    wiring.reset()
    pipeline.now = T0 + MIN
    assert pipeline.deliver(pipeline.event("created", at=T0))[0] == 202
    return pipeline


@pytest.fixture
def second_send_refused(  # SendingPaused is not retried by botocore: the refusal reaches the check
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, int]:
    from moto.core.exceptions import JsonRESTError
    from moto.sesv2.models import SESV2Backend

    calls = {"n": 0}
    original = SESV2Backend.send_email

    def send_email(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise JsonRESTError("SendingPausedException", "Email sending is paused for this account")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SESV2Backend, "send_email", send_email)
    return calls


def _ledger(p: Pipeline, step: str) -> dict[str, Any]:
    (item,) = [i for i in p.items(prefix="N#") if i["sk"] == f"N#first_response#1#{step}"]
    return item


def test_one_email_per_person_for_the_warning_and_the_escalation(coalescing: Pipeline):
    p = coalescing
    result = p.fire()
    assert sorted(result["sent"]) == sorted([WARNING, ESCALATION])
    by_address = {tuple(m.destinations["ToAddresses"]): m for m in p.emails()}
    assert sorted(by_address) == [("ana@example.com",), ("head@example.com",)]
    both = by_address[("ana@example.com",)]
    assert (
        both.subject.startswith("SLA warning: ticket 4711")
        and "SLA escalation 1: ticket 4711" in both.subject
    )
    assert "href='https://acme.example.com/agent/tickets/4711'" in both.body
    assert "SLA warning" not in by_address[("head@example.com",)].subject
    assert _ledger(p, "warning")["status"] == _ledger(p, "escalation-1")["status"] == "sent"
    assert sorted(e["detail-type"] for e in p.bus_events()) == ["SLA Escalation", "SLA Warning"]


def test_ses_refusing_the_second_message_retries_that_address_only(coalescing: Pipeline, second_send_refused):
    p = coalescing
    first = p.fire()
    assert first["sent"] == [WARNING] and first["pending"] == [ESCALATION]
    assert [m.destinations["ToAddresses"] for m in p.emails()] == [["ana@example.com"]]
    assert _ledger(p, "warning")["status"] == "sent" and _ledger(p, "escalation-1")["status"] == "claimed"
    retried = p.fire()  # at the lease's end
    assert retried["sent"] == [ESCALATION] and retried["pending"] == []
    assert [m.destinations["ToAddresses"] for m in p.emails()] == [["ana@example.com"], ["head@example.com"]]
    assert _ledger(p, "escalation-1")["status"] == "sent"
    assert [e["detail-type"] for e in p.bus_events()] == ["SLA Warning", "SLA Escalation"]
    again = p.check_at("4711", T0 + 30 * MIN)
    assert again["sent"] == [] and len(p.emails()) == 2
