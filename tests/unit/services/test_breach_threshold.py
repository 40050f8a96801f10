"""Hootsuite's threshold notice: a breach recipient with ``notify_when_breached_at_least: N`` is told
only when N or more of its clocks are breached at once, once per crossing, with the list."""

from __future__ import annotations

import copy
from typing import Any

from tests.fakes.world import CONFIG_DOC, T0, World, minutes

LEAD = "billing-lead@example.com"


def world(n: int = 3) -> World:
    doc: dict[str, Any] = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["notify"]["breach"] = [
        "assignee",
        {"to": "lead:billing", "notify_when_breached_at_least": n},
    ]
    doc["levels"]["standard"]["escalations"] = []
    return World(doc)


def lead_mail(w: World) -> list[Any]:
    return [m for m in w.mailer.sent if LEAD in m.to]


def open_ticket(w: World, ticket: str, at: Any) -> None:
    w.ingest(w.event("created", at=at, ticket_id=ticket))


def breach(w: World, ticket: str) -> None:
    """Run the ticket's checks until its first response breach is sent."""
    while (armed := w.scheduler.schedules.get(ticket)) is not None:
        result = w.fire(ticket)
        if any(n.step.kind.value == "breach" for n in result.sent):
            return
        del armed


def test_told_once_when_the_third_clock_breaches_with_the_list() -> None:
    w = world(3)
    for i, t in enumerate(("A", "B", "C")):
        open_ticket(w, t, T0 + minutes(i))
    breach(w, "A")
    breach(w, "B")
    assert lead_mail(w) == []  # two breached: below the threshold, and no per-breach e-mail either
    breach(w, "C")
    (mail,) = lead_mail(w)
    assert mail.subject.startswith("SLA: 3 of your tickets are breached")
    assert [line for line in mail.text.splitlines() if line.startswith("- ")] == [
        "- ticket A: first response",
        "- ticket B: first response",
        "- ticket C: first response",
    ]
    assert all(
        m.to == ("ana@example.com",) for m in w.mailer.sent if "breached" in m.subject and m is not mail
    )
    open_ticket(w, "D", T0 + minutes(3))
    breach(w, "D")  # still above: the same crossing, no new e-mail
    w.check("D", now=T0 + minutes(70))  # a repeated check counts nothing twice
    assert len(lead_mail(w)) == 1


def test_a_new_crossing_after_the_count_fell_below_is_told_again() -> None:
    w = world(2)
    open_ticket(w, "A", T0)
    open_ticket(w, "B", T0 + minutes(1))
    breach(w, "A")
    breach(w, "B")
    assert len(lead_mail(w)) == 1
    # both answered: the count falls to zero; two new breaches cross again
    w.ingest(w.event("agent_replied", at=T0 + minutes(70), ticket_id="A"))
    w.ingest(w.event("agent_replied", at=T0 + minutes(70), ticket_id="B"))
    open_ticket(w, "C", T0 + minutes(71))
    breach(w, "C")
    assert len(lead_mail(w)) == 1  # C alone: 1 < 2, the crossing is reset
    open_ticket(w, "D", T0 + minutes(72))
    breach(w, "D")
    assert len(lead_mail(w)) == 2
    assert "ticket C" in lead_mail(w)[1].text and "ticket A" not in lead_mail(w)[1].text


def test_the_threshold_is_validated() -> None:
    import pytest
    from slaclock.engine.config import load_config
    from slaclock.engine.errors import ConfigError

    doc: dict[str, Any] = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["notify"]["breach"] = [
        {"to": "lead:billing", "notify_when_breached_at_least": 0}
    ]
    with pytest.raises(ConfigError) as exc:
        load_config(doc)
    assert exc.value.errors == [
        (
            "levels.standard.notify.breach[0].notify_when_breached_at_least",
            "must be a whole number, 2 or more",
        )
    ]
