"""A small in-memory slaclock deployment for unit tests: a configuration, every port faked, builders.

    w = World()
    w.ingest(w.event("created", at=T0))          # canonical events straight into ingest
    w.deliver([...], now=T0)                      # through receive_webhook (generic provider, signed)
    w.fire("4711", now=...)                       # the scheduler fires the ticket's schedule

Calendar: 24x7 UTC, so instants are easy to read: a ticket created at 10:00 under `standard` is warned
at 10:30 (50% of 1 h), breached at 11:00, escalated at 11:30 (30 min after due, with a webhook);
its resolution is due at 18:00 and escalated at 18:30. `urgent` (tag URGENT) is on a Paris 24x7
calendar: first response within 10 min, resolution within 2 h.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from slaclock.engine.config import Config, load_config
from slaclock.engine.events import Event, parse_event
from slaclock.helpdesk.signing import sign
from slaclock.services.check import CheckPorts, CheckResult, run_check
from slaclock.services.ingest import IngestPorts, TicketIngest, WebhookReceipt, ingest_events, receive_webhook
from slaclock.services.sweep import SweepPorts, SweepResult, run_sweep, sweep

from tests.fakes import (
    FakeActionLedger,
    FakeActionRunner,
    FakeBreachTally,
    FakeDeadLetters,
    FakeEventStore,
    FakeFanOut,
    FakeLedger,
    FakeMailer,
    FakePublisher,
    FakeScheduler,
    FakeSecrets,
    FakeSweepLeases,
    FakeTicketStore,
    FakeWebhooks,
    StaticConfig,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
"""A Friday, 10:00 UTC."""

SOURCE_SECRET = "source-s3cret"
WEBHOOK_SECRET = "outgoing-s3cret"
ESCALATION_URL = "https://hooks.example.com/sla"

CONFIG_DOC: dict[str, Any] = {
    "calendars": {
        "always": {"timezone": "UTC", "hours": "24x7"},
        "paris": {"timezone": "Europe/Paris", "hours": "24x7"},
    },
    "leads": {"billing": ["billing-lead@example.com"]},
    "levels": {
        "standard": {
            "calendar": "always",
            "targets": {"first_response": {"within": "1h", "warn_at": "50%"}, "resolution": {"within": "8h"}},
            "notify": {"warning": ["assignee"], "breach": ["assignee", "lead:billing"]},
            "escalations": [{"after_due": "30m", "notify": ["head@example.com"], "webhook": ESCALATION_URL}],
        },
        "urgent": {
            "calendar": "paris",
            "targets": {"first_response": {"within": "10m"}, "resolution": {"within": "2h"}},
            "notify": {"warning": ["assignee"], "breach": ["assignee"]},
        },
    },
    "rules": [
        {"name": "Urgent tag", "when": {"field": "tags", "op": "contains", "value": "URGENT"},
         "set_level": "urgent", "stop": True},
        {"name": "Everyone else", "set_level": "standard"},
    ],
    "sources": {"custom": {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"}}},
}  # fmt: skip


NEW_TICKET: dict[str, Any] = {
    "status": "open",
    "priority": "normal",
    "channel": "email",
    "tags": [],
    "department": "billing",
    "assignee": "ana@example.com",
    "requester": "bob@client.test",
}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def canonical_event(type: str, *, at: datetime, ticket_id: str, id: str, fields: Mapping[str, Any]) -> Event:
    """A canonical event (through the engine's `parse_event`); a `created` one without fields gets
    `NEW_TICKET`."""
    if type == "created" and not fields:
        fields = NEW_TICKET
    return parse_event(
        {"id": id, "ticket_id": ticket_id, "type": type, "at": at.isoformat(), "ticket": dict(fields)}
    )


class World:
    def __init__(self, doc: Mapping[str, Any] = CONFIG_DOC) -> None:
        self.config: Config = load_config(doc)
        self.config_source = StaticConfig(self.config)
        self.secrets = FakeSecrets(
            {"/slaclock/custom": SOURCE_SECRET, "/slaclock/outgoing-webhook": WEBHOOK_SECRET}
        )
        self.events = FakeEventStore()
        self.tickets = FakeTicketStore()
        self.ledger = FakeLedger()
        self.scheduler = FakeScheduler()
        self.mailer = FakeMailer()
        self.publisher = FakePublisher()
        self.webhooks = FakeWebhooks()
        self.actions = FakeActionRunner()
        self.action_ledger = FakeActionLedger()
        self.dead_letters = FakeDeadLetters()
        self.breach_tally = FakeBreachTally()
        self.ingest_ports = IngestPorts(
            self.config_source, self.secrets, self.events, self.tickets, self.scheduler
        )
        self.check_ports = CheckPorts(
            config=self.config_source, tickets=self.tickets, ledger=self.ledger, scheduler=self.scheduler,
            mailer=self.mailer, publisher=self.publisher, webhooks=self.webhooks, secrets=self.secrets,
            webhook_secret="/slaclock/outgoing-webhook", lease=timedelta(minutes=5),
            actions=self.actions, action_ledger=self.action_ledger, dead_letters=self.dead_letters,
            breach_tally=self.breach_tally,
        )  # fmt: skip
        self.leases = FakeSweepLeases()
        self.fan_out = FakeFanOut()
        self.sweep_ports = SweepPorts(self.check_ports, self.leases, self.fan_out)
        self._n = 0

    # -- builders -----------------------------------------------------------------------------------

    def event(
        self, type: str, *, at: datetime, ticket_id: str = "4711", id: str | None = None, **fields: Any
    ) -> Event:
        """A canonical event; a `created` one gets a full ticket unless fields are given."""
        self._n += 1
        return canonical_event(type, at=at, ticket_id=ticket_id, id=id or f"evt-{self._n}", fields=fields)

    def signed(self, body: bytes, now: datetime, secret: str = SOURCE_SECRET) -> dict[str, str]:
        return {
            "content-type": "application/json",
            **{k.lower(): v for k, v in sign(secret, body, now).items()},
        }

    # -- driving the use cases ----------------------------------------------------------------------

    def ingest(self, *events: Event, now: datetime | None = None) -> list[TicketIngest]:
        at = now or max(e.at for e in events) + timedelta(seconds=5)
        return ingest_events(self.ingest_ports, self.config_source.policy(), events, at)

    def deliver(
        self,
        events: Sequence[Event],
        *,
        now: datetime,
        headers: Mapping[str, str] | None = None,
        source: str = "custom",
    ) -> WebhookReceipt:
        """POST the events as the generic provider's JSON list, signed unless `headers` are given."""
        body = json.dumps([e.to_dict() for e in events]).encode()
        return receive_webhook(self.ingest_ports, source, headers or self.signed(body, now), body, now)

    def fire(self, ticket_id: str = "4711", *, now: datetime | None = None) -> CheckResult:
        """The scheduler runs the ticket's schedule (deleting it) and the check runs at `now`
        (default: the armed instant plus 2 s)."""
        armed_for = self.scheduler.fire(ticket_id)
        return run_check(self.check_ports, ticket_id, now or armed_for + timedelta(seconds=2), armed_for)

    def check(
        self, ticket_id: str = "4711", *, now: datetime, armed_for: datetime | None = None
    ) -> CheckResult:
        return run_check(self.check_ports, ticket_id, now, armed_for)

    def sweep(self, now: datetime, **kwargs: Any) -> SweepResult:
        return sweep(self.check_ports, now, **kwargs)

    def run_sweep(self, now: datetime, *, holder: str = "tick", **kwargs: Any) -> SweepResult:
        """One sweeper invocation: the scheduled sweep, or a worker when `part` is given."""
        return run_sweep(self.sweep_ports, now, holder=holder, **kwargs)

    # -- reading back -------------------------------------------------------------------------------

    def subjects(self) -> list[str]:
        return [m.subject for m in self.mailer.sent]

    def sent_keys(self) -> list[str]:
        return sorted(k for k, r in self.ledger.records.items() if r.sent_at is not None)

    def state(self, ticket_id: str = "4711") -> Any:
        stored = self.tickets.get(ticket_id)
        assert stored is not None
        return stored.state


def ids(events: Iterable[Event]) -> list[str]:
    return [e.id for e in events]
