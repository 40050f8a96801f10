"""Two stacks in one account and Region (production and staging): the template, translated by the real
SAM translator into the CloudFormation that deploys, shares no physical name between them, and each
stack reads only its own secrets and raises only its own alarms.

Names come from the translated template (SAM adds resources and names of its own: schedules, layer
versions, roles), resolved as CloudFormation would for each stack name. A resource without a name
property gets one CloudFormation generates (stack name, logical id, random suffix): it cannot collide.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slaclock_local.resources import StackResources, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION, ACCOUNT = "eu-west-1", "123456789012"
SENDER = "sla@example.com"

#: The property that names each resource type the translated template holds (its physical id).
NAME_PROPERTY = {
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::ApiGatewayV2::Authorizer": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
}
#: Types that have no name of their own (they attach to a named resource).
UNNAMED = {
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::IAM::RolePolicy",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
}


def translate(stack_name: str, **parameters: str) -> dict[str, Any]:
    """template.yaml as the CloudFormation that deploys (SAM translator), its intrinsic functions
    resolved for a stack called `stack_name`."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values = {"SenderEmail": SENDER, **parameters}
    # No managed policy is looked up by name (SAM builds AWSLambdaBasicExecutionRole's ARN itself).
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    sam = copy.deepcopy(load_template(TEMPLATE))
    for logical, res in sam["Resources"].items():  # what `sam deploy` uploads and substitutes
        for prop in ("CodeUri", "ContentUri"):
            if prop in res.get("Properties", {}):
                res["Properties"][prop] = f"s3://sam-artifacts-{ACCOUNT}/{logical}.zip"
    cfn = translator.translate(sam, values, get_managed_policy_map=dict)
    defaults = {k: str(v["Default"]) for k, v in cfn.get("Parameters", {}).items() if "Default" in v}
    stack = StackResources(cfn, stack_name, REGION, ACCOUNT, {**defaults, **values})
    for logical, res in cfn["Resources"].items():  # what !Ref / !GetAtt yield, as CloudFormation names
        prop = NAME_PROPERTY.get(res["Type"])
        given = (res.get("Properties") or {}).get(prop) if prop else None
        stack.physical[logical] = f"{stack_name}-{logical}-GENERATED" if given is None else "(pending)"
    for _ in range(3):  # names may be built from other names (log groups from functions)
        for logical, res in cfn["Resources"].items():
            prop = NAME_PROPERTY.get(res["Type"])
            if prop and prop in (res.get("Properties") or {}):
                stack.physical[logical] = str(stack.resolve(res["Properties"][prop]))
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
    for logical, res in cfn["Resources"].items():
        name, rtype = stack.physical[logical], res["Type"]
        stack.attributes[(logical, "Arn")] = {
            "AWS::Lambda::Function": arn.format("lambda") + f"function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::SQS::Queue": arn.format("sqs") + name,
            "AWS::DynamoDB::Table": arn.format("dynamodb") + f"table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
        }.get(rtype, arn.format("x") + name)
        stack.attributes[(logical, "QueueName")] = name
        if rtype == "AWS::SecretsManager::Secret":
            stack.physical[logical] = arn.format("secretsmanager") + f"secret:{name}-AbCdEf"
    resolved = {
        logical: {**res, "Properties": stack.resolve(res.get("Properties") or {})}
        for logical, res in cfn["Resources"].items()
        if "Condition" not in res or stack.condition(res["Condition"])
    }
    return {"Resources": resolved, "physical": dict(stack.physical)}


@pytest.fixture(scope="module")
def stacks() -> tuple[dict[str, Any], dict[str, Any]]:
    production = translate("slaclock")
    # the second stack uses the same sender, already verified by the first (docs/deploying.md §10)
    staging = translate("slaclock-staging", CreateSenderIdentity="false")
    return production, staging


def names(stack: dict[str, Any]) -> dict[str, str]:
    """(type, physical name) of every resource that names itself."""
    found = {}
    for logical, res in stack["Resources"].items():
        rtype = res["Type"]
        assert rtype in NAME_PROPERTY or rtype in UNNAMED, f"{logical}: decide whether {rtype} has a name"
        prop = NAME_PROPERTY.get(rtype)
        if prop and prop in res["Properties"]:
            found[logical] = f"{rtype} {res['Properties'][prop]}"
    return found


def test_the_two_stacks_share_no_physical_name(stacks):
    production, staging = stacks
    ours, theirs = names(production), names(staging)
    # SAM's own naming is in the translation: its schedules and its layer carry names
    assert {"AWS::Scheduler::Schedule", "AWS::Lambda::LayerVersion"} <= {n.split()[0] for n in ours.values()}
    assert sorted(set(ours.values()) & set(theirs.values())) == []
    for stack_name, found in (("slaclock-staging", theirs), ("slaclock", ours)):
        for logical, name in found.items():
            if logical == "SenderIdentity":  # the operator's own address (a parameter), created once
                continue
            assert stack_name in name, (logical, name)  # derived from the stack name, not a constant
    assert "SenderIdentity" in ours and "SenderIdentity" not in theirs


def _statements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Statement" and isinstance(value, list):
                yield from (s for s in value if isinstance(s, dict) and "Effect" in s)
            else:
                yield from _statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _statements(item)


def readable_secrets(stack: dict[str, Any]) -> dict[str, list[str]]:
    """Role logical id -> the SSM parameter / Secrets Manager ARNs (patterns) its policies allow reading."""
    found: dict[str, list[str]] = {}
    for logical, res in stack["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for s in _statements(res["Properties"].get("Policies", [])):
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            if s["Effect"] == "Allow" and {"ssm:GetParameter", "secretsmanager:GetSecretValue"} & set(
                actions
            ):
                targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
                found.setdefault(logical, []).extend(targets)
    return found


def secrets_of(stack_name: str, link_key: str) -> list[str]:
    """Secrets a stack called `stack_name` holds, named as docs/deploying.md says."""
    return [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/slaclock/{stack_name}/zendesk-main",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/slaclock/{stack_name}/outgoing-webhook",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:slaclock/{stack_name}/jira-itsm-AbCdEf",
        link_key,
    ]


def test_each_stack_reads_its_own_secrets_only(stacks):
    production, staging = stacks
    for ours, theirs, name, other in ((production, staging, "slaclock", "slaclock-staging"),
                                      (staging, production, "slaclock-staging", "slaclock")):  # fmt: skip
        readers = readable_secrets(ours)
        assert {"WebhookFunctionRole", "CheckFunctionRole", "SweeperFunctionRole"} <= set(readers)
        own = secrets_of(name, ours["physical"]["ReportLinkKey"])
        foreign = secrets_of(other, theirs["physical"]["ReportLinkKey"])
        for role, patterns in readers.items():
            for secret in foreign:
                assert not any(fnmatch.fnmatchcase(secret, p) for p in patterns), (role, secret, patterns)
        webhook = readers["WebhookFunctionRole"]
        assert any(fnmatch.fnmatchcase(own[0], p) for p in webhook)  # its sources' secrets, still
        assert any(fnmatch.fnmatchcase(own[2], p) for p in webhook)


def test_the_link_key_is_readable_by_the_report_and_link_functions_only(stacks):
    for stack in stacks:
        key = stack["physical"]["ReportLinkKey"]
        readers = {role for role, patterns in readable_secrets(stack).items()
                   if any(fnmatch.fnmatchcase(key, p) for p in patterns)}  # fmt: skip
        assert readers == {"ReportFunctionRole", "LinkFunctionRole"}


def test_each_stacks_alarms_watch_its_own_metrics(stacks):
    production, staging = stacks

    def watched(stack: dict[str, Any]) -> set[tuple[str, str, str]]:
        alarms = [
            r["Properties"] for r in stack["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
        ]
        assert alarms
        return {
            (a["Namespace"], a["MetricName"], repr(sorted((d["Name"], d["Value"]) for d in a["Dimensions"])))
            for a in alarms
        }

    assert watched(production) & watched(staging) == set()
    for stack, name in ((production, "slaclock"), (staging, "slaclock-staging")):
        functions = [
            r["Properties"] for r in stack["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
        ]
        assert {f["Environment"]["Variables"]["SLACLOCK_STACK_NAME"] for f in functions} == {name}
