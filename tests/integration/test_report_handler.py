"""functions/report against moto: POST /reports -> queue -> build -> S3 + SES -> GET /reports/{id}, the
scheduled path, the 400s, the job records, and the e-mailed links: signed tokens that the link
function (functions/link) turns into fresh presigned downloads through moto's server, after the
credentials of the function that issued them are gone, until the links' own expiry.

The clock records are written by the real `DynamoTicketStore.save` (the path the pipeline uses), from
the known dataset of tests/fakes/reports.py; resources and environment come from template.yaml.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.client
import pytest
import requests
import yaml
from moto.server import ThreadedMotoServer
from slaclock.adapters.dynamodb import DynamoTicketStore
from slaclock.adapters.dynamodb.report_jobs import DynamoReportJobs
from slaclock.engine.clocks import TicketState
from slaclock.ports import ReportJob, ReportJobStatus
from slaclock.runtime import link_wiring, report_wiring
from slaclock.services.report.links import verify

from tests.fakes.reports import KNOWN_RECORDS
from tests.integration._handlers import load_handler
from tests.integration.conftest import AwsStack
from tests.unit.services.test_report_service import EXPECTED_LOG, make_config

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _event(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return doc


def http_event(method: str, path: str, body: Any = None, raw: str | None = None) -> dict[str, Any]:
    """An IAM-authorised HTTP API (payload v2) request to the reports API."""
    event = _event("apigateway-http-v2-reports.json")
    route = "POST /reports" if method == "POST" else "GET /reports/{id}"
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    if method == "GET":
        event["pathParameters"] = {"id": path.rsplit("/", 1)[1]}
        event["body"] = None
    else:
        event["body"] = raw if raw is not None else json.dumps(body)
    return event


class Context:
    function_name = "slaclock-test-report"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:slaclock-test-report"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def store_records(aws: AwsStack) -> None:
    """Write the known dataset through the ticket store (one save per ticket, its clocks with it)."""
    tickets = DynamoTicketStore(aws.table)
    by_ticket: dict[str, list[Any]] = defaultdict(list)
    for r in KNOWN_RECORDS:
        by_ticket[r.ticket_id].append(r)
    for ticket_id, records in by_ticket.items():  # the records are what a use case hands `save`
        tickets.save(TicketState(ticket_id), expected_version=None, next_check_at=None, clocks=records)


class Reports:
    """The report function on moto, with the clock fixed at `now`."""

    def __init__(self, aws: AwsStack, handler: Any) -> None:
        self.aws = aws
        self.handler = handler
        self.now = NOW
        self.queue_url = aws.stack.ref("ReportQueue")

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.handler.lambda_handler(event, Context())
        return answer

    def http(self, method: str, path: str, body: Any = None, raw: str | None = None) -> tuple[int, Any, dict]:
        answer = self.call(http_event(method, path, body, raw))
        return answer["statusCode"], json.loads(answer["body"]), answer.get("headers") or {}

    def drain(self) -> list[dict[str, Any]]:
        """Deliver every queued job message to the function (as the event source mapping would)."""
        sqs = self.aws.client("sqs")
        results = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=1).get("Messages", [])
            if not got:
                return results
            event = _event("sqs-report-job.json")
            event["Records"][0].update(messageId=got[0]["MessageId"], body=got[0]["Body"])
            results.append(self.call(event))
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=got[0]["ReceiptHandle"])

    def object(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = self.aws.client("s3").get_object(Bucket=self.aws.bucket, Key=key)
        return found

    def keys(self, prefix: str = "reports/") -> list[str]:
        listed = self.aws.client("s3").list_objects_v2(Bucket=self.aws.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def emails(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[self.aws.account_id][self.aws.region].sent_messages)


@pytest.fixture
def reports(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reports]:
    s3 = aws.client("s3")
    # moto would judge the template's DenyInsecureTransport policy without aws:SecureTransport (and
    # the moto server below speaks plain HTTP): enforcing it is AWS's job, not this test's.
    s3.delete_bucket_policy(Bucket=aws.bucket)
    doc = yaml.safe_dump(_config_doc(), sort_keys=False)
    s3.put_object(Bucket=aws.bucket, Key=aws.config_key, Body=doc.encode())
    store_records(aws)
    report_wiring.reset()
    handler = load_handler("report")
    r = Reports(aws, handler)
    monkeypatch.setattr(report_wiring, "clock", lambda: r.now)
    yield r
    report_wiring.reset()


def _config_doc() -> dict[str, Any]:
    from tests.fakes.world import CONFIG_DOC

    doc = copy.deepcopy(CONFIG_DOC)
    doc["calendars"]["tokyo"] = {"timezone": "Asia/Tokyo", "hours": "24x7"}
    doc["calendars"]["new-york"] = {"timezone": "America/New_York", "hours": "24x7"}
    doc["reports"] = [
        {"name": "daily-billing", "period": "daily", "calendar": "always", "recipients": ["lead@example.com"],
         "group_by": ["level"]},
        {"name": "paris-daily", "period": "daily", "calendar": "paris", "recipients": ["fr@example.com"]},
    ]  # fmt: skip
    make_config(doc["reports"])  # the same subscriptions validate in the unit tests' configuration
    return doc


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


# ------------------------------------------------------------------------------------------ on demand


def test_an_on_demand_report_is_queued_built_to_s3_emailed_and_listed(reports):
    status, answer, headers = reports.http("POST", "/reports", {
        "period": {"from": "2026-11-19", "to": "2026-11-19"}, "group_by": ["level"],
        "recipients": ["boss@example.com"], "link_expiry_seconds": 86400,
    })  # fmt: skip
    assert status == 202 and answer["status"] == "queued"
    report_id = answer["id"]
    assert headers["Location"] == f"/reports/{report_id}"
    assert reports.http("GET", f"/reports/{report_id}")[1]["status"] == "queued"

    (built,) = reports.drain()
    assert built == {"batchItemFailures": []}
    prefix = f"reports/{report_id}/2026-11-19_2026-11-19/"
    assert reports.keys() == [prefix + "compliance.csv", prefix + "sla_log.csv", prefix + "summary.html"]

    log = reports.object(prefix + "sla_log.csv")
    assert rows_of(log["Body"].read()) == EXPECTED_LOG
    assert log["ContentType"] == "text/csv; charset=utf-8" and log["ServerSideEncryption"] == "AES256"
    compliance = rows_of(reports.object(prefix + "compliance.csv")["Body"].read())
    assert compliance[1:] == [
        ["2026-11-19", "standard", "2", "11700", "21600", "1800", "2", "8100.25", "9000", "7200.5", "50.00"],
        ["2026-11-20", "urgent", "1", "5400", "5400", "5400", "0", "", "", "", "100.00"],
    ]
    page = reports.object(prefix + "summary.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["ServerSideEncryption"] == "AES256"
    assert b"SLA report on demand" in page["Body"].read()

    (mail,) = reports.emails()
    assert mail.destinations["ToAddresses"] == ["boss@example.com"]
    assert mail.subject == "SLA report on demand · 2026-11-19_2026-11-19: 60.00% compliance"
    # moto keeps the HTML part of an SES v2 message (the plain-text part is checked in the unit tests).
    assert (
        "<th style='text-align:left;padding:2px 12px 2px 0'>Compliance</th><td>60.00% (3 met, 2 missed)</td>"
        in mail.body
    )
    assert "<td>sales: 0.00% (0 met, 2 missed)</td>" in mail.body
    links = mailed_links(mail.body)
    assert len(links) == 3 and "X-Amz-" not in mail.body  # tokens, not presigned URLs
    key = link_key(reports.aws)
    assert {verify([key], t, NOW).expires_at for t in links} == {NOW + timedelta(seconds=86400)}
    assert sorted(verify([key], t, NOW).key for t in links) == reports.keys()

    status, answer, _ = reports.http("GET", f"/reports/{report_id}")
    assert status == 200 and answer["status"] == "done" and answer["attempts"] == 1
    assert (
        answer["figures"]["compliance_pct"] == 60.0
        and answer["figures"]["previous"]["compliance_pct"] == 50.0
    )
    assert set(answer["files"]) == {"sla_log.csv", "compliance.csv", "summary.html"}
    for name, file in answer["files"].items():
        (token,) = mailed_links(file["url"])
        assert verify([key], token, NOW).key == file["key"] and file["key"].endswith(name)
    assert answer["links_expire_at"] == "2026-11-22T08:00:00Z"


def test_bad_requests_are_400_with_the_reasons_and_leave_nothing_behind(reports):
    bad = {"period": {"from": "2026-11-20", "to": "2026-11-19"}, "group_by": ["team"], "sort": "size"}
    status, answer, _ = reports.http("POST", "/reports", bad)
    assert status == 400 and answer["error"] == "invalid report request"
    assert [p.split(":")[0] for p in answer["problems"]] == ["period", "group_by[0]", "sort[0]"]
    status, answer, _ = reports.http(
        "POST", "/reports", {"period": {"from": "2024-01-01", "to": "2026-01-01"}}
    )
    assert status == 400 and answer["problems"] == [
        "period: longer than a year: ask for at most one year per report"
    ]
    status, answer, _ = reports.http("POST", "/reports", raw="{not json")
    assert status == 400 and answer["problems"] == ["the body is not valid JSON"]
    status, answer, _ = reports.http("POST", "/reports", raw="[" * 5000 + "]" * 5000)  # was a 500
    assert status == 400 and answer["problems"] == ["the body is refused: nested deeper than 64 levels"]
    status, answer, _ = reports.http("POST", "/reports", raw='{"period": ' + "9" * 5000 + "}")  # was a 500
    assert status == 400 and answer["problems"] == [
        "the body is refused: an integer of 5000 digits (at most 38)"
    ]
    status, answer, _ = reports.http(
        "POST", "/reports", {"period": "yesterday", "link_expiry_seconds": 700000}
    )
    assert status == 400 and answer["problems"][0].startswith("link_expiry_seconds: 700000 is outside")
    status, answer, _ = reports.http("GET", "/reports/nope")
    assert status == 404 and answer == {"error": "no report 'nope'"}
    assert reports.drain() == [] and reports.keys() == []


# ------------------------------------------------------------------------------------------ scheduled


def test_a_schedule_firing_queues_the_due_subscriptions_and_builds_them(reports):
    fired = reports.call(_event("scheduler-report-daily.json"))  # 2026-11-20T00:15:00Z
    assert fired == {"queued": ["daily-billing.2026-11-19"]}  # UTC midnight; Paris's was an hour before
    again = reports.call(_event("scheduler-report-daily.json"))
    assert again == {"queued": ["daily-billing.2026-11-19"]}  # not built yet: queued again, built once
    reports.now = datetime(2026, 11, 20, 0, 16, tzinfo=UTC)
    assert reports.drain() == [{"batchItemFailures": []}, {"batchItemFailures": []}]
    assert reports.keys() == [f"reports/daily-billing/2026-11-19/{n}"
                              for n in ("compliance.csv", "sla_log.csv", "summary.html")]  # fmt: skip
    (mail,) = reports.emails()
    assert mail.destinations["ToAddresses"] == ["lead@example.com"]
    assert mail.subject == "SLA report daily-billing · 2026-11-19: 60.00% compliance"
    assert reports.call(_event("scheduler-report-daily.json")) == {"queued": []}  # done: nothing more
    paris = _event("scheduler-report-daily.json") | {"scheduled_at": "2026-11-19T23:15:00Z"}
    assert reports.call(paris) == {"queued": ["paris-daily.2026-11-19"]}


# ------------------------------------------------------------------------------------------ records


def test_job_records_are_created_once_and_claimed_by_one_builder(aws):
    jobs = DynamoReportJobs(aws.table)
    job = ReportJob("r1", ReportJobStatus.QUEUED, {"x": 1}, NOW, NOW)
    assert jobs.create(job) and not jobs.create(job)
    lease = timedelta(minutes=16)
    claimed = jobs.claim("r1", now=NOW, lease=lease)
    assert claimed is not None and claimed.status is ReportJobStatus.RUNNING and claimed.attempts == 1
    assert jobs.claim("r1", now=NOW + timedelta(minutes=5), lease=lease) is None  # held
    jobs.save_built("r1", now=NOW, keys=("a", "b"), figures={"met": 1})
    jobs.fail("r1", now=NOW, error="ServiceUnavailable: ses")
    again = jobs.claim("r1", now=NOW + timedelta(minutes=6), lease=lease)  # a failure releases the lease
    assert (
        again is not None and again.attempts == 2 and again.figures == {"met": 1} and again.keys == ("a", "b")
    )
    jobs.finish("r1", now=NOW)
    done = jobs.get("r1")
    assert done.status is ReportJobStatus.DONE and done.error is None and done.claimed_until is None
    assert jobs.claim("r1", now=NOW + timedelta(days=1), lease=lease) is None
    assert jobs.get("missing") is None and jobs.claim("missing", now=NOW, lease=lease) is None


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """Every AWS call made from here on: (service, operation, parameters)."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        seen.append((self.meta.service_model.service_name, operation, dict(params)))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return seen


def test_the_function_makes_only_the_calls_its_policy_allows(reports, calls):
    reports.http("POST", "/reports", {"period": "last_week", "recipients": ["boss@example.com"]})
    reports.call(_event("scheduler-report-daily.json"))
    reports.drain()
    statements = reports.aws.stack.resource("ReportFunction")["Properties"]["Policies"][0]["Statement"]
    policy = [s for s in statements if isinstance(s, dict) and "Sid" in s]
    allowed = {a for s in policy for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    sqs_consumer = {"sqs:ReceiveMessage", "sqs:DeleteMessage"}  # the test's own stand-in for the mapping
    for service, operation, params in calls:
        action = {"sesv2": "ses", "dynamodb": "dynamodb", "s3": "s3", "sqs": "sqs",
                  "secretsmanager": "secretsmanager"}[service] + ":" + operation  # fmt: skip
        if action in {"s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload"}:
            action = "s3:PutObject"
        assert action in allowed | sqs_consumer, action
        if action == "dynamodb:Query":
            assert params["IndexName"] == "clocks-by-outcome"
        elif service == "dynamodb":
            assert params["Key" if "Key" in params else "Item"]["pk"]["S"].startswith("R#"), (
                operation,
                params,
            )
        elif service == "s3":
            assert params["Key"].startswith("reports/") or params["Key"] == reports.aws.config_key
        elif service == "secretsmanager":
            assert params["SecretId"] == reports.aws.stack.ref("ReportLinkKey")
    assert {op for s, op, _ in calls if s == "dynamodb"} == {"PutItem", "GetItem", "UpdateItem", "Query"}


# ------------------------------------------------------------------------------------ the link, served


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def mailed_links(text: str) -> list[str]:
    """The link tokens in `text` (an e-mail body, a URL), under the template's link route."""
    base = re.escape(report_wiring.report_settings().report_link_base_url)
    return re.findall(base + r"(v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", text)


def link_key(aws: AwsStack) -> bytes:
    secret = aws.client("secretsmanager").get_secret_value(SecretId=aws.stack.ref("ReportLinkKey"))
    return str(secret["SecretString"]).encode()


def new_container(wiring: Any) -> None:
    """A fresh Lambda container of a function: new settings, adapters and boto3 session (which reads
    the credentials in the environment)."""
    from slaclock.adapters import _aws

    wiring.reset()
    _aws._default_session.cache_clear()


def open_link(token: str) -> dict[str, Any]:
    """A browser's GET of an e-mailed link, through the link function (public route, no IAM)."""
    event = _event("apigateway-http-v2-link.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/links/{token}"
    event["pathParameters"] = {"token": token}
    answer: dict[str, Any] = load_handler("link").lambda_handler(event, Context())
    return answer


def test_a_mailed_link_outlives_the_credentials_that_issued_it_and_stops_at_its_own_expiry(
    reports, moto_server, monkeypatch
):
    # The report function runs with session credentials A (a Lambda role's: temporary, hours).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAROLESESSIONAAAAA")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-a")
    new_container(report_wiring)
    _, answer, _ = reports.http("POST", "/reports", {
        "period": {"from": "2026-11-19", "to": "2026-11-19"}, "recipients": ["boss@example.com"],
    })  # fmt: skip
    reports.drain()
    (mail,) = reports.emails()
    tokens = mailed_links(mail.body)
    assert len(tokens) == 3
    assert "ASIAROLESESSIONAAAAA" not in mail.body and "session-token-a" not in mail.body
    assert "X-Amz-" not in mail.body  # nothing in the link depends on A

    # Six days and 23 hours later, session A is long gone: the link function runs with credentials B.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAROLESESSIONBBBBB")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-b")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)  # so the redirect can be downloaded
    new_container(link_wiring)
    clock = {"now": NOW + timedelta(days=6, hours=23)}
    monkeypatch.setattr(link_wiring, "clock", lambda: clock["now"])
    prefix = f"reports/{answer['id']}/2026-11-19_2026-11-19/"
    downloaded = {}
    for token in tokens:
        got = open_link(token)
        assert got["statusCode"] == 302 and got["body"] == ""
        assert got["headers"]["Cache-Control"] == "no-store"
        location = got["headers"]["Location"]
        assert (
            location.startswith(moto_server + "/") and "X-Amz-Credential=ASIAROLESESSIONBBBBB%2F" in location
        )
        assert "X-Amz-Expires=300" in location  # short-lived: signed by a live session, used at once
        body = requests.get(location, timeout=10)
        assert body.status_code == 200
        downloaded[location.split("?")[0].rsplit("/", 1)[1]] = body.content
    assert set(downloaded) == {"sla_log.csv", "compliance.csv", "summary.html"}
    assert rows_of(downloaded["sla_log.csv"]) == EXPECTED_LOG
    assert downloaded["summary.html"] == reports.object(prefix + "summary.html")["Body"].read()

    clock["now"] = NOW + timedelta(seconds=604799)  # the link's last second: still a download
    assert "X-Amz-Expires=1" in open_link(tokens[0])["headers"]["Location"]
    clock["now"] = NOW + timedelta(seconds=604800)  # its own expiry: stops, whatever the credentials
    expired = open_link(tokens[0])
    assert expired["statusCode"] == 410 and "Location" not in expired["headers"]
    assert json.loads(expired["body"]) == {"error": "this report link expired at 2026-11-28T08:00:00Z"}


def test_a_forged_or_broken_link_is_404_and_presigns_nothing(reports, calls):
    link_wiring.reset()
    for token in ("", "v1.abc.def", "v1." + "A" * 3000, "../../config/sla.yaml"):
        got = open_link(token)
        assert got["statusCode"] == 404, token
        assert json.loads(got["body"]) == {"error": "no such report link"}
    assert {(s, op) for s, op, _ in calls} <= {("secretsmanager", "GetSecretValue")}


def test_the_link_function_makes_only_the_calls_its_policy_allows(reports, calls, monkeypatch):
    _, answer, _ = reports.http("POST", "/reports", {"period": "yesterday", "recipients": ["a@example.com"]})
    reports.drain()
    (token, *_) = mailed_links(reports.emails()[0].body)
    link_wiring.reset()
    monkeypatch.setattr(link_wiring, "clock", lambda: NOW + timedelta(days=1))
    calls.clear()
    assert open_link(token)["statusCode"] == 302
    statements = reports.aws.stack.resource("LinkFunction")["Properties"]["Policies"][0]["Statement"]
    allowed = {s["Action"] for s in statements}
    assert allowed == {"secretsmanager:GetSecretValue", "s3:GetObject"}
    # presigning is local: the only AWS calls read the key (current, and previous if any)
    assert {(s, op) for s, op, _ in calls} == {("secretsmanager", "GetSecretValue")}
    assert {p["SecretId"] for _, _, p in calls} == {reports.aws.stack.ref("ReportLinkKey")}


def test_a_key_rotation_keeps_the_links_already_sent_until_the_next_one(reports, monkeypatch):
    from slaclock.adapters.secrets import SecretKeyRing

    sm, key_arn = reports.aws.client("secretsmanager"), reports.aws.stack.ref("ReportLinkKey")
    ring = SecretKeyRing(key_arn, max_age=0)
    first = link_key(reports.aws)
    assert ring.all() == [first]  # never rotated: no previous version, and that is no error
    reports.http("POST", "/reports", {"period": "yesterday", "recipients": ["a@example.com"]})
    reports.drain()
    (token, *_) = mailed_links(reports.emails()[0].body)
    monkeypatch.setattr(link_wiring, "clock", lambda: NOW + timedelta(days=1))

    sm.put_secret_value(SecretId=key_arn, SecretString="second-key-" + "x" * 53)
    assert ring.all() == [b"second-key-" + b"x" * 53, first] and ring.current() != first
    new_container(link_wiring)
    assert open_link(token)["statusCode"] == 302  # signed with the previous version: still opens

    sm.put_secret_value(SecretId=key_arn, SecretString="third-key-" + "y" * 54)
    new_container(link_wiring)
    assert open_link(token)["statusCode"] == 404  # two rotations later it is gone


def test_an_unreadable_link_key_is_a_503_to_retry_never_a_trace(reports):
    from slaclock.services.report.links import mint

    token = mint(link_key(reports.aws), "reports/x/2026-11-19/sla_log.csv", NOW + timedelta(days=1))
    sm = reports.aws.client("secretsmanager")
    sm.delete_secret(SecretId=reports.aws.stack.ref("ReportLinkKey"), ForceDeleteWithoutRecovery=True)
    new_container(link_wiring)
    got = open_link(token)
    assert got["statusCode"] == 503 and got["headers"]["Retry-After"] == "5"
    assert json.loads(got["body"]) == {"error": "temporarily unavailable, retry later"}
