"""Report jobs: their records in DynamoDB and their queue on SQS (`ReportJobStore`, `ReportQueue`).

Records live in the slaclock table as ONE item per job, ``pk = R#<job id>``, ``sk = JOB`` (no GSI key
attributes: the indexes never see them). The report function's IAM policy may touch only items whose
partition key starts with ``R#`` (``dynamodb:LeadingKeys``), and otherwise only QUERY the
clocks-by-outcome index. Instants are fixed-width ISO 8601 UTC strings (`instant_key`), so the
lease condition compares strings.

- `create`: PutItem with ``attribute_not_exists(pk)`` (a schedule firing twice creates one job).
- `claim`: ONE conditional UpdateItem: the job exists, is not ``done``, and has no unexpired lease
  (``claimed_until`` absent or <= now) -> status ``running``, ``claimed_until = now + lease``,
  ``attempts + 1``. Two deliveries of the same message: exactly one builds.
- `save_built`, `finish`, `fail`: plain updates (the lease holder's).
- Lifetime: a job record carries the table's TTL attribute ``expires_at`` = its creation + `retention`
  (template ``ReportRetentionDays``, the lifetime of its files under ``reports/``), so a job and the
  files it names go together.

The queue is a standard SQS queue (template ``ReportQueue``); each message is
``{"job_id": "<id>"}``. The report function consumes it (batch size 1); a failed build returns the
message, which comes back after the visibility timeout, and after ``maxReceiveCount`` receives goes to
the report dead-letter queue (alarmed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import GetError, UpdateError
from pynamodb.models import Model

from slaclock.adapters import _aws
from slaclock.adapters.dynamodb.keys import expires_at, instant_key, parse_instant_key
from slaclock.adapters.dynamodb.models import failed_condition, model_meta, put_new, reraise
from slaclock.ports import ReportJob, ReportJobStatus

JOB_PREFIX = "R#"
JOB_SK = "JOB"
MAX_ERROR_CHARS = 500


@lru_cache(maxsize=8)
def job_model(table_name: str, region: str | None = None, host: str | None = None) -> Any:
    """The pynamodb model of a report job item, bound to `table_name`."""

    class ReportJobItem(Model):
        Meta = model_meta(table_name, region, host)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        status = UnicodeAttribute()
        spec = UnicodeAttribute()
        created_at = UnicodeAttribute()
        updated_at = UnicodeAttribute()
        keys = UnicodeAttribute(null=True)
        figures = UnicodeAttribute(null=True)
        error = UnicodeAttribute(null=True)
        attempts = NumberAttribute(default=0)
        claimed_until = UnicodeAttribute(null=True)
        expires_at = NumberAttribute(null=True)

    return ReportJobItem


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class DynamoReportJobs:
    """Implements `slaclock.ports.ReportJobStore`."""

    def __init__(
        self,
        table_name: str,
        *,
        region: str | None = None,
        host: str | None = None,
        retention: timedelta | None = None,
    ) -> None:
        self.model = job_model(table_name, region, host)
        self.retention = retention

    def _to_job(self, item: Any) -> ReportJob:
        return ReportJob(
            id=item.pk[len(JOB_PREFIX) :],
            status=ReportJobStatus(item.status),
            spec=json.loads(item.spec),
            created_at=parse_instant_key(item.created_at),
            updated_at=parse_instant_key(item.updated_at),
            keys=tuple(json.loads(item.keys)) if item.keys else (),
            figures=json.loads(item.figures) if item.figures else None,
            error=item.error,
            attempts=int(item.attempts or 0),
            claimed_until=parse_instant_key(item.claimed_until) if item.claimed_until else None,
        )

    def create(self, job: ReportJob) -> bool:
        item = self.model(
            JOB_PREFIX + job.id,
            JOB_SK,
            status=job.status.value,
            spec=_dumps(dict(job.spec)),
            created_at=instant_key(job.created_at),
            updated_at=instant_key(job.updated_at),
            attempts=job.attempts,
            expires_at=expires_at(job.created_at, self.retention),
        )
        return put_new(item, "create report job")

    def get(self, job_id: str) -> ReportJob | None:
        m = self.model
        try:
            return self._to_job(m.get(JOB_PREFIX + job_id, JOB_SK, consistent_read=True))
        except m.DoesNotExist:
            return None
        except GetError as err:
            reraise(err, "get report job")

    def claim(self, job_id: str, *, now: datetime, lease: timedelta) -> ReportJob | None:
        m = self.model
        now_key = instant_key(now)
        condition = (
            m.pk.exists()
            & (m.status != ReportJobStatus.DONE.value)
            & (m.claimed_until.does_not_exist() | (m.claimed_until <= now_key))
        )
        item = m(JOB_PREFIX + job_id, JOB_SK)
        try:
            item.update(
                actions=[
                    m.status.set(ReportJobStatus.RUNNING.value),
                    m.claimed_until.set(instant_key(now + lease)),
                    m.updated_at.set(now_key),
                    m.attempts.add(1),
                ],
                condition=condition,
            )
        except UpdateError as err:
            if failed_condition(err):
                return None
            reraise(err, "claim report job")
        return self._to_job(item)

    def _update(self, job_id: str, actions: list[Any], operation: str) -> None:
        item = self.model(JOB_PREFIX + job_id, JOB_SK)
        try:
            item.update(actions=actions, condition=self.model.pk.exists())
        except UpdateError as err:
            reraise(err, operation)

    def save_built(
        self, job_id: str, *, now: datetime, keys: tuple[str, ...], figures: Mapping[str, Any]
    ) -> None:
        m = self.model
        actions = [
            m.keys.set(_dumps(list(keys))),
            m.figures.set(_dumps(dict(figures))),
            m.updated_at.set(instant_key(now)),
        ]
        self._update(job_id, actions, "save report figures")

    def finish(self, job_id: str, *, now: datetime) -> None:
        m = self.model
        actions = [
            m.status.set(ReportJobStatus.DONE.value),
            m.updated_at.set(instant_key(now)),
            m.claimed_until.remove(),
            m.error.remove(),
        ]
        self._update(job_id, actions, "finish report job")

    def fail(self, job_id: str, *, now: datetime, error: str) -> None:
        m = self.model
        actions = [
            m.status.set(ReportJobStatus.FAILED.value),
            m.error.set(error[:MAX_ERROR_CHARS]),
            m.updated_at.set(instant_key(now)),
            m.claimed_until.remove(),
        ]
        self._update(job_id, actions, "fail report job")


class SqsReportQueue:
    """Implements `slaclock.ports.ReportQueue`: one SQS message ``{"job_id": ...}`` per job."""

    def __init__(self, *, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.client = client or _aws.client("sqs", mode="standard", max_attempts=5)

    def submit(self, job_id: str) -> None:
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=_dumps({"job_id": job_id}))
        except (ClientError, BotoCoreError) as err:
            if _aws.is_transient(err):
                raise _aws.unavailable("sqs", "send_message", err) from err
            raise
