"""template.yaml's IAM, as AWS SAM expands it: the role of each function, its statements and managed
policies, with the template's conditions resolved for a given set of parameters.

The expansion is SAM's own (`samtranslator`, the library `sam build` / `sam deploy` and cfn-lint use), so
a policy template such as ``DynamoDBCrudPolicy`` becomes the actions it really grants, and ``Tracing``
becomes whatever managed policy SAM attaches for it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from slaclock_local.resources import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTIONS = ("WebhookFunction", "CheckFunction", "SweeperFunction", "ReportFunction")
REGION = "eu-west-1"
XRAY_POLICY = "AWSXrayWriteOnlyAccess"


@dataclass(frozen=True)
class Grant:
    """One Allow statement of a function's role."""

    actions: frozenset[str]
    resource: Any
    condition: Any

    @property
    def dynamodb_resources(self) -> frozenset[str]:
        """ "table", "index/<name>", "index/*" for each resource of the slaclock table the statement
        names. Understands the template's own forms and SAM's policy templates (``table/${tableName}``
        with ``tableName: !Ref SlaTable``)."""
        resources = self.resource if isinstance(self.resource, list) else [self.resource]
        return frozenset(r for r in map(_table_resource, resources) if r is not None)


def _table_resource(resource: Any) -> str | None:
    if resource == {"Fn::GetAtt": ["SlaTable", "Arn"]}:
        return "table"
    text = json.dumps(resource)
    if "${SlaTable.Arn}/" in text:
        return text.split("${SlaTable.Arn}/", 1)[1].split('"', 1)[0]
    if '"tableName": {"Ref": "SlaTable"}' in text and "table/${tableName}" in text:
        return text.split("table/${tableName}", 1)[1].split('"', 1)[0].lstrip("/") or "table"
    return None


def _to_s3_uris(template: dict[str, Any]) -> dict[str, Any]:
    """SAM translates packaged templates: local CodeUri / ContentUri become S3 locations (as `sam
    package` and cfn-lint do); nothing else changes."""
    out = copy.deepcopy(template)
    for res in out["Resources"].values():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://bucket/{props[key].strip('/')}"
    return out


@cache
def transformed(parameters: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """The CloudFormation template SAM makes of template.yaml (`parameters` as (name, value) pairs)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    ArnGenerator.BOTO_SESSION_REGION_NAME = REGION
    values = {"SenderEmail": "sla@example.com", **dict(parameters)}
    # No credentials are used: the session only names the Region for the pseudo parameters.
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    result: dict[str, Any] = translator.translate(
        sam_template=_to_s3_uris(load_template(TEMPLATE)), parameter_values=values
    )
    return result


def _conditions(parameters: dict[str, str]) -> dict[str, bool]:
    """The template's conditions for `parameters` (defaults otherwise), evaluated as the local stack does."""
    from slaclock_local.resources import StackResources

    template = load_template(TEMPLATE)
    values = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    values.update({"SenderEmail": "sla@example.com", **parameters})
    stack = StackResources(template, "slaclock", REGION, "123456789012", values)
    return {name: stack.condition(name) for name in template["Conditions"]}


def resolve_ifs(node: Any, conditions: dict[str, bool]) -> Any:
    """`node` with every Fn::If replaced by its chosen branch and AWS::NoValue dropped."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve_ifs(yes if conditions[name] else no, conditions)
        out = {}
        for k, v in node.items():
            r = resolve_ifs(v, conditions)
            if r != {"Ref": "AWS::NoValue"}:
                out[k] = r
        return out
    if isinstance(node, list):
        items = [resolve_ifs(v, conditions) for v in node]
        return [i for i in items if i != {"Ref": "AWS::NoValue"}]
    return node


def function_role(function: str, **parameters: str) -> dict[str, Any]:
    """The properties of `function`'s role (SAM names it ``<function>Role``), conditions resolved."""
    template = transformed(tuple(sorted(parameters.items())))
    role = template["Resources"][f"{function}Role"]
    assert role["Type"] == "AWS::IAM::Role"
    resolved: dict[str, Any] = resolve_ifs(role["Properties"], _conditions(parameters))
    return resolved


def function_grants(function: str, **parameters: str) -> list[Grant]:
    """Every Allow statement of `function`'s inline policies."""
    grants = []
    for policy in function_role(function, **parameters).get("Policies", []):
        for s in policy["PolicyDocument"]["Statement"]:
            if s["Effect"] != "Allow":
                continue
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            grants.append(Grant(frozenset(actions), s.get("Resource"), s.get("Condition")))
    return grants


def managed_policies(function: str, **parameters: str) -> list[str]:
    """The managed policy ARNs attached to `function`'s role."""
    return [str(a) for a in function_role(function, **parameters).get("ManagedPolicyArns", [])]
