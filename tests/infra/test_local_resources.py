"""slaclock_local.resources: template.yaml's resources created in moto, and the template resolver."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from slaclock_local.resources import (
    StackResources,
    TemplateError,
    create_from_template,
    default_template_path,
    load_template,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
REGION = "eu-west-1"


@pytest.fixture
def session(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )


@pytest.fixture
def stack(session) -> StackResources:
    return create_from_template(
        TEMPLATE, session, parameters={"SenderEmail": "sla@example.com"}, stack_name="demo"
    )


def test_the_default_template_is_the_repositorys():
    assert default_template_path() == TEMPLATE


def test_tables_are_created_exactly_as_the_template_defines_them(session, stack):
    defined = load_template(TEMPLATE)["Resources"]["SlaTable"]["Properties"]
    table = session.client("dynamodb").describe_table(TableName=stack.ref("SlaTable"))["Table"]
    assert table["TableName"] == "demo-SlaTable"
    assert table["KeySchema"] == defined["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(defined["AttributeDefinitions"], key=str)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    created = {g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in table["GlobalSecondaryIndexes"]}
    assert created == {
        g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in defined["GlobalSecondaryIndexes"]
    }
    backups = session.client("dynamodb").describe_continuous_backups(TableName=stack.ref("SlaTable"))
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_the_bucket_is_private_encrypted_versioned_with_its_lifecycle(session, stack):
    s3, bucket = session.client("s3"), stack.ref("DataBucket")
    assert bucket == "demo-databucket"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["expire-reports"]["Expiration"] == {"Days": 90}
    assert rules["expire-reports"]["Filter"] == {"Prefix": "reports/"}


def test_the_schedule_group_queue_and_sender_identity_exist(session, stack):
    assert stack.ref("CheckScheduleGroup") == "demo-checks"
    session.client("scheduler").get_schedule_group(Name="demo-checks")
    attrs = session.client("sqs").get_queue_attributes(
        QueueUrl=stack.ref("DeadLetterQueue"), AttributeNames=["All"]
    )
    assert attrs["Attributes"]["SqsManagedSseEnabled"] == "true"
    assert attrs["Attributes"]["MessageRetentionPeriod"] == "1209600"
    assert "sla@example.com" in session.client("ses").list_identities()["Identities"]


def test_access_policies_and_code_are_not_created_but_resolve(stack):
    assert {"DataBucketPolicy", "DeadLetterQueuePolicy", "SchedulerRole", "CheckFunction"} <= set(
        stack.skipped
    )
    assert (
        stack.get_att("CheckFunction", "Arn") == "arn:aws:lambda:eu-west-1:123456789012:function:demo-check"
    )


def test_each_function_gets_the_environment_the_template_gives_it(stack):
    env = stack.environment("CheckFunction")
    assert env["SLACLOCK_TABLE"] == "demo-SlaTable"
    assert env["SLACLOCK_CONFIG_BUCKET"] == env["SLACLOCK_REPORT_BUCKET"] == "demo-databucket"
    assert env["SLACLOCK_CONFIG_KEY"] == "config/sla.yaml"
    assert env["SLACLOCK_SCHEDULE_GROUP"] == "demo-checks"
    assert env["SLACLOCK_SCHEDULER_ROLE_ARN"] == "arn:aws:iam::123456789012:role/demo-SchedulerRole"
    assert env["SLACLOCK_CHECK_FUNCTION_ARN"] == stack.get_att("CheckFunction", "Arn")
    assert env["SLACLOCK_SCHEDULER_DLQ_ARN"] == "arn:aws:sqs:eu-west-1:123456789012:demo-DeadLetterQueue"
    assert env["SLACLOCK_SENDER"] == "sla@example.com"
    assert env["SLACLOCK_REPORT_LINK_EXPIRY_SECONDS"] == "604800"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert all(isinstance(v, str) for v in env.values())
    assert {"WebhookFunction", "CheckFunction", "SweeperFunction"} <= set(stack.functions())


def test_parameters_and_conditions_drive_what_is_created(session):
    stack = create_from_template(
        TEMPLATE, session, parameters={"SenderEmail": "a@b.test", "CreateSenderIdentity": "false",
                                       "Tracing": "Active"}, stack_name="other",
    )  # fmt: skip
    assert "SenderIdentity" in stack.skipped
    assert stack.environment("WebhookFunction")["POWERTOOLS_TRACE_DISABLED"] == "false"
    assert stack.outputs()["WebhookUrl"] == "https://other-HttpApi.execute-api.eu-west-1.amazonaws.com"


def test_a_missing_or_unknown_parameter_is_refused(session):
    with pytest.raises(TemplateError, match="SenderEmail"):
        create_from_template(TEMPLATE, session)
    with pytest.raises(TemplateError, match="Nope"):
        create_from_template(TEMPLATE, session, parameters={"SenderEmail": "a@b.test", "Nope": "1"})


def test_physical_names_can_be_chosen(session):
    stack = create_from_template(
        TEMPLATE, session, {"SlaTable": "my-table"}, parameters={"SenderEmail": "a@b.test"}
    )
    assert stack.environment("WebhookFunction")["SLACLOCK_TABLE"] == "my-table"
    session.client("dynamodb").describe_table(TableName="my-table")


# ------------------------------------------------------------------------------------ the resolver


def _stack(doc: dict) -> StackResources:
    s = StackResources(doc, "st", REGION, "111122223333", {"P": "v", "Flag": "yes"})
    s.physical["Thing"] = "thing-1"
    s.attributes[("Thing", "Arn")] = "arn:thing-1"
    return s


def test_intrinsics_resolve_like_cloudformation():
    s = _stack({"Resources": {}, "Conditions": {"On": {"Fn::Equals": [{"Ref": "Flag"}, "yes"]},
                                                "Off": {"Fn::Not": [{"Condition": "On"}]}}})  # fmt: skip
    assert s.resolve({"Fn::Sub": "${AWS::StackName}-${P}-${Thing}-${Thing.Arn}-${!Literal}"}) == (
        "st-v-thing-1-arn:thing-1-${Literal}"
    )
    assert s.resolve({"Fn::Sub": ["${X}/${AWS::Region}", {"X": {"Ref": "P"}}]}) == "v/eu-west-1"
    assert s.resolve({"Fn::Join": [":", ["a", {"Ref": "AWS::AccountId"}]]}) == "a:111122223333"
    assert s.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert s.resolve({"Fn::If": ["Off", "a", "b"]}) == "b"
    assert s.resolve({"k": {"Fn::If": ["On", {"Ref": "AWS::NoValue"}, 1]}, "j": 2}) == {"j": 2}
    assert s.resolve([{"Ref": "AWS::NoValue"}, {"Ref": "AWS::Partition"}]) == ["aws"]
    with pytest.raises(TemplateError, match="Fn::FindInMap"):
        s.resolve({"Fn::FindInMap": ["M", "a", "b"]})
    with pytest.raises(TemplateError, match="Nope"):
        s.resolve({"Ref": "Nope"})


def test_the_loader_reads_every_short_form_tag(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  A: {Type: X, Properties: {r: !Ref P, g: !GetAtt B.Arn, gl: !GetAtt [B, Arn], s: !Sub '${P}',\n"
        "      j: !Join [',', [a]], i: !If [C, 1, 2], n: !Not [!Equals [a, b]], c: !Condition C,\n"
        "      sel: !Select [0, !Split [',', 'a,b']], b: !Base64 x, f: !FindInMap [M, a, b]}}\n"
    )
    props = load_template(path)["Resources"]["A"]["Properties"]
    assert props["r"] == {"Ref": "P"}
    assert props["g"] == props["gl"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["s"] == {"Fn::Sub": "${P}"}
    assert props["n"] == {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}
    assert props["c"] == {"Condition": "C"}
    assert props["sel"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert props["f"] == {"Fn::FindInMap": ["M", "a", "b"]}
    with pytest.raises(TemplateError, match="not a CloudFormation template"):
        (tmp_path / "x.yaml").write_text("a: 1\n")
        load_template(tmp_path / "x.yaml")
