"""Use case (part of a check): run the actions a ticket owes, each exactly once, none blocking another.

`run_actions(ports, config, policy, view, now, done)` goes through `owed_actions(policy, view)` (every
reached step's ``actions:`` and the met steps', in order) and, for each action whose key is not in
`done` (the ticket's cache of finished keys, `StoredTicket.notified`):

1. claims it in the `ActionLedger` (its own record: the notice's key + ``#action-<n>-<kind>``), so a
   redelivered or concurrent check never runs it again; HELD (another check holds it) leaves it
   pending, retried at the check's `retry_at`;
2. runs it: ``email`` through the `Mailer`, ``webhook`` (signed with the action's own secret) through
   the `WebhookPoster`, ``eventbridge`` through the `EventPublisher`, everything else (``slack``,
   ``teams``, the helpdesk write-backs) through the `ActionRunner` (the connectors, whose HTTP client
   retries 429 / 5xx with backoff and honours Retry-After within a bounded time);
3. records it done. An action that gave up (`ServiceUnavailable`) or was refused (`ActionRejected`)
   goes to the dead-letter queue (`DeadLetters`: ids, kind, host and error, no personal data; metric
   ``ActionsDeadLettered``, alarmed) and is recorded done too: retrying later would only repeat a
   call the receiver already answered. If the dead-letter queue itself refuses, the action stays
   claimed and is tried again once its lease ends (never lost).

Each action is isolated: one that fails never stops the next, and the check sends the step's e-mail
(`notify`) before any action, so a slow or failing Slack or helpdesk call never delays it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slaclock.engine.action_plan import ActionDue, owed_actions, source_of
from slaclock.engine.actions import render as render_template
from slaclock.engine.actions import reply_template
from slaclock.engine.clocks import StepKind, TicketView
from slaclock.engine.config import Config
from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import format_instant
from slaclock.engine.policy import Policy
from slaclock.engine.ticket_links import ticket_linker
from slaclock.helpdesk.signing import sign
from slaclock.ports import (
    ActionCall,
    ActionLedger,
    ActionRejected,
    ActionRunner,
    ClaimOutcome,
    DeadLetters,
    EventPublisher,
    Mailer,
    SecretStore,
    ServiceUnavailable,
    WebhookPoster,
)
from slaclock.services.notify import (
    human_duration,
    local_time,
    notice_detail,
    render_notice,
    seconds_past_due,
)

log = logging.getLogger(__name__)

DEFAULT_DETAIL_TYPE = "slaclock.notice"


class ActionPorts(Protocol):
    """What running actions needs (`slaclock.services.check.CheckPorts` provides it)."""

    @property
    def mailer(self) -> Mailer: ...
    @property
    def publisher(self) -> EventPublisher: ...
    @property
    def webhooks(self) -> WebhookPoster: ...
    @property
    def secrets(self) -> SecretStore: ...
    @property
    def actions(self) -> ActionRunner | None: ...
    @property
    def action_ledger(self) -> ActionLedger | None: ...
    @property
    def dead_letters(self) -> DeadLetters | None: ...
    @property
    def lease(self) -> Any: ...


@dataclass(slots=True)
class ActionResult:
    """What one check's actions did: `done` keys (sent or dead-lettered) and `known` (the ledger said
    done: cached on the ticket), `pending` (held or to retry), `sent` and `dead_lettered` counts."""

    done: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)
    pending: list[str] = field(default_factory=list)
    sent: int = 0
    dead_lettered: int = 0
    log: list[dict[str, str]] = field(default_factory=list)


def template_values(config: Config, view: TicketView, due: ActionDue, now: datetime) -> dict[str, str]:
    """The value of every template variable (`slaclock.engine.actions.TEMPLATE_VARIABLES`)."""
    notice = due.notice
    level = config.level(notice.level)
    calendar = level.calendar if level is not None else ""
    zone = config.calendars[calendar].timezone if calendar in config.calendars else "UTC"
    source = source_of(config, notice.ticket_id)
    ticket = notice.ticket_id.removeprefix(source.ticket_prefix) if source else notice.ticket_id
    late = seconds_past_due(notice, now)
    return {
        "ticket": ticket,
        "ticket_url": ticket_linker(config.sources)(notice.ticket_id),  # the e-mails' and the CSV's link
        "level": notice.level,
        "metric": str(notice.metric),
        "step": notice.step.key,
        "due": local_time(notice.due_at, zone),
        "late": human_duration(late) if late > 0 else "0 s",
        "calendar": calendar,
    }


def run_actions(
    ports: ActionPorts, config: Config, policy: Policy, view: TicketView, now: datetime, done: frozenset[str]
) -> ActionResult:
    """Claim, run and record every owed action not in `done` (module docstring)."""
    out = ActionResult()
    ledger = ports.action_ledger
    for due in owed_actions(policy, view):
        key = due.key
        if key in done:
            continue
        if ledger is None:
            log.warning("actions are not wired; skipped", extra={"ticket_id": view.ticket_id, "action": key})
            continue
        claim = ledger.claim(due.notice, key, now=now, lease=ports.lease)
        if claim is ClaimOutcome.SENT:
            out.known.add(key)
            continue
        if claim is ClaimOutcome.HELD:
            out.pending.append(key)
            continue
        outcome = _run_one(ports, config, view, due, now, out)
        if outcome is None:
            out.pending.append(key)
            continue
        ledger.mark_done(due.notice, key, now=now, outcome=outcome)
        out.done.add(key)
    return out


def _run_one(
    ports: ActionPorts, config: Config, view: TicketView, due: ActionDue, now: datetime, out: ActionResult
) -> str | None:
    """Run one claimed action: ``sent``, ``dead_letter``, or None if it must be tried again."""
    kind = due.action.kind
    record = {"action": due.key, "ticket_id": view.ticket_id, "kind": kind}
    try:
        target = _dispatch(ports, config, view, due, now)
    except (ServiceUnavailable, ActionRejected) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.error("action failed; sent to dead letters", extra={**record, "error": error})
        try:
            if ports.dead_letters is None:
                raise ServiceUnavailable("no dead-letter queue wired")
            ports.dead_letters.put(
                {**record, "notice": due.notice.key, "error": error, "at": format_instant(now)}
            )
        except ServiceUnavailable as dlq:
            log.error("dead-letter queue refused; retried later", extra={**record, "error": str(dlq)})
            return None
        out.dead_lettered += 1
        out.log.append({**record, "outcome": "dead_letter"})
        return "dead_letter"
    out.sent += 1
    out.log.append({**record, "outcome": "sent", "target": target})
    log.info("action sent", extra={**record, "target": target})
    return "sent"


def _dispatch(ports: ActionPorts, config: Config, view: TicketView, due: ActionDue, now: datetime) -> str:
    notice, action = due.notice, due.action
    params = action.params
    if action.kind == "email":
        to = tuple(params["to"])
        message = (
            render_notice(config, notice, now, view.fields) if notice.step.kind is not StepKind.MET else None
        )
        if message is None:
            subject = f"SLA met: ticket {notice.ticket_id}, {str(notice.metric)}"
            ports.mailer.send(to, subject, subject + "\n", f"<p>{subject}</p>")
        else:
            ports.mailer.send(to, message.subject, message.text, message.html)
        return "email"
    detail = notice_detail(notice, now)
    if action.kind == "eventbridge":
        ports.publisher.publish(str(params.get("detail_type", DEFAULT_DETAIL_TYPE)), detail)
        return "eventbridge"
    if action.kind == "webhook":
        body = json.dumps({"type": notice.step.key, **detail}, separators=(",", ":")).encode()
        try:
            headers = {
                "Content-Type": "application/json",
                **sign(ports.secrets.secret(params["secret"]), body, now),
            }
        except SlaclockError as exc:
            raise ActionRejected(f"webhook secret unreadable: {type(exc).__name__}") from None
        ports.webhooks.post(str(params["url"]), body, headers)
        return str(params["url"]).split("/")[2]
    runner = ports.actions
    if runner is None:
        raise ActionRejected("no action runner wired")
    return runner.run(_call(config, view, due, now), now=now)


def _call(config: Config, view: TicketView, due: ActionDue, now: datetime) -> ActionCall:
    notice, action = due.notice, due.action
    values = template_values(config, view, due, now)
    level = config.level(notice.level)
    zone = config.calendars[level.calendar].timezone if level is not None else "UTC"
    text = None
    if action.kind == "internal_note":
        text = render_template(str(action.params["text"]), values)
    elif action.kind == "reply":
        custom = view.fields.get("custom")
        language = custom.get("language") if isinstance(custom, Mapping) else None
        channel = view.fields.get("channel")
        template = reply_template(action, str(language or "en"), str(channel or "email"))
        if template is None:
            raise ActionRejected(f"no reply template for language {language or 'en'!r}")
        text = render_template(template, values)
    source = source_of(config, notice.ticket_id) if action.is_write_back else None
    if action.is_write_back and (source is None or not source.api_url or not source.api_secret):
        raise ActionRejected("the ticket's source has no api to write back to")
    return ActionCall(
        kind=action.kind,
        ticket=values["ticket"],
        params=action.params,
        values=values,
        notice=notice,
        zone=zone,
        text=text,
        provider=source.provider if source else None,
        api_url=source.api_url if source else None,
        api_secret=source.api_secret if source else None,
    )
