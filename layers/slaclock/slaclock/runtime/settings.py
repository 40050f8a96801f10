"""One settings model per function, read from the environment (``SLACLOCK_*``) and validated once at
cold start: a missing or malformed variable fails the cold start with every problem named, instead
of failing the first request half-way.

`template.yaml` provides every variable without a default (tests/infra/test_settings_vs_template.py
checks it). Powertools reads its own variables (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``,
``POWERTOOLS_TRACE_DISABLED``, ``LOG_LEVEL``) itself.

Why not pydantic-settings: it costs as much import time as boto3 itself (it pulls in asyncio and
python-dotenv), and all slaclock needs is "the ``SLACLOCK_<FIELD>`` variables, validated by pydantic".
`EnvSettings` does exactly that in a dozen lines, so cold start stays a budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

NonEmpty = Annotated[str, Field(min_length=1)]
Arn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:[a-z0-9-]+:")]


ENV_PREFIX = "SLACLOCK_"


class EnvSettings(BaseModel):
    """A settings model filled from ``SLACLOCK_<FIELD>`` environment variables (names matched without
    regard to case); keyword arguments win over the environment. Validation errors name every field."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _read_environment(cls, data: Any) -> Any:
        given = dict(data) if isinstance(data, Mapping) else {}
        return {**environment_values(os.environ), **given}


def environment_values(environ: Mapping[str, str]) -> dict[str, str]:
    """``SLACLOCK_TABLE=x`` -> ``{"table": "x"}`` for every ``SLACLOCK_*`` variable."""
    n = len(ENV_PREFIX)
    return {k[n:].lower(): v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}


class TableSettings(EnvSettings):
    """What every function reads: the table and the configuration document (``SLACLOCK_*``)."""

    table: NonEmpty
    """The DynamoDB table (tickets, events, clock records, notice ledger, report jobs)."""
    config_bucket: NonEmpty
    """Bucket holding the configuration document."""
    config_key: NonEmpty = "config/sla.yaml"
    """Key of the configuration document in `config_bucket`."""
    config_recheck_seconds: float = Field(default=60.0, ge=0)
    """How often a warm function asks S3 whether the configuration changed (conditional GET)."""
    retention_days: int = Field(default=400, ge=1)
    """Days the table keeps events, decided clock records and sent notices (TTL ``expires_at``;
    template ``RetentionDays``)."""


class _Base(TableSettings):
    schedule_group: NonEmpty
    """EventBridge Scheduler group of the per-ticket check schedules."""
    scheduler_role_arn: Arn
    """Role the scheduler assumes to invoke the check function."""
    check_function_arn: Arn
    """Target of the per-ticket schedules."""
    scheduler_dlq_arn: Arn
    """Dead-letter queue of the per-ticket schedules."""


class WebhookSettings(_Base):
    """Environment of ``functions/webhook``."""

    secret_max_age_seconds: int = Field(default=300, ge=0)
    """How long a source's secret is cached per container (a rotated secret is seen within this)."""


class CheckSettings(_Base):
    """Environment of ``functions/check``."""

    sender: NonEmpty
    """From address of the notice e-mails (a verified SES identity)."""
    event_bus: NonEmpty = "default"
    """EventBridge bus of the ``SLA Warning`` / ``SLA Breached`` / ``SLA Escalation`` events."""
    webhook_signing_secret: NonEmpty = "/slaclock/outgoing-webhook"  # noqa: S105 - a parameter name
    """SSM parameter (or Secrets Manager ARN) of the secret that signs outgoing escalation webhooks."""
    notice_lease_seconds: int = Field(default=300, ge=61)
    """How long a claimed notice is reserved for its sender; must outlast the check function's
    timeout (60 s), so a live sender never loses its claim. A failed e-mail is retried after it."""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    """Connect and read timeout of one outgoing webhook attempt."""
    secret_max_age_seconds: int = Field(default=300, ge=0)
    ses_rate_percent: float = Field(default=100.0, gt=0, le=100)
    """The share of the account's SES send rate (``MaxSendRate``) the notices may use, in percent;
    the rest is left to the account's other workloads (template parameter `SesSendRatePercent`)."""
    ses_send_rate: float | None = Field(default=None, gt=0)
    """The account's SES send rate in messages per second. Unset (in AWS): read from the account
    (``GetSendQuota``) on the first e-mail. The local stack sets it: its in-memory account has the
    sandbox's 1/s."""
    action_dlq_url: str | None = None
    """URL of the SQS queue that keeps the actions that gave up or were refused (unset: such an action
    stays claimed and is tried again after its lease)."""
    action_deadline_seconds: float = Field(default=20.0, gt=0, le=45)
    """The bounded time of one outgoing action call, retries and Retry-After waits included (below the
    check function's 60 s timeout, so a check always records what it did)."""
    check_concurrency: int = Field(default=10, ge=1)
    """The check function's reserved concurrency (template parameter `CheckConcurrency`)."""
    sweeper_concurrency: int = Field(default=5, ge=1)
    """The sweeper's reserved concurrency (one worker per due-index partition + the scheduled one)."""

    @property
    def send_rate_share(self) -> float:
        """The fraction of the account's send rate one container may use: the notices' share split
        evenly over every container that can send at once (check + sweeper reserved concurrency)."""
        return self.ses_rate_percent / 100 / (self.check_concurrency + self.sweeper_concurrency)


class SweeperSettings(CheckSettings):
    """Environment of ``functions/sweeper``: a check's, plus the sweep's bounds."""

    sweep_max_tickets: int | None = Field(default=None, ge=1)
    """An optional bound on the tickets one invocation checks (default none: the time budget bounds
    it, and a larger backlog fans out to one worker per partition of the due index)."""
    sweep_reserve_seconds: float = Field(default=30.0, ge=0)
    """Stop starting new checks when the invocation has less than this left."""
    sweep_lease_seconds: int = Field(default=600, ge=60)
    """How long a sweeper invocation holds a partition of the due index: longer than the sweeper's
    timeout (240 s) plus the wait before its asynchronous continuation starts. A worker that dies
    leaves its partition to the next scheduled sweep after this."""
