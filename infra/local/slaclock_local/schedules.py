"""The local stack's scheduler: fires EventBridge Scheduler schedules and the template's rate/cron
schedules into the real handlers, on the virtual clock.

Sources of firings, read every time it looks:

1. Every schedule of moto's EventBridge Scheduler (``ListSchedules`` then ``GetSchedule`` for each new
   or modified one): one-time ``at(...)`` schedules (the per-ticket checks) fire once when the virtual
   clock reaches their instant; ``rate(...)`` / ``cron(...)`` ones (e.g. report subscriptions a
   function creates) fire on each occurrence. The target ARN names the function; its ``Input`` is the
   event, as the service sends it. A one-time schedule with ``ActionAfterCompletion: DELETE`` is
   deleted when it fires, BEFORE the handler runs: the service completes a schedule when it has
   handed the event to Lambda (an asynchronous invoke), so a check that re-arms its own ticket's
   schedule keeps the new one.
2. The template's ``Schedule`` / ``ScheduleV2`` events of each function (the sweeper's
   ``rate(5 minutes)``, the report subscriptions' crons), with the EventBridge "Scheduled Event"
   envelope (Schedule) or the input with the scheduler's context attributes replaced
   (``<aws.scheduler.scheduled-time>``, ...).
3. The SQS event sources of the functions (SAM ``SQS`` events, ``AWS::Lambda::EventSourceMapping``):
   queued messages are delivered in batches, as Lambda's poller does, each time the scheduler looks and
   after every firing (so a job a firing queues runs at that virtual instant).

Occurrences of ``rate(n unit)`` are aligned to whole multiples of the period since the Unix epoch
(10:00, 10:05, ...; the service counts from the rule's creation instead). ``cron(...)`` follows the
service's six fields (minutes hours day-of-month month day-of-week year, ``?`` / ``*`` / lists /
ranges / steps; ``L``, ``W`` and ``#`` are refused), evaluated in the schedule's time zone.

Firing order: by instant; at one instant, one-time schedules before recurring ones, then by name. A
handler's failure is retried by the function's async-invoke settings and dead-lettered (functions.py).

A recurring schedule may have a `skip_if` predicate: an occurrence for which it answers True is not
fired. The stack uses it for the sweeper: a sweep that provably finds nothing (no ticket's armed
check instant has passed, read from moto's DynamoDB in memory) is skipped, which keeps a week's
fast-forward from running 2,000 empty sweeps; any sweep that would find work runs at its exact
occurrence.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slaclock.engine.errors import SlaclockError

from slaclock_local.clock import VirtualClock
from slaclock_local.functions import FunctionRunner, Invocation, QueueSource, ScheduleEvent

__all__ = [
    "Firing",
    "LocalScheduler",
    "OneTimeSchedule",
    "ScheduleExpressionError",
    "next_occurrence",
]

log = logging.getLogger(__name__)

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DOW_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}  # fmt: skip
_CRON_YEARS = 5  # how far ahead a cron expression is searched


class ScheduleExpressionError(SlaclockError):
    """An expression this scheduler cannot evaluate."""


# ------------------------------------------------------------------------------------- expressions


def with_context(text: str, *, scheduled_at: datetime, schedule_arn: str, attempt: int = 1) -> str:
    """`text` with EventBridge Scheduler's context attributes replaced, as the service does in a
    target's Input: ``<aws.scheduler.scheduled-time>`` (ISO 8601 UTC), ``<aws.scheduler.schedule-arn>``,
    ``<aws.scheduler.execution-id>``, ``<aws.scheduler.attempt-number>``."""
    values = {
        "<aws.scheduler.scheduled-time>": scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def parse_at(expression: str, timezone: str = "UTC") -> datetime:
    """The instant of ``at(yyyy-mm-ddThh:mm:ss)``, read in `timezone`."""
    m = _AT.match(expression.strip())
    if not m:
        raise ScheduleExpressionError(f"not a one-time expression: {expression!r}")
    return datetime.fromisoformat(m.group(1)).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _cron_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows (None for ``*`` / ``?``: any)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if any(c in part for c in "LW#"):
            raise ScheduleExpressionError(f"cron field {text!r}: L, W and # are not supported locally")

        def value(token: str) -> int:
            token = token.upper()
            return names[token] if names and token in names else int(token)

        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = value(a), value(b)
        else:
            start = value(part)
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    bad = [v for v in values if not low <= v <= high]
    if bad:
        raise ScheduleExpressionError(f"cron field {text!r}: {bad[0]} is out of {low}-{high}")
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class _Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 1 = Sunday ... 7 = Saturday, as the service counts
    years: frozenset[int] | None

    @classmethod
    def parse(cls, body: str) -> _Cron:
        parts = body.split()
        if len(parts) != 6:
            raise ScheduleExpressionError(f"cron({body}): six fields expected, got {len(parts)}")
        return cls(
            _cron_field(parts[0], 0, 59),
            _cron_field(parts[1], 0, 23),
            _cron_field(parts[2], 1, 31),
            _cron_field(parts[3], 1, 12, _MONTH_NAMES),
            _cron_field(parts[4], 1, 7, _DOW_NAMES),
            _cron_field(parts[5], 1970, 2199),
        )

    def day_matches(self, d: date) -> bool:
        weekday = d.isoweekday() % 7 + 1  # Sunday 1 ... Saturday 7
        return (
            (self.years is None or d.year in self.years)
            and (self.months is None or d.month in self.months)
            and (self.days is None or d.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )

    def next_after(self, t: datetime, zone: ZoneInfo) -> datetime | None:
        local = t.astimezone(zone)
        hours = sorted(self.hours) if self.hours is not None else list(range(24))
        minutes = sorted(self.minutes) if self.minutes is not None else list(range(60))
        day = local.date()
        for _ in range(366 * _CRON_YEARS):
            if self.day_matches(day):
                for h in hours:
                    for m in minutes:
                        candidate = datetime(day.year, day.month, day.day, h, m, tzinfo=zone)
                        if candidate.astimezone(UTC) > t:
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
        return None


def next_occurrence(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    """The first occurrence of a ``rate(...)`` or ``cron(...)`` expression strictly after `after`
    (aware), or None if there is none within five years."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2)]
        if period <= 0:
            raise ScheduleExpressionError(f"{expression!r}: the period must be positive")
        seconds = int(after.timestamp()) // period * period + period
        return datetime.fromtimestamp(seconds, UTC)
    cron = _CRON.match(text)
    if cron:
        return _Cron.parse(cron.group(1)).next_after(after.astimezone(UTC), ZoneInfo(timezone))
    raise ScheduleExpressionError(f"not a recurring expression: {expression!r}")


# ------------------------------------------------------------------------------------- firings


@dataclass(frozen=True, slots=True)
class OneTimeSchedule:
    """A scheduler schedule as read from the service."""

    group: str
    name: str
    expression: str
    timezone: str
    target_arn: str
    input: str | None
    state: str
    delete_after: bool
    version: tuple[Any, Any]  # (CreationDate, LastModificationDate): a changed schedule is re-read


@dataclass(frozen=True, slots=True)
class Firing:
    """One firing the scheduler performed: at virtual instant `at`, `source` (``schedule:<group>/<name>``
    or ``template:<Function>.<Event>``) into `function` with `event`."""

    at: datetime
    source: str
    function: str
    event: Any
    invocation: Invocation | None = None


@dataclass
class _Recurring:
    source: str
    function: str
    expression: str
    timezone: str
    make_event: Callable[[datetime], Any]
    skip_if: Callable[[datetime], bool] | None = None
    next_at: datetime | None = None


@dataclass
class LocalScheduler:
    """Fires what is due on `clock` (see the module docstring). `client`: a boto3 ``scheduler`` client
    on the local endpoint."""

    clock: VirtualClock
    runner: FunctionRunner
    client: Any
    account_id: str = "123456789012"
    region: str = "us-east-1"
    poll_seconds: float = 0.25
    """How often the background thread looks for new or moved schedules (real seconds)."""
    fired: list[Firing] = field(default_factory=list)
    observers: list[Callable[[Firing], None]] = field(default_factory=list)
    _recurring: list[_Recurring] = field(default_factory=list)
    _cache: dict[tuple[str, str], OneTimeSchedule] = field(default_factory=dict)
    _done: set[tuple[str, str, Any]] = field(default_factory=set)  # one-time schedules fired (not deleted)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _service_recurring: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _queues: list[QueueSource] = field(default_factory=list)
    _queue_urls: dict[str, str] = field(default_factory=dict)
    _sqs: Any = None
    _listing: list[OneTimeSchedule] | None = None
    _listed_at: float = 0.0

    def __post_init__(self) -> None:
        # Any function may create, move or delete schedules: re-read the service after each invocation.
        self.runner.observers.append(lambda _invocation: self.refresh())

    def refresh(self) -> None:
        """Forget the last listing: the next look reads the service again (call it after changing
        schedules through the API directly, e.g. deleting one to simulate a lost schedule)."""
        self._listing = None

    # ----------------------------------------------------------------------------- setup

    def add_template_schedules(
        self, events: Iterable[ScheduleEvent], skip_if: Mapping[str, Callable[[datetime], bool]]
    ) -> None:
        """Register the template's Schedule/ScheduleV2 events (`skip_if` by function logical id)."""
        now = self.clock.now()
        for ev in events:
            if not ev.enabled:
                continue
            resource = ev.name.replace(".", "-")
            if ev.kind == "Schedule":
                rule_arn = f"arn:aws:events:{self.region}:{self.account_id}:rule/{resource}"
            else:
                rule_arn = f"arn:aws:scheduler:{self.region}:{self.account_id}:schedule/default/{resource}"

            def make_event(at: datetime, ev: ScheduleEvent = ev, rule_arn: str = rule_arn) -> Any:
                if ev.input is not None:
                    return json.loads(with_context(ev.input, scheduled_at=at, schedule_arn=rule_arn))
                return {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events" if ev.kind == "Schedule" else "aws.scheduler",
                    "account": self.account_id,
                    "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": self.region,
                    "resources": [rule_arn],
                    "detail": {},
                }

            rec = _Recurring(f"template:{ev.name}", ev.function, ev.expression, ev.timezone, make_event,
                             skip_if.get(ev.function))  # fmt: skip
            rec.next_at = next_occurrence(ev.expression, now, ev.timezone)
            self._recurring.append(rec)

    # ----------------------------------------------------------------------------- reading the service

    def service_schedules(self) -> list[OneTimeSchedule]:
        """Every schedule of the service (all groups). The listing is reused until a function runs,
        `refresh` is called or `poll_seconds` pass; only new or modified schedules are read in full."""
        if self._listing is not None and time.monotonic() - self._listed_at < self.poll_seconds:
            return self._listing
        self._listing = self._list()
        self._listed_at = time.monotonic()
        return self._listing

    def _list(self) -> list[OneTimeSchedule]:
        seen: set[tuple[str, str]] = set()
        out: list[OneTimeSchedule] = []
        for page in self.client.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                key = (summary["GroupName"], summary["Name"])
                seen.add(key)
                version = (summary.get("CreationDate"), summary.get("LastModificationDate"))
                cached = self._cache.get(key)
                if cached is None or cached.version != version:
                    try:
                        full = self.client.get_schedule(GroupName=key[0], Name=key[1])
                    except self.client.exceptions.ResourceNotFoundException:
                        continue
                    target = full.get("Target") or {}
                    cached = OneTimeSchedule(
                        group=key[0],
                        name=key[1],
                        expression=full["ScheduleExpression"],
                        timezone=full.get("ScheduleExpressionTimezone") or "UTC",
                        target_arn=target.get("Arn", ""),
                        input=target.get("Input"),
                        state=full.get("State") or "ENABLED",
                        delete_after=full.get("ActionAfterCompletion") == "DELETE",
                        version=version,
                    )
                    self._cache[key] = cached
                out.append(cached)
        for gone in set(self._cache) - seen:
            del self._cache[gone]
        return out

    def pending(
        self, schedules: list[OneTimeSchedule] | None = None
    ) -> list[tuple[datetime, OneTimeSchedule]]:
        """The service's enabled one-time schedules not fired yet, with their instants, soonest first."""
        out = []
        for s in self.service_schedules() if schedules is None else schedules:
            if s.state != "ENABLED" or not s.expression.startswith("at("):
                continue
            if (s.group, s.name, s.version) in self._done:
                continue
            out.append((parse_at(s.expression, s.timezone), s))
        return sorted(out, key=lambda p: (p[0], p[1].group, p[1].name))

    # ----------------------------------------------------------------------------- firing

    def _next(self, until: datetime) -> tuple[datetime, Callable[[datetime], Firing | None]] | None:
        """The earliest work due at or before `until`: (instant, fire). At one instant, one-time
        schedules come before recurring ones, then by name."""
        candidates: list[tuple[tuple[datetime, int, str], Callable[[datetime], Firing | None]]] = []
        schedules = self.service_schedules()
        pending = self.pending(schedules)
        if pending and pending[0][0] <= until:
            at, first = pending[0]
            candidates.append(((at, 0, f"{first.group}/{first.name}"), partial(self._fire_service, s=first)))
        live = set()
        for s in schedules:
            if s.state != "ENABLED" or s.expression.startswith("at("):
                continue
            key = (s.group, s.name)
            live.add(key)
            nxt = self._service_recurring.get(key)
            if nxt is None:
                nxt = next_occurrence(s.expression, self.clock.now(), s.timezone)
                if nxt is None:
                    continue
                self._service_recurring[key] = nxt
            if nxt <= until:
                candidates.append(
                    ((nxt, 1, f"{s.group}/{s.name}"), partial(self._fire_service_recurring, s=s))
                )
        for gone in set(self._service_recurring) - live:
            del self._service_recurring[gone]
        for rec in self._recurring:
            if rec.next_at is not None and rec.next_at <= until:
                candidates.append(((rec.next_at, 1, rec.source), partial(self._fire_template, rec=rec)))
        if not candidates:
            return None
        (at, _, _), fire = min(candidates, key=lambda c: c[0])
        return at, fire

    def _invoke(self, at: datetime, source: str, target_arn: str, event: Any) -> Firing:
        spec = self.runner.spec_for_arn(target_arn)
        if spec is None:
            log.warning("%s targets %s, which is not a function of the template: dropped", source, target_arn)
            firing = Firing(at, source, "", event)
        else:
            firing = Firing(
                at, source, spec.logical_id, event, self.runner.invoke_async(spec.logical_id, event)
            )
        self._record(firing)
        return firing

    def _record(self, firing: Firing) -> None:
        self.fired.append(firing)
        for observer in list(self.observers):
            observer(firing)

    def _fire_service(self, at: datetime, s: OneTimeSchedule) -> Firing | None:
        self._done.add((s.group, s.name, s.version))
        if s.delete_after:
            try:
                self.client.delete_schedule(GroupName=s.group, Name=s.name)
            except self.client.exceptions.ResourceNotFoundException:
                pass
        return self._invoke(at, f"schedule:{s.group}/{s.name}", s.target_arn, self._input(s, at))

    def _input(self, s: OneTimeSchedule, at: datetime) -> Any:
        if not s.input:
            return {}
        arn = f"arn:aws:scheduler:{self.region}:{self.account_id}:schedule/{s.group}/{s.name}"
        return json.loads(with_context(s.input, scheduled_at=at, schedule_arn=arn))

    def _fire_service_recurring(self, at: datetime, s: OneTimeSchedule) -> Firing | None:
        after = next_occurrence(s.expression, at, s.timezone)
        self._service_recurring[(s.group, s.name)] = after or datetime.max.replace(tzinfo=UTC)
        return self._invoke(at, f"schedule:{s.group}/{s.name}", s.target_arn, self._input(s, at))

    def _fire_template(self, at: datetime, rec: _Recurring) -> Firing | None:
        rec.next_at = next_occurrence(rec.expression, at, rec.timezone)
        if rec.skip_if is not None and rec.skip_if(at):
            return None
        event = rec.make_event(at)
        firing = Firing(at, rec.source, rec.function, event, self.runner.invoke_async(rec.function, event))
        self._record(firing)
        return firing

    # ----------------------------------------------------------------------------- SQS sources

    def add_queue_sources(self, sources: Iterable[QueueSource], sqs: Any) -> None:
        """Poll these SQS event sources (`sqs`: a boto3 client on the local endpoint)."""
        self._sqs = sqs
        self._queues.extend(q for q in sources if q.enabled)

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            self._queue_urls[arn] = self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        return self._queue_urls[arn]

    def drain_queues(self) -> int:
        """Deliver every visible message of the SQS event sources to their functions, as Lambda's poller
        does: batches of up to `batch_size`; a successful batch is deleted, except the messages a
        function reports in ``batchItemFailures``; a failed batch stays (visible again after the
        queue's visibility timeout, real time). Returns the number of invocations."""
        invocations = 0
        for q in self._queues:
            url = self._queue_url(q.queue_arn)
            while True:
                answer = self._sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=max(1, min(q.batch_size, 10)), WaitTimeSeconds=0,
                    AttributeNames=["All"], MessageAttributeNames=["All"],
                )  # fmt: skip
                messages = answer.get("Messages") or []
                if not messages:
                    break
                event = {"Records": [self._sqs_record(m, q.queue_arn) for m in messages]}
                at = self.clock.now()
                firing = Firing(at, f"sqs:{q.queue_arn.rsplit(':', 1)[-1]}", q.function, event)
                invocation = self.runner.invoke(q.function, event)
                invocations += 1
                self._record(Firing(at, firing.source, q.function, event, invocation))
                if invocation.error is not None:
                    break  # the batch stays in the queue (Lambda retries it after the visibility timeout)
                failed: set[str] = set()
                if q.report_failures and isinstance(invocation.result, dict):
                    failed = {
                        str(f.get("itemIdentifier")) for f in invocation.result.get("batchItemFailures") or []
                    }
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    self._sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                        ],
                    )
                if failed:
                    break
        return invocations

    def _sqs_record(self, m: dict[str, Any], arn: str) -> dict[str, Any]:
        attributes = {k: str(v) for k, v in (m.get("Attributes") or {}).items()}
        message_attributes = {
            k: {
                "stringValue": v.get("StringValue"),
                "binaryValue": v.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": v.get("DataType"),
            }
            for k, v in (m.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m.get("Body", ""),
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": self.region,
        }

    # ----------------------------------------------------------------------------- running

    def run_due(self) -> int:
        """Deliver queued messages and fire everything due at the clock's current instant, in order;
        returns how many invocations ran."""
        count = 0
        with self._lock:
            count += self.drain_queues()
            while True:
                now = self.clock.now()
                nxt = self._next(now)
                if nxt is None:
                    return count
                at, fire = nxt
                if fire(at) is not None:
                    count += 1 + self.drain_queues()

    def fast_forward(self, to: datetime) -> list[Firing]:
        """Advance the clock to `to`, stopping at each due instant on the way to fire what is due
        there (in order). Returns the firings performed. The clock is left at `to` (or later, if it
        was already past it)."""
        with self._lock:
            start = len(self.fired)
            self.refresh()
            self.drain_queues()
            while True:
                nxt = self._next(to)
                if nxt is None:
                    break
                at, fire = nxt
                self.clock.advance_to(at)
                if fire(at) is not None:
                    self.drain_queues()
            self.clock.advance_to(to)
            self.run_due()
            return self.fired[start:]

    # ----------------------------------------------------------------------------- thread

    def start(self) -> None:
        """Run `run_due` in a background thread until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="slaclock-local-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - keep the scheduler alive; the error is logged
                log.exception("local scheduler: firing failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread (after the firing in progress, if any) and join it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
