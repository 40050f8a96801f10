"""The composition root: the real adapters, built ONCE per container, only for the function that runs.

    ports = webhook_ports()      # functions/webhook: config, secrets, events, tickets, scheduler
    ports = check_ports()        # functions/check and functions/sweeper: + ledgers, SES, EventBridge,
                                 # webhooks, the actions' connectors and their dead-letter queue
    ports = sweep_ports(arn)     # functions/sweeper: + the due index's leases, the fan-out to itself

Each builder reads its function's settings (validated: a missing variable fails here, at cold start,
listing every problem) and imports the adapters it needs on first call: the webhook never loads the
SES or EventBridge clients. Results are cached for the container's life; the adapters cache the
configuration and the secrets themselves. `reset()` forgets everything (tests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.clock import ClockSource
from slaclock.runtime.observability import correlate
from slaclock.runtime.settings import CheckSettings, SweeperSettings, WebhookSettings
from slaclock.services.ingest import IngestPorts
from slaclock.services.sweep import SweepPorts

if TYPE_CHECKING:  # the adapters themselves are imported on first use (cold-start budget)
    from slaclock.adapters.config_store import S3ConfigStore
    from slaclock.adapters.scheduler import EventBridgeScheduler
    from slaclock.adapters.secrets import ParameterSecretStore
    from slaclock.connectors.http import HttpClient
    from slaclock.connectors.runner import ConnectorActionRunner
    from slaclock.ports import WebhookPoster
    from slaclock.services.check import CheckPorts  # the check use case: not the webhook's


_wrap_webhooks: Callable[[WebhookPoster], WebhookPoster] | None = None
_wrap_http: Callable[[HttpClient], HttpClient] | None = None
_UNCHANGED: Any = object()


def override(
    *,
    webhooks: Callable[[WebhookPoster], WebhookPoster] | None = _UNCHANGED,
    http: Callable[[HttpClient], HttpClient] | None = _UNCHANGED,
    clock: ClockSource | None = _UNCHANGED,
) -> None:
    """Replace parts of the world the functions see (the local stack does; Lambda never does).

    `webhooks`: build the outgoing escalation webhook poster as ``webhooks(real_poster)``, and `http`:
    the actions' HTTP client (connectors, Slack, Teams) as ``http(real_client)`` (the local stack
    captures every outgoing call this way, and calls the real one for a loopback receiver). `clock`:
    the instant every function reads (`clock()` here and in the other composition roots) and the
    adapters stamp (events' ``stored_at``, the ticket's ``saved_at``); a virtual clock locally. None
    puts the real one back; an argument not given is left as it is. Forgets the ports built so far;
    an override is kept across `reset`."""
    global _wrap_webhooks, _wrap_http
    if webhooks is not _UNCHANGED:
        _wrap_webhooks = webhooks
    if http is not _UNCHANGED:
        _wrap_http = http
    if clock is not _UNCHANGED:
        runtime_clock._install(clock)
    reset()


def _webhook_poster(timeout_seconds: float) -> WebhookPoster:
    from slaclock.runtime.outgoing import UrllibWebhookPoster

    real = UrllibWebhookPoster(timeout_seconds=timeout_seconds)
    return real if _wrap_webhooks is None else _wrap_webhooks(real)


def _action_runner(s: CheckSettings) -> ConnectorActionRunner:
    from slaclock.connectors.http import HttpClient
    from slaclock.connectors.runner import ConnectorActionRunner

    real = HttpClient(timeout_seconds=s.webhook_timeout_seconds, deadline_seconds=s.action_deadline_seconds)
    http = real if _wrap_http is None else _wrap_http(real)
    return ConnectorActionRunner(_secrets(s.secret_max_age_seconds), http)


def clock() -> datetime:
    """Now, as an aware UTC instant: the one place the functions read the clock (tests replace it)."""
    return runtime_clock.now()


@cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings()  # type: ignore[call-arg]  # values come from the environment


@cache
def check_settings() -> CheckSettings:
    return CheckSettings()  # type: ignore[call-arg]


@cache
def sweeper_settings() -> SweeperSettings:
    return SweeperSettings()  # type: ignore[call-arg]


@cache
def _config_store(bucket: str, key: str, recheck_seconds: float) -> S3ConfigStore:
    from slaclock.adapters.config_store import S3ConfigStore

    return S3ConfigStore(bucket=bucket, key=key, recheck_seconds=recheck_seconds)


@cache
def _scheduler(group: str, target: str, role: str, dlq: str) -> EventBridgeScheduler:
    from slaclock.adapters.scheduler import EventBridgeScheduler

    return EventBridgeScheduler(group_name=group, target_arn=target, role_arn=role, dead_letter_arn=dlq)


@cache
def _secrets(max_age: int) -> ParameterSecretStore:
    from slaclock.adapters.secrets import ParameterSecretStore

    return ParameterSecretStore(max_age=max_age)


def _scheduler_of(s: WebhookSettings | CheckSettings) -> EventBridgeScheduler:
    return _scheduler(s.schedule_group, s.check_function_arn, s.scheduler_role_arn, s.scheduler_dlq_arn)


@cache
def webhook_ports() -> IngestPorts:
    from slaclock.adapters.dynamodb import DynamoEventStore, DynamoTicketStore

    s = webhook_settings()
    config = _config_store(s.config_bucket, s.config_key, s.config_recheck_seconds)
    return IngestPorts(
        config=config,
        secrets=_secrets(s.secret_max_age_seconds),
        events=DynamoEventStore(s.table, now=runtime_clock.now, retention=timedelta(days=s.retention_days)),
        tickets=DynamoTicketStore(s.table, now=runtime_clock.now, retention=timedelta(days=s.retention_days)),
        scheduler=_scheduler_of(s),
        correlate=correlate,
    )


def _check_ports(s: CheckSettings) -> CheckPorts:
    from slaclock.adapters.action_ledger import DynamoActionLedger
    from slaclock.adapters.breach_tally import DynamoBreachTally
    from slaclock.adapters.dead_letters import SqsDeadLetters
    from slaclock.adapters.dynamodb import DynamoNoticeLedger, DynamoTicketStore
    from slaclock.adapters.events import EventBridgePublisher
    from slaclock.adapters.ses import SesMailer
    from slaclock.services.check import CheckPorts

    config = _config_store(s.config_bucket, s.config_key, s.config_recheck_seconds)
    return CheckPorts(
        config=config,
        tickets=DynamoTicketStore(s.table, now=runtime_clock.now, retention=timedelta(days=s.retention_days)),
        ledger=DynamoNoticeLedger(s.table, retention=timedelta(days=s.retention_days)),
        scheduler=_scheduler_of(s),
        mailer=SesMailer(sender=s.sender, rate_share=s.send_rate_share, account_rate=s.ses_send_rate),
        publisher=EventBridgePublisher(bus_name=s.event_bus),
        webhooks=_webhook_poster(s.webhook_timeout_seconds),
        secrets=_secrets(s.secret_max_age_seconds),
        webhook_secret=s.webhook_signing_secret,
        lease=timedelta(seconds=s.notice_lease_seconds),
        correlate=correlate,
        actions=_action_runner(s),
        action_ledger=DynamoActionLedger(s.table, retention=timedelta(days=s.retention_days)),
        dead_letters=SqsDeadLetters(queue_url=s.action_dlq_url) if s.action_dlq_url else None,
        breach_tally=DynamoBreachTally(s.table),
    )


@cache
def check_ports() -> CheckPorts:
    return _check_ports(check_settings())


@cache
def sweeper_ports() -> CheckPorts:
    return _check_ports(sweeper_settings())


@cache
def sweep_ports(function_arn: str) -> SweepPorts:
    """The sweeper's ports: a check's, the due index's leases, and the fan-out that invokes
    `function_arn` (the sweeper itself, from the invocation's context)."""
    from slaclock.adapters.dynamodb import DynamoSweepLeases
    from slaclock.adapters.fanout import LambdaSweepFanOut

    s = sweeper_settings()
    return SweepPorts(
        check=sweeper_ports(),
        leases=DynamoSweepLeases(s.table),
        fan_out=LambdaSweepFanOut(function_arn),
        lease=timedelta(seconds=s.sweep_lease_seconds),
    )


def reset_connections() -> None:
    """Forget every composition root's ports AND the AWS clients and table bindings behind them (the
    endpoint or the credentials changed: the local stack between two runs)."""
    from slaclock.adapters import _aws
    from slaclock.adapters.action_ledger import action_model
    from slaclock.adapters.breach_tally import tally_model
    from slaclock.adapters.dynamodb import forget_tables
    from slaclock.runtime import admin_wiring, link_wiring, report_wiring

    reset()
    report_wiring.reset()
    link_wiring.reset()
    admin_wiring.reset()
    _aws.forget_session()
    forget_tables()
    action_model.cache_clear()  # the stores beside the table's own models (same table, own items)
    tally_model.cache_clear()


def reset() -> None:
    """Forget every cached setting and adapter (tests change the environment between cases)."""
    for f in (webhook_settings, check_settings, sweeper_settings, _config_store, _scheduler, _secrets,
              webhook_ports, check_ports, sweeper_ports, sweep_ports):  # fmt: skip
        f.cache_clear()
