"""The functions' Powertools Logger and Metrics, one of each per container.

Logging: structured JSON on the ``slaclock`` logger; the use cases log on standard child loggers
(``slaclock.services.*``), which propagate here and come out in the same format, with the correlation
id the handler (or `correlate`) set: the ticket id. What is logged is ids, counts and error codes:
never a message body, an e-mail address or a ticket field (the use cases pass only ids in ``extra``).

Metrics (CloudWatch EMF, namespace from ``POWERTOOLS_METRICS_NAMESPACE``, dimensions ``service`` =
``POWERTOOLS_SERVICE_NAME``, default ``slaclock``, and ``stack`` = ``SLACLOCK_STACK_NAME`` when set:
template.yaml's alarms name all three, so two stacks in one account never share an alarm's metric):
``EventsIngested``, ``DuplicateEvents``, ``Warnings``, ``Breaches``, ``Escalations``,
``CheckLatenessSeconds`` (now - the instant the schedule was armed for), ``NoticesPending`` (claimed
but not sent yet), ``NoticesWithoutRecipient`` (a notice with no address at all),
``IntegrationFailures``, ``ScheduleFailures`` (the scheduler refused a create/update/delete, at
ingest or after a check), ``ScheduleQuotaExceeded`` (of those, refusals because the account's number
of schedules is used up), ``SweptTickets``, ``SweepFanOut`` (sweeper workers started for a backlog),
``CheckFailures`` (tickets whose check raised during a sweep), ``WebhooksRefused`` (4xx answers),
``WebhookErrors`` (5xx answers), ``ReportLinksOpened``, ``ReportLinksRefused`` (the link function).

Tracing stays off the cold-start path: `traced` imports the X-Ray tracer only when
``POWERTOOLS_TRACE_DISABLED`` is ``false`` (the template's Tracing parameter).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "slaclock")
logger = Logger(service=SERVICE, log_uncaught_exceptions=True)
# The service is passed, not left to Powertools' own environment lookup, so every metric carries the
# ``service`` dimension the alarms filter on even where the variable is unset.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "SlaClock"), service=SERVICE)

_STEP_METRICS: dict[str, str] = {"warning": "Warnings", "breach": "Breaches", "escalation": "Escalations"}
"""Metric per `slaclock.engine.clocks.StepKind` (a StrEnum: its members look these keys up), by value
so that importing the logger does not import the engine."""

F = TypeVar("F", bound=Callable[..., Any])


def correlate(ticket_id: str) -> None:
    """Make `ticket_id` the correlation id of every log line from here on (until the next ticket)."""
    logger.set_correlation_id(ticket_id)


def _scope_to_stack() -> None:
    """Give this invocation's metrics the ``stack`` dimension (Powertools clears dimensions after each
    flush; read at emission, so the environment of the invocation is what counts)."""
    stack = os.environ.get("SLACLOCK_STACK_NAME")
    if stack and metrics.dimension_set.get("stack") != stack:
        metrics.add_dimension(name="stack", value=stack)


def count(name: str, value: float = 1, *, always: bool = False) -> None:
    """Add a Count metric (zero values are left out unless `always`)."""
    if value or always:
        _scope_to_stack()
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def record_check(result: Any) -> None:
    """Metrics of one `CheckResult` (a scheduled firing or one ticket of a sweep)."""
    for kind, name in _STEP_METRICS.items():
        count(name, result.count(kind))
    count("NoticesPending", len(result.pending))
    count("IntegrationFailures", result.integration_failures)
    count("NoticesWithoutRecipient", result.unaddressed)
    count("ActionsSent", result.actions_sent)
    count("ActionsDeadLettered", result.actions_dead_lettered)
    record_schedule(result.schedule)
    if result.lateness_seconds is not None:
        _scope_to_stack()
        metrics.add_metric(
            name="CheckLatenessSeconds", unit=MetricUnit.Seconds, value=result.lateness_seconds
        )


def record_schedule(outcome: str) -> None:
    """Metrics of one schedule sync (``armed``/``disarmed``/``unchanged``/``failed``/``quota``): a
    refusal counts ``ScheduleFailures``; one for a used-up schedule quota also ``ScheduleQuotaExceeded``
    (alarmed: every new ticket then depends on the sweeper until the quota is raised)."""
    count("ScheduleFailures", 1 if outcome in ("failed", "quota") else 0)
    count("ScheduleQuotaExceeded", 1 if outcome == "quota" else 0)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in ("false", "0")


def traced(handler: F) -> F:
    """`handler` wrapped by the X-Ray tracer when tracing is enabled; unchanged (no import) otherwise."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return cast(F, Tracer().capture_lambda_handler(handler))
