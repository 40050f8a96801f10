"""SLA reports: the SLA log rows, the compliance aggregation and their streaming CSV writers.

Two reports, both CSV (UTF-8 without BOM, comma, a header row, RFC 4180 quoting and ``\\r\\n`` line ends,
as Python's `csv` module writes them):

- **SLA log**: one row per clock cycle (`SLA_LOG_COLUMNS`). Cancelled clocks (deleted tickets) are left
  out. Instants are ISO 8601 in UTC with ``Z``; ``stopped_at`` is empty while the clock runs.
- **Compliance**: one row per day and per grouping (`COMPLIANCE_COLUMNS` with the group columns after
  ``date``). The day is the day the outcome was decided — the stop instant for ``met``, the due instant
  for ``missed`` — as a date in the time zone of the LEVEL's calendar. Only decided clocks count: met
  ones, and missed ones even while still running. A running clock that has not breached is left out,
  so a day's figure never falls as tickets age.

Numbers, decided once for every writer (the S3 reports use the same functions):

- Durations are seconds, exact: an integer when whole, otherwise the decimal fraction down to the
  microsecond with trailing zeros dropped (``3600``, ``0.5``, ``-12.000001``).
- ``met_*_seconds`` / ``missed_*_seconds`` are the BUSINESS seconds the clocks counted (the log's
  ``business_seconds``): for met clocks, the business time it took to achieve the metric; for missed
  clocks, the business time counted until they stopped, or until ``now`` for a missed clock that still
  runs (that one value grows with ``now``; the counts and the percentage do not). The average is exact
  (sums are kept in integer microseconds) and rounded half-to-even to the microsecond. With no met (or
  no missed) clock in a row, that side's avg/max/min cells are empty.
- ``compliance_pct`` = 100 × met / (met + missed), rounded half-up to two decimals and always written
  with two (``87.50``). A (day, group) with no decided clock is never emitted, so there is no 0/0.

Optional SLA log columns (`SlaLogOptions`, off by default so today's columns stay byte for byte):
appended after the thirteen columns, so a script reading columns by position keeps working, in this
order: ``agreement`` (whose clock it is: ``customer``, or the name of another agreement, whose clocks
are named ``<metric>@<agreement>``; written exactly when the configuration has other agreements);
``started_at_local``, ``due_at_local``, ``stopped_at_local`` (with a time zone: the instants in
that IANA zone, ISO 8601 with their offset, ``2026-11-09T14:05:00+01:00``); ``business_time``,
``remaining_time`` (human durations: business time in hours, minutes and seconds, ``26h 40m 05s``,
``-1h 05m 00s`` when overdue; a business day is as long as the calendar's opening hours, so never
"days"); ``subject`` (the ticket's subject); ``ticket_url`` (the link to the ticket in its helpdesk,
from the source's ``ticket_url`` template; empty without one); ``calendar``, ``calendar_due_at`` (the
calendar the clock actually counted in, the level's or the one its ``calendar_from`` chose for the
ticket, and the due instant in that calendar's zone, ISO 8601 with its offset; empty without a due).

Text cells copied from tickets (``ticket_id``, ``requester``, ``department``, ``agent``, ``subject``)
that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'`` so a
spreadsheet does not run them as a formula (OWASP "CSV injection"); nothing else is altered.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from slaclock.engine.calendar.requester import Zones
from slaclock.engine.clocks import ClockStatus, decided_at
from slaclock.engine.config import agreement_of
from slaclock.engine.errors import ValidationError
from slaclock.engine.vocabulary import GROUP_FIELDS

if TYPE_CHECKING:
    from slaclock.engine.clocks import Clock, TicketView, TimeSplit
    from slaclock.engine.config import Config

SLA_LOG_COLUMNS: tuple[str, ...] = (
    "ticket_id", "requester", "department", "agent", "level", "metric", "cycle",
    "started_at", "due_at", "stopped_at", "status", "business_seconds", "remaining_seconds",
)  # fmt: skip

COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "date", "met", "met_avg_seconds", "met_max_seconds", "met_min_seconds",
    "missed", "missed_avg_seconds", "missed_max_seconds", "missed_min_seconds", "compliance_pct",
)  # fmt: skip
"""The compliance columns without groups; the group columns go right after ``date``
(see `compliance_columns`)."""


SORT_KEYS: tuple[str, ...] = (
    "requester", "ticket", "start", "department", "agent", "level", "due", "stopped", "remaining", "overdue",
)  # fmt: skip
"""Keys `sort_sla_log` accepts (``-key`` sorts descending). ``overdue`` is ``remaining`` reversed."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ReportError(ValidationError):
    """A report request is invalid (unknown grouping or sort key), every problem listed."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        super().__init__(errors, "invalid report request")


@dataclass(frozen=True, slots=True)
class SlaLogRow:
    """One clock cycle as the SLA log shows it.

    The first thirteen fields are the SLA log's columns, in order. `agent` is the ticket's assignee;
    `requester`, `department` and `agent` are ``""`` when the ticket has none. Instants are aware UTC
    datetimes. `business_seconds` is the business time the clock counted (to `stopped_at`, or to the
    evaluation's ``now`` while running); `remaining_seconds` = target − business_seconds (negative when
    overdue). `due_at` is None only when the engine could not compute one.

    Extra fields (not written to the log): `timezone`, the IANA zone of the level's calendar, in which
    the compliance day is counted; `decided_at`, the instant the outcome was decided (the stop for
    ``met``, the due instant for ``missed``; None while running and not breached); `calendar`, the name
    of the calendar the clock counted in (``""`` when unknown).
    """

    ticket_id: str
    requester: str
    department: str
    agent: str
    level: str
    metric: str
    cycle: int
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    status: str
    business_seconds: float
    remaining_seconds: float
    timezone: str = "UTC"
    decided_at: datetime | None = None
    subject: str = ""
    calendar: str = ""

    @property
    def met(self) -> bool:
        return self.status == ClockStatus.MET.value

    @property
    def missed(self) -> bool:
        return self.status == ClockStatus.MISSED.value

    @property
    def running(self) -> bool:
        """Not stopped yet (open, paused, or missed and still running)."""
        return self.stopped_at is None and self.status != ClockStatus.CANCELLED.value

    @property
    def agreement(self) -> str:
        """The agreement whose clock this is (``customer``, or the ``a`` of a metric ``<metric>@a``)."""
        return agreement_of(self.metric)[1]

    def group_value(self, name: str) -> str:
        """The value of a grouping field (one of `GROUP_FIELDS`)."""
        value: str = getattr(self, name)
        return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


def clock_row(view: TicketView, clock: Clock, timezone: str) -> SlaLogRow:
    """The SLA log row of one clock of `view` (its level's calendar is in `timezone`)."""
    fields = view.fields
    status = clock.status.value
    return SlaLogRow(
        ticket_id=clock.ticket_id,
        requester=_text(fields.get("requester")),
        department=_text(fields.get("department")),
        agent=_text(fields.get("assignee")),
        level=clock.level,
        metric=str(clock.metric),
        cycle=clock.cycle,
        started_at=clock.started_at,
        due_at=clock.due_at,
        stopped_at=clock.stopped_at,
        status=status,
        business_seconds=clock.business_seconds,
        remaining_seconds=clock.remaining_seconds,
        timezone=timezone,
        decided_at=decided_at(status, clock.due_at, clock.stopped_at),
        subject=_text(fields.get("subject")),
        calendar=clock.calendar,
    )


def sla_log_rows(view: TicketView, config: Config | Mapping[str, str]) -> Iterator[SlaLogRow]:
    """The SLA log rows of one evaluated ticket, in the view's clock order; cancelled clocks left out.

    `config` gives each clock's calendar time zone: the `Config` itself, or a mapping of calendar name
    to IANA zone name. A calendar it does not know counts in UTC.
    """
    zones: Mapping[str, str]
    if isinstance(config, Mapping):
        zones = config
    else:
        zones = Zones(config.calendars)  # with the derived requester calendars
    for clock in view.clocks:
        if clock.status is ClockStatus.CANCELLED:
            continue
        yield clock_row(view, clock, zones.get(clock.calendar, "UTC"))


# ---------------------------------------------------------------------------------------------- formatting


def format_instant(t: datetime | None) -> str:
    """ISO 8601 in UTC with ``Z``; microseconds only when present; ``""`` for None.

    >>> format_instant(datetime(2026, 3, 2, 9, 5, tzinfo=UTC))
    '2026-03-02T09:05:00Z'
    """
    if t is None:
        return ""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    # What ``t.isoformat()[:-6] + "Z"`` gives, built from cached pieces (isoformat is slow).
    ordinal = t.toordinal()
    day = _DAY_PREFIX.get(ordinal)
    if day is None:
        if len(_DAY_PREFIX) >= 100_000:
            _DAY_PREFIX.clear()
        day = _DAY_PREFIX[ordinal] = t.date().isoformat() + "T"
    us = t.microsecond
    if us:
        return f"{day}{_TWO_DIGITS[t.hour]}:{_TWO_DIGITS[t.minute]}:{_TWO_DIGITS[t.second]}.{us:06d}Z"
    return f"{day}{_TWO_DIGITS[t.hour]}:{_TWO_DIGITS[t.minute]}:{_TWO_DIGITS[t.second]}Z"


_DAY_PREFIX: dict[int, str] = {}  # proleptic ordinal -> "YYYY-MM-DDT"
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(60))


def format_seconds(seconds: float | None) -> str:
    """Seconds, exact to the microsecond: ``3600``, ``0.5``, ``-90.25``; ``""`` for None."""
    if seconds is None:
        return ""
    if isinstance(seconds, int):
        return str(seconds)
    if seconds.is_integer():
        return str(int(seconds))  # also turns -0.0 into "0"
    micros = round(seconds * 1_000_000)
    whole, frac = divmod(abs(micros), 1_000_000)
    sign = "-" if micros < 0 else ""
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


def _cell(value: str) -> str:
    if value and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(value: str) -> str:
    """`value` as the `csv` module writes one cell of a row of several cells (excel dialect, minimal
    quoting): quoted when it holds a comma, a quote (doubled) or a line break (\\r, \\n)."""
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


def sla_log_record(row: SlaLogRow) -> list[str]:
    """The CSV cells of one SLA log row, in `SLA_LOG_COLUMNS` order."""
    return [
        _cell(row.ticket_id),
        _cell(row.requester),
        _cell(row.department),
        _cell(row.agent),
        row.level,
        row.metric,
        str(row.cycle),
        format_instant(row.started_at),
        format_instant(row.due_at),
        format_instant(row.stopped_at),
        row.status,
        format_seconds(row.business_seconds),
        format_seconds(row.remaining_seconds),
    ]


def sla_log_text(value: str) -> str:
    """A text cell of the SLA log as written: formula-guarded (`_cell`), then CSV-quoted if needed."""
    return csv_text(_cell(value))


def sla_log_line(
    head: str,
    level: str,
    metric: str,
    cycle: int,
    started_at: datetime,
    due_at: datetime | None,
    stopped_at: datetime | None,
    status: str,
    business_seconds: float,
    remaining_seconds: float,
) -> str:
    """One SLA log line, ``\r\n`` included: exactly what `csv.writer` writes for `sla_log_record`.

    The one place a log line is formatted; `write_sla_log` and the replay's fast path both call it.
    `head` is the first four cells already written (`sla_log_head`) and `level` the level name
    CSV-quoted if needed (`csv_text`; level names are not formula-guarded): a caller writing many rows
    of one ticket, or of few levels, computes them once. Instants, numbers, metric and status
    names never need quoting."""
    return (
        f"{head},{level},{metric},{cycle},{format_instant(started_at)},{format_instant(due_at)},"
        f"{format_instant(stopped_at)},{status},"
        f"{format_seconds(business_seconds)},{format_seconds(remaining_seconds)}\r\n"
    )


def sla_log_head(ticket_id: str, requester: str, department: str, agent: str) -> str:
    """The first four cells of a log line (see `sla_log_line`)."""
    return (
        f"{sla_log_text(ticket_id)},{sla_log_text(requester)},{sla_log_text(department)},"
        f"{sla_log_text(agent)}"
    )


def sla_log_row_line(row: SlaLogRow) -> str:
    """The SLA log line of `row` (`sla_log_line`)."""
    return sla_log_line(
        sla_log_head(row.ticket_id, row.requester, row.department, row.agent),
        csv_text(row.level),
        row.metric,
        row.cycle,
        row.started_at,
        row.due_at,
        row.stopped_at,
        row.status,
        row.business_seconds,
        row.remaining_seconds,
    )


def csv_line(cells: Iterable[str]) -> str:
    """One CSV line of several cells, ``\r\n`` included, as `csv.writer` writes it."""
    return ",".join(map(csv_text, cells)) + "\r\n"


@dataclass(frozen=True, slots=True)
class SlaLogOptions:
    """The optional SLA log columns (see the module docstring). `time_zone`: an IANA zone name for the
    ``*_local`` columns; `human_durations`: ``business_time`` and ``remaining_time``; `subject`: the
    ``subject`` column; `ticket_link`: ``link(ticket_id)`` for the ``ticket_url`` column
    (`slaclock.engine.ticket_links.ticket_linker`); `calendar`: ``calendar`` and ``calendar_due_at``.
    The default adds nothing."""

    time_zone: str | None = None
    human_durations: bool = False
    subject: bool = False
    ticket_link: Callable[[str], str] | None = None
    calendar: bool = False
    agreement: bool = False
    """The ``agreement`` column (set when the configuration has agreements besides the customer's)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The extra columns, in order."""
        out: list[str] = ["agreement"] if self.agreement else []
        if self.time_zone:
            out += ["started_at_local", "due_at_local", "stopped_at_local"]
        if self.human_durations:
            out += ["business_time", "remaining_time"]
        if self.subject:
            out.append("subject")
        if self.ticket_link is not None:
            out.append("ticket_url")
        if self.calendar:
            out += ["calendar", "calendar_due_at"]
        return tuple(out)

    @property
    def needs_rows(self) -> bool:
        """Whether a column needs the rows themselves: the replay's fast path writes ``agreement`` only
        (`agreement_cell`)."""
        return bool(self.columns) and self.columns != ("agreement",)


def check_time_zone(name: str, path: str = "time_zone") -> str:
    """`name` if it is an IANA time zone; raises `ReportError` naming `path` otherwise."""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ReportError(
            [(path, f"unknown time zone {name!r} (an IANA name such as Europe/Paris)")]
        ) from None
    return name


def human_business_time(seconds: float) -> str:
    """A business duration to the second, in hours, minutes and seconds (``26h 40m 05s``, ``4m 00s``,
    ``-1h 05m 00s``): a day of business time is as long as the opening hours, so it is never "days".
    Whole seconds, truncated toward zero."""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if seconds < 0 and total else ""
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def sla_log_extra(row: SlaLogRow, options: SlaLogOptions) -> list[str]:
    """The cells of `options.columns` for `row`."""
    cells: list[str] = [agreement_cell(row.metric)] if options.agreement else []
    if options.time_zone:
        zone = ZoneInfo(options.time_zone)
        cells += [
            "" if t is None else t.astimezone(zone).isoformat()
            for t in (row.started_at, row.due_at, row.stopped_at)
        ]
    if options.human_durations:
        cells += [human_business_time(row.business_seconds), human_business_time(row.remaining_seconds)]
    if options.subject:
        cells.append(_cell(row.subject))
    if options.ticket_link is not None:
        cells.append(_cell(options.ticket_link(row.ticket_id)))
    if options.calendar:
        due = row.due_at
        cells += [
            _cell(row.calendar),
            "" if due is None else due.astimezone(ZoneInfo(row.timezone)).isoformat(),
        ]
    return cells


def agreement_cell(metric: str) -> str:
    """The ``agreement`` cell of a row of `metric` (agreement names never need quoting)."""
    return agreement_of(metric)[1]


def sla_log_lines(rows: Iterable[SlaLogRow], options: SlaLogOptions | None = None) -> Iterator[str]:
    """The log line of each row (`sla_log_row_line`), with `options`' columns appended when any."""
    if options is None or not options.columns:
        yield from map(sla_log_row_line, rows)
        return
    for row in rows:
        yield sla_log_row_line(row)[:-2] + "," + csv_line(sla_log_extra(row, options))


def write_sla_log(rows: Iterable[SlaLogRow], textfile: TextIO, options: SlaLogOptions | None = None) -> int:
    """Write the header and `rows` as they come (nothing is held); returns the number of rows.
    `options` appends its columns (none by default).

    Open `textfile` with ``newline=""`` and ``encoding="utf-8"`` (as the csv module requires).
    """
    write = textfile.write
    write(csv_line(SLA_LOG_COLUMNS + (options.columns if options else ())))
    count = 0
    for line in sla_log_lines(rows, options):
        write(line)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------- sorting


def _ticket_key(ticket_id: str) -> tuple[int, int, str]:
    # Numeric ids sort as numbers ("999" before "1000"), others as text after them.
    if ticket_id.isdigit():
        return (0, int(ticket_id), "")
    return (1, 0, ticket_id)


_SORT_FIELDS: dict[str, Callable[[SlaLogRow], Any]] = {
    "requester": lambda r: r.requester.casefold(),
    "ticket": lambda r: _ticket_key(r.ticket_id),
    "start": lambda r: r.started_at,
    "department": lambda r: r.department.casefold(),
    "agent": lambda r: r.agent.casefold(),
    "level": lambda r: r.level,
    "due": lambda r: r.due_at,
    "stopped": lambda r: r.stopped_at,
    "remaining": lambda r: r.remaining_seconds,
    "overdue": lambda r: -r.remaining_seconds,
}


def parse_sort(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Check a sort specification (``"requester,-due"`` or a list); raises `ReportError`."""
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [s.strip() for s in spec]
    items = [s for s in items if s]
    errors = [
        (f"sort[{i}]", f"{s!r} is not one of {', '.join(SORT_KEYS)} (prefix '-' for descending)")
        for i, s in enumerate(items)
        if s.lstrip("-") not in _SORT_FIELDS
    ]
    if errors:
        raise ReportError(errors)
    return tuple(items)


def sort_sla_log(rows: Iterable[SlaLogRow], by: str | Sequence[str]) -> list[SlaLogRow]:
    """The SLA log sorted in memory by the keys `by` (`SORT_KEYS`; ``-key`` for descending).

    Text compares case-insensitively, numeric ticket ids as numbers. An empty value (no due instant,
    still running for ``stopped``) sorts after every other in both directions. Ties end in (ticket,
    metric, cycle) order, so the result never depends on the input order.

    >>> [r.ticket_id for r in sort_sla_log(rows, "-overdue")]  # doctest: +SKIP
    """
    keys = parse_sort(by)
    result = sorted(rows, key=lambda r: (_ticket_key(r.ticket_id), r.metric, r.cycle))
    for spec in reversed(keys):
        descending = spec.startswith("-")
        result.sort(key=_sort_key(_SORT_FIELDS[spec.lstrip("-")], descending), reverse=descending)
    return result


def _sort_key(get: Callable[[SlaLogRow], Any], descending: bool) -> Callable[[SlaLogRow], tuple[bool, Any]]:
    # Empty values (None) go last in both directions: (True, …) sorts after (False, …) ascending, and
    # (False, …) after (True, …) when the sort is reversed.
    if descending:
        return lambda r: (get(r) is not None, get(r))
    return lambda r: (get(r) is None, get(r))


# ---------------------------------------------------------------------------------------------- compliance


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    """One day × grouping of the compliance report. `groups` holds the values of the accumulator's
    `group_by` fields, in that order. Seconds are business seconds (see the module docstring); the
    met (missed) avg/max/min are None when `met` (`missed`) is 0."""

    date: date
    groups: tuple[str, ...]
    met: int
    met_avg_seconds: float | None
    met_max_seconds: float | None
    met_min_seconds: float | None
    missed: int
    missed_avg_seconds: float | None
    missed_max_seconds: float | None
    missed_min_seconds: float | None
    compliance_pct: float


class Tally:
    """Counts and business-time statistics (integer microseconds) of met and missed clocks."""

    __slots__ = ("met", "met_sum", "met_max", "met_min", "missed", "missed_sum", "missed_max", "missed_min")

    def __init__(self) -> None:
        self.met = 0
        self.met_sum = 0
        self.met_max = 0
        self.met_min = 0
        self.missed = 0
        self.missed_sum = 0
        self.missed_max = 0
        self.missed_min = 0

    def add(self, met: bool, micros: int) -> None:
        if met:
            if self.met == 0 or micros > self.met_max:
                self.met_max = micros
            if self.met == 0 or micros < self.met_min:
                self.met_min = micros
            self.met += 1
            self.met_sum += micros
        else:
            if self.missed == 0 or micros > self.missed_max:
                self.missed_max = micros
            if self.missed == 0 or micros < self.missed_min:
                self.missed_min = micros
            self.missed += 1
            self.missed_sum += micros

    def merge(self, other: Tally) -> None:
        """Count every clock `other` counted, as if each were `add`-ed here (exact: counts and sums add
        up, extremes combine)."""
        if other.met:
            if self.met == 0 or other.met_max > self.met_max:
                self.met_max = other.met_max
            if self.met == 0 or other.met_min < self.met_min:
                self.met_min = other.met_min
            self.met += other.met
            self.met_sum += other.met_sum
        if other.missed:
            if self.missed == 0 or other.missed_max > self.missed_max:
                self.missed_max = other.missed_max
            if self.missed == 0 or other.missed_min < self.missed_min:
                self.missed_min = other.missed_min
            self.missed += other.missed
            self.missed_sum += other.missed_sum

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def compliance_pct(self) -> float:
        """100 × met / decided, rounded half-up to two decimals (0.0 when nothing was decided)."""
        return pct(self.met, self.decided)


def pct(part: int, whole: int) -> float:
    """100 × part / whole rounded half-up to 0.01, computed exactly (0.0 when `whole` is 0)."""
    if whole <= 0:
        return 0.0
    hundredths = (part * 20000 + whole) // (2 * whole)
    return hundredths / 100


def _avg(total: int, count: int) -> float | None:
    """The mean of `count` values summing to `total` microseconds, in seconds, rounded half-to-even to
    the microsecond with integer arithmetic (no float drift on large sums)."""
    if count == 0:
        return None
    q, r = divmod(total, count)
    if 2 * r > count or (2 * r == count and q % 2):
        q += 1
    return q / 1_000_000


def mean_seconds(total_micros: int, count: int) -> float | None:
    """The exact mean of `count` durations summing to `total_micros` microseconds, in seconds (the
    compliance report's ``*_avg_seconds``); None when `count` is 0."""
    return _avg(total_micros, count)


def _seconds(micros: int, count: int) -> float | None:
    return micros / 1_000_000 if count else None


def micros_of(seconds: float) -> int:
    return round(seconds * 1_000_000)


def check_group_by(group_by: str | Sequence[str]) -> tuple[str, ...]:
    """Validate a grouping (``"level,metric"`` or a list of `GROUP_FIELDS`); raises `ReportError`."""
    items = [s.strip() for s in group_by.split(",")] if isinstance(group_by, str) else list(group_by)
    items = [s for s in items if s]
    errors: list[tuple[str, str]] = []
    for i, name in enumerate(items):
        if name not in GROUP_FIELDS:
            errors.append((f"group_by[{i}]", f"{name!r} is not one of {', '.join(GROUP_FIELDS)}"))
        elif name in items[:i]:
            errors.append((f"group_by[{i}]", f"{name!r} is repeated"))
    if errors:
        raise ReportError(errors)
    return tuple(items)


def _group_reader(group_by: tuple[str, ...]) -> Callable[[SlaLogRow], tuple[str, ...]]:
    """A fast reader of a row's group values, as a tuple in `group_by` order."""
    if not group_by:
        return lambda row: ()
    if len(group_by) == 1:
        name = group_by[0]
        return lambda row: (getattr(row, name),)
    reader = attrgetter(*group_by)
    return lambda row: tuple(reader(row))


def compliance_columns(group_by: Sequence[str]) -> tuple[str, ...]:
    """The compliance header: ``date``, the group fields, then the figures."""
    return (COMPLIANCE_COLUMNS[0], *group_by, *COMPLIANCE_COLUMNS[1:])


class ComplianceAccumulator:
    """Streams SLA log rows into compliance rows. Memory is one `Tally` per (day, group) — proportional
    to days × groups, never to the number of rows.

    >>> acc = ComplianceAccumulator(["level"])
    >>> for row in rows: acc.add(row)          # doctest: +SKIP
    >>> list(acc.rows())                       # doctest: +SKIP
    """

    def __init__(self, group_by: str | Sequence[str] = ()) -> None:
        self.group_by: tuple[str, ...] = check_group_by(group_by)
        self._tallies: dict[tuple[date, tuple[str, ...]], Tally] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self._groups_of = _group_reader(self.group_by)

    @property
    def columns(self) -> tuple[str, ...]:
        return compliance_columns(self.group_by)

    @property
    def size(self) -> int:
        """How many (day, group) tallies are held: the accumulator's whole state."""
        return len(self._tallies)

    def day_of(self, row: SlaLogRow) -> date | None:
        """The local date (level's calendar zone) the row's outcome was decided; None if undecided."""
        at = row.decided_at
        if at is None:
            return None
        zone = self._zones.get(row.timezone)
        if zone is None:
            zone = self._zones[row.timezone] = ZoneInfo(row.timezone)
        return at.astimezone(zone).date()

    def add(self, row: SlaLogRow, day: date | None = None) -> bool:
        """Count `row` if its outcome is decided (met, or missed even while running); True if counted.

        `day` may pass `day_of(row)` when the caller already computed it."""
        status = row.status
        met = status == "met"
        if not met and status != "missed":
            return False
        if day is None:
            day = self.day_of(row)
            if day is None:
                return False
        self.count(day, self._groups_of(row), met, round(row.business_seconds * 1_000_000))
        return True

    def count(self, day: date, groups: tuple[str, ...], met: bool, micros: int) -> None:
        """Count one decided clock (met, else missed) that counted `micros` business microseconds, on
        `day`, in the group whose `group_by` values are `groups`: what `add` does with a row."""
        self.tally(day, groups).add(met, micros)

    def tally(self, day: date, groups: tuple[str, ...]) -> Tally:
        """The `Tally` of (`day`, `groups`), created empty if there is none yet."""
        key = (day, groups)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally()
        return tally

    def group_picker(self) -> Callable[[str, str, str, str], tuple[str, ...]]:
        """``pick(department, agent, level, metric)``: the `groups` tuple `count` wants for a row with
        those values (what `add` reads from the row; its agreement follows from its metric)."""
        if not self.group_by:
            return lambda department, agent, level, metric: ()
        at = tuple(GROUP_FIELDS.index(name) for name in self.group_by)
        if "agreement" in self.group_by:
            inner = itemgetter(*at) if len(at) > 1 else None
            last = at[0]

            def pick_agreement(department: str, agent: str, level: str, metric: str) -> tuple[str, ...]:
                values = (department, agent, level, metric, agreement_cell(metric))
                return inner(values) if inner is not None else (values[last],)

            return pick_agreement
        if len(at) == 1:
            (i,) = at
            return lambda *values: (values[i],)
        pick = itemgetter(*at)
        return lambda *values: pick(values)

    def rows(self) -> Iterator[ComplianceRow]:
        """The compliance rows by date, then group values; only (day, group)s with a decided clock."""
        for (day, groups), t in sorted(self._tallies.items(), key=lambda kv: kv[0]):
            yield ComplianceRow(
                date=day,
                groups=groups,
                met=t.met,
                met_avg_seconds=_avg(t.met_sum, t.met),
                met_max_seconds=_seconds(t.met_max, t.met),
                met_min_seconds=_seconds(t.met_min, t.met),
                missed=t.missed,
                missed_avg_seconds=_avg(t.missed_sum, t.missed),
                missed_max_seconds=_seconds(t.missed_max, t.missed),
                missed_min_seconds=_seconds(t.missed_min, t.missed),
                compliance_pct=t.compliance_pct,
            )


def compliance_record(row: ComplianceRow) -> list[str]:
    return [
        row.date.isoformat(),
        *(_cell(g) for g in row.groups),
        str(row.met),
        format_seconds(row.met_avg_seconds),
        format_seconds(row.met_max_seconds),
        format_seconds(row.met_min_seconds),
        str(row.missed),
        format_seconds(row.missed_avg_seconds),
        format_seconds(row.missed_max_seconds),
        format_seconds(row.missed_min_seconds),
        f"{row.compliance_pct:.2f}",
    ]


def write_compliance(rows: Iterable[ComplianceRow], textfile: TextIO, group_by: Sequence[str] = ()) -> int:
    """Write the header (with the `group_by` columns) and `rows`; returns the number of rows."""
    writer = csv.writer(textfile)
    writer.writerow(compliance_columns(check_group_by(group_by)))
    count = 0
    for row in rows:
        writer.writerow(compliance_record(row))
        count += 1
    return count


# ------------------------------------------------------------------------------------------ time split

TIME_SPLIT_COLUMNS: tuple[str, ...] = (
    "ticket_id", "metric", "cycle", "dimension", "value", "business_seconds",
)  # fmt: skip
"""The companion CSV ``time_split.csv``: who burned each clock's time. One row per clock, dimension
(``status``, ``assignee``, ``group``) and value in force while the clock counted; for each clock and
dimension the ``business_seconds`` sum exactly to its ``business_seconds`` in the SLA log. An empty
``value`` is none (unassigned, no group). Clocks appear in the SLA log's order (cancelled ones left out,
as there), and text cells are formula-guarded as the SLA log's are."""


def time_split_lines(ticket_id: str, splits: Iterable[TimeSplit]) -> Iterator[str]:
    """The ``time_split.csv`` lines of one ticket (`slaclock.engine.clocks.time_splits`), ``\\r\\n``
    included, exactly as `csv.writer` writes them."""
    head = sla_log_text(ticket_id)
    for metric, cycle, dimension, value, micros in splits:
        seconds = format_seconds(micros / 1_000_000)
        yield f"{head},{metric},{cycle},{dimension},{sla_log_text(value)},{seconds}\r\n"


def write_time_split(tickets: Iterable[tuple[str, Iterable[TimeSplit]]], textfile: TextIO) -> int:
    """Write the header and each ticket's rows (`time_split_lines`); returns the number of rows."""
    write = textfile.write
    write(csv_line(TIME_SPLIT_COLUMNS))
    count = 0
    for ticket_id, splits in tickets:
        for line in time_split_lines(ticket_id, splits):
            write(line)
            count += 1
    return count
