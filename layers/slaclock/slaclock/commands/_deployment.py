"""Where the deployed configuration lives, for the `slaclock config ...` commands.

The bucket and key come from, in order:
1. ``SLACLOCK_CONFIG_BUCKET`` (and ``SLACLOCK_CONFIG_KEY``, default ``config/sla.yaml``) in the
   environment (the local stack and the functions set these);
2. else the outputs ``DataBucketName`` and ``ConfigKey`` of the CloudFormation stack named by
   ``SLACLOCK_STACK`` (default ``slaclock``, the stack name in samconfig.toml), read with the usual
   AWS credentials and region.
"""

from __future__ import annotations

import os

from slaclock.engine.errors import SlaclockError

DEFAULT_STACK = "slaclock"
DEFAULT_KEY = "config/sla.yaml"


class DeploymentNotFound(SlaclockError):  # noqa: N818 - a condition, like ServiceUnavailable
    """Neither the environment nor a deployed stack names the configuration bucket."""


def config_location() -> tuple[str, str]:
    """(bucket, key) of the deployed configuration document."""
    bucket = os.environ.get("SLACLOCK_CONFIG_BUCKET")
    if bucket:
        return bucket, os.environ.get("SLACLOCK_CONFIG_KEY") or DEFAULT_KEY
    stack = os.environ.get("SLACLOCK_STACK") or DEFAULT_STACK
    from botocore.exceptions import BotoCoreError, ClientError

    from slaclock.adapters import _aws

    try:
        stacks = _aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as err:
        raise DeploymentNotFound(
            f"set SLACLOCK_CONFIG_BUCKET, or deploy the stack {stack!r} (SLACLOCK_STACK): {err}"
        ) from err
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "DataBucketName" not in outputs:
        raise DeploymentNotFound(f"stack {stack!r} has no DataBucketName output: is it a slaclock stack?")
    return outputs["DataBucketName"], outputs.get("ConfigKey") or DEFAULT_KEY
