"""Use case: a helpdesk webhook arrives (``POST /webhooks/{source}``) -> events stored, ticket folded.

`receive_webhook` authenticates the delivery with its source's secret, turns it into canonical events,
puts the source's `ticket_prefix` in front of their ticket ids (`with_ticket_prefix`: two helpdesks'
ticket 11 stay two tickets), rewrites the echo of slaclock's own write-back (`services.echo.unecho`:
never read as an agent's answer, marked in the history), and hands each ticket's events to
`ingest_ticket_events`, which:

1. reads the stored ticket (1 read);
2. appends each event the ticket has not folded yet to the event store (`put_if_new`, 1 conditional
   write each); an event the state already lists is not written again;
3. folds the events into the state incrementally (`apply_event`); an event older than the last folded
   one (`OutOfOrderEvent`) makes it reload the ticket's events and `replay_ticket`;
4. saves the state with optimistic locking (1 write, plus the clock records that changed); on
   `ConflictError` it re-reads and folds again, at most `MAX_SAVE_ATTEMPTS` times, so two concurrent
   deliveries for one ticket never lose an event;
5. touches the ticket's schedule only when its armed instant changed (arm / move / disarm).

Crash safety: whether an event still needs folding is decided by the state's own `seen_ids`, never by
`put_if_new`'s answer. A Lambda that dies after storing an event but before saving the ticket leaves
the event stored and unfolded; the helpdesk's retry finds it "already stored" and folds it anyway.

Idempotency: the delivery is idempotent end to end without powertools' idempotency utility. Providers
derive event ids from their own ids, so a redelivery yields the same ids: already-folded ids are
skipped before any write, the event store's conditional put absorbs a half-done delivery, and the
saved state is the same. The utility would add a persistence table and two writes per webhook (its
in-progress and completed records) to protect work that is already a no-op on repeat, and would
answer a concurrent duplicate with an error instead of a 202. The provider's delivery id is logged as
a correlation key only.

The armed instant (`StoredTicket.next_check_at`) is the engine's next check instant rounded UP to the
whole minute, never later than a pending notice retry (`retry_at`), and the next minute when a notice
is owed and not sent yet (so are a met step's actions: the delivery that met a clock is followed by
a check at the next minute, which runs them): this delivery made it owed (e.g. a level that applies
retroactively), or it became owed after the armed instant was chosen (a resolution due 12:57:03 is
armed for 12:58; a reply at 12:57:23 must not move that check to the next deadline, or the breach
would never be sent). While
a check is due but not done (the armed instant has passed), ingest leaves it alone: that check
re-evaluates the new state anyway, and moving it could skip a notice that is owed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.action_plan import met_actions_owed
from slaclock.engine.clocks import (
    Clock,
    OutOfOrderEvent,
    TicketState,
    TicketView,
    apply_event,
    evaluate,
    replay_ticket,
)
from slaclock.engine.config import Config, Source
from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import Event, field_type_errors, format_instant
from slaclock.engine.policy import Policy
from slaclock.engine.schedules import round_up_to_minute
from slaclock.engine.vocabulary import RECORD_FIELDS
from slaclock.helpdesk import PayloadError, provider_for
from slaclock.helpdesk._common import stamp_received
from slaclock.ports import (
    ConfigSource,
    ConflictError,
    EventStore,
    QuotaExceeded,
    Scheduler,
    SecretStore,
    ServiceUnavailable,
    StoredTicket,
    TicketStore,
    record_key,
)
from slaclock.services.echo import unecho
from slaclock.services.snapshots import clock_snapshots, missing_clocks, settle_records

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Largest webhook body accepted (1 MiB); larger is `PayloadTooLargeError` (413)."""

MAX_TICKET_ID_LENGTH = 200
"""Longest ticket id, in characters, counted after the source's `ticket_prefix`. The ticket's
DynamoDB partition key (``T#`` + id) may hold 2,048 bytes of UTF-8: 200 characters of up to 4 bytes
stay well inside, and no helpdesk's ids come near (Jira keys, Zendesk numbers, Intercom's 15 digits)."""

MAX_EVENT_ID_LENGTH = 255
"""Longest event id, in characters: the event's sort key (``E#`` + id) may hold 1,024 bytes of UTF-8.
Provider event ids embed the ticket id (``helpscout:<ticket>:thread:<thread>``), hence the margin."""

MAX_FIELDS_BYTES = 64 * 1024
"""Most bytes of JSON (UTF-8) one event's ticket fields may take: a DynamoDB item holds at most
400 KB, and the stored event and the ticket's state both carry them (each KB is a write unit)."""

MAX_AHEAD = timedelta(days=1)
"""How far after its receipt an event's instant may lie (a helpdesk's clock may be a little ahead;
a change cannot happen tomorrow). A later instant is refused before anything is stored."""

MAX_EVENTS_PER_DELIVERY = 100
"""Most canonical events one delivery may carry (a `generic` list; every helpdesk sends one or two).
Each new event is one conditional write, which no batch call can make: 100 events stay within a few
seconds of DynamoDB time, where the 5,000 small events that fit in 1 MiB would outlast the function's
30 s timeout and leave the delivery half stored."""

MAX_SAVE_ATTEMPTS = 5
"""How many times one ticket's save is retried after losing the optimistic lock."""


def _ignore(ticket_id: str) -> None:
    return None


class UnknownSourceError(SlaclockError):
    """No source of that name in the configuration (404)."""

    http_status = 404


class PayloadTooLargeError(SlaclockError):
    """The body is over `MAX_BODY_BYTES` (413)."""

    http_status = 413


@dataclass(frozen=True, slots=True)
class IngestPorts:
    config: ConfigSource
    secrets: SecretStore
    events: EventStore
    tickets: TicketStore
    scheduler: Scheduler
    correlate: Callable[[str], None] = _ignore
    """Called with each ticket id before its events are handled (the logger's correlation id)."""


@dataclass(frozen=True, slots=True)
class TicketIngest:
    """What one ticket's events did.

    `stored`: ids appended to the event store by this call; `folded`: ids folded into the state by
    this call (an event stored by a crashed earlier attempt is folded, not stored); `duplicates`: ids
    the ticket already had. `schedule`: ``armed`` (created or moved), ``disarmed``, ``unchanged``,
    ``failed`` (the scheduler refused; the sweeper will catch the ticket at `next_check_at`) or
    ``quota`` (refused because the account's schedule quota is used up: same recovery, and alarmed).
    """

    ticket_id: str
    stored: tuple[str, ...]
    folded: tuple[str, ...]
    duplicates: tuple[str, ...]
    version: int | None
    next_check_at: datetime | None
    schedule: str
    attempts: int


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    """The answer to one delivery: every canonical event id it carried, by ticket."""

    source: str
    delivery_id: str | None
    event_ids: tuple[str, ...]
    tickets: tuple[TicketIngest, ...]

    @property
    def new_events(self) -> int:
        return sum(len(t.folded) for t in self.tickets)


def receive_webhook(
    ports: IngestPorts,
    source_name: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    received_at: datetime | None = None,
) -> WebhookReceipt:
    """Authenticate, parse and ingest one delivery to ``POST /webhooks/{source_name}`` at `now`.

    `received_at` is when the request reached the endpoint (API Gateway's ``requestContext.timeEpoch``;
    `now` when not given). It is handed to the provider as the ``X-Slaclock-Received-At`` header
    (`stamp_received`), replacing any value the caller sent: payloads with no time of their own
    (Freshdesk, Help Scout's ``convo.deleted``) are dated by it, and a caller cannot choose that date.

    Raises `UnknownSourceError` (404), `PayloadTooLargeError` (413), `AuthError` (401; nothing is read
    beyond the secret and nothing is stored), `PayloadError` / `ValidationError` (400, every problem
    listed), and `ConflictError` when a ticket stayed contended for `MAX_SAVE_ATTEMPTS` attempts (503).
    """
    policy = ports.config.policy()
    config = policy.config
    source = config.sources.get(source_name)
    if source is None:
        raise UnknownSourceError(f"no webhook source named {source_name!r}")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    provider = provider_for(source.provider)
    provider.authenticate(headers, body, ports.secrets.secret(_secret_name(source)), now)
    delivery = provider.delivery_id(headers, body)
    stamped = stamp_received(headers, received_at or now)
    events = with_ticket_prefix(provider.parse(stamped, body, source), source.ticket_prefix)
    events = unecho(source, body, events, lambda ticket_id: _reply_answers(ports, config, ticket_id))
    check_events(events, now)  # the whole delivery is judged before the first write
    log.info(
        "delivery authenticated",
        extra={"source": source_name, "delivery_id": delivery, "events": len(events)},
    )
    outcomes = ingest_events(ports, policy, events, now)
    return WebhookReceipt(
        source=source_name,
        delivery_id=delivery,
        event_ids=tuple(dict.fromkeys(e.id for e in events)),
        tickets=tuple(outcomes),
    )


def _reply_answers(ports: IngestPorts, config: Config, ticket_id: str) -> bool:
    """Whether the ticket's level counts slaclock's interim reply as an answer (read for echoes only)."""
    stored = ports.tickets.get(ticket_id)
    level = config.levels.get(stored.state.level or "") if stored is not None else None
    return level is not None and level.interim_reply_answers


def with_ticket_prefix(events: Sequence[Event], prefix: str) -> Sequence[Event]:
    """`events` with `prefix` put in front of each ticket id (the source's `ticket_prefix`).

    The ONE place a source's namespace is applied: everything downstream (event store, ticket state,
    clock records, schedules, notices, reports) sees ``hs-11``, never ``11``. Event ids are kept: the
    event store keys an event by (ticket id, event id), so they only need to be unique per ticket.
    """
    if not prefix:
        return events
    return [replace(e, ticket_id=prefix + e.ticket_id) for e in events]


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_events(events: Sequence[Event], now: datetime) -> None:
    """`PayloadError` listing every event of a delivery that cannot be stored as it is.

    Refused: more than `MAX_EVENTS_PER_DELIVERY` events (alone: nothing else is listed then); a
    ticket field of the wrong JSON type (`field_type_errors`); a ticket id over
    `MAX_TICKET_ID_LENGTH` characters (after the `ticket_prefix`) or an event id over
    `MAX_EVENT_ID_LENGTH`; an id or ticket field holding a lone UTF-16 surrogate (JSON
    may carry ``"\\ud800"``; it is not Unicode text, and DynamoDB stores UTF-8 only); ticket fields
    over `MAX_FIELDS_BYTES` of JSON; an instant more than `MAX_AHEAD` after `now`. Paths are
    ``ticket_id``, ``ticket.custom.note`` ... (``[2].ticket_id`` for the third event of a batch)."""
    if len(events) > MAX_EVENTS_PER_DELIVERY:
        raise PayloadError(
            [("body", f"{len(events)} events; at most {MAX_EVENTS_PER_DELIVERY} per delivery (send several)")]
        )
    errors = event_problems(events, now)
    if errors:
        raise PayloadError(errors)


def event_problems(events: Sequence[Event], now: datetime) -> list[tuple[str, str]]:
    """What `check_events` refuses in the events themselves, whatever their number: (path, problem)
    pairs, none when every event can be stored. `slaclock import` judges each record's events with it,
    so an imported history holds only what a live delivery could have stored."""
    errors: list[tuple[str, str]] = []
    latest = now + MAX_AHEAD
    for i, event in enumerate(events):
        where = f"[{i}]." if len(events) > 1 else ""
        for path, value, limit in (
            ("ticket_id", event.ticket_id, MAX_TICKET_ID_LENGTH),
            ("id", event.id, MAX_EVENT_ID_LENGTH),
        ):
            if len(value) > limit:
                errors.append((where + path, f"{len(value)} characters; at most {limit}"))
            elif _SURROGATE.search(value):
                errors.append((where + path, "holds a lone UTF-16 surrogate: not Unicode text"))
        if event.at > latest:
            errors.append(
                (
                    where + "at",
                    f"{format_instant(event.at)} is more than {_hours(MAX_AHEAD)} after the delivery "
                    f"arrived ({format_instant(now)})",
                )
            )
        errors.extend((where + path, msg) for path, msg in field_type_errors(event.ticket))
        fields = json.dumps(event.ticket, ensure_ascii=False, separators=(",", ":"), default=str)
        if _SURROGATE.search(fields):
            path = _surrogate_path(event.ticket, "ticket")
            errors.append((where + path, "holds a lone UTF-16 surrogate: not Unicode text"))
        elif (size := len(fields.encode("utf-8"))) > MAX_FIELDS_BYTES:
            largest = max(event.ticket, key=lambda k: len(json.dumps(event.ticket[k], default=str)))
            errors.append(
                (
                    where + "ticket",
                    f"the fields take {size} bytes of JSON; at most {MAX_FIELDS_BYTES} (largest: {largest})",
                )
            )
    return errors


def _hours(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 3600)} h"


def _surrogate_path(value: Any, path: str) -> str:
    """The path of the first string (key or value) under `value` that holds a lone surrogate."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if _SURROGATE.search(str(key)):
                return f"{path}.{key!r}"
            if _SURROGATE.search(json.dumps(child, ensure_ascii=False, default=str)):
                return _surrogate_path(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            if _SURROGATE.search(json.dumps(child, ensure_ascii=False, default=str)):
                return _surrogate_path(child, f"{path}[{i}]")
    return path


def _secret_name(source: Source) -> str:
    name = source.secret_ssm_parameter or source.secret_arn
    if not name:  # load_config refuses such a source; guard hand-built configurations
        raise SlaclockError(f"source {source.name!r} names no secret")
    return name


def ingest_events(
    ports: IngestPorts, policy: Policy, events: Iterable[Event], now: datetime
) -> list[TicketIngest]:
    """Ingest canonical events of any tickets, one ticket at a time (in order of first appearance),
    under the compiled configuration `policy` (`ConfigSource.policy()`: compiled once per
    configuration, never per request or ticket)."""
    by_ticket: dict[str, list[Event]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    return [ingest_ticket_events(ports, policy, tid, evs, now) for tid, evs in by_ticket.items()]


def ingest_ticket_events(
    ports: IngestPorts, policy: Policy, ticket_id: str, events: Sequence[Event], now: datetime
) -> TicketIngest:
    """Store and fold one ticket's events (see the module docstring for the steps and guarantees)."""
    ports.correlate(ticket_id)
    batch = list({e.id: e for e in events}.values())  # a delivery may repeat an id: keep the last copy
    stored_ids: list[str] = []
    put_done: set[str] = set()
    for attempt in range(1, MAX_SAVE_ATTEMPTS + 1):
        stored = ports.tickets.get(ticket_id)
        before = stored.state if stored is not None else None
        seen = before.seen_ids if before is not None else frozenset()
        todo = [e for e in batch if e.id not in seen]
        for event in todo:
            if event.id not in put_done:
                if ports.events.put_if_new(event):
                    stored_ids.append(event.id)
                put_done.add(event.id)
        duplicates = tuple(e.id for e in batch if e.id in seen)
        if not todo:
            return TicketIngest(
                ticket_id, tuple(stored_ids), (), duplicates, stored.version if stored else None,
                stored.next_check_at if stored else None, "unchanged", attempt,
            )  # fmt: skip
        state = _fold(ports.events, policy, ticket_id, before, todo)
        view = evaluate(policy, state, now)
        prev_view = evaluate(policy, before, now) if before is not None else None
        armed = _armed_instant(stored, view, prev_view, now, policy)
        held = stored.records if stored is not None else frozenset()
        records, removed = settle_records(held, state, view)
        written = changed_clocks(prev_view, view)
        changed = {record_key(c) for c in written}
        written += [c for c in missing_clocks(held, view) if record_key(c) not in changed]
        try:
            version = ports.tickets.save(
                state,
                expected_version=stored.version if stored is not None else None,
                next_check_at=armed,
                retry_at=stored.retry_at if stored is not None else None,
                notified=stored.notified if stored is not None else (),
                clocks=clock_snapshots(policy, state.fields, written, now),
                removed=removed,
                records=records,
            )
        except ConflictError:
            log.info("ticket changed concurrently; folding again", extra={"attempt": attempt})
            continue
        schedule = _touch_schedule(
            ports.scheduler, ticket_id, stored.next_check_at if stored else None, armed, now
        )
        return TicketIngest(
            ticket_id,
            tuple(stored_ids),
            tuple(e.id for e in todo),
            duplicates,
            version,
            armed,
            schedule,
            attempt,
        )
    raise ConflictError(f"ticket {ticket_id} kept changing during {MAX_SAVE_ATTEMPTS} attempts")


def _fold(
    store: EventStore, policy: Policy, ticket_id: str, state: TicketState | None, todo: Sequence[Event]
) -> TicketState:
    """`state` with `todo` folded in; a replay of every stored event if one arrives out of order."""
    folded = state
    try:
        for event in sorted(todo, key=lambda e: e.key):
            folded = apply_event(policy, folded, event)
    except OutOfOrderEvent:
        log.info("out-of-order event; replaying the ticket")
        # The batch is added in case the store's query does not see this call's puts yet.
        return replay_ticket(policy, [*store.ticket_events(ticket_id), *todo])
    assert folded is not None  # todo is not empty
    return folded


def _armed_instant(
    stored: StoredTicket | None,
    view: TicketView,
    prev_view: TicketView | None,
    now: datetime,
    policy: Policy | None = None,
) -> datetime | None:
    """The instant the ticket's schedule should be armed for after this delivery (module docstring)."""
    if stored is not None and stored.next_check_at is not None and stored.next_check_at <= now:
        return stored.next_check_at  # a check is due and not done: it will see the new state
    candidates: list[datetime] = []
    if view.next_check_at is not None:
        candidates.append(view.next_check_at)
    owed_before = {n.key for n in prev_view.notices} if prev_view is not None else set()
    sent = stored.notified if stored is not None else frozenset()
    pending_retry = stored is not None and stored.retry_at is not None
    if any(n.key not in owed_before or (n.key not in sent and not pending_retry) for n in view.notices) or (
        met_actions_owed(policy, view, sent) and not pending_retry
    ):
        # This delivery made a notice owed, or one is owed and not sent yet (it became owed after the
        # armed instant was chosen, whose check has not run): check at the next minute, never later,
        # so no event can move its check past it. (A pending retry, `retry_at`, sends it anyway.)
        candidates.append(now)
    armed = round_up_to_minute(min(candidates)) if candidates else None
    if stored is not None and stored.retry_at is not None and (armed is None or stored.retry_at < armed):
        armed = stored.retry_at
    return armed


def _record(c: Clock) -> tuple[object, ...]:
    """What a stored clock record holds, at the evaluation instant of both views compared.

    Counted time is compared for running clocks too, with `counting`: a stored record is carried
    forward to any later instant from these (`engine.clocks.clock_at`), so it must be rewritten
    whenever an event (a late one inserting a pause, say) changes them, and need not be otherwise."""
    return (
        c.level, c.calendar, c.started_at, c.due_at, c.stopped_at, c.status, c.target_seconds,
        c.business_seconds, c.counting,
    )  # fmt: skip


def changed_clocks(before: TicketView | None, after: TicketView) -> list[Clock]:
    """Clocks of `after` whose stored record differs from `before`'s (both evaluated at the same now).

    A running clock is also rewritten when a field its record carries (`RECORD_FIELDS`) changed, so a
    reassigned ticket's open clocks follow the new agent; a decided clock keeps the agent that met or
    missed it."""
    if before is None:
        return list(after.clocks)
    old = {(c.metric, c.cycle): _record(c) for c in before.clocks}
    moved = any(before.fields.get(f) != after.fields.get(f) for f in RECORD_FIELDS)
    return [c for c in after.clocks if old.get((c.metric, c.cycle)) != _record(c) or (moved and c.running)]


def _touch_schedule(
    scheduler: Scheduler, ticket_id: str, was: datetime | None, armed: datetime | None, now: datetime
) -> str:
    """Arm, move or disarm the schedule when the armed instant changed; never raises for a refusal."""
    if armed == was:
        return "unchanged"
    try:
        if armed is None:
            scheduler.disarm(ticket_id)
            return "disarmed"
        # A schedule armed for a future instant still exists (one update call); otherwise create.
        scheduler.arm(ticket_id, armed, exists=was is not None and was > now)
        return "armed"
    except QuotaExceeded as exc:
        # The account's schedule quota is used up: counted and alarmed; the sweeper keeps the ticket.
        log.error("schedule quota exceeded; the sweeper will catch the ticket", extra={"error": str(exc)})
        return "quota"
    except ServiceUnavailable as exc:
        # The saved next_check_at stays authoritative: the sweeper fires the ticket at that instant.
        log.warning("scheduler refused; the sweeper will catch the ticket", extra={"error": str(exc)})
        return "failed"
