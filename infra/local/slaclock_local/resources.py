"""Create the stateful resources of `template.yaml` in an AWS endpoint (moto in tests and in the local
embedded stack), from the template's own definitions, so what runs locally cannot drift from what deploys.

    stack = create_from_template("template.yaml", boto3.Session(region_name="eu-west-1"),
                                 parameters={"SenderEmail": "sla@example.com"})
    stack.ref("SlaTable")                      # the table's name
    stack.environment("CheckFunction")         # the function's environment, resolved as CloudFormation would

Created, with the properties the template gives them: DynamoDB tables (keys, GSIs, billing mode,
SSE, point-in-time recovery, TTL), S3 buckets (encryption, public access block, ownership, versioning,
lifecycle), SQS queues, EventBridge Scheduler schedule groups, SES e-mail identities, SNS topics.
Everything else is not created: functions, the HTTP API, alarms and log groups (the local stack calls
the handlers in process), and access policies (IAM roles, bucket and queue policies: only AWS enforces
them, and moto ignores their conditions, so a TLS-only Deny would turn into deny-all). Those resources
still get a physical name and ARN, built the way CloudFormation builds them, so `!Ref` and `!GetAtt`
in environment variables resolve.

The template is read with PyYAML and a loader that turns the short intrinsic tags (`!Ref`, `!GetAtt`,
`!Sub`, ...) into their long form. The resolver implements Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
Fn::If, Fn::Select, Fn::Split and the condition functions; anything else raises `TemplateError`.
Nothing here imports boto3: the caller passes a session (or clients).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from slaclock.engine.errors import SlaclockError

__all__ = [
    "StackResources",
    "TemplateError",
    "create_from_template",
    "default_template_path",
    "load_template",
]

#: moto's (and the documentation's) account id, used when none is given and STS cannot tell.
DEFAULT_ACCOUNT_ID = "123456789012"
_NO_VALUE = object()
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class TemplateError(SlaclockError):
    """The template uses something this module cannot reproduce locally, or lacks a parameter value."""


# ------------------------------------------------------------------------------------------- reading


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's when available) that maps CloudFormation short-form tags to their long form."""


def _tag_constructor(tag: str) -> Callable[[yaml.Loader, yaml.Node], Any]:
    def construct(loader: yaml.Loader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if tag == "Ref":
            return {"Ref": value}
        if tag == "Condition":
            return {"Condition": value}
        if tag == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{tag}": value}

    return construct


for _tag in ("Ref", "Condition", "GetAtt", "Sub", "Join", "If", "Equals", "Not", "And", "Or", "Select",
             "Split", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs", "Transform", "Length",
             "ToJsonString"):  # fmt: skip
    _CfnLoader.add_constructor(f"!{_tag}", _tag_constructor(_tag))


def default_template_path() -> Path:
    """The repository's `template.yaml` (this file is infra/local/slaclock_local/resources.py)."""
    return Path(__file__).resolve().parents[3] / "template.yaml"


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML (or JSON) template; intrinsic tags become long-form dicts.
    Each call returns a fresh copy (the parse is cached by path and modification time)."""
    p = Path(path).resolve()
    return copy.deepcopy(_parsed(str(p), p.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _parsed(path: str, mtime_ns: int) -> dict[str, Any]:
    doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return doc


# ----------------------------------------------------------------------------------------- resolving


@dataclass
class StackResources:
    """Physical names, attributes and resolved values of a template instantiated as stack `stack_name`."""

    template: dict[str, Any]
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, str]
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> what !Ref returns
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attr) -> value
    created: list[str] = field(default_factory=list)  # logical ids created in the endpoint
    skipped: list[str] = field(default_factory=list)  # logical ids not created (not stateful)

    @property
    def partition(self) -> str:
        return "aws-cn" if self.region.startswith("cn-") else "aws"

    def resource(self, logical_id: str) -> dict[str, Any]:
        res: dict[str, Any] = self.template["Resources"][logical_id]
        return res

    def ref(self, name: str) -> str:
        """What `!Ref name` yields: a parameter's value, a pseudo parameter, or a resource's physical id."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not known locally") from None

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self._evaluate_condition(conditions[name]))

    def _evaluate_condition(self, expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((fn, arg),) = expr.items()
            if fn == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            if fn == "Fn::Not":
                return not self._evaluate_condition(arg[0])
            if fn == "Fn::And":
                return all(self._evaluate_condition(a) for a in arg)
            if fn == "Fn::Or":
                return any(self._evaluate_condition(a) for a in arg)
            if fn == "Condition":
                return self.condition(arg)
        return self.resolve(expr)

    def resolve(self, value: Any) -> Any:  # noqa: C901 - one branch per intrinsic function
        """Resolve every intrinsic function in `value` (recursively), as CloudFormation would."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(logical, attribute)
            if fn == "Fn::Sub":
                return self._sub(arg)
            if fn == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(v) for v in self.resolve(items))
            if fn == "Fn::If":
                cond, when_true, when_false = arg
                return self.resolve(when_true if self.condition(cond) else when_false)
            if fn == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if fn == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if fn in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self._evaluate_condition(value)
            if fn.startswith("Fn::"):
                raise TemplateError(f"{fn} is not supported by the local resolver")
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = (
                arg[0],
                {k: self.resolve(v) for k, v in (arg[1] if len(arg) > 1 else {}).items()},
            )
        else:
            text, variables = arg, {}

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return self.ref(name)

        return _SUB_VAR.sub(replace, str(text))

    def environment(self, function_logical_id: str) -> dict[str, str]:
        """The environment variables the template gives a function (Globals merged with its own)."""
        globals_env = ((self.template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
        own_env = (self.resource(function_logical_id).get("Properties") or {}).get("Environment") or {}
        merged = {**(globals_env.get("Variables") or {}), **(own_env.get("Variables") or {})}
        return {k: str(v) for k, v in self.resolve(merged).items()}

    def functions(self) -> list[str]:
        return [
            lid
            for lid, r in self.template["Resources"].items()
            if r.get("Type") == "AWS::Serverless::Function"
        ]

    def outputs(self) -> dict[str, str]:
        return {
            name: str(self.resolve(o["Value"])) for name, o in (self.template.get("Outputs") or {}).items()
        }


# ------------------------------------------------------------------------------------------ naming

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::SecretsManager::Secret": "Name",
}


def _assign_names(stack: StackResources, names: Mapping[str, str]) -> None:
    """Phase 1: the physical id and attributes of every resource, before anything is created."""
    resources = stack.template["Resources"]
    pending = list(resources)
    # Names may reference other resources' names (e.g. a log group named after a function): resolve in
    # passes until nothing changes.
    for _ in range(len(pending) + 1):
        left = []
        for logical in pending:
            try:
                _assign_name(stack, logical, resources[logical], names)
            except TemplateError:
                left.append(logical)
        if not left or len(left) == len(pending):
            pending = left
            break
        pending = left
    for logical in pending:  # raise the real error
        _assign_name(stack, logical, resources[logical], names)


def _assign_name(stack: StackResources, logical: str, res: dict[str, Any], names: Mapping[str, str]) -> None:
    rtype = res.get("Type", "")
    props = res.get("Properties") or {}
    prop = _NAME_PROPERTY.get(rtype)
    if logical in names:
        name = names[logical]
    elif prop and prop in props:
        name = str(stack.resolve(props[prop]))
    else:
        name = f"{stack.stack_name}-{logical}"
        if rtype == "AWS::S3::Bucket":
            name = name.lower()[:63]
    p, region, acct = stack.partition, stack.region, stack.account_id
    attrs: dict[str, str] = {}
    ref = name
    if rtype == "AWS::DynamoDB::Table":
        attrs["Arn"] = f"arn:{p}:dynamodb:{region}:{acct}:table/{name}"
    elif rtype == "AWS::S3::Bucket":
        attrs["Arn"] = f"arn:{p}:s3:::{name}"
        attrs["DomainName"] = f"{name}.s3.amazonaws.com"
    elif rtype == "AWS::SQS::Queue":
        ref = f"https://sqs.{region}.amazonaws.com/{acct}/{name}"
        attrs.update(Arn=f"arn:{p}:sqs:{region}:{acct}:{name}", QueueName=name, QueueUrl=ref)
    elif rtype == "AWS::Scheduler::ScheduleGroup":
        attrs["Arn"] = f"arn:{p}:scheduler:{region}:{acct}:schedule-group/{name}"
    elif rtype in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        attrs["Arn"] = f"arn:{p}:lambda:{region}:{acct}:function:{name}"
    elif rtype == "AWS::IAM::Role":
        attrs["Arn"] = f"arn:{p}:iam::{acct}:role/{name}"
    elif rtype == "AWS::SNS::Topic":
        ref = f"arn:{p}:sns:{region}:{acct}:{name}"
        attrs.update(TopicArn=ref, TopicName=name)
    elif rtype == "AWS::Logs::LogGroup":
        attrs["Arn"] = f"arn:{p}:logs:{region}:{acct}:log-group:{name}:*"
    stack.physical[logical] = ref
    for attr, value in attrs.items():
        stack.attributes[(logical, attr)] = value


# ----------------------------------------------------------------------------------------- creating

_Clients = Callable[[str], Any]


def _table(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    ddb = client("dynamodb")
    name = stack.physical[logical]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in (
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "StreamSpecification",
    ):
        if key in props:
            kwargs[key] = props[key]
    if "SSESpecification" in props:
        sse = props["SSESpecification"]
        kwargs["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
        }
    if "DeletionProtectionEnabled" in props:
        kwargs["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
    ddb.create_table(**kwargs)
    pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if pitr:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "NoncurrentVersionExpiration",
             "AbortIncompleteMultipartUpload"}  # fmt: skip
    unknown = set(rule) - known
    if unknown:
        raise TemplateError(f"lifecycle rule properties not supported locally: {sorted(unknown)}")
    out: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return out


def _bucket(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    s3 = client("s3")
    name = stack.physical[logical]
    if stack.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region})
    if "BucketEncryption" in props:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": bool(r["BucketKeyEnabled"])} if "BucketKeyEnabled" in r else {}),
            }
            for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        pab = {k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()}
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
        )
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def _queue(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    sqs = client("sqs")
    attributes = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in props.items()
        if k not in ("QueueName", "Tags", "RedrivePolicy", "RedriveAllowPolicy")
    }
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            attributes[key] = json.dumps(props[key])
    name = stack.attributes[(logical, "QueueName")]
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    stack.physical[logical] = url
    stack.attributes[(logical, "QueueUrl")] = url


def _schedule_group(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    client("scheduler").create_schedule_group(Name=stack.physical[logical])


def _email_identity(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    client("sesv2").create_email_identity(EmailIdentity=props["EmailIdentity"])


def _secret(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    """A secret; with ``GenerateSecretString``, its value generated by the service, as CloudFormation
    does (length and punctuation options only). `!Ref` yields its ARN."""
    sm = client("secretsmanager")
    generate = props.get("GenerateSecretString")
    if generate is not None:
        options = {k: generate[k] for k in ("PasswordLength", "ExcludePunctuation") if k in generate}
        value = sm.get_random_password(**options)["RandomPassword"]
    else:
        value = str(props.get("SecretString", ""))
    arn = sm.create_secret(Name=stack.physical[logical], SecretString=value)["ARN"]
    stack.physical[logical] = arn
    stack.attributes[(logical, "Id")] = arn


def _topic(stack: StackResources, logical: str, props: dict[str, Any], client: _Clients) -> None:
    arn = client("sns").create_topic(Name=stack.attributes[(logical, "TopicName")])["TopicArn"]
    stack.physical[logical] = arn


#: Created in this order. Access policies (bucket and queue policies, IAM) are NOT created: only AWS
#: enforces them, and moto ignores their conditions (a TLS-only Deny would become deny-all).
_CREATORS: dict[str, Callable[[StackResources, str, dict[str, Any], _Clients], None]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::SQS::Queue": _queue,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SNS::Topic": _topic,
    "AWS::SecretsManager::Secret": _secret,
}


def _clients_of(session_or_clients: Any, region: str) -> _Clients:
    cache: dict[str, Any] = {}

    def get(service: str) -> Any:
        if service not in cache:
            if isinstance(session_or_clients, Mapping):
                cache[service] = session_or_clients[service]
            elif hasattr(session_or_clients, "client"):
                cache[service] = session_or_clients.client(service, region_name=region)
            else:
                cache[service] = session_or_clients(service)
        return cache[service]

    return get


def create_from_template(
    template_path: str | Path,
    session_or_clients: Any,
    names: Mapping[str, str] | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = "slaclock-local",
    region: str | None = None,
    account_id: str | None = None,
) -> StackResources:
    """Create the template's stateful resources in the endpoint `session_or_clients` talks to.

    `session_or_clients`: a boto3 `Session` (its `client(name, region_name=...)` is used), a mapping
    service name -> client, or a callable service name -> client. `names`: physical names by logical id
    (default: the name the template gives, else ``<stack_name>-<LogicalId>``, lower-cased for buckets).
    `parameters`: template parameter values (defaults apply to the rest; a parameter without a default
    must be given). `region` defaults to the session's; `account_id` to STS's answer.
    Returns the resolved `StackResources` (names, ARNs, each function's environment).
    """
    template = load_template(template_path)
    region = region or getattr(session_or_clients, "region_name", None) or "us-east-1"
    client = _clients_of(session_or_clients, region)
    if account_id is None:
        try:
            account_id = str(client("sts").get_caller_identity()["Account"])
        except Exception:  # noqa: BLE001 - any endpoint without STS: use the documentation account
            account_id = DEFAULT_ACCOUNT_ID
    given = {k: str(v) for k, v in (parameters or {}).items()}
    values: dict[str, str] = {}
    missing = []
    for pname, spec in (template.get("Parameters") or {}).items():
        if pname in given:
            values[pname] = given[pname]
        elif "Default" in spec:
            values[pname] = str(spec["Default"])
        else:
            missing.append(pname)
    if missing:
        raise TemplateError(f"template parameters without a value: {', '.join(missing)}")
    unknown = set(given) - set(values)
    if unknown:
        raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
    stack = StackResources(template, stack_name, region, account_id, values)
    _assign_names(stack, names or {})
    resources = template["Resources"]
    for rtype, create in _CREATORS.items():
        for logical, res in resources.items():
            if res.get("Type") != rtype:
                continue
            if "Condition" in res and not stack.condition(res["Condition"]):
                stack.skipped.append(logical)
                continue
            create(stack, logical, stack.resolve(res.get("Properties") or {}), client)
            stack.created.append(logical)
    stack.skipped.extend(lid for lid, r in resources.items() if r.get("Type") not in _CREATORS)
    return stack
