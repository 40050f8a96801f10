"""`SecretStore` port on Powertools parameters: SSM Parameter Store (SecureString, decrypted) or, for a
secret named in a source's `secrets_manager` (an ARN or a name), Secrets Manager. Values are cached per
container for `max_age` seconds (default 300), so a webhook does not pay an SSM call each time, and a rotated
secret is picked up within five minutes.

The IAM policy of the functions allows ``parameter/slaclock/*`` and ``secret:slaclock/*`` only: name
source secrets accordingly. A secret that cannot be read (missing, denied, throttled) raises
`ServiceUnavailable` naming the parameter (never its value), so the helpdesk's delivery fails with a
5xx and is retried once the operator fixes it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.config import Config

from slaclock.adapters import _aws

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


def is_secrets_manager(name: str) -> bool:
    """SSM parameter names are paths (``/slaclock/zendesk-main``, enforced by the configuration);
    anything else is a Secrets Manager secret, by ARN or by name (``slaclock/zendesk-main``)."""
    return not name.startswith("/")


class ParameterSecretStore:
    """Implements `slaclock.ports.SecretStore`."""

    def __init__(self, *, max_age: int = 300, ssm_client: Any = None, secrets_client: Any = None) -> None:
        self.max_age = max_age
        self._ssm = SSMProvider(boto3_client=ssm_client) if ssm_client else SSMProvider(boto_config=_RETRIES)
        self._secrets = (
            SecretsProvider(boto3_client=secrets_client)
            if secrets_client
            else SecretsProvider(boto_config=_RETRIES)
        )

    def secret(self, name: str) -> str:
        """The secret's text: an SSM parameter name (``/slaclock/zendesk-main``) or a Secrets Manager ARN."""
        try:
            if is_secrets_manager(name):
                value = self._secrets.get(name, max_age=self.max_age)
            else:
                value = self._ssm.get(name, max_age=self.max_age, decrypt=True)
        except (GetParameterError, TransformParameterError) as err:
            raise _aws.unavailable("secrets", f"read {name}", err, code=_cause_code(err)) from err
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return str(value)


def _cause_code(err: BaseException) -> str:
    cause = err.__cause__ or err.__context__
    code = _aws.error_code(cause) if cause is not None else ""
    return code or type(err).__name__
