"""Building one report: the clock records of its period as SLA log rows, the three files (SLA log,
compliance, summary page) streamed to the sink in chunks, and the figures the e-mail shows."""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.calendar.requester import Calendars, Zones
from slaclock.engine.clocks import clock_at, decided_at, time_splits
from slaclock.engine.config import Config, Metric
from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.engine.reports import (
    SLA_LOG_COLUMNS,
    TIME_SPLIT_COLUMNS,
    ComplianceAccumulator,
    SlaLogOptions,
    SlaLogRow,
    Tally,
    compliance_columns,
    compliance_record,
    csv_line,
    sla_log_lines,
    time_split_lines,
)
from slaclock.engine.summary import SummaryAccumulator, render_summary
from slaclock.engine.ticket_links import ticket_linker
from slaclock.ports import (
    ClockSnapshot,
    ClockSnapshotStore,
    ConfigSource,
    EventStore,
    LinkIssuer,
    Mailer,
    ReportJobStatus,
    ReportJobStore,
    ReportQueue,
    ReportSink,
)
from slaclock.services.report.email import describe_period, human_period
from slaclock.services.report.sort import DEFAULT_CHUNK_ROWS, DistinctCounter, external_sort
from slaclock.services.report.spec import (
    CSV_TYPE,
    HTML_TYPE,
    TIME_SPLIT_FILE,
    Period,
    ReportSpec,
    scheduled_report_id,
)

_CHUNK_BYTES = 1024 * 1024


# ------------------------------------------------------------------------------------------- ports


@dataclass(frozen=True)
class ReportPorts:
    """What the report use cases need. `links` issues the report links (signed tokens opened by the
    link route, see `slaclock.services.report.links`); None: the sink presigns them itself, and such
    links die with the credentials that signed them (docs/reports-on-aws.md). `events`: the tickets'
    stored events, read only for a report that asks for ``time_split.csv`` (`ReportSpec.time_split`)."""

    config: ConfigSource
    clocks: ClockSnapshotStore
    sink: ReportSink
    mailer: Mailer
    jobs: ReportJobStore
    queue: ReportQueue
    links: LinkIssuer | None = None
    link_expiry_seconds: int = MAX_LINK_SECONDS
    lease: timedelta = timedelta(minutes=16)
    sort_chunk_rows: int = DEFAULT_CHUNK_ROWS
    tmp_dir: str | None = None
    events: EventStore | None = None

    def link(self, key: str, now: datetime, expires_in: int) -> str:
        """The link of object `key`, valid from `now` for `expires_in` seconds."""
        if self.links is not None:
            return self.links.link(key, now + timedelta(seconds=expires_in))
        return self.sink.link(key, expires_in)


# ---------------------------------------------------------------------------------------- building


def to_log_row(
    record: ClockSnapshot,
    zones: Mapping[str, str],
    calendars: Mapping[str, BusinessCalendar] | None = None,
    now: datetime | None = None,
) -> SlaLogRow:
    """A stored clock record as an engine SLA log row at `now` (its compliance day counted in the zone
    the record names, else its calendar's zone in the configuration, else UTC).

    With `calendars` and `now`, a running record's status, due instant, business and remaining
    seconds are taken at `now` (`engine.clocks.clock_at`: what ``slaclock replay --now`` shows for the
    same events), so a record never goes stale: a clock that breached since its last save is
    ``missed`` (decided at its due instant) and its counted time is up to `now`."""
    metric = record.metric
    status, due, business, remaining = (
        record.status,
        record.due_at,
        record.business_seconds,
        record.remaining_seconds,
    )
    cal = calendars.get(record.calendar) if calendars is not None and now is not None else None
    if cal is not None and now is not None:
        status, due, business, remaining = clock_at(
            record.status, record.due_at, record.stopped_at, record.business_seconds,
            record.remaining_seconds, record.target_seconds, record.as_of, record.counting, cal, now,
        )  # fmt: skip
    return SlaLogRow(
        ticket_id=record.ticket_id,
        requester=record.requester or "",
        department=record.department or "",
        agent=record.agent or "",
        level=record.level,
        metric=metric.value if isinstance(metric, Metric) else str(metric),
        cycle=record.cycle,
        started_at=record.started_at,
        due_at=due,
        stopped_at=record.stopped_at,
        status=status.value,
        business_seconds=business,
        remaining_seconds=remaining,
        timezone=record.timezone or zones.get(record.calendar, "UTC"),
        decided_at=decided_at(status.value, due, record.stopped_at),
        calendar=record.calendar,
    )


def _matcher(filters: Mapping[str, tuple[str, ...]]) -> Any:
    if not filters:
        return None
    wanted = [(name, frozenset(values)) for name, values in filters.items()]

    def keep(row: SlaLogRow) -> bool:
        return all(row.group_value(name) in values for name, values in wanted)

    return keep


def report_rows(ports: ReportPorts, spec: ReportSpec, config: Config, now: datetime) -> Iterator[SlaLogRow]:
    """The rows of the report at `now`, streamed, every record taken at `now` (`to_log_row`): the
    clocks decided in the period, in outcome order, then, if asked, the clocks still undecided at
    `now` that started before the period's end; filters applied.

    The decided ones are read from the period's days of the index (decided at their last save, or
    counting past their due instant then) merged with the ``running`` records whose due instant is in
    the period and before `now`: a clock that breached while counting after its last save (no event,
    its check not run yet) is missed at `now` and counted on its due day, as replay counts it."""
    zones = Zones(config.calendars)  # with the derived requester calendars
    calendars = Calendars(config.calendars)
    keep = _matcher(spec.filters)
    period = spec.period
    undecided: list[SlaLogRow] = []  # on a due day, due exactly at `now`: not missed yet

    def decided_by_day() -> Iterator[SlaLogRow]:
        for record in ports.clocks.query(period.start, period.end):
            row = to_log_row(record, zones, calendars, now)
            if row.decided_at is not None:
                yield row
            elif spec.include_running and row.started_at < period.end:
                undecided.append(row)

    breached_since_saved = (
        row
        for row in (
            to_log_row(record, zones, calendars, now)
            for record in ports.clocks.running(period.start, min(period.end, now))
        )
        if row.decided_at is not None
    )
    rows: Iterable[SlaLogRow] = heapq.merge(decided_by_day(), breached_since_saved, key=_decided_key)
    if spec.include_running:
        rows = itertools.chain(rows, undecided, _still_running(ports, period, zones, calendars, now))
    for row in rows:
        if keep is None or keep(row):
            yield row


def _still_running(
    ports: ReportPorts,
    period: Period,
    zones: Mapping[str, str],
    calendars: Mapping[str, BusinessCalendar],
    now: datetime,
) -> Iterator[SlaLogRow]:
    """The running partition's records still undecided at `now` that started before the period's end."""
    for record in ports.clocks.running():
        if record.started_at < period.end:
            row = to_log_row(record, zones, calendars, now)
            if row.decided_at is None:
                yield row


def _decided_key(row: SlaLogRow) -> datetime:
    assert row.decided_at is not None  # noqa: S101 - only decided rows are merged
    return row.decided_at


class _Count:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def csv_chunks(header: Sequence[str], lines: Iterable[str], count: _Count) -> Iterator[bytes]:
    """UTF-8 CSV in chunks of about 1 MiB: the `header` row, then `lines` (each a CSV line with its
    ``\r\n``, as `reports.sla_log_row_line` and `reports.csv_line` write them); `count.n` ends as the
    number of lines."""
    buf = io.StringIO()
    write = buf.write
    size = write(csv_line(header))
    for line in lines:
        size += write(line)
        count.n += 1
        if size >= _CHUNK_BYTES:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
            size = 0
    yield buf.getvalue().encode("utf-8")


def _worst(table: Mapping[str, Tally]) -> dict[str, Any] | None:
    decided = [(name, t) for name, t in table.items() if t.decided]
    if not decided:
        return None
    # Same order as the summary page's breakdowns: lowest compliance, then most missed, then name.
    name, t = min(decided, key=lambda kv: (kv[1].compliance_pct, -kv[1].missed, kv[0]))
    return {"name": name, "compliance_pct": t.compliance_pct, "met": t.met, "missed": t.missed}


def _time_split_lines(
    ports: ReportPorts, clocks: Mapping[str, set[tuple[str, int]]], now: datetime
) -> Iterator[str]:
    """The ``time_split.csv`` lines of the report's clocks (`clocks`: ticket id -> its (metric, cycle)
    in the SLA log), tickets in the SLA log's order: each ticket's stored events replayed at `now` by
    the engine (`engine.clocks.time_splits`, what ``slaclock replay --time-split`` writes), only the
    clocks the report lists."""
    if ports.events is None:
        raise ValueError("time_split needs the event store (ReportPorts.events)")
    policy = ports.config.policy()
    for ticket_id, wanted in clocks.items():
        events = ports.events.ticket_events(ticket_id)
        if not events:
            continue
        tid, splits = time_splits(policy, events, now)
        yield from time_split_lines(tid, (s for s in splits if (str(s[0]), s[1]) in wanted))


def build_report(ports: ReportPorts, spec: ReportSpec, config: Config, now: datetime) -> dict[str, Any]:
    """Write the three files of `spec` under `spec.keys` and return the figures (JSON-able): rows,
    tickets, met, missed, running, compliance_pct (None when nothing was decided), compliance_rows,
    worst_level, worst_department, fingerprint. Every record is taken at `now` (`report_rows`), which
    also labels the page ("as of")."""
    keys = spec.keys
    compliance = ComplianceAccumulator(spec.group_by)
    page = SummaryAccumulator()
    log_count, compliance_count = _Count(), _Count()
    split_clocks: dict[str, set[tuple[str, int]]] | None = {} if spec.time_split else None
    with contextlib.ExitStack() as stack:
        tickets = stack.enter_context(DistinctCounter(directory=ports.tmp_dir))

        def counted() -> Iterator[SlaLogRow]:
            for row in report_rows(ports, spec, config, now):
                tickets.add(row.ticket_id)
                if split_clocks is not None:
                    split_clocks.setdefault(row.ticket_id, set()).add((row.metric, row.cycle))
                day = compliance.day_of(row) if row.decided_at is not None else None
                compliance.add(row, day)
                page.add(row, day)
                yield row

        rows: Iterator[SlaLogRow] = counted()
        if spec.sort:
            rows = stack.enter_context(
                external_sort(rows, spec.sort, chunk_rows=ports.sort_chunk_rows, directory=ports.tmp_dir)
            )
        columns = sla_log_options(spec, config)
        lines = sla_log_lines(rows, columns)
        header = SLA_LOG_COLUMNS + columns.columns
        ports.sink.put(keys["sla_log.csv"], csv_chunks(header, lines, log_count), CSV_TYPE)
        page.tickets = tickets.count()
    ports.sink.put(
        keys["compliance.csv"],
        csv_chunks(
            compliance_columns(compliance.group_by),
            (csv_line(compliance_record(r)) for r in compliance.rows()),
            compliance_count,
        ),
        CSV_TYPE,
    )
    period = spec.period
    html = render_summary(
        page, title=page_title(spec), now=now, subtitle=describe_period(period), utc=spec.utc
    )
    ports.sink.put(keys["summary.html"], [html.encode("utf-8")], HTML_TYPE)
    if split_clocks is not None:
        split_count = _Count()
        lines = _time_split_lines(ports, split_clocks, now)
        ports.sink.put(keys[TIME_SPLIT_FILE], csv_chunks(TIME_SPLIT_COLUMNS, lines, split_count), CSV_TYPE)
    total = page.total
    return {
        "rows": log_count.n,
        "tickets": page.tickets,
        "met": total.met,
        "missed": total.missed,
        "running": page.running - page.running_missed,
        "compliance_pct": total.compliance_pct if total.decided else None,
        "compliance_rows": compliance_count.n,
        "worst_level": _worst(page.by_level),
        "worst_department": _worst(page.by_department),
        "fingerprint": spec.fingerprint,
    }


def sla_log_options(spec: ReportSpec, config: Config) -> SlaLogOptions:
    """The SLA log's optional columns `spec` asks for (as `slaclock replay`'s options give them). The
    ticket's subject is not offered: clock records do not keep it."""
    link = ticket_linker(config.sources) if spec.ticket_links else None
    return SlaLogOptions(
        time_zone=spec.time_zone,
        human_durations=spec.durations == "human",
        ticket_link=link,
        calendar=spec.calendar_columns,
        agreement=bool(config.agreements),
    )


def page_title(spec: ReportSpec) -> str:
    """``SLA report daily-billing · 9–13 November 2026``: the summary page's one title, with the period
    in words (its exact bounds and zone are the subtitle)."""
    return f"SLA report {spec.title} · {human_period(spec.period)}"


def previous_figures(ports: ReportPorts, spec: ReportSpec, config: Config, now: datetime) -> dict[str, Any]:
    """Met / missed / compliance of the period before `spec.period` (same length, same filters).

    For a subscription, the previous report's stored figures are reused when its job is done and had
    the same filters; otherwise (on demand, or no such report) the previous period is counted with
    the same query (decided clocks only), which reads the index a second time."""
    previous = spec.period.previous()
    result: dict[str, Any] = {"label": previous.label}
    if spec.name is not None:
        job = ports.jobs.get(scheduled_report_id(spec.name, previous))
        figures = job.figures if job is not None and job.status is ReportJobStatus.DONE else None
        if figures is not None and figures.get("fingerprint") == spec.fingerprint:
            result.update(
                met=figures["met"], missed=figures["missed"], compliance_pct=figures["compliance_pct"]
            )
            return result
    tally = Tally()
    for row in report_rows(ports, replace(spec, period=previous, include_running=False), config, now):
        if row.met or row.missed:
            tally.add(row.met, 0)
    result.update(
        met=tally.met, missed=tally.missed, compliance_pct=tally.compliance_pct if tally.decided else None
    )
    return result
