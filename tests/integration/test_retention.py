# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Data has a lifetime: the table's TTL attribute on what the functions write, from the template's
``RetentionDays`` / ``ReportRetentionDays`` as the functions' environment carries them.

DynamoDB TTL deletes an item some time after the instant in its TTL attribute, a Number of epoch
seconds (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html);
moto keeps expired items, so these tests read the attribute itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slaclock.adapters.dynamodb import parse_instant_key
from slaclock.ports import ReportJob, ReportJobStatus
from slaclock.runtime import report_wiring

from tests.fakes.world import T0
from tests.infra.iam import TEMPLATE
from tests.integration._handlers import Pipeline, pipeline  # noqa: F401 - fixture
from tests.integration.conftest import AwsStack

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


def days(aws: AwsStack, parameter: str) -> timedelta:
    return timedelta(days=int(aws.stack.parameters[parameter]))


def epoch(instant_key: str, plus: timedelta) -> int:
    return int((parse_instant_key(instant_key) + plus).timestamp())


def test_the_table_expires_items_by_the_attribute_the_adapters_write(aws: AwsStack):
    from slaclock_local.resources import load_template

    spec = load_template(TEMPLATE)["Resources"]["SlaTable"]["Properties"]["TimeToLiveSpecification"]
    assert spec == {"AttributeName": "expires_at", "Enabled": True}
    described = aws.client("dynamodb").describe_time_to_live(TableName=aws.table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert aws.env["SLACLOCK_RETENTION_DAYS"] == aws.stack.parameters["RetentionDays"] == "400"


def test_events_expire_retention_days_after_they_were_stored(pipeline: Pipeline):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    (event,) = p.items(prefix="E#")
    assert event["expires_at"] == epoch(event["stored_at"], days(p.aws, "RetentionDays"))
    assert "expires_at" not in p.ticket_item()  # the ticket state never expires


def test_decided_clocks_expire_after_their_outcome_and_running_ones_never(pipeline: Pipeline):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    p.fire()  # warning
    p.fire()  # breach: first response missed at its due instant
    clocks = {i["sk"]: i for i in p.items(prefix="C#")}

    missed = clocks["C#first_response#00001"]
    assert missed["status"] == "missed"
    assert missed["expires_at"] == epoch(missed["outcome_at"], days(p.aws, "RetentionDays"))
    running = clocks["C#resolution#00001"]
    assert running["outcome_day"] == "running" and "expires_at" not in running


def test_sent_notices_expire_after_they_were_sent(pipeline: Pipeline):
    p = pipeline
    p.now = T0 + MIN
    p.deliver(p.event("created", at=T0))
    p.fire()
    (notice,) = p.items(prefix="N#")
    assert notice["status"] == "sent"
    assert notice["expires_at"] == epoch(notice["sent_at"], days(p.aws, "RetentionDays"))


def test_report_jobs_expire_with_their_files(aws: AwsStack):
    lifecycle = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=aws.bucket)["Rules"]
    (reports_rule,) = [
        r for r in lifecycle if r.get("Filter", {}).get("Prefix", r.get("Prefix")) == "reports/"
    ]
    files_live = timedelta(days=reports_rule["Expiration"]["Days"])
    assert files_live == days(aws, "ReportRetentionDays")

    report_wiring.reset()
    created = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    job = ReportJob(id="r-1", status=ReportJobStatus.QUEUED, spec={"period": "last_week"},
                    created_at=created, updated_at=created)  # fmt: skip
    assert report_wiring.report_ports().jobs.create(job)
    table = aws.session.resource("dynamodb", region_name=aws.region).Table(aws.table)
    item: dict[str, Any] = table.get_item(Key={"pk": "R#r-1", "sk": "JOB"})["Item"]
    assert item["expires_at"] == int((created + files_live).timestamp())
    report_wiring.reset()
