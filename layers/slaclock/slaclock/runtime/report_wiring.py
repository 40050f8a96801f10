"""Composition root of ``functions/report``: its settings and its ports, built ONCE per container.

    ports = report_ports()      # config, clock records, S3 sink, link issuer, SES, job records, queue,
                                # ticket events (read for time_split.csv only)

Nothing heavy at module level: the settings (validated at cold start) only; the report use case, its
models and the adapters (boto3) are imported when the ports are first built, i.e. by the first
invocation that needs them. Kept apart from `slaclock.runtime.wiring` (the ingest/check functions'
root) so neither function loads the other's adapters. `reset()` forgets everything (tests change the
environment between cases).

Links and credentials: a presigned URL is valid until its ``X-Amz-Expires`` OR until the credentials
that signed it expire, whichever comes first, and the function's role credentials are temporary
(hours). So the e-mailed links are not presigned URLs: they are tokens signed with the stack's link
key (Secrets Manager, ``SLACLOCK_REPORT_LINK_KEY_SECRET``) under the link route
(``SLACLOCK_REPORT_LINK_BASE_URL``), which presigns a fresh short-lived redirect when one is opened
(`slaclock.services.report.links`, ``functions/link``). No long-lived key exists anywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from pydantic import Field

from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.settings import NonEmpty, TableSettings

if TYPE_CHECKING:
    from slaclock.services.report import ReportPorts


class ReportSettings(TableSettings):
    """Environment of ``functions/report`` (``SLACLOCK_*``), validated at cold start. It reads the table's
    clock records (through the clocks-by-outcome index) and its report job records."""

    report_bucket: NonEmpty
    """Where the reports go (``reports/`` prefix)."""
    report_queue_url: NonEmpty
    """The SQS queue of report jobs (the function consumes it too)."""
    sender: NonEmpty
    """From address of the report e-mails (a verified SES identity)."""
    report_link_expiry_seconds: int = Field(default=MAX_LINK_SECONDS, ge=1, le=MAX_LINK_SECONDS)
    """Default lifetime of the report links; more than 7 days is refused."""
    report_link_base_url: NonEmpty
    """Where the link route serves tokens: ``https://<api>/links/`` (a token is appended)."""
    report_link_key_secret: NonEmpty
    """Secrets Manager secret (ARN or name) of the key that signs the link tokens."""
    secret_max_age_seconds: int = Field(default=300, ge=0)
    """How long the link key is cached per container (a rotated key is used within this)."""
    report_sort_chunk_rows: int = Field(default=50_000, ge=1_000)
    """Rows sorted in memory at once by the external merge sort (about 40 MB per 50,000)."""
    report_lease_seconds: int = Field(default=960, ge=60)
    """How long a builder holds a job: longer than the function's timeout (900 s)."""
    report_tmp_dir: str | None = None
    """Directory of the sort's run files (default: the system's, ``/tmp`` in Lambda)."""
    report_retention_days: int = Field(default=90, ge=1)
    """Days a report's files are kept (the bucket's lifecycle rule); its job record expires with them."""


@cache
def report_settings() -> ReportSettings:
    return ReportSettings()  # type: ignore[call-arg]  # values come from the environment


@cache
def report_ports() -> ReportPorts:
    from slaclock.adapters.config_store import S3ConfigStore
    from slaclock.adapters.dynamodb import DynamoClockSnapshots, DynamoEventStore
    from slaclock.adapters.dynamodb.report_jobs import DynamoReportJobs, SqsReportQueue
    from slaclock.adapters.s3 import S3ReportSink
    from slaclock.adapters.secrets import SecretKeyRing
    from slaclock.adapters.ses import SesMailer
    from slaclock.services.report import ReportPorts
    from slaclock.services.report.links import TokenLinks

    s = report_settings()
    return ReportPorts(
        config=S3ConfigStore(
            bucket=s.config_bucket, key=s.config_key, recheck_seconds=s.config_recheck_seconds
        ),
        clocks=DynamoClockSnapshots(s.table),
        sink=S3ReportSink(bucket=s.report_bucket),
        links=TokenLinks(
            base_url=s.report_link_base_url,
            keys=SecretKeyRing(s.report_link_key_secret, max_age=s.secret_max_age_seconds),
        ),
        mailer=SesMailer(sender=s.sender),
        jobs=DynamoReportJobs(s.table, retention=timedelta(days=s.report_retention_days)),
        queue=SqsReportQueue(queue_url=s.report_queue_url),
        link_expiry_seconds=s.report_link_expiry_seconds,
        lease=timedelta(seconds=s.report_lease_seconds),
        sort_chunk_rows=s.report_sort_chunk_rows,
        tmp_dir=s.report_tmp_dir,
        events=DynamoEventStore(s.table),
    )


def clock() -> datetime:
    """Now (aware UTC): the one place the report function reads the clock (tests replace it)."""
    return runtime_clock.now()


def reset() -> None:
    """Forget the cached settings and adapters."""
    report_settings.cache_clear()
    report_ports.cache_clear()
