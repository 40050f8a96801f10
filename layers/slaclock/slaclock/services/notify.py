"""What a notice says and to whom: recipients resolution and the e-mail / integration renderings.

Pure functions (no I/O). `run_check` (slaclock.services.check) calls them for every notice it claims;
`render_notices` renders several notices of one ticket due in the same minute as ONE e-mail.

Recipients are tokens of the level's `notify` / `escalations` lists:

- ``assignee``: the ticket's `assignee` field, when it is an e-mail address (a helpdesk that sends an
  agent id instead gives no address: the token then resolves to nobody);
- ``lead:<department>``: every address `config.leads[<department>]` lists (none if the department has
  no lead);
- anything containing ``@``: that literal address.

Nobody is left out: when ``assignee`` names nobody (an unassigned ticket, or an agent id instead of an
address), the level's fallback stands in: its ``unassigned`` recipients when it lists any, else the
lead of the ticket's department (``lead:<the ticket's department field>``). A notice that still has
no address is sent to nobody; the check counts it (metric ``NoticesWithoutRecipient``, alarmed).

Addresses are deduplicated case-insensitively, first spelling kept, in token order.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slaclock.engine.calendar.requester import Zones
from slaclock.engine.clocks import Notice, StepKind
from slaclock.engine.config import CUSTOMER, Config, agreement_of
from slaclock.engine.events import format_instant
from slaclock.engine.ticket_links import ticket_linker

DETAIL_TYPES: Mapping[StepKind, str] = {
    StepKind.WARNING: "SLA Warning",
    StepKind.BREACH: "SLA Breached",
    StepKind.ESCALATION: "SLA Escalation",
}
"""EventBridge detail type per step kind (source ``slaclock``). Escalation rungs get their own type so a
rule can route them apart; the rung is in the detail's ``step`` (``escalation-1`` is the first)."""

_METRIC_WORDS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered e-mail."""

    subject: str
    text: str
    html: str


def resolve_recipients(
    tokens: Iterable[str],
    fields: Mapping[str, Any],
    leads: Mapping[str, Iterable[str]],
    unassigned: Iterable[str] = (),
) -> tuple[str, ...]:
    """The e-mail addresses `tokens` name for a ticket with `fields` (see the module docstring);
    `unassigned` is the level's fallback for an ``assignee`` that names nobody.

    >>> resolve_recipients(["assignee", "lead:billing", "Ana@x.test"], {"assignee": "ana@x.test"},
    ...                    {"billing": ["lea@x.test"]})
    ('ana@x.test', 'lea@x.test')
    >>> resolve_recipients(["assignee"], {"department": "billing"}, {"billing": ["lea@x.test"]})
    ('lea@x.test',)
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(address: Any) -> None:
        if isinstance(address, str) and "@" in address and address.strip().lower() not in seen:
            seen.add(address.strip().lower())
            out.append(address.strip())

    def add_token(recipient: str) -> None:
        if recipient.startswith("lead:"):
            for address in leads.get(recipient.removeprefix("lead:"), ()):
                add(address)
        elif recipient != "assignee":
            add(recipient)

    for recipient in tokens:
        if recipient != "assignee":
            add_token(recipient)
            continue
        assignee = fields.get("assignee")
        if isinstance(assignee, str) and "@" in assignee:
            add(assignee)
            continue
        fallback = tuple(unassigned)
        if not fallback:
            department = fields.get("department")
            fallback = (f"lead:{department}",) if isinstance(department, str) and department else ()
        for token in fallback:
            add_token(token)
    return tuple(out)


def seconds_past_due(notice: Notice, now: datetime) -> float:
    """How late the clock is at `now`, in seconds: negative before its due instant (a warning)."""
    return (now - notice.due_at).total_seconds()


def human_duration(seconds: float) -> str:
    """A short English duration: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h`` (rounded down)."""
    total = int(abs(seconds))
    if total < 60:
        return f"{total} s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def local_time(t: datetime, timezone: str) -> str:
    """`t` as the calendar's wall clock, seconds shown only when not zero:
    ``Fri 20 Nov 2026 16:45 CET (Europe/Paris)``, ``Fri 20 Nov 2026 11:00:20 UTC``."""
    local = t.astimezone(ZoneInfo(timezone))
    clock = f"{local:%H:%M:%S}" if local.second or local.microsecond else f"{local:%H:%M}"
    zone = local.tzname()
    return f"{local:%a %d %b %Y} {clock} {zone}" + ("" if zone == timezone else f" ({timezone})")


def _lateness(notice: Notice, now: datetime) -> str:
    late = seconds_past_due(notice, now)
    if late > 0:
        return f"overdue by {human_duration(late)}"
    if late == 0:
        return "due now"
    return f"due in {human_duration(late)}"


def render_notice(
    config: Config, notice: Notice, now: datetime, fields: Mapping[str, Any] | None = None
) -> Message:
    """The e-mail for `notice` sent at `now`: ticket, its subject and requester when the ticket's
    `fields` carry them, a link to the ticket in its helpdesk when its source has a ``ticket_url``,
    level, metric, step, due instant in the zone of the calendar the clock counts in (its level's, or
    the one its ``calendar_from`` chose for the ticket), and how late (or how long
    until due, for a warning). Subject and requester are personal data: they go into the e-mail to
    the people the step names, never into a log or an integration event."""
    return render_notices(config, (notice,), now, fields)


def _headline(notice: Notice, metric: str, lateness: str, agreement: str) -> str:
    """``SLA breached: ticket 42, first response 2h late``; another agreement's than the customer's
    names it: ``SLA breached (billing_ola): ...``."""
    kind = notice.step.kind
    of = "" if agreement == CUSTOMER else f" ({agreement})"
    if kind is StepKind.WARNING:
        return f"SLA warning{of}: ticket {notice.ticket_id}, {metric} {lateness}"
    if kind is StepKind.BREACH:
        return f"SLA breached{of}: ticket {notice.ticket_id}, {metric} {lateness}"
    return f"SLA escalation {notice.step.index + 1}{of}: ticket {notice.ticket_id}, {metric} {lateness}"


def _step_rows(config: Config, notice: Notice, now: datetime) -> tuple[str, list[tuple[str, str]]]:
    """One notice's headline and its rows (agreement when not the customer's, level, metric, step,
    due, status)."""
    base, agreement = agreement_of(notice.metric)
    metric = _METRIC_WORDS.get(str(base), str(base))
    level = config.level(notice.level)
    timezone = config.calendars[level.calendar].timezone if level is not None else "UTC"
    if notice.calendar:  # the calendar the clock counts in: a requester's one names its zone
        timezone = Zones(config.calendars).get(notice.calendar, timezone)
    lateness = _lateness(notice, now)
    return _headline(notice, metric, lateness, agreement), [
        *([("Agreement", agreement)] if agreement != CUSTOMER else []),
        ("SLA level", notice.level),
        ("Metric", f"{metric} (cycle {notice.cycle})" if notice.cycle > 1 else metric),
        ("Step", notice.step.key),
        ("Due", local_time(notice.due_at, timezone)),
        ("Status", lateness),
    ]


def render_notices(
    config: Config, notices: Sequence[Notice], now: datetime, fields: Mapping[str, Any] | None = None
) -> Message:
    """One e-mail for one or several notices of ONE ticket sent together at `now` (a warning and an
    escalation due to the same person at the same minute): the ticket's rows once (id, subject,
    requester, link), then each notice's headline and rows in the given order. The subject is the
    headlines joined with `` · ``; for one notice, exactly `render_notice`'s e-mail."""
    if not notices:
        raise ValueError("an e-mail needs at least one notice")
    ticket_id = notices[0].ticket_id
    ticket = [("Ticket", ticket_id)]
    for name, label in (("subject", "Subject"), ("requester", "Requester")):
        value = (fields or {}).get(name)
        if isinstance(value, str) and value.strip():
            ticket.append((label, value.strip()))
    link = ticket_linker(config.sources)(ticket_id)
    if link:
        ticket.append(("Link", link))
    parts = [_step_rows(config, n, now) for n in notices]
    headlines = [h for h, _ in parts]
    subject = " · ".join(headlines)

    def text_rows(rows: list[tuple[str, str]]) -> str:
        return "\n".join(f"{name}: {value}" for name, value in rows) + "\n"

    def html_rows(rows: list[tuple[str, str]]) -> str:
        cells = "".join(
            f"<tr><th align='left'>{html.escape(name)}</th><td>"
            + (
                f"<a href='{html.escape(value, quote=True)}'>{html.escape(value)}</a>"
                if name == "Link"
                else html.escape(value)
            )
            + "</td></tr>"
            for name, value in rows
        )
        return f"<table>{cells}</table>"

    if len(parts) == 1:
        ((headline, rows),) = parts
        text = headline + "\n\n" + text_rows(ticket + rows)
        body = f"<p><strong>{html.escape(headline)}</strong></p>{html_rows(ticket + rows)}"
    else:
        text = (
            f"{len(parts)} SLA notices for ticket {ticket_id}\n\n"
            + text_rows(ticket)
            + "".join(f"\n{headline}\n" + text_rows(rows) for headline, rows in parts)
        )
        body = (
            f"<p><strong>{len(parts)} SLA notices for ticket {html.escape(ticket_id)}</strong></p>"
            + html_rows(ticket)
            + "".join(f"<h3>{html.escape(headline)}</h3>{html_rows(rows)}" for headline, rows in parts)
        )
    page = f"<!doctype html><html><body>{body}<p style='color:#666'>Sent by slaclock.</p></body></html>"
    return Message(subject=subject, text=text, html=page)


def notice_detail(notice: Notice, now: datetime) -> dict[str, Any]:
    """The JSON detail of the EventBridge event and of the outgoing webhook for `notice` (ids, levels
    and instants only: no e-mail address, no ticket field)."""
    return {
        "notice": notice.key,
        "ticket_id": notice.ticket_id,
        "level": notice.level,
        "metric": str(notice.metric),
        "cycle": notice.cycle,
        "step": notice.step.key,
        "step_at": format_instant(notice.step.at),
        "due_at": format_instant(notice.due_at),
        "sent_at": format_instant(now),
        "seconds_past_due": round(seconds_past_due(notice, now), 3),
    }
