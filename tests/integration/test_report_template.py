"""template.yaml's report block: the function's environment satisfies `ReportSettings`, the reports API
requires IAM, the queue outlives the function's timeout, and the policy is scoped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from slaclock.runtime.report_wiring import ReportSettings
from slaclock_local.resources import load_template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE)


def function(template):
    return template["Resources"]["ReportFunction"]["Properties"]


def test_the_settings_validate_from_the_functions_resolved_environment(aws, monkeypatch):
    env = aws.env_for("ReportFunction")
    required = {"SLACLOCK_" + n.upper() for n, f in ReportSettings.model_fields.items() if f.is_required()}
    assert sorted(required - set(env)) == []
    for name in list(os.environ):
        if name.startswith("SLACLOCK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = ReportSettings()
    assert settings.report_queue_url == aws.stack.ref("ReportQueue")
    assert settings.report_link_expiry_seconds == 604800
    assert settings.report_link_key_secret == aws.stack.ref("ReportLinkKey")
    assert settings.report_link_base_url == aws.stack.outputs()["ReportLinksUrl"]
    assert settings.report_lease_seconds > function(aws.stack.template)["Timeout"]
    monkeypatch.setenv("SLACLOCK_REPORT_LINK_EXPIRY_SECONDS", "604801")
    with pytest.raises(ValidationError, match="report_link_expiry_seconds"):
        ReportSettings()


def test_every_variable_set_on_the_function_is_read_by_its_settings(template):
    own = function(template)["Environment"]["Variables"]
    known = {"SLACLOCK_" + n.upper() for n in ReportSettings.model_fields}
    assert sorted(n for n in own if n not in known) == []
    handler = template["Globals"]["Function"]["Handler"].rpartition(".")[0]
    assert (ROOT / function(template)["CodeUri"] / f"{handler}.py").is_file()


def test_the_reports_api_requires_iam_and_routes_to_the_function(template):
    api = template["Resources"]["ReportsApi"]["Properties"]
    assert api["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"])
              for e in function(template)["Events"].values() if e["Type"] == "HttpApi"}  # fmt: skip
    assert routes == {("POST", "/reports"), ("GET", "/reports/{id}")}
    assert all(e["Properties"]["ApiId"] == {"Ref": "ReportsApi"}
               for e in function(template)["Events"].values() if e["Type"] == "HttpApi")  # fmt: skip


def test_the_job_queue_outlives_the_function_and_dead_letters_after_three_tries(template):
    queue = template["Resources"]["ReportQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function(template)["Timeout"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": 3}  # fmt: skip
    mapping = template["Resources"]["ReportJobsMapping"]["Properties"]
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert not any(
        e["Type"] == "SQS" for e in function(template)["Events"].values()
    )  # no account-wide policy


def test_the_policy_is_scoped_to_the_index_the_job_items_the_reports_prefix_and_the_sender(template):
    statements = {s["Sid"]: s for s in function(template)["Policies"][0]["Statement"] if "Sid" in s}
    assert statements["QueryClockRecordsByOutcome"]["Resource"] == {
        "Fn::Sub": "${SlaTable.Arn}/index/clocks-by-outcome"
    }
    jobs = statements["ReportJobRecordsOnly"]
    assert jobs["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["R#*"]}}
    assert set(jobs["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert statements["WriteReports"]["Resource"] == {"Fn::Sub": "${DataBucket.Arn}/reports/*"}
    assert "s3:GetObject" not in statements["WriteReports"]["Action"]  # links are tokens: nothing to presign
    assert statements["SignReportLinks"]["Resource"] == {"Ref": "ReportLinkKey"}
    assert statements["ReadConfig"]["Resource"] == {"Fn::Sub": "${DataBucket.Arn}/${ConfigKey}"}
    assert statements["SendFromTheSenderOnly"]["Condition"] == {
        "StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}
    }
    for s in statements.values():
        assert s["Resource"] != "*" and not any(
            a.endswith(":*") for a in s["Action"] if isinstance(s["Action"], list)
        )


def test_the_link_route_is_public_on_its_own_api_which_never_logs_the_token(template):
    resources = template["Resources"]
    (event,) = resources["LinkFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "HttpApi"
    assert event["Properties"] == {"ApiId": {"Ref": "LinksApi"}, "Method": "GET", "Path": "/links/{token}"}
    api = resources["LinksApi"]["Properties"]
    assert "Auth" not in api  # a browser opens it from an e-mail: the token is the credential
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] < 100  # apart from the webhooks' budget
    access_log = api["AccessLogSettings"]["Format"]
    assert "$context.routeKey" in access_log and "$context.path" not in access_log  # the path holds the token
    link_base = function(template)["Environment"]["Variables"]["SLACLOCK_REPORT_LINK_BASE_URL"]
    assert link_base == {"Fn::Sub": "https://${LinksApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/links/"}
    policy = resources["LinkFunction"]["Properties"]["Policies"][0]["Statement"]
    assert {s["Action"]: s["Resource"] for s in policy} == {
        "secretsmanager:GetSecretValue": {"Ref": "ReportLinkKey"},
        "s3:GetObject": {"Fn::Sub": "${DataBucket.Arn}/reports/*"},
    }
