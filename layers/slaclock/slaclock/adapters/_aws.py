"""What every AWS adapter shares: clients with botocore's own retry modes, and SDK errors -> domain errors.

Retries are never hand-written: each client gets botocore's ``standard`` mode (exponential backoff
with jitter, retry quota) or ``adaptive`` mode (standard + client-side rate limiting, for APIs we call
in bursts such as the scheduler during a sweep). What still fails after those retries and is the
service's fault or a throttle becomes `ServiceUnavailable`; a request the service rejects as wrong is
a bug and propagates unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from slaclock.ports import QuotaExceeded, ServiceUnavailable

#: Error codes that mean "try again later" (throttling, service-side faults), across services.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
        "RequestLimitExceeded", "ProvisionedThroughputExceededException", "LimitExceededException",
        "SlowDown", "RequestThrottled", "RequestThrottledException", "ServiceQuotaExceededException",
        "InternalServerError", "InternalServerException", "InternalFailure", "InternalError",
        "ServiceUnavailable", "ServiceUnavailableException", "ServiceException",
        "TransactionInProgressException",
    }
)  # fmt: skip

#: Error codes that mean a service quota (a count of resources, not a rate) is used up.
QUOTA_CODES = frozenset({"ServiceQuotaExceededException"})


def client(
    service: str,
    *,
    mode: Literal["standard", "adaptive"] = "standard",
    max_attempts: int = 5,
    session: boto3.session.Session | None = None,
    **config: Any,
) -> Any:
    """A boto3 client with botocore's `mode` retries (`max_attempts` includes the first call).
    Region, credentials and endpoint (``AWS_ENDPOINT_URL``) come from the environment as usual."""
    cfg = Config(retries={"mode": mode, "max_attempts": max_attempts}, **config)
    return (session or _default_session()).client(service, config=cfg)


@lru_cache(maxsize=1)
def _default_session() -> boto3.session.Session:
    """One session per container: creating one loads botocore's data files (tens of ms)."""
    return boto3.session.Session()


def forget_session() -> None:
    """Drop the container's session (its credentials and endpoint were read from the environment,
    which changed: the local stack between two runs). Lambda never calls it."""
    _default_session.cache_clear()


def error_code(err: BaseException) -> str:
    """The AWS error code of a botocore `ClientError` ("" for anything else)."""
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(err: BaseException) -> bool:
    """Throttling, a 5xx, or a connection-level failure (no response at all)."""
    if isinstance(err, BotoCoreError):
        return True
    if isinstance(err, ClientError):
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error_code(err) in TRANSIENT_CODES or status >= 500
    return False


def unavailable(
    service: str, operation: str, err: BaseException | None = None, *, code: str | None = None
) -> ServiceUnavailable:
    """The domain error for `err` (or for an error `code`); its message names the service, the
    operation and the error code only (never an address, a body or a ticket field). A used-up quota
    (`QUOTA_CODES`) is the subclass `QuotaExceeded`."""
    code = code or (error_code(err) if err is not None else "") or type(err).__name__
    kind = QuotaExceeded if code in QUOTA_CODES else ServiceUnavailable
    return kind(f"{service} {operation} failed: {code}")
