"""The report use cases: request (``POST /reports``), schedule (a subscription's period ended), run a
queued job (claim, build, e-mail, done), and status (with fresh links)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.errors import SlaclockError
from slaclock.engine.reports import (
    format_instant,
)
from slaclock.engine.vocabulary import PERIODS
from slaclock.ports import (
    ReportJob,
    ReportJobStatus,
    ServiceUnavailable,
)
from slaclock.services.report.build import ReportPorts, build_report, previous_figures
from slaclock.services.report.email import render_report_email
from slaclock.services.report.request import validate_request
from slaclock.services.report.spec import (
    ReportBusy,
    ReportNotFound,
    ReportSpec,
    due_subscriptions,
    new_report_id,
    subscription_spec,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------- use cases


def request_report(ports: ReportPorts, doc: Any, now: datetime) -> ReportJob:
    """``POST /reports``: validate `doc` (raises `ReportRequestError`), store the job, queue it."""
    config = ports.config.load()
    report_id = new_report_id(now)
    spec = validate_request(doc, config, now, report_id=report_id, default_expiry=ports.link_expiry_seconds)
    job = ReportJob(
        id=report_id, status=ReportJobStatus.QUEUED, spec=spec.to_dict(), created_at=now, updated_at=now
    )
    ports.jobs.create(job)
    _submit(ports, report_id, now)
    log.info("report requested", extra={"report_id": report_id, "period": spec.period.label})
    return job


def _submit(ports: ReportPorts, job_id: str, now: datetime) -> None:
    try:
        ports.queue.submit(job_id)
    except ServiceUnavailable:
        ports.jobs.fail(job_id, now=now, error="the report queue refused the job")
        raise


def schedule_reports(ports: ReportPorts, kind: str, scheduled_at: datetime, window: timedelta) -> list[str]:
    """A schedule of `kind` fired (at `scheduled_at`, every `window`): queue the due subscriptions'
    reports; returns their job ids. A job created by an earlier firing is not queued again unless it
    is still waiting (queued or failed: its message may have been lost)."""
    if kind not in PERIODS:
        raise ValueError(f"unknown period kind {kind!r}")
    config = ports.config.load()
    queued = []
    for sub, period in due_subscriptions(config, kind, scheduled_at, window):
        spec = subscription_spec(sub, period, ports.link_expiry_seconds)
        job = ReportJob(spec.report_id, ReportJobStatus.QUEUED, spec.to_dict(), scheduled_at, scheduled_at)
        if not ports.jobs.create(job):
            existing = ports.jobs.get(spec.report_id)
            if existing is None or existing.status in (ReportJobStatus.RUNNING, ReportJobStatus.DONE):
                continue
        _submit(ports, spec.report_id, scheduled_at)
        queued.append(spec.report_id)
        log.info("report scheduled", extra={"report_id": spec.report_id})
    return queued


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What `run_report_job` did: `built` (False when a retry reused the stored figures), `mailed`
    (the message id, None when there is no recipient)."""

    job_id: str
    keys: tuple[str, ...]
    figures: Mapping[str, Any]
    built: bool
    mailed: str | None


def run_report_job(ports: ReportPorts, job_id: str, now: datetime) -> ReportOutcome | None:
    """Build and send the job's report. None when there is nothing to do (unknown id, already done).

    Raises `ReportBusy` when another builder holds the lease (the message should come back later),
    and re-raises whatever failed after marking the job failed (the queue redelivers it; a report
    already uploaded is then only e-mailed again, not rebuilt)."""
    job = ports.jobs.claim(job_id, now=now, lease=ports.lease)
    if job is None:
        current = ports.jobs.get(job_id)
        if current is None or current.status is ReportJobStatus.DONE:
            return None
        raise ReportBusy(f"report {job_id} is being built by another invocation")
    spec = ReportSpec.from_dict(job.spec)
    try:
        built = job.figures is None
        if job.figures is None:
            config = ports.config.load()
            figures = build_report(ports, spec, config, now)
            figures["previous"] = previous_figures(ports, spec, config, now)
            keys = tuple(spec.keys.values())
            ports.jobs.save_built(job_id, now=now, keys=keys, figures=figures)
        else:
            figures, keys = dict(job.figures), job.keys
        mailed = None
        if spec.recipients:
            links = report_links(ports, spec, now, spec.link_expiry_seconds)
            message = render_report_email(
                spec, figures, links, expires_at=now + timedelta(seconds=spec.link_expiry_seconds)
            )
            mailed = ports.mailer.send(spec.recipients, message.subject, message.text, message.html)
        ports.jobs.finish(job_id, now=now)
    except Exception as err:
        ports.jobs.fail(job_id, now=now, error=_reason(err))
        raise
    log.info("report done", extra={"report_id": job_id, "rows": figures.get("rows"), "built": built})
    return ReportOutcome(job_id=job_id, keys=keys, figures=figures, built=built, mailed=mailed)


def _reason(err: BaseException) -> str:
    """A failure reason safe to store and show: the error class, and for our own errors their message
    (which names services and codes only)."""
    if isinstance(err, SlaclockError):
        return f"{type(err).__name__}: {str(err)[:300]}"
    return type(err).__name__


def report_links(ports: ReportPorts, spec: ReportSpec, now: datetime, expires_in: int) -> dict[str, str]:
    """A fresh link per file, valid `expires_in` seconds from `now` (signing is local: no AWS call
    beyond reading the link key, cached per container)."""
    return {name: ports.link(key, now, expires_in) for name, key in spec.keys.items()}


def report_status(ports: ReportPorts, job_id: str, now: datetime) -> dict[str, Any]:
    """``GET /reports/{id}``: the job's status, period and figures, and (when done) FRESH links valid
    for the configured expiry. Raises `ReportNotFound`."""
    job = ports.jobs.get(job_id)
    if job is None:
        raise ReportNotFound(f"no report {job_id!r}")
    spec = ReportSpec.from_dict(job.spec)
    answer: dict[str, Any] = {
        "id": job.id,
        "status": job.status.value,
        "title": spec.title,
        "name": spec.name,
        "period": spec.period.to_dict(),
        "created_at": format_instant(job.created_at),
        "updated_at": format_instant(job.updated_at),
        "attempts": job.attempts,
    }
    if job.figures is not None:
        answer["figures"] = {k: v for k, v in job.figures.items() if k != "fingerprint"}
    if job.status is ReportJobStatus.DONE:
        expires_in = min(spec.link_expiry_seconds, ports.link_expiry_seconds)
        links = report_links(ports, spec, now, expires_in)
        answer["files"] = {name: {"key": key, "url": links[name]} for name, key in spec.keys.items()}
        answer["links_expire_at"] = format_instant(now + timedelta(seconds=expires_in))
    if job.status is ReportJobStatus.FAILED and job.error:
        answer["error"] = job.error
    return answer
