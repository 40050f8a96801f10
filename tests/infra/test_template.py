"""template.yaml: cfn-lint clean, and the security and runtime properties the deployment promises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slaclock_local.resources import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resources(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def test_cfn_lint_reports_nothing():
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["eu-west-1", "us-east-1"], include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template(tmp_path):
    from cfnlint.api import ManualArgs, lint_file

    broken = tmp_path / "template.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: PAY_AS_YOU_GO")
    )
    assert lint_file(broken, config=ManualArgs(regions=["eu-west-1"]))


def test_functions_run_python312_on_arm64_with_powertools_settings(template):
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Architectures"] == ["arm64"]
    env = glob["Environment"]["Variables"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"} <= set(env)
    functions = resources(template, "AWS::Serverless::Function")
    assert {"WebhookFunction", "CheckFunction", "SweeperFunction"} <= set(functions)
    for name, fn in functions.items():
        props = fn["Properties"]
        assert "Runtime" not in props and "Architectures" not in props, name
        assert props["CodeUri"].startswith("functions/"), name
        assert (ROOT / props["CodeUri"]).is_dir(), name
    layer = template["Resources"]["SlaclockLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # layers/slaclock/Makefile
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["ContentUri"] == "layers/slaclock"


def test_tracing_is_off_unless_asked_for(template):
    assert template["Parameters"]["Tracing"]["Default"] == "Disabled"
    # A parameter SAM can resolve (tests/infra/test_iam.py: no X-Ray policy unless Active).
    assert template["Globals"]["Function"]["Tracing"] == {"Ref": "Tracing"}


def test_the_webhook_route_and_the_sweeper_schedule(template):
    fns = template["Resources"]
    (webhook,) = fns["WebhookFunction"]["Properties"]["Events"].values()
    assert webhook["Type"] == "HttpApi"
    assert (webhook["Properties"]["Method"], webhook["Properties"]["Path"]) == ("POST", "/webhooks/{source}")
    (sweep,) = fns["SweeperFunction"]["Properties"]["Events"].values()
    assert sweep["Properties"]["Schedule"] == "rate(5 minutes)"


def test_tables_are_on_demand_encrypted_and_recoverable(template):
    tables = resources(template, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert table["DeletionPolicy"] == "Retain", name


def test_the_sweeper_and_report_indexes_exist(template):
    gsis = {
        g["IndexName"]: g for g in template["Resources"]["SlaTable"]["Properties"]["GlobalSecondaryIndexes"]
    }
    assert [k["AttributeName"] for k in gsis["due-checks"]["KeySchema"]] == ["due_shard", "next_check_at"]
    assert [k["AttributeName"] for k in gsis["clocks-by-outcome"]["KeySchema"]] == [
        "outcome_day",
        "outcome_at",
    ]


def test_buckets_are_private_encrypted_versioned_and_tls_only(template):
    buckets = resources(template, "AWS::S3::Bucket")
    policies = resources(template, "AWS::S3::BucketPolicy")
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        block = props["PublicAccessBlockConfiguration"]
        assert set(block) == {
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        }
        assert all(v is True for v in block.values()), name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        guarding = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        statements = [s for p in guarding for s in p["Properties"]["PolicyDocument"]["Statement"]]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), name


def test_queues_are_encrypted(template):
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name


def _statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM policy statement anywhere in the template (function policies, roles, role policies)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Statement" and isinstance(value, list):
                yield from (s for s in value if isinstance(s, dict) and "Effect" in s)
            else:
                yield from _statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _statements(item)


#: Actions that have no resource type in the Service Authorization Reference, so IAM only accepts
#: them with ``Resource: "*"``; each reads the caller's own account, nothing else.
ACCOUNT_LEVEL_ACTIONS = {"ses:GetSendQuota"}


def test_no_allow_statement_grants_every_resource_or_every_action(template):
    allows = [
        s for s in _statements(template["Resources"]) if s["Effect"] == "Allow" and "Principal" not in s
    ]
    assert len(allows) >= 10
    for s in allows:
        targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if "*" in targets:
            assert set(s["Action"]) <= ACCOUNT_LEVEL_ACTIONS, s
            continue
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), s


def test_least_privilege_scopes(template):
    allows = [
        s for s in _statements(template["Resources"]) if s["Effect"] == "Allow" and "Principal" not in s
    ]
    by_action: dict[str, list[Any]] = {}
    for s in allows:
        for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            by_action.setdefault(action, []).append(s)
    for s in by_action["scheduler:CreateSchedule"]:
        assert s["Resource"]["Fn::Sub"].endswith(":schedule/${CheckScheduleGroup}/*")
    for s in by_action["iam:PassRole"]:
        assert s["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    for s in by_action["ses:SendEmail"]:
        assert s["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
    for s in by_action["ssm:GetParameter"]:  # this stack's parameters only
        assert s["Resource"]["Fn::Sub"].endswith(":parameter/slaclock/${AWS::StackName}/*")
    for s in by_action["secretsmanager:GetSecretValue"]:  # this stack's secrets, or its link key
        assert s["Resource"] == {"Ref": "ReportLinkKey"} or s["Resource"]["Fn::Sub"].endswith(
            ":secret:slaclock/${AWS::StackName}/*"
        )
    readable = [{"Fn::Sub": "${DataBucket.Arn}/${ConfigKey}"}, {"Fn::Sub": "${DataBucket.Arn}/reports/*"}]
    for s in by_action["s3:GetObject"]:
        assert s["Resource"] in readable, s  # the configuration document, or the reports
    for s in by_action["events:PutEvents"]:
        assert s["Resource"]["Fn::Sub"].endswith(":event-bus/${EventBusName}")
    invokes = by_action["lambda:InvokeFunction"]
    (scheduler_invoke,) = [s for s in invokes if isinstance(s["Resource"], list)]
    assert {"Fn::GetAtt": ["CheckFunction", "Arn"]} in scheduler_invoke["Resource"]
    # the sweeper's fan-out invokes the sweeper itself, nothing else
    sweeper = template["Resources"]["SweeperFunction"]["Properties"]
    (fan_out,) = [s for s in invokes if not isinstance(s["Resource"], list)]
    assert fan_out["Resource"]["Fn::Sub"].endswith(":function:" + sweeper["FunctionName"]["Fn::Sub"])
    assert any(fan_out in p.get("Statement", []) for p in sweeper["Policies"] if isinstance(p, dict))


def test_the_scheduler_role_trusts_only_the_scheduler_of_this_account(template):
    role = template["Resources"]["SchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (dlq,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert dlq["Action"] == "sqs:SendMessage" and dlq["Resource"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }


def test_alarms_watch_the_dead_letter_queue_and_every_function(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    watched_functions = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if a["Properties"]["MetricName"] == "Errors" and a["Properties"]["Namespace"] == "AWS/Lambda"
    }
    assert watched_functions == set(resources(template, "AWS::Serverless::Function"))
    (dlq,) = [a for a in alarms if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert (
        dlq["Properties"]["Threshold"] == 0
        and dlq["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    )


def test_alarms_watch_the_failures_that_raise_no_lambda_error(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    }
    # webhook 5xx answers, a ticket whose check fails in every sweep, e-mails SES keeps refusing,
    # notices that had nobody to go to, schedules refused because the account's schedule quota is
    # used up (answered 202 all the same), actions that went to their dead-letter queue
    assert set(alarms) == {
        "ActionsDeadLettered",
        "WebhookErrors",
        "CheckFailures",
        "NoticesPending",
        "NoticesWithoutRecipient",
        "ScheduleQuotaExceeded",
    }
    for props in alarms.values():
        # Powertools' default dimension service=<service name>, and slaclock's stack=<stack name>
        # (slaclock.runtime.observability): an alarm must name exactly the dimensions a metric has.
        assert props["Dimensions"] == [
            {"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]},
            {"Name": "stack", "Value": env["SLACLOCK_STACK_NAME"]},
        ]
        assert env["SLACLOCK_STACK_NAME"] == {"Ref": "AWS::StackName"}
        assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["TreatMissingData"] == "notBreaching"  # emitted only when non-zero
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # A pending notice is retried about every 6 minutes (5-minute lease, rounded up to the minute):
    # the alarm needs it pending in every one of >= 2 consecutive periods, each longer than that
    # spacing (so a lasting refusal leaves no empty period), over at least 15 minutes.
    pending = alarms["NoticesPending"]
    assert pending["EvaluationPeriods"] == pending["DatapointsToAlarm"] >= 2
    assert pending["Period"] >= 7 * 60 and pending["Period"] * pending["EvaluationPeriods"] >= 15 * 60


@pytest.mark.parametrize(
    "metric",
    ["WebhookErrors", "CheckFailures", "NoticesPending", "NoticesWithoutRecipient", "ScheduleQuotaExceeded"],
)
def test_every_alarmed_metric_is_emitted_by_a_function(metric):
    sources = [
        *ROOT.glob("functions/*/handler.py"),
        ROOT / "layers/slaclock/slaclock/runtime/observability.py",
    ]
    assert any(f'count("{metric}"' in path.read_text() for path in sources)


def test_outputs_name_the_api_table_and_bucket(template):
    assert {"WebhookUrl", "TableName", "DataBucketName", "ConfigKey"} <= set(template["Outputs"])


def test_reserved_concurrency_bounds_the_senders_and_the_functions_know_it(template):
    """The SES send rate is split over every container that can send at once (check + sweeper
    reserved concurrency): each function must be told the same numbers it is capped at."""
    from slaclock.adapters.dynamodb import DUE_SHARDS

    fns = template["Resources"]
    check, sweeper = fns["CheckFunction"]["Properties"], fns["SweeperFunction"]["Properties"]
    assert check["ReservedConcurrentExecutions"] == {"Ref": "CheckConcurrency"}
    # the scheduled sweep + one worker per shard of the due index
    assert sweeper["ReservedConcurrentExecutions"] == DUE_SHARDS + 1
    for props in (check, sweeper):
        env = props["Environment"]["Variables"]
        assert env["SLACLOCK_CHECK_CONCURRENCY"] == {"Ref": "CheckConcurrency"}
        assert int(env["SLACLOCK_SWEEPER_CONCURRENCY"]) == sweeper["ReservedConcurrentExecutions"]
        assert env["SLACLOCK_SES_RATE_PERCENT"] == {"Ref": "SesSendRatePercent"}
    assert "ReservedConcurrentExecutions" not in fns["WebhookFunction"]["Properties"]
