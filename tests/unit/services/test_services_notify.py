"""Recipients resolution and notice rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slaclock.engine.clocks import Notice, Step, StepKind
from slaclock.engine.config import Metric
from slaclock.services.notify import (
    human_duration,
    local_time,
    notice_detail,
    render_notice,
    resolve_recipients,
)

from tests.fakes.world import World

LEADS = {"billing": ("lea@example.com", "cfo@example.com"), "support": ("sam@example.com",)}


def test_assignee_leads_and_literal_addresses_resolve_in_order_without_duplicates():
    got = resolve_recipients(
        ["assignee", "lead:billing", "CFO@example.com", "head@example.com"],
        {"assignee": "ana@example.com"},
        LEADS,
    )
    assert got == ("ana@example.com", "lea@example.com", "cfo@example.com", "head@example.com")


@pytest.mark.parametrize("assignee", [None, "", "12345", 42])
def test_an_assignee_that_is_not_an_address_resolves_to_nobody(assignee):
    assert resolve_recipients(["assignee"], {"assignee": assignee}, LEADS) == ()


def test_a_department_without_a_lead_resolves_to_nobody():
    assert resolve_recipients(["lead:sales"], {}, LEADS) == ()


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3600, "1 h"), (3900, "1 h 5 min"),
                          (90000, "1 d 1 h"), (-720, "12 min")],
)  # fmt: skip
def test_human_durations(seconds, text):
    assert human_duration(seconds) == text


def test_local_time_uses_the_calendar_zone_and_its_abbreviation():
    t = datetime(2026, 7, 1, 14, 45, tzinfo=UTC)
    assert local_time(t, "Europe/Paris") == "Wed 01 Jul 2026 16:45 CEST (Europe/Paris)"
    assert local_time(t.replace(second=20), "UTC") == "Wed 01 Jul 2026 14:45:20 UTC"


def test_a_breach_email_names_ticket_level_metric_due_in_the_calendar_zone_and_lateness():
    w = World()
    due = datetime(2026, 11, 20, 10, 10, tzinfo=UTC)
    notice = Notice(
        "4711", Metric.FIRST_RESPONSE, 1, "urgent", Step(StepKind.BREACH, due, ("assignee",)), due
    )
    message = render_notice(w.config, notice, datetime(2026, 11, 20, 11, 22, tzinfo=UTC))
    assert message.subject == "SLA breached: ticket 4711, first response overdue by 1 h 12 min"
    assert "Due: Fri 20 Nov 2026 11:10 CET (Europe/Paris)" in message.text
    assert "SLA level: urgent" in message.text
    assert "overdue by 1 h 12 min" in message.html


def test_the_email_names_the_tickets_subject_and_requester_when_known():
    w = World()
    due = datetime(2026, 11, 20, 10, 10, tzinfo=UTC)
    notice = Notice(
        "4711", Metric.FIRST_RESPONSE, 1, "urgent", Step(StepKind.WARNING, due, ("assignee",)), due
    )
    fields = {"subject": "Refund <not> received", "requester": "ann@client.test", "status": "open"}
    message = render_notice(w.config, notice, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), fields)
    lines = message.text.splitlines()
    assert lines[2:5] == ["Ticket: 4711", "Subject: Refund <not> received", "Requester: ann@client.test"]
    assert "Refund &lt;not&gt; received" in message.html and "<not>" not in message.html
    bare = render_notice(w.config, notice, due, {"subject": " ", "requester": None})
    assert "Subject" not in bare.text and "Requester" not in bare.text


def test_html_is_escaped():
    w = World()
    due = datetime(2026, 11, 20, 10, 10, tzinfo=UTC)
    notice = Notice("<b>7</b>", Metric.RESOLUTION, 2, "urgent", Step(StepKind.ESCALATION, due, (), 1), due)
    message = render_notice(w.config, notice, due)
    assert "<b>7</b>" not in message.html and "&lt;b&gt;7&lt;/b&gt;" in message.html
    assert "escalation 2" in message.subject and "resolution (cycle 2)" in message.text


def test_the_integration_detail_carries_ids_and_instants_only():
    due = datetime(2026, 11, 20, 10, 10, tzinfo=UTC)
    notice = Notice(
        "4711", Metric.FIRST_RESPONSE, 1, "urgent", Step(StepKind.WARNING, due, ("a@b.test",)), due
    )
    detail = notice_detail(notice, datetime(2026, 11, 20, 10, 5, tzinfo=UTC))
    assert detail == {
        "notice": "4711#first_response#1#warning", "ticket_id": "4711", "level": "urgent",
        "metric": "first_response", "cycle": 1, "step": "warning", "step_at": "2026-11-20T10:10:00Z",
        "due_at": "2026-11-20T10:10:00Z", "sent_at": "2026-11-20T10:05:00Z", "seconds_past_due": -300.0,
    }  # fmt: skip


def test_the_due_instant_is_shown_in_the_zone_of_the_calendar_the_ticket_follows():
    """A level with ``calendar_from: requester`` (docs/clocks.md, "Calendars that follow the ticket"):
    the e-mail shows the due instant in the requester's zone, New York, not the office's (Paris)."""
    from datetime import timedelta

    from slaclock.engine.clocks import evaluate, replay_ticket
    from slaclock.engine.config import load_config
    from slaclock.engine.events import parse_event
    from slaclock.engine.policy import compile_policy

    config = load_config({
        "calendars": {"office": {"timezone": "Europe/Paris", "hours": "24x7"}},
        "levels": {"standard": {"calendar": "office", "calendar_from": "requester",
                                "targets": {"first_response": {"within": "1h"}}}},
        "rules": [{"name": "all", "set_level": "standard"}],
    })  # fmt: skip
    policy = compile_policy(config)
    created = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    event = parse_event({"id": "e1", "ticket_id": "9", "type": "created", "at": created.isoformat(),
                         "ticket": {"requester_time_zone": "America/New_York"}})  # fmt: skip
    (notice,) = evaluate(policy, replay_ticket(policy, [event]), created + timedelta(hours=2)).notices
    assert notice.calendar.startswith("office|America/New_York")
    message = render_notice(config, notice, created + timedelta(hours=2))
    assert "Due: Fri 20 Nov 2026 11:00 EST (America/New_York)" in message.text
