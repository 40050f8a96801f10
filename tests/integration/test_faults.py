# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Faults that used to lose or double, injected into moto's service backends (so botocore's own
retries run as they do in AWS) and driven through the real adapters and handlers:

- SES refusing a later message of a notice with more than 50 recipients;
- a DynamoDB transaction cancelled for ``ThrottlingError``;
- S3 answering ``GetObject`` with 403 before the first `config push`;
- a ``.json`` configuration with an emoji, as `json.dumps` writes it.

Error shapes are the services' documented ones: SES v2 SendEmail errors (API reference, "Errors":
SendingPausedException, 400); DynamoDB TransactWriteItems ("TransactionCanceledException ...
CancellationReasons ... Code: ThrottlingError"); S3 GetObject ("If you don't have the s3:ListBucket
permission, Amazon S3 returns an HTTP status code 403 Access Denied error" for a missing key).
"""

from __future__ import annotations

import argparse
import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from slaclock.adapters.config_store import ConfigNotFound, S3ConfigStore
from slaclock.adapters.dynamodb import DynamoNoticeLedger, DynamoTicketStore
from slaclock.adapters.ses import SesMailer
from slaclock.commands import config_push
from slaclock.engine.clocks import Notice, Step, StepKind
from slaclock.engine.config import Metric
from slaclock.ports import ServiceUnavailable

from tests.fakes.world import CONFIG_DOC, T0
from tests.integration._handlers import (  # noqa: F401 - fixtures
    Pipeline,
    config_yaml,
    pipeline,
    put_config,
)

pytestmark = pytest.mark.integration
MANY = [f"agent{n:03d}@example.com" for n in range(120)]


@pytest.fixture
def ses_refuses_after(monkeypatch):
    """SES v2 accepts the first ``state["accept"]`` SendEmail calls, then answers
    SendingPausedException (400, not retried by botocore) while ``state["on"]``."""
    from moto.core.exceptions import JsonRESTError
    from moto.sesv2.models import SESV2Backend

    state: dict[str, Any] = {"on": True, "accept": 1, "calls": 0}
    original = SESV2Backend.send_email

    def send_email(self, *args, **kwargs):
        state["calls"] += 1
        if state["on"] and state["calls"] > state["accept"]:
            raise JsonRESTError("SendingPausedException", "Email sending is paused for this account")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SESV2Backend, "send_email", send_email)
    return state


def sent_to(aws) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [a for m in ses_backends[DEFAULT_ACCOUNT_ID][aws.region].sent_messages
            for a in m.destinations["ToAddresses"]]  # fmt: skip


# --------------------------------------------------------------------- SES: more than 50 recipients


def test_ses_refusing_a_later_chunk_is_a_partial_delivery_naming_the_accepted_addresses(
    aws, ses_refuses_after
):
    from slaclock.ports import PartialDelivery

    mailer = SesMailer(sender=aws.sender, client=aws.client("sesv2"))
    with pytest.raises(PartialDelivery) as caught:
        mailer.send(MANY, "s", "t", "<p>h</p>")
    assert caught.value.delivered == tuple(MANY[:50])
    assert "SendingPausedException" in str(caught.value) and "@" not in str(caught.value)
    assert sent_to(aws) == MANY[:50]


def test_ses_refusing_the_first_chunk_is_plain_service_unavailable(aws, ses_refuses_after):
    from slaclock.ports import PartialDelivery

    ses_refuses_after["accept"] = 0
    with pytest.raises(ServiceUnavailable) as caught:
        SesMailer(sender=aws.sender, client=aws.client("sesv2")).send(MANY, "s", "t", "<p>h</p>")
    assert not isinstance(caught.value, PartialDelivery)


def test_the_ledger_keeps_the_delivered_addresses_of_a_notice(aws):
    ledger = DynamoNoticeLedger(aws.table)
    step = Step(kind=StepKind.WARNING, at=T0 + timedelta(minutes=30), recipients=("assignee",))
    notice = Notice(ticket_id="4711", metric=Metric.FIRST_RESPONSE, cycle=1, level="standard", step=step,
                    due_at=T0 + timedelta(hours=1))  # fmt: skip
    assert ledger.delivered(notice) == frozenset()
    ledger.claim(notice, now=T0, lease=timedelta(minutes=5))
    ledger.mark_delivered(notice, ["A@Example.com", "b@example.com"])
    ledger.mark_delivered(notice, ["c@example.com", "a@example.com"])
    assert ledger.delivered(notice) == {"a@example.com", "b@example.com", "c@example.com"}
    ledger.mark_delivered(notice, [])  # nothing to add: no call, no error
    assert ledger.status(notice)["status"] == "claimed"


def test_a_notice_to_120_people_reaches_each_once_through_a_refused_chunk(
    pipeline: Pipeline, ses_refuses_after
):
    p = pipeline
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["notify"] = {"warning": MANY, "breach": ["assignee"]}
    put_config(p.aws, config_yaml(doc))
    p.now = T0 + timedelta(minutes=1)
    assert p.deliver(p.event("created", at=T0))[0] == 202

    first = p.fire()  # the warning: SES takes the first 50, then pauses
    assert first["sent"] == [] and first["pending"] == ["4711#first_response#1#warning"]
    assert sent_to(p.aws) == MANY[:50]

    ses_refuses_after["on"] = False  # SES recovers; the retry comes after the lease
    retry = p.fire()
    assert retry["sent"] == ["4711#first_response#1#warning"]
    assert sorted(sent_to(p.aws)) == sorted(MANY)  # 120 addresses, each exactly once
    assert len(sent_to(p.aws)) == 120


# ----------------------------------------------------------------- DynamoDB: a throttled transaction


@pytest.fixture
def throttled_transactions(monkeypatch):
    """DynamoDB cancels every TransactWriteItems with reasons [None, ThrottlingError] while on."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    state = {"on": True}
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        if state["on"]:
            message = "Throughput exceeds the current capacity of your table or index."
            reasons = [(None, None, None)] * (len(transact_items) - 1) + [("ThrottlingError", message, None)]
            raise TransactionCanceledException(reasons)
        return original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    return state


def test_a_transaction_cancelled_for_throttling_is_service_unavailable(aws, throttled_transactions):
    from tests.integration.test_adapters_dynamodb import clock, state

    tickets = DynamoTicketStore(aws.table)
    with pytest.raises(ServiceUnavailable, match="ThrottlingError"):
        tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[clock("4711")])
    assert tickets.get("4711") is None  # cancelled: nothing written


def test_a_throttled_transaction_answers_503_with_retry_after_and_the_retry_lands(
    pipeline: Pipeline, throttled_transactions
):
    p = pipeline
    p.now = T0 + timedelta(minutes=1)
    body = p.body(p.event("created", at=T0))
    status, answer, headers = p.post("custom", body, p.signed(body))
    assert (status, headers.get("Retry-After")) == (503, "5"), answer
    assert p.ticket_item() is None

    throttled_transactions["on"] = False  # the helpdesk retries the same delivery
    status, _, _ = p.post("custom", body, p.signed(body))
    assert status == 202
    assert p.state().created_at == T0 and p.armed_for() is not None


# ------------------------------------------------------------------ S3: 403 before the first push


def test_access_denied_for_the_configuration_object_means_no_configuration(aws, monkeypatch):
    s3 = aws.client("s3")

    def denied(**params):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
             "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")  # fmt: skip

    monkeypatch.setattr(s3, "get_object", denied)
    store = S3ConfigStore(bucket=aws.bucket, key=aws.config_key, client=s3)
    with pytest.raises(ConfigNotFound, match="AccessDenied.*config push"):
        store.load()


def test_the_webhook_answers_503_not_500_when_s3_denies_the_missing_configuration(
    pipeline: Pipeline, monkeypatch
):
    import botocore.client

    p = pipeline
    p.aws.client("s3").delete_object(Bucket=p.aws.bucket, Key=p.aws.config_key)  # never pushed
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "GetObject":
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                 "ResponseMetadata": {"HTTPStatusCode": 403}}, name)  # fmt: skip
        return original(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    body = p.body(p.event("created", at=T0))
    status, answer, headers = p.post("custom", body, p.signed(body))
    assert (status, headers.get("Retry-After")) == (503, "5"), answer


# ------------------------------------------------------------------ config push of a .json file


def test_a_pushed_json_file_is_read_back_with_the_json_parser(aws, tmp_path, capsys):
    doc = copy.deepcopy(CONFIG_DOC)
    doc["rules"][1]["name"] = "Everyone else 😀"  # json.dumps writes "\ud83d\ude00"
    doc["leads"]["billing"] = ["billing-lead@example.com"]
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(doc))
    assert "\\ud83d\\ude00" in path.read_text()
    assert config_push.run(argparse.Namespace(config=str(path))) == 0, capsys.readouterr().err

    stored = aws.client("s3").get_object(Bucket=aws.bucket, Key=aws.config_key)
    assert stored["Body"].read() == path.read_bytes()  # exactly what was validated
    assert stored["ContentType"].startswith("application/json")
    config = S3ConfigStore(bucket=aws.bucket, key=aws.config_key, client=aws.client("s3")).load()
    assert config.rules[1].name == "Everyone else 😀"


def test_a_yaml_push_to_the_same_key_is_read_as_yaml_again(aws, tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(config_yaml())
    assert config_push.run(argparse.Namespace(config=str(path))) == 0
    stored = aws.client("s3").get_object(Bucket=aws.bucket, Key=aws.config_key)
    assert stored["ContentType"].startswith("application/yaml")
    assert S3ConfigStore(bucket=aws.bucket, key=aws.config_key, client=aws.client("s3")).load().levels
