"""Least privilege, statement by statement, on the roles AWS SAM makes of template.yaml (tests/infra/iam.py).

What each function really calls is checked against moto in tests/integration/test_least_privilege.py;
these are the properties of the grants themselves: AWS's documented condition keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService,
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
"""

from __future__ import annotations

import pytest

from tests.infra.iam import FUNCTIONS, XRAY_POLICY, function_grants, function_role, managed_policies

ALL = list(FUNCTIONS)
WIDE_DYNAMODB = {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"}


def actions_of(function: str, **parameters: str) -> set[str]:
    return {a for g in function_grants(function, **parameters) for a in g.actions}


def test_the_public_webhook_may_only_get_put_and_query_ticket_items():
    (grant,) = [
        g for g in function_grants("WebhookFunction") if any(a.startswith("dynamodb:") for a in g.actions)
    ]
    assert grant.actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
    assert grant.dynamodb_resources == {"table"}  # no index
    assert grant.condition == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*"]}}


@pytest.mark.parametrize("function", ALL)
def test_no_function_may_scan_batch_or_delete_items(function):
    assert actions_of(function) & WIDE_DYNAMODB == set()


@pytest.mark.parametrize("function", ALL)
def test_no_function_may_read_schedules(function):
    assert not any(a.startswith(("scheduler:Get", "scheduler:List")) for a in actions_of(function))


@pytest.mark.parametrize("function", ["WebhookFunction", "CheckFunction", "SweeperFunction"])
def test_the_scheduler_role_may_be_passed_to_the_scheduler_only(function):
    (grant,) = [g for g in function_grants(function) if "iam:PassRole" in g.actions]
    assert grant.actions == {"iam:PassRole"}
    assert grant.resource == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert grant.condition == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


@pytest.mark.parametrize("function", ALL)
def test_xray_write_access_only_when_tracing_is_on(function):
    def xray(policies: list[str]) -> bool:
        return any(XRAY_POLICY in p for p in policies)

    assert not xray(managed_policies(function))
    assert not xray(managed_policies(function, Tracing="Disabled"))
    assert xray(managed_policies(function, Tracing="Active"))


@pytest.mark.parametrize("function", ALL)
def test_kms_decrypt_only_for_a_customer_key_and_only_through_ssm_or_secrets_manager(function):
    assert not any(a.startswith("kms:") for a in actions_of(function))
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    (grant,) = [g for g in function_grants(function, SecretsKmsKeyArn=key) if "kms:Decrypt" in g.actions]
    assert grant.actions == {"kms:Decrypt"}
    assert grant.resource == {"Ref": "SecretsKmsKeyArn"}
    assert grant.condition == {
        "StringEquals": {
            "kms:ViaService": [
                {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"},
                {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"},
            ]
        }
    }


@pytest.mark.parametrize("function", ALL)
def test_each_role_is_trusted_by_lambda_only(function):
    (trust,) = function_role(function)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole"]
