"""Report specifications: periods (a day, week or month in a calendar's zone, or a custom range),
what a report covers (`ReportSpec`), where its files go, and the errors of the report use cases."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slaclock.engine.config import Config, ReportSubscription
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.engine.reports import (
    format_instant,
)
from slaclock.engine.vocabulary import PERIODS

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
TIME_SPLIT_FILE = "time_split.csv"
"""The optional fourth file (`ReportSpec.time_split`)."""
CSV_TYPE = "text/csv; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
REPORTS_PREFIX = "reports/"


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
        if self.kind in PERIODS:
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
    time_zone: str | None = None
    """The SLA log's ``*_local`` columns in this IANA zone (`reports.SlaLogOptions`); None: none."""
    durations: str = "seconds"
    """``human`` adds ``business_time`` and ``remaining_time`` to the SLA log."""
    ticket_links: bool = False
    """Adds ``ticket_url`` (the sources' ``ticket_url`` templates) to the SLA log."""
    calendar_columns: bool = False
    """Adds ``calendar`` and ``calendar_due_at`` (the calendar each clock counted in, its due instant in
    that calendar's zone) to the SLA log."""
    utc: bool = False
    """The summary page's instants in UTC instead of each level's calendar zone."""
    time_split: bool = False
    """Also writes ``time_split.csv`` (`TIME_SPLIT_FILE`): each clock's business time by status, assignee
    and group, as ``slaclock replay --time-split`` writes it."""

    @property
    def prefix(self) -> str:
        """``reports/<name or id>/<period label>/``."""
        folder = folder_name(self.name) if self.name is not None else self.report_id
        return f"{REPORTS_PREFIX}{folder}/{self.period.label}/"

    @property
    def keys(self) -> dict[str, str]:
        """File name -> object key, for `FILES` (and `TIME_SPLIT_FILE` when asked)."""
        names = (*FILES, TIME_SPLIT_FILE) if self.time_split else FILES
        return {name: self.prefix + name for name in names}

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
            "time_zone": self.time_zone,
            "durations": self.durations,
            "ticket_links": self.ticket_links,
            "calendar_columns": self.calendar_columns,
            "utc": self.utc,
            "time_split": self.time_split,
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
            time_zone=d.get("time_zone"),
            durations=str(d.get("durations", "seconds")),
            ticket_links=bool(d.get("ticket_links", False)),
            calendar_columns=bool(d.get("calendar_columns", False)),
            utc=bool(d.get("utc", False)),
            time_split=bool(d.get("time_split", False)),
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
        time_split=sub.time_split,
    )
