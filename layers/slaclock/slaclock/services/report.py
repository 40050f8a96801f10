"""Use case: compliance reports to S3, scheduled and on demand, shared as expiring links (DESIGN §6).

Three entry points, one builder:

- `request_report` (``POST /reports``): validates the body (`validate_request`; every problem listed
  in one `ReportRequestError`, a 400), stores a job (`ReportJobStore`, status ``queued``) and puts its
  id on the report queue (`ReportQueue`). Answers at once; the report is built asynchronously.
- `schedule_reports` (an EventBridge Scheduler firing for one period kind): picks the configuration's
  ``reports:`` subscriptions of that kind whose period just ended in their calendar's time zone
  (`due_subscriptions`) and queues one job each, with a deterministic id (``<name>.<period label>``)
  created conditionally, so a schedule that fires twice queues each report once.
- `run_report_job` (the queue's consumer): claims the job (a lease), builds the report
  (`build_report`), records the keys and figures, e-mails the links, marks the job done.

What a report holds: the clock records whose OUTCOME was decided in the period ([start, end), the
period in its time zone): met clocks by their stop, missed clocks by their due instant; optionally
(on demand, ``include_running``) the clocks still undecided at their last save that started before the
period's end. Filters keep the rows whose department / agent / level / metric is one of the values
listed (exact match; ``""`` matches an unset field). The records are read by QUERY on the
clocks-by-outcome index (never a scan), page by page, and written as they come.

Output (`ReportSpec.keys`): ``reports/<name or id>/<period label>/{sla_log.csv, compliance.csv,
summary.html}``. The CSVs are the engine's (`slaclock.engine.reports`: same columns, cells and number
formats as ``slaclock replay``), the page is the engine's summary page. The SLA log comes in outcome
order (the index order: it costs no memory) unless a sort is asked: then an external merge sort over
temporary files (`slaclock.services.report_sort`) keeps memory flat. Compliance days are counted in
each LEVEL's calendar zone (DESIGN §6), so near the period's edges a day of another zone may appear.

Memory is flat in the row count: the rows stream from the query into a multipart upload; only the
compliance tallies (days × groups), the summary's bounded aggregates, one sort chunk and one batch of
distinct-ticket hashes are held.

Links: one per file, valid `link_expiry_seconds` (default and maximum 7 days). Deployed, they are
signed tokens opened by the link route (`slaclock.services.report_links`: they outlive the temporary
credentials of the function that issued them); without a `links` issuer (tests, a bare sink) they are
the sink's presigned GETs. E-mailed with a short summary: compliance, met and missed counts, the worst
level and department, and the trend against the previous period of the same length (see
`previous_figures`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import heapq
import io
import itertools
import logging
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.clocks import clock_at, decided_at
from slaclock.engine.config import REPORT_GROUPS, Config, Metric, ReportSubscription
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.engine.reports import (
    SLA_LOG_COLUMNS,
    ComplianceAccumulator,
    ReportError,
    SlaLogRow,
    Tally,
    check_group_by,
    compliance_columns,
    compliance_record,
    format_instant,
    parse_sort,
    sla_log_record,
)
from slaclock.engine.summary import SummaryAccumulator, render_summary
from slaclock.ports import (
    ClockRecordStore,
    ConfigSource,
    LinkIssuer,
    Mailer,
    ReportJob,
    ReportJobStatus,
    ReportJobStore,
    ReportQueue,
    ReportSink,
    ServiceUnavailable,
)
from slaclock.ports import SlaLogRow as ClockRecord
from slaclock.services.report_email import describe_period, render_report_email
from slaclock.services.report_sort import DEFAULT_CHUNK_ROWS, DistinctCounter, external_sort

log = logging.getLogger(__name__)

PERIOD_KINDS: tuple[str, ...] = ("daily", "weekly", "monthly")
NAMED_PERIODS: Mapping[str, tuple[str, int]] = {
    "yesterday": ("daily", -1),
    "last_week": ("weekly", -1),
    "last_month": ("monthly", -1),
    "today": ("daily", 0),
    "this_week": ("weekly", 0),
    "this_month": ("monthly", 0),
}
"""Named periods of ``POST /reports``: (kind, offset from the period containing now). ``last_*`` and
``yesterday`` are the previous COMPLETE period (what a subscription of that kind would report);
``this_*`` and ``today`` run from the current period's start to its end (decided so far)."""

FILES: tuple[str, ...] = ("sla_log.csv", "compliance.csv", "summary.html")
CSV_TYPE = "text/csv; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
REPORTS_PREFIX = "reports/"
_CHUNK_BYTES = 1024 * 1024
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ReportRequestError(ValidationError):
    """A report request is invalid (400): every problem, each with its field path."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        super().__init__(errors, "invalid report request")


class ReportNotFound(SlaclockError):  # noqa: N818 - named after the HTTP answer it becomes (404)
    """No report job has this id."""

    http_status = 404


class ReportBusy(SlaclockError):  # noqa: N818 - a condition, like ServiceUnavailable
    """Another builder holds the job's lease: the queue should deliver the message again later."""


# ------------------------------------------------------------------------------------------- periods


@dataclass(frozen=True, slots=True)
class Period:
    """A report period: [`start`, `end`) as aware UTC instants, described in `timezone` (IANA).

    `kind`: ``daily``, ``weekly`` (ISO weeks, Monday to Monday), ``monthly`` or ``custom``. `label`
    names it in object keys and e-mails: ``2026-11-19``, ``2026-W47``, ``2026-11``; a custom period of
    whole local days ``2026-11-01_2026-11-30`` (last day inclusive), otherwise its UTC instants
    ``20261101T093000Z_20261102T093000Z``."""

    start: datetime
    end: datetime
    timezone: str
    kind: str
    label: str

    def previous(self) -> Period:
        """The period just before: the previous day/week/month, or a custom period of the same length."""
        if self.kind in PERIOD_KINDS:
            return calendar_period(self.kind, self.start, self.timezone, -1)
        length = self.end - self.start
        return custom_period(self.start - length, self.start, self.timezone)

    def to_dict(self) -> dict[str, str]:
        return {
            "from": format_instant(self.start),
            "to": format_instant(self.end),
            "timezone": self.timezone,
            "kind": self.kind,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Period:
        return cls(
            start=_parse_utc(d["from"]),
            end=_parse_utc(d["to"]),
            timezone=str(d["timezone"]),
            kind=str(d["kind"]),
            label=str(d["label"]),
        )


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def local_midnight(day: date, zone: str | ZoneInfo) -> datetime:
    """The first instant of local `day` in `zone`, in UTC. Where midnight does not exist (a DST gap
    at 00:00) this is the transition instant; where it happens twice, the first one."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period_dates(kind: str, day: date, offset: int) -> tuple[date, date]:
    if kind == "daily":
        first = day + timedelta(days=offset)
        return first, first + timedelta(days=1)
    if kind == "weekly":
        first = day - timedelta(days=day.weekday()) + timedelta(weeks=offset)
        return first, first + timedelta(weeks=1)
    if kind == "monthly":
        first = _shift_months(day.replace(day=1), offset)
        return first, _shift_months(first, 1)
    raise ValueError(f"unknown period kind {kind!r}")


def _label(kind: str, first: date) -> str:
    if kind == "daily":
        return first.isoformat()
    if kind == "weekly":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{first.year:04d}-{first.month:02d}"


def calendar_period(kind: str, instant: datetime, timezone: str, offset: int = 0) -> Period:
    """The day / ISO week / month containing `instant` in `timezone`, moved by `offset` periods
    (-1: the previous one). Boundaries are local midnights (see `local_midnight`), so a day is 23 or
    25 hours long across a DST change."""
    tz = ZoneInfo(timezone)
    first, after = _period_dates(kind, instant.astimezone(tz).date(), offset)
    return Period(local_midnight(first, tz), local_midnight(after, tz), timezone, kind, _label(kind, first))


def custom_period(start: datetime, end: datetime, timezone: str) -> Period:
    """A period of arbitrary instants; labelled by local dates when both ends are local midnights."""
    tz = ZoneInfo(timezone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    if local_midnight(first.date(), tz) == start and local_midnight(last.date(), tz) == end:
        label = f"{first.date().isoformat()}_{(last.date() - timedelta(days=1)).isoformat()}"
    else:
        label = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}_{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return Period(start.astimezone(UTC), end.astimezone(UTC), timezone, "custom", label)


def due_subscriptions(
    config: Config, kind: str, scheduled_at: datetime, window: timedelta
) -> list[tuple[ReportSubscription, Period]]:
    """The `kind` subscriptions due at a schedule firing, each with the period to report.

    The schedule of a kind fires every `window` (the template's cron: hourly at minute 15). A
    subscription is due when its current period began within the last `window` in its calendar's
    zone: start in (`scheduled_at` - `window`, `scheduled_at`]. Consecutive firings tile time, so each
    local period start is caught by exactly one firing, whatever the zone's offset (half hours too).
    The period reported is the previous, now complete, one.

    >>> due_subscriptions(cfg, "daily", datetime(2026, 11, 19, 23, 15, tzinfo=UTC), timedelta(hours=1))
    ... # doctest: +SKIP  (a Europe/Paris daily subscription: its 2026-11-19, reported at 00:15 Paris)
    """
    due = []
    for sub in config.reports:
        if sub.period != kind:
            continue
        zone = config.calendars[sub.calendar].timezone
        current = calendar_period(kind, scheduled_at, zone)
        if scheduled_at - window < current.start <= scheduled_at:
            due.append((sub, calendar_period(kind, scheduled_at, zone, -1)))
    return due


def one_year_after(start: datetime, timezone: str) -> datetime:
    """`start` + one calendar year in `timezone` (29 February + 1 year is 1 March)."""
    local = start.astimezone(ZoneInfo(timezone))
    try:
        later = local.replace(year=local.year + 1)
    except ValueError:
        later = local.replace(year=local.year + 1, month=3, day=1)
    return later.astimezone(UTC)


# ---------------------------------------------------------------------------------------- the spec


def folder_name(name: str) -> str:
    """A subscription name as a key segment: ``[A-Za-z0-9._-]`` kept, other runs become ``-``; a name
    that had to change gets 8 hex digits of its SHA-256, so two names never share a folder."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "report"
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return slug


def scheduled_report_id(name: str, period: Period) -> str:
    """The job id of a subscription's report for `period`: ``<folder name>.<label>``."""
    return f"{folder_name(name)}.{period.label}"


def new_report_id(now: datetime) -> str:
    """An on-demand report id: its UTC creation second and 12 random hex digits (sortable, unguessable)."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """Everything a builder needs, validated. `name` is the subscription's (None on demand);
    `recipients` may be empty (no e-mail); `sort` is a tuple of `SORT_KEYS` (``-key`` descending),
    empty for outcome order."""

    report_id: str
    title: str
    period: Period
    name: str | None = None
    group_by: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    link_expiry_seconds: int = MAX_LINK_SECONDS
    include_running: bool = False

    @property
    def prefix(self) -> str:
        """``reports/<name or id>/<period label>/``."""
        folder = folder_name(self.name) if self.name is not None else self.report_id
        return f"{REPORTS_PREFIX}{folder}/{self.period.label}/"

    @property
    def keys(self) -> dict[str, str]:
        """File name -> object key, for `FILES`."""
        return {name: self.prefix + name for name in FILES}

    @property
    def fingerprint(self) -> str:
        """What decides the headline figures (filters, running clocks): equal fingerprints, comparable
        figures. Groupings and sort do not change them."""
        doc = repr((sorted((k, tuple(v)) for k, v in self.filters.items()), self.include_running))
        return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "title": self.title,
            "name": self.name,
            "period": self.period.to_dict(),
            "group_by": list(self.group_by),
            "filters": {k: list(v) for k, v in self.filters.items()},
            "sort": list(self.sort),
            "recipients": list(self.recipients),
            "link_expiry_seconds": self.link_expiry_seconds,
            "include_running": self.include_running,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReportSpec:
        return cls(
            report_id=str(d["report_id"]),
            title=str(d["title"]),
            name=d.get("name"),
            period=Period.from_dict(d["period"]),
            group_by=tuple(d.get("group_by", ())),
            filters={k: tuple(v) for k, v in (d.get("filters") or {}).items()},
            sort=tuple(d.get("sort", ())),
            recipients=tuple(d.get("recipients", ())),
            link_expiry_seconds=int(d.get("link_expiry_seconds", MAX_LINK_SECONDS)),
            include_running=bool(d.get("include_running", False)),
        )


def subscription_spec(sub: ReportSubscription, period: Period, link_expiry_seconds: int) -> ReportSpec:
    """The spec of a subscription's report for `period` (already validated by the configuration)."""
    return ReportSpec(
        report_id=scheduled_report_id(sub.name, period),
        title=sub.name,
        name=sub.name,
        period=period,
        group_by=tuple(sub.group_by),
        filters={k: tuple(v) for k, v in sub.filters.items()},
        recipients=tuple(sub.recipients),
        link_expiry_seconds=link_expiry_seconds,
    )


# ------------------------------------------------------------------------------- request validation


class PeriodRange(BaseModel):
    """``{"from": ..., "to": ...}``: each a date (``2026-11-01``: from its start; as ``to``, to its
    END, so the last day is included) or an ISO 8601 instant with an offset (``to`` excluded)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: StrictStr = Field(alias="from")
    to: StrictStr


def _comma_list(value: Any) -> Any:
    """``"level,metric"`` is accepted for ``["level", "metric"]``."""
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    return value


class ReportRequestBody(BaseModel):
    """The body of ``POST /reports``. Only the shapes are checked here; `validate_request` checks the
    values against the configuration and lists every problem. `period` is a named period (a string)
    or a `PeriodRange`, told apart in `validate_request` (a pydantic union would report both)."""

    model_config = ConfigDict(extra="forbid")

    period: Any
    timezone: StrictStr | None = None
    calendar: StrictStr | None = None
    filters: dict[str, list[StrictStr]] = Field(default_factory=dict)
    group_by: Annotated[list[StrictStr], BeforeValidator(_comma_list)] = Field(default_factory=list)
    sort: Annotated[list[StrictStr], BeforeValidator(_comma_list)] = Field(default_factory=list)
    recipients: list[StrictStr] = Field(default_factory=list)
    link_expiry_seconds: StrictInt | None = None
    include_running: StrictBool = False
    title: StrictStr | None = Field(default=None, max_length=200)


def _path(loc: Sequence[Any], prefix: str = "") -> str:
    """A pydantic location as this project writes field paths: ``filters.level[0]``, ``period.from``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = "from" if part == "from_" else str(part)
            path = f"{path}.{name}" if path else name
    return path


def _pydantic_problems(err: PydanticValidationError, prefix: str = "") -> list[tuple[str, str]]:
    return [
        (_path(e["loc"], prefix), "unknown field" if e["type"] == "extra_forbidden" else str(e["msg"]))
        for e in err.errors()
    ]


def _parse_bound(
    text: str, tz: ZoneInfo, *, end: bool, path: str, errors: list[tuple[str, str]]
) -> datetime | None:
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors.append((path, f"{text!r} is not a date"))
            return None
        try:
            return local_midnight(day + timedelta(days=1) if end else day, tz)
        except (OverflowError, ValueError):
            errors.append((path, f"{text!r} is out of range"))
            return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        errors.append((path, f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 instant"))
        return None
    if t.tzinfo is None or t.utcoffset() is None:
        errors.append((path, f"{text!r} has no UTC offset (add 'Z' or '+hh:mm')"))
        return None
    try:
        return t.astimezone(UTC)
    except (OverflowError, ValueError):
        errors.append((path, f"{text!r} is out of range"))
        return None


def _request_zone(body: ReportRequestBody, config: Config, errors: list[tuple[str, str]]) -> str | None:
    if body.calendar is not None and body.timezone is not None:
        errors.append(("calendar", "give a calendar or a timezone, not both"))
        return None
    if body.calendar is not None:
        cal = config.calendars.get(body.calendar)
        if cal is None:
            errors.append(
                ("calendar", f"unknown calendar {body.calendar!r} ({', '.join(sorted(config.calendars))})")
            )
            return None
        return cal.timezone
    zone = body.timezone or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(("timezone", f"unknown time zone {zone!r} (an IANA name such as Europe/Paris)"))
        return None
    return zone


def _request_period(
    body: ReportRequestBody, zone: str | None, now: datetime, errors: list[tuple[str, str]]
) -> Period | None:
    if isinstance(body.period, str):
        named = NAMED_PERIODS.get(body.period)
        if named is None:
            errors.append(
                ("period", f"unknown period {body.period!r} ({', '.join(NAMED_PERIODS)}, or {{from, to}})")
            )
            return None
        return None if zone is None else calendar_period(named[0], now, zone, named[1])
    if not isinstance(body.period, Mapping):
        errors.append(("period", f"a named period ({', '.join(NAMED_PERIODS)}) or {{from, to}}"))
        return None
    try:
        bounds = PeriodRange.model_validate(body.period)
    except PydanticValidationError as e:
        errors.extend(_pydantic_problems(e, "period"))
        return None
    tz = ZoneInfo(zone or "UTC")
    start = _parse_bound(bounds.from_, tz, end=False, path="period.from", errors=errors)
    end = _parse_bound(bounds.to, tz, end=True, path="period.to", errors=errors)
    if start is None or end is None or zone is None:
        return None
    if end <= start:
        errors.append(("period", f"empty or inverted: 'to' ({format_instant(end)}) must be after 'from' "
                                 f"({format_instant(start)})"))  # fmt: skip
        return None
    if start > now:
        errors.append(("period.from", f"{format_instant(start)} is in the future"))
        return None
    if end > one_year_after(start, zone):
        errors.append(("period", "longer than a year: ask for at most one year per report"))
        return None
    return custom_period(start, end, zone)


def _request_filters(
    filters: Mapping[str, Sequence[str]], config: Config, errors: list[tuple[str, str]]
) -> dict[str, tuple[str, ...]]:
    known: dict[str, Iterable[str]] = {"level": config.levels, "metric": [m.value for m in Metric]}
    out: dict[str, tuple[str, ...]] = {}
    for key, values in filters.items():
        if key not in REPORT_GROUPS:
            errors.append((f"filters.{key}", f"unknown filter ({', '.join(REPORT_GROUPS)})"))
            continue
        if not values:
            errors.append((f"filters.{key}", "list at least one value"))
            continue
        names = known.get(key)
        for i, v in enumerate(values):
            if names is not None and v not in names:
                errors.append((f"filters.{key}[{i}]", f"unknown {key} {v!r} ({', '.join(sorted(names))})"))
        out[key] = tuple(dict.fromkeys(values))
    return out


def _engine_check(errors: list[tuple[str, str]], check: Any, value: Any) -> tuple[str, ...]:
    try:
        result: tuple[str, ...] = check(value)
    except ReportError as e:
        errors.extend(e.errors)
        return ()
    return result


def validate_request(
    doc: Any, config: Config, now: datetime, *, report_id: str, default_expiry: int = MAX_LINK_SECONDS
) -> ReportSpec:
    """The spec of an on-demand report, or `ReportRequestError` listing every problem: unknown
    fields, an unknown named period, time zone or calendar, a bad date or instant, an empty or
    inverted range, a range over a year, a range that starts in the future, unknown filter fields or
    values, an unknown or repeated grouping, an unknown sort key, a bad address, a link expiry
    outside 1 s .. 7 days."""
    if not isinstance(doc, Mapping):
        raise ReportRequestError([("", "the body must be a JSON object")])
    try:
        body = ReportRequestBody.model_validate(doc)
    except PydanticValidationError as e:
        raise ReportRequestError(_pydantic_problems(e)) from None
    errors: list[tuple[str, str]] = []
    zone = _request_zone(body, config, errors)
    period = _request_period(body, zone, now, errors)
    filters = _request_filters(body.filters, config, errors)
    group_by = _engine_check(errors, check_group_by, body.group_by)
    sort = _engine_check(errors, parse_sort, body.sort)
    for i, address in enumerate(body.recipients):
        if not _EMAIL.fullmatch(address):
            errors.append((f"recipients[{i}]", f"{address!r} is not an e-mail address"))
    expiry = default_expiry if body.link_expiry_seconds is None else body.link_expiry_seconds
    if not 1 <= expiry <= MAX_LINK_SECONDS:
        errors.append(("link_expiry_seconds", f"{expiry} is outside 1 .. {MAX_LINK_SECONDS} s (7 days, the "
                                              "longest a report link can live)"))  # fmt: skip
    if errors or period is None:
        raise ReportRequestError(errors or [("period", "invalid")])
    return ReportSpec(
        report_id=report_id,
        title=body.title or "on demand",
        period=period,
        group_by=group_by,
        filters=filters,
        sort=sort,
        recipients=tuple(dict.fromkeys(body.recipients)),
        link_expiry_seconds=expiry,
        include_running=body.include_running,
    )


# ------------------------------------------------------------------------------------------- ports


@dataclass(frozen=True)
class ReportPorts:
    """What the report use cases need. `links` issues the report links (signed tokens opened by the
    link route, see `slaclock.services.report_links`); None: the sink presigns them itself, and such
    links die with the credentials that signed them (docs/reports-on-aws.md)."""

    config: ConfigSource
    clocks: ClockRecordStore
    sink: ReportSink
    mailer: Mailer
    jobs: ReportJobStore
    queue: ReportQueue
    links: LinkIssuer | None = None
    link_expiry_seconds: int = MAX_LINK_SECONDS
    lease: timedelta = timedelta(minutes=16)
    sort_chunk_rows: int = DEFAULT_CHUNK_ROWS
    tmp_dir: str | None = None

    def link(self, key: str, now: datetime, expires_in: int) -> str:
        """The link of object `key`, valid from `now` for `expires_in` seconds."""
        if self.links is not None:
            return self.links.link(key, now + timedelta(seconds=expires_in))
        return self.sink.link(key, expires_in)


# ---------------------------------------------------------------------------------------- building


def to_log_row(
    record: ClockRecord,
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
        timezone=record.time_zone or zones.get(record.calendar, "UTC"),
        decided_at=decided_at(status.value, due, record.stopped_at),
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
    zones = {name: cal.timezone for name, cal in config.calendars.items()}
    calendars = config.calendars
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


def csv_chunks(header: Sequence[str], records: Iterable[Sequence[str]], count: _Count) -> Iterator[bytes]:
    """UTF-8 CSV (the csv module's defaults, as the engine's writers) in chunks of about 1 MiB;
    `count.n` ends as the number of records."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    size = writer.writerow(header)
    for record in records:
        size += writer.writerow(record)
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


def build_report(ports: ReportPorts, spec: ReportSpec, config: Config, now: datetime) -> dict[str, Any]:
    """Write the three files of `spec` under `spec.keys` and return the figures (JSON-able): rows,
    tickets, met, missed, running, compliance_pct (None when nothing was decided), compliance_rows,
    worst_level, worst_department, fingerprint. Every record is taken at `now` (`report_rows`), which
    also labels the page ("as of")."""
    keys = spec.keys
    compliance = ComplianceAccumulator(spec.group_by)
    page = SummaryAccumulator()
    log_count, compliance_count = _Count(), _Count()
    with contextlib.ExitStack() as stack:
        tickets = stack.enter_context(DistinctCounter(directory=ports.tmp_dir))

        def counted() -> Iterator[SlaLogRow]:
            for row in report_rows(ports, spec, config, now):
                tickets.add(row.ticket_id)
                day = compliance.day_of(row) if row.decided_at is not None else None
                compliance.add(row, day)
                page.add(row, day)
                yield row

        rows: Iterator[SlaLogRow] = counted()
        if spec.sort:
            rows = stack.enter_context(
                external_sort(rows, spec.sort, chunk_rows=ports.sort_chunk_rows, directory=ports.tmp_dir)
            )
        records = (sla_log_record(r) for r in rows)
        ports.sink.put(keys["sla_log.csv"], csv_chunks(SLA_LOG_COLUMNS, records, log_count), CSV_TYPE)
        page.tickets = tickets.count()
    ports.sink.put(
        keys["compliance.csv"],
        csv_chunks(
            compliance_columns(compliance.group_by),
            (compliance_record(r) for r in compliance.rows()),
            compliance_count,
        ),
        CSV_TYPE,
    )
    period = spec.period
    html = render_summary(page, title=page_title(spec), now=now, subtitle=describe_period(period))
    ports.sink.put(keys["summary.html"], [html.encode("utf-8")], HTML_TYPE)
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


def page_title(spec: ReportSpec) -> str:
    """``SLA report daily-billing · 2026-11-19``: the summary page's title."""
    return f"SLA report {spec.title} · {spec.period.label}"


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


# --------------------------------------------------------------------------------------- use cases


def request_report(ports: ReportPorts, doc: Any, now: datetime) -> ReportJob:
    """``POST /reports``: validate `doc` (raises `ReportRequestError`), store the job, queue it."""
    config = ports.config.load()
    report_id = new_report_id(now)
    spec = validate_request(doc, config, now, report_id=report_id, default_expiry=ports.link_expiry_seconds)
    job = ReportJob(
        id=report_id, status=ReportJobStatus.QUEUED, spec=spec.to_dict(), created_at=now, updated_at=now
    )
    ports.jobs.create(job)
    _submit(ports, report_id, now)
    log.info("report requested", extra={"report_id": report_id, "period": spec.period.label})
    return job


def _submit(ports: ReportPorts, job_id: str, now: datetime) -> None:
    try:
        ports.queue.submit(job_id)
    except ServiceUnavailable:
        ports.jobs.fail(job_id, now=now, error="the report queue refused the job")
        raise


def schedule_reports(ports: ReportPorts, kind: str, scheduled_at: datetime, window: timedelta) -> list[str]:
    """A schedule of `kind` fired (at `scheduled_at`, every `window`): queue the due subscriptions'
    reports; returns their job ids. A job created by an earlier firing is not queued again unless it
    is still waiting (queued or failed: its message may have been lost)."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    config = ports.config.load()
    queued = []
    for sub, period in due_subscriptions(config, kind, scheduled_at, window):
        spec = subscription_spec(sub, period, ports.link_expiry_seconds)
        job = ReportJob(spec.report_id, ReportJobStatus.QUEUED, spec.to_dict(), scheduled_at, scheduled_at)
        if not ports.jobs.create(job):
            existing = ports.jobs.get(spec.report_id)
            if existing is None or existing.status in (ReportJobStatus.RUNNING, ReportJobStatus.DONE):
                continue
        _submit(ports, spec.report_id, scheduled_at)
        queued.append(spec.report_id)
        log.info("report scheduled", extra={"report_id": spec.report_id})
    return queued


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What `run_report_job` did: `built` (False when a retry reused the stored figures), `mailed`
    (the message id, None when there is no recipient)."""

    job_id: str
    keys: tuple[str, ...]
    figures: Mapping[str, Any]
    built: bool
    mailed: str | None


def run_report_job(ports: ReportPorts, job_id: str, now: datetime) -> ReportOutcome | None:
    """Build and send the job's report. None when there is nothing to do (unknown id, already done).

    Raises `ReportBusy` when another builder holds the lease (the message should come back later),
    and re-raises whatever failed after marking the job failed (the queue redelivers it; a report
    already uploaded is then only e-mailed again, not rebuilt)."""
    job = ports.jobs.claim(job_id, now=now, lease=ports.lease)
    if job is None:
        current = ports.jobs.get(job_id)
        if current is None or current.status is ReportJobStatus.DONE:
            return None
        raise ReportBusy(f"report {job_id} is being built by another invocation")
    spec = ReportSpec.from_dict(job.spec)
    try:
        built = job.figures is None
        if job.figures is None:
            config = ports.config.load()
            figures = build_report(ports, spec, config, now)
            figures["previous"] = previous_figures(ports, spec, config, now)
            keys = tuple(spec.keys.values())
            ports.jobs.save_built(job_id, now=now, keys=keys, figures=figures)
        else:
            figures, keys = dict(job.figures), job.keys
        mailed = None
        if spec.recipients:
            links = report_links(ports, spec, now, spec.link_expiry_seconds)
            message = render_report_email(
                spec, figures, links, expires_at=now + timedelta(seconds=spec.link_expiry_seconds)
            )
            mailed = ports.mailer.send(spec.recipients, message.subject, message.text, message.html)
        ports.jobs.finish(job_id, now=now)
    except Exception as err:
        ports.jobs.fail(job_id, now=now, error=_reason(err))
        raise
    log.info("report done", extra={"report_id": job_id, "rows": figures.get("rows"), "built": built})
    return ReportOutcome(job_id=job_id, keys=keys, figures=figures, built=built, mailed=mailed)


def _reason(err: BaseException) -> str:
    """A failure reason safe to store and show: the error class, and for our own errors their message
    (which names services and codes only)."""
    if isinstance(err, SlaclockError):
        return f"{type(err).__name__}: {str(err)[:300]}"
    return type(err).__name__


def report_links(ports: ReportPorts, spec: ReportSpec, now: datetime, expires_in: int) -> dict[str, str]:
    """A fresh link per file, valid `expires_in` seconds from `now` (signing is local: no AWS call
    beyond reading the link key, cached per container)."""
    return {name: ports.link(key, now, expires_in) for name, key in spec.keys.items()}


def report_status(ports: ReportPorts, job_id: str, now: datetime) -> dict[str, Any]:
    """``GET /reports/{id}``: the job's status, period and figures, and (when done) FRESH links valid
    for the configured expiry. Raises `ReportNotFound`."""
    job = ports.jobs.get(job_id)
    if job is None:
        raise ReportNotFound(f"no report {job_id!r}")
    spec = ReportSpec.from_dict(job.spec)
    answer: dict[str, Any] = {
        "id": job.id,
        "status": job.status.value,
        "title": spec.title,
        "name": spec.name,
        "period": spec.period.to_dict(),
        "created_at": format_instant(job.created_at),
        "updated_at": format_instant(job.updated_at),
        "attempts": job.attempts,
    }
    if job.figures is not None:
        answer["figures"] = {k: v for k, v in job.figures.items() if k != "fingerprint"}
    if job.status is ReportJobStatus.DONE:
        expires_in = min(spec.link_expiry_seconds, ports.link_expiry_seconds)
        links = report_links(ports, spec, now, expires_in)
        answer["files"] = {name: {"key": key, "url": links[name]} for name, key in spec.keys.items()}
        answer["links_expire_at"] = format_instant(now + timedelta(seconds=expires_in))
    if job.status is ReportJobStatus.FAILED and job.error:
        answer["error"] = job.error
    return answer
