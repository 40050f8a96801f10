"""`slaclock config push/show --stack --region` as docs/deploying.md runs them: the Region from
``--region``, ``AWS_REGION`` or ``AWS_DEFAULT_REGION`` (botocore itself reads only the last), the stack
from ``--stack`` or ``SLACLOCK_STACK``; the bucket from that stack's outputs (DescribeStacks, as the
CloudFormation API reference documents its response:
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slaclock import cli

from tests.integration.conftest import AwsStack

pytestmark = pytest.mark.integration
VALID_YAML = (Path(__file__).resolve().parents[1] / "fixtures" / "config" / "full.yaml").read_text()


@pytest.fixture
def stacks(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """DescribeStacks answered by a botocore Stubber with the outputs of the `aws` stack (moto's
    CloudFormation would load every service's backend); records the Region each client is made for."""
    from botocore.stub import Stubber
    from slaclock.adapters import _aws

    seen: dict[str, Any] = {"regions": [], "asked": []}
    real = _aws.client

    def client(service: str, **kw: Any) -> Any:
        made = real(service, **kw)
        seen["regions"].append((service, made.meta.region_name))
        if service != "cloudformation":
            return made
        stubber = Stubber(made)  # validates each answer against the CloudFormation service model
        stubber.activate()
        original = made.describe_stacks

        def describe_stacks(**params: Any) -> Any:
            name = params["StackName"]
            seen["asked"].append(name)
            outputs = [{"OutputKey": "DataBucketName", "OutputValue": aws.bucket},
                       {"OutputKey": "ConfigKey", "OutputValue": aws.config_key}]  # fmt: skip
            stack = {"StackName": name, "CreationTime": "2026-01-01T00:00:00Z",
                     "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}  # fmt: skip
            stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})
            return original(StackName=name)

        made.describe_stacks = describe_stacks
        return made

    monkeypatch.setattr(_aws, "client", client)
    monkeypatch.delenv("SLACLOCK_CONFIG_BUCKET")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    return seen


def _put_object_allowed(aws: AwsStack) -> None:
    # moto evaluates the DenyInsecureTransport bucket policy without aws:SecureTransport; AWS enforces it.
    aws.client("s3").delete_bucket_policy(Bucket=aws.bucket)


def test_aws_region_alone_is_enough(aws, stacks, monkeypatch, tmp_path, capsys):
    _put_object_allowed(aws)
    monkeypatch.setenv("AWS_REGION", aws.region)
    (tmp_path / "sla.yaml").write_text(VALID_YAML)

    assert cli.main(["config", "push", "--file", str(tmp_path / "sla.yaml")]) == 0

    assert capsys.readouterr().out.startswith(f"pushed s3://{aws.bucket}/{aws.config_key}")
    assert ("cloudformation", aws.region) in stacks["regions"] and ("s3", aws.region) in stacks["regions"]
    assert stacks["asked"] == ["slaclock"]


def test_aws_default_region_is_honoured_too(aws, stacks, monkeypatch, tmp_path, capsys):
    _put_object_allowed(aws)
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws.region)
    (tmp_path / "sla.yaml").write_text(VALID_YAML)
    assert cli.main(["config", "push", "--file", str(tmp_path / "sla.yaml")]) == 0
    assert ("cloudformation", aws.region) in stacks["regions"]


def test_region_and_stack_flags_win_over_the_environment(aws, stacks, monkeypatch, tmp_path, capsys):
    _put_object_allowed(aws)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("SLACLOCK_STACK", "slaclock")
    monkeypatch.setenv("SLACLOCK_CONFIG_BUCKET", "not-this-bucket")
    (tmp_path / "sla.yaml").write_text(VALID_YAML)
    args = ["--stack", "slaclock-staging", "--region", aws.region]

    assert cli.main(["config", "push", "--file", str(tmp_path / "sla.yaml"), *args]) == 0
    assert cli.main(["config", "show", *args]) == 0

    assert capsys.readouterr().out.endswith(VALID_YAML)
    assert stacks["asked"] == ["slaclock-staging", "slaclock-staging"]
    assert {r for _, r in stacks["regions"]} == {aws.region}


def test_no_region_anywhere_is_a_one_line_error_not_a_traceback(aws, stacks, monkeypatch, tmp_path, capsys):
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    (tmp_path / "sla.yaml").write_text(VALID_YAML)

    assert cli.main(["config", "push", "--file", str(tmp_path / "sla.yaml")]) == 2
    assert cli.main(["config", "show"]) == 2

    err = capsys.readouterr().err
    assert err.count("--region") == 2 and "Traceback" not in err
