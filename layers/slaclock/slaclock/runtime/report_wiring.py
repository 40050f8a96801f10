"""Composition root of ``functions/report``: its settings and its ports, built ONCE per container.

    ports = report_ports()      # config, clock records, S3 sink (+ link signer), SES, job records, queue

Kept apart from `slaclock.runtime.wiring` (the ingest/check functions' root) so neither function loads
the other's adapters. `reset()` forgets everything (tests change the environment between cases).

Links and credentials: a presigned URL is valid until its ``X-Amz-Expires`` OR until the credentials
that signed it expire, whichever comes first. The function's role credentials are temporary (hours),
so a 7-day link signed by them stops working early. Set ``SLACLOCK_REPORT_LINK_SIGNER`` to an SSM
SecureString parameter holding ``{"access_key_id": ..., "secret_access_key": ...}`` of an IAM user
allowed ``s3:GetObject`` on ``reports/*`` only: links are then signed with that long-term key and
live their full expiry. Without it, ``GET /reports/{id}`` still hands out fresh links at any time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from pydantic import Field

from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.settings import NonEmpty, TableSettings
from slaclock.services.report import MAX_LINK_SECONDS, ReportPorts

if TYPE_CHECKING:  # adapters are imported on first use (cold-start budget)
    from slaclock.adapters.s3 import S3ReportSink


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
    """Default lifetime of the presigned links; more than 7 days (SigV4's maximum) is refused."""
    report_link_signer: str = ""
    """Optional SSM SecureString parameter with a long-term key that signs the links (see above)."""
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


def _signer_sink(settings: ReportSettings) -> S3ReportSink | None:
    """An S3 sink whose client signs with the long-term key in `report_link_signer` (None if unset)."""
    if not settings.report_link_signer:
        return None
    import boto3

    from slaclock.adapters import _aws
    from slaclock.adapters.s3 import S3ReportSink
    from slaclock.adapters.secrets import ParameterSecretStore

    key = json.loads(ParameterSecretStore(max_age=3600).secret(settings.report_link_signer))
    session = boto3.session.Session(
        aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"]
    )
    client = _aws.client("s3", session=session, signature_version="s3v4")
    return S3ReportSink(bucket=settings.report_bucket, client=client)


@cache
def report_ports() -> ReportPorts:
    from slaclock.adapters.config_store import S3ConfigStore
    from slaclock.adapters.dynamodb import DynamoClockRecords
    from slaclock.adapters.report_jobs import DynamoReportJobs, SqsReportQueue
    from slaclock.adapters.s3 import S3ReportSink
    from slaclock.adapters.ses import SesMailer

    s = report_settings()
    return ReportPorts(
        config=S3ConfigStore(
            bucket=s.config_bucket, key=s.config_key, recheck_seconds=s.config_recheck_seconds
        ),
        clocks=DynamoClockRecords(s.table),
        sink=S3ReportSink(bucket=s.report_bucket),
        links=_signer_sink(s),
        mailer=SesMailer(sender=s.sender),
        jobs=DynamoReportJobs(s.table, retention=timedelta(days=s.report_retention_days)),
        queue=SqsReportQueue(queue_url=s.report_queue_url),
        link_expiry_seconds=s.report_link_expiry_seconds,
        lease=timedelta(seconds=s.report_lease_seconds),
        sort_chunk_rows=s.report_sort_chunk_rows,
        tmp_dir=s.report_tmp_dir,
    )


def clock() -> datetime:
    """Now (aware UTC): the one place the report function reads the clock (tests replace it)."""
    return runtime_clock.now()


def reset() -> None:
    """Forget the cached settings and adapters."""
    report_settings.cache_clear()
    report_ports.cache_clear()
