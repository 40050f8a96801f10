"""template.yaml: report files and their job records share one lifetime, the data bucket's access logs
are there when asked for, and docs/deploying.md describes the encryption the template really sets."""

from __future__ import annotations

from typing import Any

from slaclock_local.resources import load_template

from tests.infra.iam import ROOT, TEMPLATE, _conditions, resolve_ifs


def bucket(**parameters: str) -> dict[str, Any]:
    props: dict[str, Any] = load_template(TEMPLATE)["Resources"]["DataBucket"]["Properties"]
    resolved: dict[str, Any] = resolve_ifs(props, _conditions(parameters))
    return resolved


def test_report_job_records_expire_with_the_report_files():
    template = load_template(TEMPLATE)
    (rule,) = [r for r in bucket()["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "reports/"]
    assert rule["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    env = template["Resources"]["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACLOCK_REPORT_RETENTION_DAYS"] == {"Ref": "ReportRetentionDays"}
    glob = template["Globals"]["Function"]["Environment"]["Variables"]
    assert glob["SLACLOCK_RETENTION_DAYS"] == {"Ref": "RetentionDays"}


def test_access_logs_of_the_data_bucket_only_when_a_log_bucket_is_given():
    assert "LoggingConfiguration" not in bucket()
    logging = bucket(DataAccessLogBucket="acme-s3-access-logs")["LoggingConfiguration"]
    assert logging == {
        "DestinationBucketName": {"Ref": "DataAccessLogBucket"},
        "LogFilePrefix": {"Fn::Sub": "s3-access/${AWS::StackName}/"},
    }


def test_the_encryption_the_docs_describe_is_the_templates():
    resources = load_template(TEMPLATE)["Resources"]
    assert resources["SlaTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True}  # aws/dynamodb
    (rule,) = resources["DataBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}  # SSE-S3, no bucket key
    for queue in ("DeadLetterQueue", "ReportQueue"):
        assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    table = deploying.split("#### What is encrypted, and with which key", 1)[1].split("####", 1)[0]
    assert "the AWS-managed key `aws/dynamodb`" in table
    assert "SSE-S3" in table and "SSE-SQS" in table
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    assert "AWS-owned key" not in architecture  # SSEEnabled: true is the AWS-managed key, not AWS-owned
