"""In-memory fakes of the report ports (clock records, report sink, job records, queue) and a known
dataset of clock records, for the report use case's unit tests.

    ports = report_ports(KNOWN_RECORDS, config)    # ReportPorts on fakes (+ FakeMailer)

`FakeClockRecords` keeps the port's contract: `query` yields the decided records whose outcome is in
[start, end), in outcome order, and counts the calls (`queries`); `running` yields the undecided ones.
`FakeReportSink` stores each object's bytes and how many chunks it came in; its links are fake URLs
that name the key and the expiry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slaclock.engine.clocks import ClockStatus
from slaclock.engine.config import Config, Metric
from slaclock.ports import ClockSnapshot, ReportJob, ReportJobStatus, ServiceUnavailable

from tests.fakes import FakeMailer, StaticConfig


def at(text: str) -> datetime:
    """``"2026-11-19 09:30"`` -> an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record(
    ticket_id: str,
    metric: str,
    status: str,
    *,
    started: str,
    due: str | None,
    stopped: str | None = None,
    business: float,
    target: float,
    level: str = "standard",
    calendar: str = "always",
    timezone: str | None = "UTC",
    department: str | None = "billing",
    agent: str | None = "ana@example.com",
    requester: str | None = "bob@client.test",
    cycle: int = 1,
    recorded: str = "2026-11-21 00:00",
) -> ClockSnapshot:
    """A stored clock record; `decided_at` follows the port's rule (met: stop; missed: due)."""
    st = ClockStatus(status)
    due_at = at(due) if due else None
    stopped_at = at(stopped) if stopped else None
    outcome = stopped_at if st is ClockStatus.MET else due_at if st is ClockStatus.MISSED else None
    return ClockSnapshot(
        ticket_id=ticket_id, requester=requester, department=department, agent=agent, level=level,
        metric=Metric(metric), cycle=cycle, started_at=at(started), due_at=due_at, stopped_at=stopped_at,
        status=st, business_seconds=business, remaining_seconds=target - business, target_seconds=target,
        calendar=calendar, timezone=timezone, decided_at=outcome, recorded_at=at(recorded),
    )  # fmt: skip


# The report period of most tests is 2026-11-19 (UTC). Decided in it: 4711 (2 met), 4712 (missed and
# stopped), 4713 (missed, still running; a formula-like agent and a requester with a comma), 4714 (an
# urgent Paris clock met at 23:30Z: its compliance day is 2026-11-20 in Paris). Before it (2026-11-18):
# 4700 met and 4701 missed (the trend's previous period). Undecided: 4720 (open).
KNOWN_RECORDS: tuple[ClockSnapshot, ...] = (
    record("4711", "first_response", "met", started="2026-11-19 09:00", due="2026-11-19 10:00",
           stopped="2026-11-19 09:30", business=1800, target=3600),
    record("4711", "resolution", "met", started="2026-11-19 09:00", due="2026-11-19 17:00",
           stopped="2026-11-19 15:00", business=21600, target=28800),
    record("4712", "first_response", "missed", started="2026-11-19 11:00", due="2026-11-19 12:00",
           stopped="2026-11-19 13:30", business=9000, target=3600, department="sales", agent="cy@example.com",
           requester="dee@client.test"),
    record("4713", "first_response", "missed", started="2026-11-19 20:00", due="2026-11-19 21:00",
           business=7200.5, target=3600, department="sales", agent="=cmd|' /C calc'!A0",
           requester="Doe, Jane <jane@client.test>"),
    record("4714", "resolution", "met", started="2026-11-19 22:00", due="2026-11-20 00:00",
           stopped="2026-11-19 23:30", business=5400, target=7200, level="urgent", calendar="paris",
           timezone="Europe/Paris", department=None, agent=None),
    record("4700", "first_response", "met", started="2026-11-18 08:00", due="2026-11-18 09:00",
           stopped="2026-11-18 08:10", business=600, target=3600),
    record("4701", "first_response", "missed", started="2026-11-18 10:00", due="2026-11-18 11:00",
           stopped="2026-11-18 12:00", business=7200, target=3600),
    record("4720", "first_response", "open", started="2026-11-19 23:00", due="2026-11-20 00:00",
           business=1200, target=3600),
)  # fmt: skip


class FakeClockRecords:
    """`ClockSnapshotStore` over a list of records."""

    def __init__(self, records: Iterable[ClockSnapshot] = ()) -> None:
        self.records = list(records)
        self.queries: list[tuple[datetime, datetime]] = []
        self.running_reads = 0

    def query(self, start: datetime, end: datetime) -> Iterator[ClockSnapshot]:
        self.queries.append((start, end))
        decided = [r for r in self.records if r.decided_at is not None and start <= r.decided_at < end]
        yield from sorted(decided, key=lambda r: (r.decided_at, r.ticket_id, str(r.metric), r.cycle))

    def running(self, start: datetime | None = None, end: datetime | None = None) -> Iterator[ClockSnapshot]:
        self.running_reads += 1
        undecided = [r for r in self.records if r.decided_at is None]
        if start is not None and end is not None:
            undecided = [r for r in undecided if r.due_at is not None and start <= r.due_at < end]
        yield from sorted(undecided, key=lambda r: (r.due_at or r.started_at, r.ticket_id))


@dataclass
class FakeReportSink:
    """`ReportSink` in memory: `objects[key] = (bytes, content_type)`; `chunks[key]` = chunks received."""

    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    chunks: dict[str, int] = field(default_factory=dict)
    fail_next: int = 0

    def put(self, key: str, body: Iterable[bytes], content_type: str) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("s3 upload failed: SlowDown")
        parts = list(body)
        self.objects[key] = (b"".join(parts), content_type)
        self.chunks[key] = len(parts)

    def link(self, key: str, expires_in_seconds: int) -> str:
        if not 1 <= expires_in_seconds <= 604800:
            raise ValueError("a link expires within 1 s and 7 days")
        return f"https://reports.example.test/{key}?expires={expires_in_seconds}"

    def text(self, key: str) -> str:
        return self.objects[key][0].decode("utf-8")


class FakeReportJobs:
    """`ReportJobStore` in memory, with the same conditions as the DynamoDB adapter."""

    def __init__(self) -> None:
        self.jobs: dict[str, ReportJob] = {}
        self._lock = threading.Lock()

    def create(self, job: ReportJob) -> bool:
        with self._lock:
            if job.id in self.jobs:
                return False
            self.jobs[job.id] = job
            return True

    def get(self, job_id: str) -> ReportJob | None:
        return self.jobs.get(job_id)

    def claim(self, job_id: str, *, now: datetime, lease: timedelta) -> ReportJob | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status is ReportJobStatus.DONE:
                return None
            if job.claimed_until is not None and job.claimed_until > now:
                return None
            job = replace(job, status=ReportJobStatus.RUNNING, claimed_until=now + lease,
                          attempts=job.attempts + 1, updated_at=now)  # fmt: skip
            self.jobs[job_id] = job
            return job

    def _set(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self.jobs[job_id] = replace(self.jobs[job_id], **changes)

    def save_built(
        self, job_id: str, *, now: datetime, keys: tuple[str, ...], figures: Mapping[str, Any]
    ) -> None:
        self._set(job_id, keys=keys, figures=dict(figures), updated_at=now)

    def finish(self, job_id: str, *, now: datetime) -> None:
        self._set(job_id, status=ReportJobStatus.DONE, updated_at=now, claimed_until=None, error=None)

    def fail(self, job_id: str, *, now: datetime, error: str) -> None:
        self._set(job_id, status=ReportJobStatus.FAILED, updated_at=now, claimed_until=None, error=error)


@dataclass
class FakeReportQueue:
    submitted: list[str] = field(default_factory=list)
    fail_next: int = 0

    def submit(self, job_id: str) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ServiceUnavailable("sqs send_message failed: ThrottlingException")
        self.submitted.append(job_id)


def report_ports(records: Iterable[ClockSnapshot], config: Config, **overrides: Any) -> Any:
    """`ReportPorts` on fresh fakes (the mailer is a `FakeMailer`)."""
    from slaclock.services.report import ReportPorts

    parts: dict[str, Any] = {
        "config": StaticConfig(config),
        "clocks": FakeClockRecords(records),
        "sink": FakeReportSink(),
        "mailer": FakeMailer(),
        "jobs": FakeReportJobs(),
        "queue": FakeReportQueue(),
    }
    parts.update(overrides)
    return ReportPorts(**parts)
