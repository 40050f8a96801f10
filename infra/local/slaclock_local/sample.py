"""A seeded generator of realistic canonical ticket events, for the examples, the demo and
the benchmarks.

    for event in generate_events(300, seed=7, start=datetime(2026, 1, 5, tzinfo=UTC)):
        ...                                     # dicts ready for json.dumps / engine.events.parse_event

What it simulates, per ticket: a `created` event with the whole ticket (channel, status, priority, tags,
department, assignee, requester, customer_group, custom plan/region/seats, sometimes a referrer URL);
agent and customer replies at business-ish hours of the requester's region (Paris, New York or Sydney
time, weekdays, with some evening and weekend work); `pending` after an agent asks a question and
`on_hold` while waiting on a third party; solves, closes, reopenings; priority escalations and tag
changes that move a ticket to another SLA level; reassignments and transfers; a few deletions (spam).
Later events carry only the fields they change (a partial update).

Delivery is simulated too, as webhooks really arrive: the output is in ARRIVAL order, where most events
arrive within seconds but about 3% arrive minutes to hours late (after later events of the same
ticket), and about 2% arrive twice (the same `id` and body, a little later).

Deterministic: the same (n_tickets, seed, start, per_day) always yields the same events, whatever the
platform. Fast: about 100,000 tickets (half a million events) in a few seconds, streamed (memory holds
only the events of tickets still in flight).
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday

# Region: (weight, approximate UTC offset in hours for business-ish times, requester domains, weight of
# custom.region). Offsets ignore DST on purpose: they only shape plausible working hours.
_REGIONS = (
    ("europe", 55, 1, ("client.fr", "kunde.de", "customer.co.uk", "cliente.es")),
    ("americas", 30, -5, ("client.com", "customer.ca", "cliente.com.br")),
    ("apac", 15, 10, ("client.com.au", "customer.co.nz", "client.sg")),
)
_DEPARTMENTS = (
    ("technical", 45, ("ana@example.com", "bruno@example.com", "chen@example.com", "dmitri@example.com")),
    ("billing", 25, ("eva@example.com", "farid@example.com", "gina@example.com")),
    ("sales", 15, ("hugo@example.com", "ines@example.com")),
    ("accounts", 15, ("jamal@example.com", "kate@example.com", "lea@example.com")),
)
_GROUPS = (("standard", 58), ("vip", 10), ("enterprise", 10), ("trial", 16), ("free", 6))
_PRIORITIES = (("low", 20), ("normal", 55), ("high", 18), ("urgent", 7))
_CHANNELS = (("email", 50), ("web", 20), ("chat", 15), ("phone", 8), ("social", 4), ("api", 3))
_PLANS = {"standard": "silver", "vip": "gold", "enterprise": "platinum", "trial": "trial", "free": "free"}
_TOPIC_TAGS = ("bug", "how-to", "feature-request", "login", "integration", "invoice", "export")
_FIRST_NAMES = ("alex", "sam", "maria", "li", "noah", "emma", "omar", "yuki", "zoe", "pablo", "anna", "ravi")
# Median first-response delay by priority (seconds), before business-ish shaping.
_REPLY_MEDIAN = {"urgent": 12 * 60, "high": 45 * 60, "normal": 150 * 60, "low": 6 * 3600}
_REFERRERS = (
    "https://www.example.com/pricing",
    "https://www.example.com/docs/api",
    "https://app.example.com/",
)
_DAY = 86400


def _weighted(options: tuple[tuple[Any, ...], ...]) -> tuple[list[Any], list[int]]:
    """The options and their CUMULATIVE weights (for `random.choices(..., cum_weights=...)`)."""
    return list(options), list(itertools.accumulate(o[1] for o in options))


class _Ticket:
    """One simulated ticket's life: collects (at, type, partial ticket fields) tuples."""

    __slots__ = ("tid", "offset", "events", "rng", "lazy")

    def __init__(self, tid: str, offset: int, rng: random.Random) -> None:
        self.tid = tid
        self.offset = offset
        self.rng = rng
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.lazy = 0.75  # share of out-of-hours work postponed to the next working morning

    def add(self, at: int, type_: str, ticket: dict[str, Any] | None = None) -> None:
        self.events.append((at, type_, ticket or {}))

    def working(self, t: int, lazy: float | None = None) -> int:
        """Move `t` into the region's working hours (weekdays 08:00–18:00 local) with probability `lazy`
        (default: the ticket's); otherwise leave it (some people work evenings and weekends)."""
        rng = self.rng
        if lazy is None:
            lazy = self.lazy
        local = t + self.offset
        day, sec = divmod(local, _DAY)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        if weekday < 5 and 8 * 3600 <= sec < 18 * 3600:
            return t
        if rng.random() > lazy:
            return t
        if weekday < 5 and sec < 8 * 3600:
            target_day = day
        else:
            target_day = day + 1
            while (target_day + 3) % 7 >= 5:
                target_day += 1
        morning = target_day * _DAY + 8 * 3600 + int(rng.expovariate(1 / 2400))
        return morning - self.offset


def _iso(ts: int) -> str:
    tm = time.gmtime(ts)
    return (
        f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}T{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}Z"
    )


def generate_events(
    n_tickets: int,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    *,
    per_day: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the canonical events of `n_tickets` simulated tickets, in webhook ARRIVAL order.

    Tickets are created from `start` (an aware datetime) on, `per_day` a day on average (default: at
    least 20, and enough to fit every ticket in about 90 days), more on weekdays than at weekends.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
    rate = per_day if per_day is not None else max(20.0, n_tickets / 90)
    base = int(start.timestamp())
    regions, region_w = _weighted(_REGIONS)
    departments, department_w = _weighted(_DEPARTMENTS)
    groups, group_w = _weighted(_GROUPS)
    priorities, priority_w = _weighted(_PRIORITIES)
    channels, channel_w = _weighted(_CHANNELS)
    # Arrival heap: (arrival instant, sequence, event dict). An event never arrives before its ticket
    # was created, so everything arriving before the next ticket's creation can be emitted.
    pending: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    clock = float(base)
    for n in range(n_tickets):
        # Poisson arrivals, thinner at weekends.
        while True:
            clock += rng.expovariate(rate / _DAY)
            weekday = (int(clock) // _DAY + 3) % 7
            if weekday < 5 or rng.random() < 0.25:
                break
        tid = str(10001 + n)
        region = rng.choices(regions, cum_weights=region_w)[0]
        ticket = _Ticket(tid, region[2] * 3600, rng)
        created = ticket.working(int(clock), lazy=0.6)
        department = rng.choices(departments, cum_weights=department_w)[0]
        group = rng.choices(groups, cum_weights=group_w)[0][0]
        priority = rng.choices(priorities, cum_weights=priority_w)[0][0]
        channel = rng.choices(channels, cum_weights=channel_w)[0][0]
        _simulate(ticket, created, region, department, group, priority, channel)
        # `clock` only grows and `working()` only moves instants later, so nothing still to be
        # generated can arrive before `clock`: whatever arrives by then is final.
        while pending and pending[0][0] <= int(clock):
            yield heapq.heappop(pending)[2]
        for k, (at, type_, fields) in enumerate(ticket.events, 1):
            event = {
                "id": f"evt-{tid}-{k:02d}",
                "ticket_id": tid,
                "type": type_,
                "at": _iso(at),
                "ticket": fields,
            }
            roll = rng.random()
            if roll < 0.03:
                delay = int(rng.uniform(60, 6 * 3600))  # a late webhook (retried by the helpdesk)
            else:
                delay = rng.randint(0, 5)
            seq += 1
            heapq.heappush(pending, (at + delay, seq, event))
            if roll > 0.98:  # delivered twice
                seq += 1
                heapq.heappush(pending, (at + delay + rng.randint(1, 900), seq, event))
    while pending:
        yield heapq.heappop(pending)[2]


def _simulate(
    t: _Ticket,
    created: int,
    region: tuple[Any, ...],
    department: tuple[Any, ...],
    group: str,
    priority: str,
    channel: str,
) -> None:
    rng = t.rng
    agents: tuple[str, ...] = department[2]
    fields = _new_ticket(rng, region, department[0], rng.choice(agents), group, priority, channel)
    t.add(created, "created", fields)
    if rng.random() < 0.01:  # spam: deleted soon after
        t.add(created + rng.randint(60, 4 * 3600), "deleted", {"deleted": True})
        return
    now, priority = _triage(t, created, priority, fields["tags"])
    if rng.random() > 0.96:  # never answered (yet): the first response runs or misses
        return
    # The team works to the SLA: premium customers and urgent tickets are answered faster, also at night.
    premium = group in ("vip", "enterprise")
    median = int(_REPLY_MEDIAN.get(priority, 3 * 3600) * (0.5 if premium else 1.0))
    if premium or priority == "urgent":
        t.lazy = 0.25
    after = _conversation(t, now, median, agents)
    if after is not None and rng.random() <= 0.92:  # else: still open at the end of the file
        _resolution(t, after, median)


def _new_ticket(
    rng: random.Random,
    region: tuple[Any, ...],
    department: str,
    agent: str,
    group: str,
    priority: str,
    channel: str,
) -> dict[str, Any]:
    """The whole ticket as the `created` event carries it."""
    requester = f"{rng.choice(_FIRST_NAMES)}.{rng.randint(1, 999)}@{rng.choice(region[3])}"
    tags = [rng.choice(_TOPIC_TAGS)]
    for tag, share in (("URGENT", 0.03), ("outage", 0.02), ("security", 0.02)):
        if rng.random() < share:
            tags.append(tag)
    if department == "billing" and rng.random() < 0.2:
        tags.append(rng.choice(("refund", "chargeback")))
    if group == "enterprise" and rng.random() < 0.3:
        tags.append("24x7")
    custom: dict[str, Any] = {"plan": _PLANS[group], "region": region[0]}
    if group in ("enterprise", "vip"):
        custom["seats"] = rng.choice((50, 120, 250, 600, 1500))
    fields: dict[str, Any] = {
        "status": "new",
        "priority": priority,
        "channel": channel,
        "tags": tags,
        "department": department,
        "assignee": agent,
        "requester": requester,
        "customer_group": group,
        "custom": custom,
    }
    if channel in ("chat", "web"):
        fields["referrer_url"] = rng.choice(_REFERRERS)
    if channel == "chat":
        fields["via_invitation"] = rng.random() < 0.3
        fields["assignee_status"] = rng.choice(("online", "online", "away"))
    return fields


def _triage(t: _Ticket, now: int, priority: str, tags: list[str]) -> tuple[int, str]:
    """Sometimes the priority (and tags) change soon after creation: another SLA level applies."""
    rng = t.rng
    if rng.random() < 0.06:  # escalated
        now += rng.randint(120, 2 * 3600)
        change: dict[str, Any] = {"priority": "urgent" if priority != "urgent" else "high"}
        if rng.random() < 0.5:
            change["tags"] = [*tags, "URGENT"]
        t.add(now, "updated", change)
        return now, change["priority"]
    if rng.random() < 0.05:  # downgraded
        now += rng.randint(300, 6 * 3600)
        t.add(now, "updated", {"priority": "low", "tags": [x for x in tags if x != "URGENT"]})
        return now, "low"
    return now, priority


def _conversation(t: _Ticket, now: int, median: int, agents: tuple[str, ...]) -> int | None:
    """The first answer, reassignments, then 0-3 customer/agent exchanges. None: the customer left."""
    rng = t.rng
    now = t.working(now + int(rng.lognormvariate(0, 0.9) * median))
    t.add(now, "agent_replied", {"status": _after_reply(rng, 0.35), "last_message_by": "agent"})
    if rng.random() < 0.08:  # reassigned
        now += rng.randint(600, 6 * 3600)
        t.add(now, "updated", {"assignee": rng.choice(agents)})
    if rng.random() < 0.03:  # transferred to another department
        now += rng.randint(600, 3 * 3600)
        t.add(now, "updated", {"department": rng.choice(("technical", "billing", "accounts"))})
    for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(45, 75, 92, 100))[0]):
        now = t.working(now + int(rng.lognormvariate(0, 1.0) * 5 * 3600), lazy=0.5)
        t.add(now, "customer_replied", {"status": "open", "last_message_by": "customer"})
        if rng.random() < 0.07:  # waiting on a third party
            now += rng.randint(1800, 2 * 3600)
            t.add(now, "updated", {"status": "on_hold"})
            now = t.working(now + int(rng.lognormvariate(0, 0.8) * 20 * 3600))
            t.add(now, "updated", {"status": "open"})
        if rng.random() < 0.1:  # the customer gives up waiting
            return None
        now = t.working(now + int(rng.lognormvariate(0, 0.9) * median * 1.5))
        t.add(now, "agent_replied", {"status": _after_reply(rng, 0.3), "last_message_by": "agent"})
    return now


def _after_reply(rng: random.Random, pending_share: float) -> str:
    return "pending" if rng.random() < pending_share else "open"


def _resolution(t: _Ticket, now: int, median: int) -> None:
    """Solved; sometimes reopened and solved again; sometimes closed four days later."""
    rng = t.rng
    now = t.working(now + int(rng.lognormvariate(0, 1.0) * 4 * 3600))
    t.add(now, "solved", {"status": "solved"})
    if rng.random() < 0.08:  # "that did not fix it"
        now = t.working(now + int(rng.lognormvariate(0, 1.0) * 20 * 3600), lazy=0.5)
        t.add(now, "reopened", {"status": "open", "last_message_by": "customer"})
        now = t.working(now + int(rng.lognormvariate(0, 0.9) * median))
        t.add(now, "agent_replied", {"status": "open", "last_message_by": "agent"})
        now = t.working(now + int(rng.lognormvariate(0, 1.0) * 6 * 3600))
        t.add(now, "solved", {"status": "solved"})
    if rng.random() < 0.4:
        t.add(now + 4 * _DAY, "closed", {"status": "closed"})


def write_jsonl(events: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """Write events as JSON Lines (compact, one per line); returns how many were written."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    for event in events:
        out.write(dumps(event))
        out.write("\n")
        count += 1
    return count
