"""`SecretStore` port on Powertools parameters: SSM Parameter Store (SecureString, decrypted) or, for a
secret named in a source's `secrets_manager` (an ARN or a name), Secrets Manager. Values are cached per
container for `max_age` seconds (default 300), so a webhook does not pay an SSM call each time, and a rotated
secret is picked up within five minutes.

The IAM policy of the functions allows ``parameter/slaclock/<stack name>/*`` and
``secret:slaclock/<stack name>/*`` only (one stack never reads another's): name source secrets
accordingly (`SecretKeyRing` reads the report link key, a secret of its own). A secret that cannot be
read (missing, denied, throttled) raises `ServiceUnavailable` naming the parameter (never its value),
so the helpdesk's delivery fails with a 5xx and is retried once the operator fixes it.
"""

from __future__ import annotations

import time
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


class SecretKeyRing:
    """Implements `slaclock.services.report.links.KeyRing` on one Secrets Manager secret (the report
    link key the template generates): its ``AWSCURRENT`` version signs, ``AWSCURRENT`` and
    ``AWSPREVIOUS`` verify, so a rotation keeps the links already sent working until the next one.
    Each version is cached `max_age` seconds per container (so is the absence of a previous one).
    A key that cannot be read raises `ServiceUnavailable` naming the secret, never its value."""

    def __init__(self, name: str, *, max_age: int = 300, client: Any = None) -> None:
        self.name = name
        self.max_age = max_age
        # Two providers: Powertools' cache key is the name alone, not the version stage.
        self._current, self._previous = (
            SecretsProvider(boto3_client=client) if client else SecretsProvider(boto_config=_RETRIES)
            for _ in range(2)
        )
        self._no_previous_until = 0.0

    def _get(self, provider: SecretsProvider, stage: str) -> bytes:
        value = provider.get(self.name, max_age=self.max_age, VersionStage=stage)
        return value if isinstance(value, bytes) else str(value).encode("utf-8")

    def current(self) -> bytes:
        try:
            return self._get(self._current, "AWSCURRENT")
        except (GetParameterError, TransformParameterError) as err:
            raise _aws.unavailable("secrets", f"read {self.name}", err, code=_cause_code(err)) from err

    def all(self) -> list[bytes]:
        keys = [self.current()]
        if time.monotonic() < self._no_previous_until:
            return keys
        try:
            keys.append(self._get(self._previous, "AWSPREVIOUS"))
        except (GetParameterError, TransformParameterError) as err:
            if _cause_code(err) != "ResourceNotFoundException":
                raise _aws.unavailable("secrets", f"read {self.name}", err, code=_cause_code(err)) from err
            self._no_previous_until = time.monotonic() + self.max_age  # never rotated: no previous
        return keys
