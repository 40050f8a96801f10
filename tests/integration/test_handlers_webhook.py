# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""functions/webhook on moto: API Gateway HTTP API v2 events in, DynamoDB and schedules read back."""

from __future__ import annotations

import copy
import io
import json
import logging
import threading
from datetime import timedelta

import pytest
from slaclock.adapters.dynamodb import DynamoTicketStore
from slaclock.engine.clocks import replay_ticket
from slaclock.engine.policy import compile_policy
from slaclock.runtime import wiring

from tests.fakes.world import CONFIG_DOC, SOURCE_SECRET, T0
from tests.integration._handlers import (  # noqa: F401 - fixtures
    Pipeline,
    config_yaml,
    emitted_metrics,
    pipeline,
    put_config,
    throttled_scheduler,
)

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


def test_a_delivery_is_stored_folded_and_its_check_scheduled(pipeline: Pipeline):
    p = pipeline
    p.now = T0 + 5 * timedelta(seconds=1)
    created = p.event("created", at=T0 + timedelta(seconds=20))

    status, answer = p.deliver(created)

    assert status == 202 and answer == {"event_ids": [created.id], "tickets": ["4711"]}
    assert [i["sk"] for i in p.items(prefix="E#")] == [f"E#{created.id}"]
    item = p.ticket_item()
    assert item is not None and int(item["version"]) == 1
    assert item["next_check_at"].startswith("2026-11-20T10:31:00")
    assert p.armed_for() == "2026-11-20T10:31:00Z"
    schedule = p.schedule()
    assert schedule["ScheduleExpression"] == "at(2026-11-20T10:31:00)"
    assert {i["sk"] for i in p.items(prefix="C#")} == {"C#first_response#00001", "C#resolution#00001"}


def test_a_duplicate_delivery_changes_nothing(pipeline: Pipeline):
    p = pipeline
    created = p.event("created", at=T0)
    p.now = T0 + MIN
    p.deliver(created)
    before = p.ticket_item()

    status, answer = p.deliver(created)

    assert status == 202 and answer["event_ids"] == [created.id]
    assert p.ticket_item() == before
    assert len(p.items(prefix="E#")) == 1


def test_an_out_of_order_delivery_yields_the_in_order_state(pipeline: Pipeline):
    p = pipeline
    created = p.event("created", at=T0)
    agent = p.event("agent_replied", at=T0 + 10 * MIN)
    customer = p.event("customer_replied", at=T0 + 20 * MIN)
    p.now = T0 + 21 * MIN
    p.deliver(created)
    p.deliver(customer)
    p.now = T0 + 22 * MIN
    assert p.deliver(agent)[0] == 202

    expected = replay_ticket(compile_policy(wiring.webhook_ports().config.load()), [created, agent, customer])
    assert p.state().to_dict() == expected.to_dict()
    assert len(p.items(prefix="E#")) == 3


def test_two_concurrent_deliveries_for_one_ticket_both_land(pipeline: Pipeline, monkeypatch):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    a = p.event("updated", at=T0 + 2 * MIN, priority="high")
    b = p.event("agent_replied", at=T0 + 3 * MIN)
    p.now = T0 + 4 * MIN

    # Both read version 1 before either writes; DynamoDB then serialises the two conditional writes
    # (moto does not, across threads, so a lock stands in for the server's per-item atomicity).
    barrier, server, local = threading.Barrier(2, timeout=20), threading.Lock(), threading.local()
    original = DynamoTicketStore.save

    def save(self, state, **kwargs):
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        with server:
            return original(self, state, **kwargs)

    monkeypatch.setattr(DynamoTicketStore, "save", save)
    wiring.webhook_ports()  # build the adapters once, outside the threads (as a warm container would)
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda e=e: statuses.append(p.deliver(e)[0])) for e in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert statuses == [202, 202]
    state = p.state()
    assert {a.id, b.id} <= state.seen_ids and state.fields["priority"] == "high"
    assert int(p.ticket_item()["version"]) == 3  # created, then one write each: no lost update


def test_two_sources_with_their_own_ticket_prefix_keep_the_same_raw_id_apart(pipeline: Pipeline):
    p = pipeline
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"]["portal"] = {
        "provider": "generic", "secret": {"ssm_parameter": "/slaclock/portal"}, "ticket_prefix": "portal-"
    }  # fmt: skip
    put_config(p.aws, config_yaml(doc))
    p.aws.client("ssm").put_parameter(Name="/slaclock/portal", Value=SOURCE_SECRET, Type="SecureString")
    p.now = T0 + MIN
    ours = p.event("created", at=T0, id="created")
    theirs = p.event("created", at=T0, id="created", tags=["URGENT"])  # same raw ticket id and event id

    assert p.deliver(ours) == (202, {"event_ids": ["created"], "tickets": ["4711"]})
    assert p.deliver(theirs, source="portal") == (202, {"event_ids": ["created"], "tickets": ["portal-4711"]})

    assert [i["sk"] for i in p.items("4711", prefix="E#")] == ["E#created"]
    assert [i["sk"] for i in p.items("portal-4711", prefix="E#")] == ["E#created"]
    assert int(p.ticket_item("4711")["version"]) == int(p.ticket_item("portal-4711")["version"]) == 1
    assert p.state("portal-4711").ticket_id == "portal-4711"
    assert "URGENT" not in (p.state("4711").fields.get("tags") or [])
    # two schedules, each naming its own ticket: standard warns at 10:30, urgent is due at 10:10
    assert p.armed_for("4711") == "2026-11-20T10:30:00Z"
    assert p.armed_for("portal-4711") == "2026-11-20T10:10:00Z"
    assert json.loads(p.schedule("portal-4711")["Target"]["Input"])["ticket_id"] == "portal-4711"


def test_an_unknown_source_is_404(pipeline: Pipeline):
    body = pipeline.body(pipeline.event("created", at=T0))
    status, answer, _ = pipeline.post("nope", body, pipeline.signed(body))
    assert status == 404 and "nope" in answer["error"]


def test_a_body_over_one_megabyte_is_413(pipeline: Pipeline):
    body = b"[" + b" " * (1024 * 1024) + b"]"
    status, _, _ = pipeline.post("custom", body, pipeline.signed(body))
    assert status == 413
    assert pipeline.ticket_item() is None


@pytest.mark.parametrize("case", ["wrong secret", "expired timestamp", "unsigned"])
def test_a_bad_signature_is_401_and_nothing_is_stored(pipeline: Pipeline, case):
    p = pipeline
    body = p.body(p.event("created", at=T0))
    headers = {
        "wrong secret": p.signed(body, secret="guess"),
        "expired timestamp": p.signed(body, at=p.now - 10 * MIN),
        "unsigned": {"content-type": "application/json"},
    }[case]
    status, answer, _ = p.post("custom", body, headers)
    assert status == 401 and answer["error"] == "unauthorized"
    assert p.items(prefix="") == [] and p.schedule() is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "body"),
        (b'[{"id": "e1", "ticket_id": "7", "type": "exploded", "at": "2026-11-20T10:00:00Z"}]', "type"),
        (b'[{"id": "e1", "ticket_id": "7", "type": "created", "at": "yesterday"}]', "at"),
    ],
)
def test_a_malformed_body_is_400_naming_the_problem(pipeline: Pipeline, body, expected):
    status, answer, _ = pipeline.post("custom", body, pipeline.signed(body))
    assert status == 400
    assert any(expected in problem for problem in answer["problems"]), answer
    assert "Traceback" not in json.dumps(answer)
    assert pipeline.items("7", prefix="") == []


def test_a_base64_encoded_body_is_verified_on_its_raw_bytes(pipeline: Pipeline):
    p = pipeline
    body = p.body(p.event("created", at=T0))
    status, _, _ = p.post("custom", body, p.signed(body), base64_encoded=True)
    assert status == 202


def test_a_server_fault_is_500_without_details(pipeline: Pipeline, monkeypatch):
    p = pipeline

    def broken(self, ticket_id):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(DynamoTicketStore, "get", broken)
    body = p.body(p.event("created", at=T0))
    status, answer, _ = p.post("custom", body, p.signed(body))
    assert status == 500 and answer == {"error": "internal error"}


def test_5xx_answers_are_counted_for_their_alarm_and_4xx_answers_are_not(pipeline: Pipeline, capsys):
    p = pipeline
    body = p.body(p.event("created", at=T0))
    p.aws.client("s3").delete_object(Bucket=p.aws.bucket, Key=p.aws.config_key)  # never pushed
    status, answer, headers = p.post("custom", body, p.signed(body))

    assert status == 503 and headers.get("Retry-After") == "5", answer
    assert emitted_metrics(capsys.readouterr().out, p.aws) == {"WebhookErrors": 1}

    put_config(p.aws, config_yaml())
    assert p.post("custom", body, p.signed(body, secret="guess"))[0] == 401
    assert emitted_metrics(capsys.readouterr().out, p.aws) == {"WebhooksRefused": 1}


def test_a_throttled_scheduler_still_answers_202_and_keeps_the_instant(
    pipeline: Pipeline, throttled_scheduler
):
    p = pipeline
    p.now = T0 + MIN
    status, _ = p.deliver(p.event("created", at=T0))
    assert status == 202
    assert p.schedule() is None
    assert p.ticket_item()["next_check_at"].startswith("2026-11-20T10:30:00")


def test_another_method_or_path_is_not_routed(pipeline: Pipeline):
    from tests.events.builders import LambdaContext, webhook_event

    answer = pipeline.webhook.lambda_handler(
        webhook_event("custom", b"", method="GET"), LambdaContext("webhook")
    )
    assert answer["statusCode"] == 404


def test_logs_carry_ids_and_never_an_address_or_a_body(pipeline: Pipeline):
    root = logging.getLogger("slaclock")  # the functions' Powertools logger
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        p = pipeline
        p.now = T0 + MIN
        p.deliver(p.event("created", at=T0))
        p.fire()
        bad = b'[{"id": "e9", "ticket_id": "4711", "type": "created", "at": "no", "ticket": {"requester": "x@y.z"}}]'  # noqa: E501
        p.post("custom", bad, p.signed(bad))
    finally:
        root.removeHandler(handler)
    out = sink.getvalue()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) >= 3, out
    assert "@" not in out  # no e-mail address (assignee, requester, lead, sender) anywhere
    assert '"ticket":' not in out and "requester" not in out
    assert any(line.get("correlation_id") == "4711" for line in lines)
