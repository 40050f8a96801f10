"""Differential at volume: the report use case at instant T equals `slaclock replay --now T` of the same
events, on a seeded generated set of 300 tickets (`slaclock_local.sample`, late and repeated webhooks).

The use cases run as deployed (ingest per delivery at its own instant, every armed check fired at its
instant, in time order, between deliveries, `build_report` at T), on in-memory ports: moto copies the
whole table for every transactional write, which makes hundreds of tickets on the local stack take
tens of minutes (the local-stack differential, tests/e2e/test_report_equals_replay.py, plays the
demo's week and a smaller generated set). The clock records the fake stores are indexed as the
DynamoDB adapter indexes them (its own `outcome_keys`), and read back as the report reads them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from slaclock import cli
from slaclock.adapters.dynamodb import RUNNING, outcome_keys
from slaclock.engine.clocks import ClockStatus, TicketState
from slaclock.engine.config import load_config
from slaclock.engine.events import Event, format_instant, parse_event
from slaclock.ports import ClockSnapshot
from slaclock.services.check import run_check
from slaclock.services.ingest import ingest_events
from slaclock.services.report import ReportPorts, ReportSpec, build_report, custom_period
from slaclock_local.sample import generate_events

from tests.fakes import FakeMailer, FakeTicketStore, StaticConfig
from tests.fakes.reports import FakeReportJobs, FakeReportQueue, FakeReportSink
from tests.fakes.world import World

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_CONFIG = REPO / "examples" / "sla.yaml"
N_TICKETS = 300
START = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Paris
COMPARED = ("level", "started_at", "due_at", "stopped_at", "status", "business_seconds", "remaining_seconds")
GROUP_BY = ("level", "metric")
OPTIONS = [
    "--time-zone", "America/Sao_Paulo", "--durations", "human", "--ticket-links", "--calendar-columns",
    "--time-split",
]  # fmt: skip
"""The SLA log's optional columns, asked of replay and (as `ReportSpec` fields) of the report."""
OPTIONAL = (
    "started_at_local",
    "due_at_local",
    "stopped_at_local",
    "business_time",
    "remaining_time",
    "ticket_url",
    "calendar",
    "calendar_due_at",
)


class IndexedTicketStore(FakeTicketStore):
    """The fake ticket store, also keeping each saved clock as the DynamoDB adapter's record: its
    index placement from the adapter's own rule, the ticket's fields at that save."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[tuple[str, str, int], ClockSnapshot] = {}

    def save(
        self,
        state: TicketState,
        *,
        clocks: Iterable[ClockSnapshot],
        removed: Iterable[Any] = (),
        **kwargs: Any,
    ) -> int:
        clocks, removed = list(clocks), list(removed)
        version = super().save(state, clocks=clocks, removed=removed, **kwargs)
        for metric, cycle in removed:
            self.records.pop((state.ticket_id, metric, cycle), None)
        for c in clocks:
            day, at = outcome_keys(c)
            key = (c.ticket_id, str(c.metric), c.cycle)
            if day is None:  # cancelled: leaves the index
                self.records.pop(key, None)
                continue
            decided = None if day == RUNNING else datetime.fromisoformat(at.replace("Z", "+00:00"))
            self.records[key] = replace(c, decided_at=decided, recorded_at=START)
        return version


class IndexedRecords:
    """`ClockSnapshotStore` over the records: the decided partition by outcome instant, the running one
    by due instant (as `DynamoClockSnapshots` queries the clocks-by-outcome index)."""

    def __init__(self, store: IndexedTicketStore) -> None:
        self.store = store

    def query(self, start: datetime, end: datetime) -> Iterator[ClockSnapshot]:
        rows = [r for r in self.store.records.values() if r.decided_at is not None]
        yield from sorted((r for r in rows if start <= r.decided_at < end), key=lambda r: r.decided_at)

    def running(self, start: datetime | None = None, end: datetime | None = None) -> Iterator[ClockSnapshot]:
        rows = [r for r in self.store.records.values() if r.decided_at is None]
        if start is not None and end is not None:
            rows = [r for r in rows if start <= (r.due_at or r.started_at) < end]
        yield from sorted(rows, key=lambda r: r.due_at or r.started_at)


def by_clock(text: str, columns: tuple[str, ...] = COMPARED) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(r["ticket_id"], r["metric"], r["cycle"]): {c: r[c] for c in columns}
            for r in csv.DictReader(io.StringIO(text))}  # fmt: skip


def replay_at(config: Path, events: list[Event], now: datetime, out: Path, *options: str) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "events.jsonl"
    path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in events), encoding="utf-8")
    assert cli.main([
        "replay", "--config", str(config), "--events", str(path), "--out", str(out / "r"),
        "--now", format_instant(now), "--group-by", ",".join(GROUP_BY), "--quiet", *options,
    ]) == 0  # fmt: skip
    return {
        n: (out / "r" / n).read_text(encoding="utf-8")
        for n in ("sla_log.csv", "compliance.csv", "summary.html", "time_split.csv")
        if (out / "r" / n).exists()
    }


def agent_rows(page: str) -> dict[str, tuple[str, ...]]:
    """The per-agent table of a page: agent -> met, missed, met max/min, missed max/min (``data-``)."""
    names = (
        "met",
        "missed",
        "met_max_seconds",
        "met_min_seconds",
        "missed_max_seconds",
        "missed_min_seconds",
    )
    out = {}
    for attrs in re.findall(r"<tr (data-agent=[^>]*)>", page):
        data = dict(re.findall(r'data-([a-z_]+)="([^"]*)"', attrs))
        out[data["agent"]] = tuple(data[n] for n in names)
    return out


def agents_of_log(text: str) -> dict[str, tuple[str, ...]]:
    """What the per-agent table must say, counted from an SLA log: decided clocks per agent."""
    sides: dict[str, dict[str, list[str]]] = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["status"] in ("met", "missed"):
            agent = r["agent"][1:] if r["agent"].startswith("'") else r["agent"]
            sides.setdefault(agent, {"met": [], "missed": []})[r["status"]].append(r["business_seconds"])
    out = {}
    for agent, s in sides.items():
        ext = []
        for side in ("met", "missed"):
            values = sorted(s[side], key=float)
            ext += [values[-1], values[0]] if values else ["", ""]
        out[agent] = (str(len(s["met"])), str(len(s["missed"])), *ext)
    return out


GROUP_OLA = {  # docs/configuration.md, `agreements`: a group's own target for holding a ticket
    "metrics": {"ownership_time": {"start": {"field": "department", "op": "exists", "value": True},
                                   "reset": {"changes": "department"}, "cycles": True,
                                   "stop": {"field": "solved", "op": "is", "value": True}}},
    "agreements": {"group_ola": {
        "levels": {f"{d}_ola": {"calendar": "paris-office", "targets": {"ownership_time": {"within": w}}}
                   for d, w in (("billing", "2h"), ("technical", "6h"))},
        "rules": [{"name": d, "when": {"field": "department", "op": "is", "value": d},
                   "set_level": f"{d}_ola", "stop": True} for d in ("billing", "technical")]}},
}  # fmt: skip


@pytest.mark.parametrize("agreements", [False, True], ids=["customer", "with-an-ola"])
def test_300_generated_tickets_report_at_any_instant_what_replay_says(tmp_path, agreements):
    doc = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    if agreements:
        doc.update(GROUP_OLA)
    doc["sources"] = {"sim": {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"},
                              "ticket_url": "https://help.example.com/tickets/{ticket_number}"}}  # fmt: skip
    doc.pop("reports", None)
    config_path = tmp_path / "sim.yaml"
    config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    config = load_config(doc)
    world = World(doc)
    policy = world.config_source.policy()
    store = IndexedTicketStore()
    ingest_ports = replace(world.ingest_ports, tickets=store)
    check_ports = replace(world.check_ports, tickets=store)
    report_ports = ReportPorts(
        config=StaticConfig(config), clocks=IndexedRecords(store), sink=FakeReportSink(), mailer=FakeMailer(),
        jobs=FakeReportJobs(), queue=FakeReportQueue(), events=world.events,
    )  # fmt: skip

    docs = list(generate_events(N_TICKETS, seed=11, start=START, per_day=120))
    events = [parse_event(d) for d in docs]  # arrival order; late and repeated ones included
    delivered: list[Event] = []
    now = START

    def run_checks_until(t: datetime, *, inclusive: bool) -> int:
        fired = 0
        while world.scheduler.schedules:
            ticket_id, armed = min(world.scheduler.schedules.items(), key=lambda kv: (kv[1], kv[0]))
            if armed > t or (armed == t and not inclusive):
                break
            world.scheduler.fire(ticket_id)
            run_check(check_ports, ticket_id, armed, armed)  # exactly at its instant
            fired += 1
        return fired

    period = custom_period(START - timedelta(days=1), START + timedelta(days=200), "Europe/Paris")
    compared: list[tuple[str, int]] = []
    last: dict[str, str] = {}  # the SLA logs of the last comparison

    def compare(label: str, at: datetime, *, options: bool = False) -> None:
        spec = ReportSpec(label, label, period, group_by=GROUP_BY, include_running=True)
        columns = COMPARED
        if options:
            spec = replace(
                spec,
                time_zone="America/Sao_Paulo",
                durations="human",
                ticket_links=True,
                calendar_columns=True,
                time_split=True,
            )
            columns = COMPARED + OPTIONAL
        build_report(report_ports, spec, config, at)
        files = ("sla_log.csv", "compliance.csv", "summary.html")
        ours = {k: report_ports.sink.objects[spec.keys[k]][0].decode() for k in files}
        theirs = replay_at(config_path, delivered, at, tmp_path / label, *(OPTIONS if options else ()))
        if options:
            assert ours["sla_log.csv"].splitlines()[0] == theirs["sla_log.csv"].splitlines()[0]
            # time_split.csv: the report's rows are replay --time-split's, for the clocks both list
            split = report_ports.sink.objects[spec.keys["time_split.csv"]][0].decode().splitlines()
            theirs_split = theirs["time_split.csv"].splitlines()
            assert split[0] == theirs_split[0] == "ticket_id,metric,cycle,dimension,value,business_seconds"
            assert len(split) > 2 * N_TICKETS and sorted(split[1:]) == sorted(theirs_split[1:])
            links = {r["ticket_url"] for r in csv.DictReader(io.StringIO(ours["sla_log.csv"]))}
            assert links and all(u.startswith("https://help.example.com/tickets/") for u in links)
        last.update(ours=ours["sla_log.csv"], theirs=theirs["sla_log.csv"])
        a, b = by_clock(ours["sla_log.csv"], columns), by_clock(theirs["sla_log.csv"], columns)
        assert a.keys() == b.keys(), (label, sorted(a.keys() ^ b.keys())[:5])
        wrong = [(k, a[k], b[k]) for k in a if a[k] != b[k]]
        assert not wrong, (label, len(wrong), wrong[:2])
        # each page's per-agent table says what its own SLA log says (the report's agent is the
        # ticket's assignee when the clock was last saved, replay's as of the ticket's last event)
        for side in (ours, theirs):
            agents = agent_rows(side["summary.html"])
            assert agents and agents == agents_of_log(side["sla_log.csv"]), label
        compliance = ours["compliance.csv"].splitlines(), theirs["compliance.csv"].splitlines()
        assert sorted(compliance[0]) == sorted(compliance[1]), label
        compared.append((label, len(a)))

    probes = {len(events) // 4, len(events) // 2, 3 * len(events) // 4}
    at_due: datetime | None = None  # a due instant to report at exactly (its check fires right then)
    fired = 0
    for i, event in enumerate(events):
        at = max(now, event.at)
        if at_due is not None and at_due < at:
            fired += run_checks_until(at_due, inclusive=True)
            compare(f"at-due-{format_instant(at_due)}", at_due)
            now, at_due = at_due, None
        if i in probes:
            fired += run_checks_until(now, inclusive=True)
            compare(f"event-{i}", now)
            dues = sorted(
                c.due_at for c in store.clock_records.values()
                if c.stopped_at is None and c.status is not ClockStatus.CANCELLED and c.due_at is not None
                and c.due_at > now and c.due_at.second == 0
                and c.due_at.microsecond == 0
            )  # fmt: skip
            at_due = dues[0] if dues else None
        fired += run_checks_until(at, inclusive=False)  # a check armed at `at` runs after the webhook
        now = at
        ingest_events(ingest_ports, policy, [event], now)
        delivered.append(event)
    fired += run_checks_until(now + timedelta(days=2), inclusive=True)
    compare("two-days-after-the-last", now + timedelta(days=2))
    compare("with-the-optional-columns", now + timedelta(days=2), options=True)
    assert fired > N_TICKETS, "checks fired between the webhooks"
    assert compared[-1][1] >= 2 * N_TICKETS, compared
    if agreements:  # the group's clocks were compared too, and the SLA logs carry the column
        for log in last.values():  # the report's and replay's
            rows = list(csv.DictReader(io.StringIO(log)))
            assert {r["agreement"] for r in rows} == {"customer", "group_ola"}
    assert sum(label.startswith("at-due-") for label, _ in compared) >= 2, compared
    print("generated-set rows compared:", compared, "checks fired:", fired)  # noqa: T201
