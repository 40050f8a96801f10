"""Parser models of the events ``functions/report`` receives besides HTTP (pydantic, at the edge).

- `ScheduledReports`: the input of the template's report schedules (EventBridge Scheduler, one per
  period kind), ``{"report_schedule": "daily", "window_seconds": 3600, "scheduled_at":
  "<aws.scheduler.scheduled-time>"}``; the scheduler replaces the placeholder with the firing's
  SCHEDULED instant (not the invocation's), so a retried or late firing picks the same reports.
- `ReportJobMessage`: the body of a report queue message, ``{"job_id": "..."}``.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from slaclock.engine.vocabulary import Period


class ScheduledReports(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    report_schedule: Period
    window_seconds: int = Field(default=3600, ge=60, le=86400)
    """How often this schedule fires (its cron's step): the window `due_subscriptions` looks back."""
    scheduled_at: AwareDatetime


class ReportJobMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str = Field(min_length=1, max_length=200)
