"""Use case: a ticket's check fires (its schedule, or the sweeper) -> owed notices sent exactly once.

`run_check(ports, ticket_id, now, armed_for)`:

1. loads the ticket; an unknown ticket (never stored) does nothing;
2. evaluates it at `now` (at `armed_for` if this Lambda's clock lags the scheduler's: the scheduler
   never fires early, so the step it was armed for is always seen);
3. for each notice the view owes (`TicketView.notices`, every reached step) and the ticket does not
   already list as sent (`StoredTicket.notified`, a cache of the ledger), claims it in the
   `NoticeLedger` with a lease; only the claimer sends it: e-mail (SES), then `mark_sent`, then the
   EventBridge event and the step's signed outgoing webhook. A notice sent before is skipped, so a stale
   firing (the ticket was answered, moved or deleted) sends nothing twice. The claimed notices whose
   steps fall in the same minute reach each person as ONE e-mail (`_send_emails`): a warning and an
   escalation due together are one message for whoever both name, each notice still marked on its own;
4. if an e-mail failed (`ServiceUnavailable`) or another check holds a lease, the notice stays
   claimed-but-unsent and the ticket's `retry_at` is set to the lease's end: the schedule is armed no
   later than that, and the sweeper's index sees it too. The retry re-claims it once the lease ended.
   Never lost, never sent twice (except a sender dying between the e-mail and `mark_sent`). A notice
   with more recipients than one message carries is several messages: when SES refuses a later one
   (`PartialDelivery`), the addresses already e-mailed are recorded on the notice
   (`NoticeLedger.mark_delivered`) and the retry e-mails only the others, so each recipient gets it
   once; the same record covers a combined e-mail that went while another message of the same minute
   was refused. A notice whose recipients resolve to no address (after the level's fallback for an
   unassigned ticket) is recorded as sent without an e-mail and counted in
   `CheckResult.unaddressed` (metric ``NoticesWithoutRecipient``, alarmed): retrying cannot help;
5. saves the ticket (same state; new `next_check_at`, `retry_at`, `notified`; the clock records)
   with optimistic locking when anything changed, re-running from 1 on `ConflictError`
   (already-sent notices are skipped on the re-run);
6. re-syncs the schedule with the saved armed instant (a firing consumed the one-time schedule;
   re-arming an existing one for the same instant is harmless). A refusal is reported, not raised:
   the saved `next_check_at` lets the sweeper catch the ticket (``schedule="failed"``, or ``"quota"``
   when the account's schedule quota is used up: counted as ``ScheduleQuotaExceeded`` and alarmed).

Integrations are delivered after the e-mail is recorded as sent, each with its own retries (botocore's
for EventBridge, urllib3's `Retry` for webhooks); one that still fails is logged and counted
(`CheckResult.integration_failures`), not retried later: re-claiming the notice would repeat the e-mail.

Then the steps' ``actions:`` (Slack, Teams, helpdesk write-backs, extra e-mails, webhooks, events)
run through `slaclock.services.actions.run_actions`, each claimed on its own in the action ledger and
cached in `notified` under its own key, so a failing one never delays the e-mails above and a
redelivered check never repeats one.

The lease (`CheckPorts.lease`) must outlast the check function's timeout, so a live sender never
loses its claim to another check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slaclock.engine.clocks import Notice, StepKind, TicketView, evaluate
from slaclock.engine.config import Config
from slaclock.engine.errors import SlaclockError
from slaclock.engine.schedules import round_up_to_minute
from slaclock.helpdesk.signing import sign
from slaclock.ports import (
    MAX_RECIPIENTS_PER_MESSAGE,
    ActionLedger,
    ActionRunner,
    BreachTally,
    ClaimOutcome,
    ConfigSource,
    ConflictError,
    DeadLetters,
    EventPublisher,
    Mailer,
    NoticeLedger,
    PartialDelivery,
    QuotaExceeded,
    Scheduler,
    SecretStore,
    ServiceUnavailable,
    StoredTicket,
    TicketStore,
    WebhookPoster,
)
from slaclock.services.actions import run_actions
from slaclock.services.notify import (
    DETAIL_TYPES,
    Message,
    notice_detail,
    render_notices,
    resolve_recipients,
)
from slaclock.services.snapshots import clock_snapshots, settle_records
from slaclock.services.threshold import run_thresholds

log = logging.getLogger(__name__)

MAX_SAVE_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(minutes=5)


def _ignore(ticket_id: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CheckPorts:
    """What a check needs. `webhook_secret` names the secret (SSM parameter or Secrets Manager ARN)
    that signs outgoing escalation webhooks (`slaclock.helpdesk.signing`, scheme v1)."""

    config: ConfigSource
    tickets: TicketStore
    ledger: NoticeLedger
    scheduler: Scheduler
    mailer: Mailer
    publisher: EventPublisher
    webhooks: WebhookPoster
    secrets: SecretStore
    webhook_secret: str
    lease: timedelta = DEFAULT_LEASE
    correlate: Callable[[str], None] = _ignore
    """Called with the ticket id before it is checked (the logger's correlation id)."""
    actions: ActionRunner | None = None
    action_ledger: ActionLedger | None = None
    dead_letters: DeadLetters | None = None
    breach_tally: BreachTally | None = None
    """The steps' ``actions:`` (`slaclock.services.actions`): runner, ledger and dead-letter queue."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check did. `sent` are the notices delivered by this check; `pending` the keys left
    claimed-but-unsent (retried at `retry_at`); `stale` is True when the firing was not for the
    ticket's armed instant (moved, answered, deleted) or the ticket is unknown."""

    ticket_id: str
    found: bool
    stale: bool
    sent: tuple[Notice, ...] = ()
    pending: tuple[str, ...] = ()
    next_check_at: datetime | None = None
    retry_at: datetime | None = None
    schedule: str = "unchanged"
    integration_failures: int = 0
    unaddressed: int = 0
    """Notices of `sent` that had no e-mail recipient at all (recorded as sent, e-mailed to nobody)."""
    lateness_seconds: float | None = None
    attempts: int = 1
    actions_sent: int = 0
    actions_dead_lettered: int = 0

    def count(self, kind: StepKind | str) -> int:
        return sum(1 for n in self.sent if n.step.kind == kind)


@dataclass(slots=True)
class _Delivery:
    sent: list[Notice] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    known_sent: set[str] = field(default_factory=set)  # the ledger said SENT: cache them on the ticket
    integration_failures: int = 0
    unaddressed: int = 0


def run_check(
    ports: CheckPorts, ticket_id: str, now: datetime, armed_for: datetime | None = None
) -> CheckResult:
    """Check one ticket at `now` (see the module docstring). `armed_for` is the instant the firing
    schedule was armed for (None when the sweeper calls). Raises only for faults of the stores; a
    refused e-mail, integration or schedule is reported in the result."""
    ports.correlate(ticket_id)
    policy = ports.config.policy()  # compiled once per configuration, not per check
    config = policy.config
    lateness = (now - armed_for).total_seconds() if armed_for is not None else None
    for attempt in range(1, MAX_SAVE_ATTEMPTS + 1):
        stored = ports.tickets.get(ticket_id)
        if stored is None:
            log.info("check for an unknown ticket ignored", extra={"ticket_id": ticket_id})
            return CheckResult(
                ticket_id, found=False, stale=True, lateness_seconds=lateness, attempts=attempt
            )
        current = armed_for is None or armed_for == stored.next_check_at
        at = max(now, armed_for) if armed_for is not None and current else now
        view = evaluate(policy, stored.state, at)
        delivery = _deliver_all(ports, config, view, at, stored.notified)
        acted = run_actions(ports, config, policy, view, at, stored.notified)  # after every e-mail
        pending = delivery.pending + acted.pending
        retry_at = round_up_to_minute(at + ports.lease) if pending else None
        armed = _armed_instant(view, retry_at)
        notified = stored.notified | delivery.known_sent | {n.key for n in delivery.sent}
        notified |= (
            acted.known | acted.done | run_thresholds(ports, config, policy, view, at, stored.notified)
        )
        records, removed = settle_records(stored.records, stored.state, view)
        changed = (armed, retry_at, notified, records) != (
            stored.next_check_at,
            stored.retry_at,
            stored.notified,
            stored.records,
        )
        if delivery.sent or pending or changed:
            try:
                ports.tickets.save(
                    stored.state,
                    expected_version=stored.version,
                    next_check_at=armed,
                    retry_at=retry_at,
                    notified=notified,
                    clocks=clock_snapshots(policy, stored.state.fields, view.clocks, now),
                    removed=removed,
                    records=records,
                )
            except ConflictError:
                log.info("ticket changed during its check; checking again", extra={"ticket_id": ticket_id})
                continue
        schedule = _sync_schedule(ports.scheduler, stored, armed, consumed=armed_for is not None and current)
        return CheckResult(
            ticket_id=ticket_id,
            found=True,
            stale=not current,
            sent=tuple(delivery.sent),
            pending=tuple(pending),
            next_check_at=armed,
            retry_at=retry_at,
            schedule=schedule,
            integration_failures=delivery.integration_failures,
            unaddressed=delivery.unaddressed,
            lateness_seconds=lateness,
            attempts=attempt,
            actions_sent=acted.sent,
            actions_dead_lettered=acted.dead_lettered,
        )
    raise ConflictError(f"ticket {ticket_id} kept changing during {MAX_SAVE_ATTEMPTS} check attempts")


def _armed_instant(view: TicketView, retry_at: datetime | None) -> datetime | None:
    armed = round_up_to_minute(view.next_check_at) if view.next_check_at is not None else None
    if retry_at is not None and (armed is None or retry_at < armed):
        armed = retry_at
    return armed


def _deliver_all(
    ports: CheckPorts, config: Config, view: TicketView, now: datetime, notified: frozenset[str]
) -> _Delivery:
    """Claim, send and record every owed notice not already known as sent (`notified`)."""
    out = _Delivery()
    claimed: list[Notice] = []
    for notice in view.notices:
        if notice.key in notified:
            continue
        outcome = ports.ledger.claim(notice, now=now, lease=ports.lease)
        if outcome is ClaimOutcome.SENT:
            out.known_sent.add(notice.key)
        elif outcome is ClaimOutcome.HELD:
            out.pending.append(notice.key)
        else:
            claimed.append(notice)
    emailed = _send_emails(ports, config, view, claimed, now)
    for notice in claimed:
        done = emailed[notice.key]
        if done is None:
            out.pending.append(notice.key)
            continue
        out.unaddressed += not done
        ports.ledger.mark_sent(notice, now=now)
        out.sent.append(notice)
        out.integration_failures += _publish(ports, notice, now)
    return out


def _send_emails(
    ports: CheckPorts, config: Config, view: TicketView, claimed: list[Notice], now: datetime
) -> dict[str, bool | None]:
    """E-mail the `claimed` notices of one ticket; per notice key: True if every recipient got it,
    False if it has no recipient at all (nothing to send), None if some did not (it stays
    claimed-but-unsent; the addresses that got it are recorded with `NoticeLedger.mark_delivered`).

    Notices whose steps fall in the same minute go to a person as ONE e-mail (`render_notices`): a
    warning and an escalation due together are one message for whoever both name. The recipients of
    the same set of notices share a message. A notice with more than one recipient may have been
    delivered to some of them by an earlier attempt (another message failed): those are left out.
    That record is read only for a notice that may have been split: more recipients than one message
    carries, or another notice the ticket owes in the same minute (sent or not)."""
    result: dict[str, bool | None] = {}
    groups: dict[datetime, list[Notice]] = {}
    for notice in claimed:
        groups.setdefault(_minute(notice), []).append(notice)
    owed_per_minute: dict[datetime, int] = {}
    for notice in view.notices:
        owed_per_minute[_minute(notice)] = owed_per_minute.get(_minute(notice), 0) + 1
    for minute, notices in groups.items():
        shared = owed_per_minute[minute] > 1
        wanted, by_address = _addressees(ports, config, view, notices, result, shared)
        messages: dict[tuple[str, ...], list[str]] = {}  # the notices' keys -> their addresses
        for address, group in by_address.values():
            messages.setdefault(tuple(n.key for n in group), []).append(address)
        delivered: dict[str, set[str]] = {key: set() for key in wanted}
        for keys, addresses in messages.items():
            group = [n for n in notices if n.key in keys]
            got = _mail(ports, render_notices(config, group, now, view.fields), addresses, view, keys)
            for key in keys:
                delivered[key] |= got
        for notice in notices:
            key = notice.key
            if key not in wanted:
                continue
            if wanted[key] <= delivered[key]:
                result[key] = True
                continue
            result[key] = None
            if delivered[key]:
                ports.ledger.mark_delivered(notice, delivered[key])
    return result


def _minute(notice: Notice) -> datetime:
    return notice.step.at.replace(second=0, microsecond=0)


def _addressees(
    ports: CheckPorts,
    config: Config,
    view: TicketView,
    notices: list[Notice],
    result: dict[str, bool | None],
    shared: bool,
) -> tuple[dict[str, set[str]], dict[str, tuple[str, list[Notice]]]]:
    """For `notices` (one minute's): the addresses (lower-cased) each still has to reach, and per
    address its first spelling and the notices it gets. A notice without any recipient is set to
    False in `result` and left out. `shared`: the ticket owes other notices in that minute."""
    wanted: dict[str, set[str]] = {}
    by_address: dict[str, tuple[str, list[Notice]]] = {}
    for notice in notices:
        level = config.level(notice.level)
        unassigned = level.unassigned if level is not None else ()
        recipients = resolve_recipients(notice.step.recipients, view.fields, config.leads, unassigned)
        if not recipients and not notice.step.recipients and level is not None and level.breach_thresholds:
            result[notice.key] = True  # only threshold recipients (`services.threshold`): no e-mail owed
            continue
        if not recipients:
            log.error(
                "notice has no e-mail recipient", extra={"ticket_id": notice.ticket_id, "notice": notice.key}
            )
            result[notice.key] = False
            continue
        split = len(recipients) > MAX_RECIPIENTS_PER_MESSAGE or (shared and len(recipients) > 1)
        done = ports.ledger.delivered(notice) if split else frozenset()
        wanted[notice.key] = set()
        for address in recipients:
            if address.lower() not in done:
                wanted[notice.key].add(address.lower())
                by_address.setdefault(address.lower(), (address, []))[1].append(notice)
    return wanted, by_address


def _mail(
    ports: CheckPorts, message: Message, addresses: list[str], view: TicketView, keys: tuple[str, ...]
) -> set[str]:
    """Send one e-mail; the addresses (lower-cased) that got it (all, some, or none)."""
    try:
        ports.mailer.send(addresses, message.subject, message.text, message.html)
    except PartialDelivery as exc:
        log.warning(
            "e-mail accepted for some recipients only; the others will be retried",
            extra={"ticket_id": view.ticket_id, "notices": list(keys), "error": str(exc)},
        )
        return {a.lower() for a in exc.delivered}
    except ServiceUnavailable as exc:
        log.warning(
            "e-mail refused; the notices will be retried",
            extra={"ticket_id": view.ticket_id, "notices": list(keys), "error": str(exc)},
        )
        return set()
    return {a.lower() for a in addresses}


def _publish(ports: CheckPorts, notice: Notice, now: datetime) -> int:
    """The EventBridge event and the step's outgoing webhook; returns how many failed."""
    detail = notice_detail(notice, now)
    detail_type = DETAIL_TYPES[notice.step.kind]
    failures = 0
    try:
        ports.publisher.publish(detail_type, detail)
    except ServiceUnavailable as exc:
        failures += 1
        log.error(
            "event not published",
            extra={"ticket_id": notice.ticket_id, "notice": notice.key, "error": str(exc)},
        )
    url = notice.step.webhook
    if url:
        body = json.dumps({"type": detail_type, **detail}, separators=(",", ":")).encode()
        try:
            headers = {
                "Content-Type": "application/json",
                **sign(ports.secrets.secret(ports.webhook_secret), body, now),
            }
            ports.webhooks.post(url, body, headers)
        except SlaclockError as exc:
            failures += 1
            log.error(
                "escalation webhook failed",
                extra={"ticket_id": notice.ticket_id, "notice": notice.key, "error": str(exc)},
            )
    return failures


def _sync_schedule(
    scheduler: Scheduler, stored: StoredTicket, armed: datetime | None, *, consumed: bool
) -> str:
    """Make the ticket's schedule match `armed`. `consumed`: this check is the firing of the armed
    schedule, which the scheduler deleted after completion (so there is nothing to disarm)."""
    try:
        if armed is not None:
            # The firing consumed the one-time schedule (a sweep: it was lost): create first.
            scheduler.arm(stored.state.ticket_id, armed, exists=False)
            return "armed"
        if consumed:
            return "unchanged"
        scheduler.disarm(stored.state.ticket_id)
        return "disarmed"
    except QuotaExceeded as exc:
        log.error(
            "schedule quota exceeded; the sweeper will catch the ticket",
            extra={"ticket_id": stored.state.ticket_id, "error": str(exc)},
        )
        return "quota"
    except ServiceUnavailable as exc:
        log.warning(
            "scheduler refused; the sweeper will catch the ticket",
            extra={"ticket_id": stored.state.ticket_id, "error": str(exc)},
        )
        return "failed"
