"""Where the deployed configuration lives, for the `slaclock config ...` commands.

The bucket and key come from, in order:
1. ``--stack NAME``: the outputs ``DataBucketName`` and ``ConfigKey`` of that CloudFormation stack;
2. else ``SLACLOCK_CONFIG_BUCKET`` (and ``SLACLOCK_CONFIG_KEY``, default ``config/sla.yaml``) in the
   environment (the local stack and the functions set these);
3. else the outputs of the stack named by ``SLACLOCK_STACK`` (default ``slaclock``, the stack name in
   samconfig.toml).

The Region is ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's
``region``. botocore itself reads only ``AWS_DEFAULT_REGION`` (``AWS_REGION`` is what Lambda sets), so
without this ``AWS_REGION=eu-west-1 slaclock config push`` would not know where to go. Credentials
are the usual ones (``AWS_PROFILE``, environment, SSO, ...).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from slaclock.engine.errors import SlaclockError

if TYPE_CHECKING:
    from slaclock.adapters.config_store import S3ConfigStore

DEFAULT_STACK = "slaclock"
DEFAULT_KEY = "config/sla.yaml"


class DeploymentNotFound(SlaclockError):  # noqa: N818 - a condition, like ServiceUnavailable
    """Neither the environment nor a deployed stack names the configuration bucket."""


def region_name(region: str | None = None) -> str | None:
    """`region`, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``; None: leave it to the profile."""
    return region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def _session(region: str | None) -> Any:
    import boto3

    session = boto3.session.Session(region_name=region_name(region))
    if not session.region_name:
        raise DeploymentNotFound(
            "no AWS Region: pass --region, or set AWS_REGION (or a region in your AWS profile)"
        )
    return session


def config_location(*, stack: str | None = None, region: str | None = None) -> tuple[str, str]:
    """(bucket, key) of the deployed configuration document (the module docstring has the order)."""
    bucket = os.environ.get("SLACLOCK_CONFIG_BUCKET")
    if bucket and not stack:
        return bucket, os.environ.get("SLACLOCK_CONFIG_KEY") or DEFAULT_KEY
    stack = stack or os.environ.get("SLACLOCK_STACK") or DEFAULT_STACK
    from botocore.exceptions import BotoCoreError, ClientError

    from slaclock.adapters import _aws

    try:
        cfn = _aws.client("cloudformation", session=_session(region))
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as err:
        raise DeploymentNotFound(
            f"set SLACLOCK_CONFIG_BUCKET, or deploy the stack {stack!r} (--stack / SLACLOCK_STACK): {err}"
        ) from err
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "DataBucketName" not in outputs:
        raise DeploymentNotFound(f"stack {stack!r} has no DataBucketName output: is it a slaclock stack?")
    return outputs["DataBucketName"], outputs.get("ConfigKey") or DEFAULT_KEY


def deployed_config_store(*, stack: str | None = None, region: str | None = None) -> S3ConfigStore:
    """The `S3ConfigStore` of the deployed document, its client in the resolved Region."""
    from slaclock.adapters import _aws
    from slaclock.adapters.config_store import S3ConfigStore

    bucket, key = config_location(stack=stack, region=region)
    client = _aws.client("s3", mode="standard", max_attempts=5, session=_session(region))
    return S3ConfigStore(bucket=bucket, key=key, client=client)
