"""Validation of a ``POST /reports`` body into a `ReportSpec`: every problem listed in one
`ReportRequestError` (a 400), nothing stored before the whole body is valid."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from slaclock.engine.config import AT, CUSTOMER, Config, Metric
from slaclock.engine.limits import MAX_LINK_SECONDS
from slaclock.engine.reports import (
    ReportError,
    check_group_by,
    check_time_zone,
    format_instant,
    parse_sort,
)
from slaclock.engine.vocabulary import GROUP_FIELDS
from slaclock.services.report.spec import (
    NAMED_PERIODS,
    Period,
    ReportRequestError,
    ReportSpec,
    calendar_period,
    custom_period,
    local_midnight,
    one_year_after,
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


class SlaLogColumns(BaseModel):
    """``"columns"``: the SLA log's optional columns, as `slaclock replay` offers them
    (``--time-zone``, ``--durations human``, ``--ticket-links``, ``--calendar-columns``: ``calendar``)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: StrictStr | None = None
    durations: Literal["seconds", "human"] = "seconds"
    ticket_links: StrictBool = False
    calendar: StrictBool = False


class ReportRequestBody(BaseModel):
    """The body of ``POST /reports``. Only the shapes are checked here; `validate_request` checks the
    values against the configuration and lists every problem. `period` is a named period (a string)
    or a `PeriodRange`, told apart in `validate_request` (a pydantic union would report both)."""

    model_config = ConfigDict(extra="forbid")

    period: Any
    timezone: StrictStr | None = None
    calendar: StrictStr | None = None
    time_split: StrictBool = False
    filters: dict[str, list[StrictStr]] = Field(default_factory=dict)
    group_by: Annotated[list[StrictStr], BeforeValidator(_comma_list)] = Field(default_factory=list)
    sort: Annotated[list[StrictStr], BeforeValidator(_comma_list)] = Field(default_factory=list)
    recipients: list[StrictStr] = Field(default_factory=list)
    link_expiry_seconds: StrictInt | None = None
    include_running: StrictBool = False
    title: StrictStr | None = Field(default=None, max_length=200)
    columns: SlaLogColumns = Field(default_factory=SlaLogColumns)
    utc: StrictBool = False


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
    metrics = [m.value for m in Metric] + [n for n in config.metrics if n not in set(Metric)]
    known: dict[str, Iterable[str]] = {
        "level": config.level_names(),
        "metric": metrics + [f"{m}{AT}{a}" for a in config.agreements for m in metrics],
        "agreement": [CUSTOMER, *config.agreements],
    }
    out: dict[str, tuple[str, ...]] = {}
    for key, values in filters.items():
        if key not in GROUP_FIELDS:
            errors.append((f"filters.{key}", f"unknown filter ({', '.join(GROUP_FIELDS)})"))
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
    columns = body.columns
    if columns.time_zone is not None:
        _engine_check(errors, lambda z: check_time_zone(z, "columns.time_zone"), columns.time_zone)
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
        time_zone=columns.time_zone,
        durations=columns.durations,
        ticket_links=columns.ticket_links,
        calendar_columns=columns.calendar,
        utc=body.utc,
        time_split=body.time_split,
    )
