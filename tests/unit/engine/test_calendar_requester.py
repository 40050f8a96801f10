"""The requester's calendar (docs/clocks.md, "Calendars that follow the ticket"): ``calendar_from:
requester`` counts a level's clocks in its calendar's opening hours, in the ticket's
``requester_time_zone``, with the public holidays of its ``requester_country``; absent or invalid
fields fall back to the level's calendar; the choice follows the fields like ``calendar_from`` does
(running clocks not breached adopt, stopped or breached ones keep theirs); reports show the calendar
used and the due instant in its zone."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.cli import main
from slaclock.engine.calendar.requester import Calendars
from slaclock.engine.clocks import evaluate, replay_ticket
from slaclock.engine.config import Metric, load_config
from slaclock.engine.errors import ConfigError
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy

FR, RES = Metric.FIRST_RESPONSE, Metric.RESOLUTION
WEEK = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
DOC = {
    "calendars": {"paris-office": {"timezone": "Europe/Paris", "hours": WEEK, "holidays": {"country": "FR"}}},
    "levels": {"standard": {"calendar": "paris-office", "calendar_from": "requester",
                            "targets": {"first_response": {"within": "2h"}, "resolution": {"within": "8h"}}}},
    "rules": [{"name": "all", "set_level": "standard"}],
}  # fmt: skip
POLICY = compile_policy(load_config(DOC))
WED = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # 16:00 in New York, 22:00 in Paris; Thu 26 is Thanksgiving


def ev(i, at, kind, ticket=None):
    return parse_event(
        {"id": f"e{i}", "ticket_id": "9", "type": kind, "at": at.isoformat(), "ticket": ticket or {}}
    )


def clocks(events, now=WED + timedelta(days=5)):
    view = evaluate(POLICY, replay_ticket(POLICY, events), now)
    return {c.metric: c for c in view.clocks}


def test_hand_computed_new_york_requester_with_us_holidays():
    # 16:00-17:00 Wed New York, Thu 26 Nov closed (US Thanksgiving), Fri 09:00-10:00 -> due Fri 15:00Z
    c = clocks([ev(1, WED, "created", {"status": "open", "requester_time_zone": "America/New_York",
                                        "requester_country": "us"})])[FR]  # fmt: skip
    assert (c.level, c.calendar) == ("standard", "paris-office|America/New_York|US")
    assert c.due_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    # the same ticket with no country: New York hours, the level calendar's holidays (France: none on
    # the 26th) -> 16:00-17:00 Wed + Thu 09:00-10:00 -> due Thu 15:00Z
    c = clocks([ev(1, WED, "created", {"status": "open", "requester_time_zone": "America/New_York"})])[FR]
    assert (c.calendar, c.due_at) == (
        "paris-office|America/New_York|",
        datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "ticket",
    [{}, {"requester_time_zone": "Mars/Olympus", "requester_country": "US"}, {"requester_time_zone": ""},
     {"requester_time_zone": "../../etc/passwd"}, {"requester_country": "US"}],
)  # fmt: skip
def test_absent_or_invalid_zone_falls_back_to_the_level_calendar(ticket):
    # Paris: created 22:00 Wed (closed), Thu 09:00-11:00 -> due Thu 10:00Z
    c = clocks([ev(1, WED, "created", {"status": "open", **ticket})])[FR]
    assert (c.calendar, c.due_at) == ("paris-office", datetime(2026, 11, 26, 10, 0, tzinfo=UTC))


def test_an_unknown_country_keeps_the_level_calendars_holidays():
    c = clocks([ev(1, WED, "created", {"status": "open", "requester_time_zone": "America/New_York",
                                        "requester_country": "ZZ"})])[FR]  # fmt: skip
    assert (c.calendar, c.due_at) == (
        "paris-office|America/New_York|",
        datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
    )


def test_the_choice_follows_the_field_adopt_or_freeze():
    # first response met 21:30Z on the Paris calendar (frozen); zone set at 22:00Z: resolution adopts
    # New York for its whole history: Wed 16:00-17:00 + Thu closed + Fri 09:00-16:00 -> due Fri 21:00Z
    events = [
        ev(1, WED, "created", {"status": "open"}),
        ev(2, WED + timedelta(minutes=30), "agent_replied"),
        ev(3, WED + timedelta(hours=1), "updated", {"requester_time_zone": "America/New_York",
                                                     "requester_country": "US"}),
    ]  # fmt: skip
    got = clocks(events)
    assert got[FR].calendar == "paris-office"
    assert got[RES].calendar == "paris-office|America/New_York|US"
    assert got[RES].due_at == datetime(2026, 11, 27, 21, 0, tzinfo=UTC)


def test_derived_calendars_are_kept_in_the_policy_not_the_process():
    a, b = compile_policy(load_config(DOC)), compile_policy(load_config(DOC))
    name = "paris-office|Asia/Tokyo|JP"
    assert isinstance(a.calendars, Calendars) and a.calendars[name] is a.calendars[name]
    assert a.calendars[name] is not b.calendars[name] and a.calendars[name] == b.calendars[name]
    assert a.calendars[name].timezone == "Asia/Tokyo" and list(a.calendars) == ["paris-office"]
    with pytest.raises(KeyError):
        a.calendars["paris-office|Mars/Olympus|"]


def test_calendar_map_is_refused_with_requester():
    doc = json.loads(json.dumps(DOC))
    doc["levels"]["standard"]["calendar_map"] = {"us": "paris-office"}
    with pytest.raises(ConfigError) as err:
        load_config(doc)
    assert [p for p, _ in err.value.errors] == ["levels.standard.calendar_map"]


def test_replay_shows_the_calendar_used_and_its_zone(tmp_path):
    config = tmp_path / "sla.json"
    config.write_text(json.dumps(DOC), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    ticket = {"status": "open", "requester_time_zone": "America/New_York", "requester_country": "US"}
    event = {"id": "a", "ticket_id": "1", "type": "created", "at": WED.isoformat(), "ticket": ticket}
    events.write_text(json.dumps(event) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["replay", "--config", str(config), "--events", str(events), "--out", str(out), "--quiet"]
    assert main([*argv, "--now", "2026-11-30T12:00:00Z", "--calendar-columns"]) == 0
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO((out / "sla_log.csv").read_text("utf-8")))}
    fr = rows["first_response"]
    assert (fr["calendar"], fr["due_at"], fr["calendar_due_at"]) == (
        "paris-office|America/New_York|US", "2026-11-27T15:00:00Z", "2026-11-27T10:00:00-05:00",
    )  # fmt: skip
    # the compliance day is counted in the requester's zone: missed, decided at its due instant
    compliance = (out / "compliance.csv").read_text("utf-8")
    assert "2026-11-27," in compliance


def test_the_generic_provider_maps_the_requesters_zone_and_country():
    from slaclock.helpdesk import provider_for

    from tests.fixtures.builders import body, source

    mapping = {
        "ticket_id": "ticket.number", "type": "event", "at": "occurred_at",
        "ticket.status": "ticket.state", "ticket.requester_time_zone": "ticket.customer.tz",
        "ticket.requester_country": "ticket.customer.country",
    }  # fmt: skip
    customer = {"tz": "America/New_York", "country": "US"}
    doc = {"event": "created", "occurred_at": "2026-11-25T21:00:00Z",
           "ticket": {"number": 9, "state": "open", "customer": customer}}  # fmt: skip
    (event,) = provider_for("generic").parse({}, body(doc), source("generic", mapping=mapping))
    assert (event.ticket["requester_time_zone"], event.ticket["requester_country"]) == (
        "America/New_York",
        "US",
    )
    c = clocks([event])[FR]
    assert (c.calendar, c.due_at) == (
        "paris-office|America/New_York|US",
        datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )


# The same as a calendar_from map whose calendar is paris-office's hours in New York with US holidays.
MAPPED = compile_policy(
    load_config(
        {
            **DOC,
            "calendars": {
                **DOC["calendars"],
                "ny": {"timezone": "America/New_York", "hours": WEEK, "holidays": {"country": "US"}},
            },
            "levels": {
                "standard": {
                    **{k: v for k, v in DOC["levels"]["standard"].items() if k != "calendar_from"},
                    "calendar_from": "custom.region",
                    "calendar_map": {"us": "ny"},
                }
            },
        }
    )
)


KINDS = ["updated", "agent_replied", "solved", "reopened"]


@settings(max_examples=60, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 72 * 60), st.booleans(), st.sampled_from(KINDS)),
        max_size=8,
    )
)  # fmt: skip
def test_the_choice_follows_the_fields_like_calendar_from(changes):
    """Property: setting and clearing the requester's zone at any instants gives the clocks a
    ``calendar_from: custom.region`` level gives when the region is set and cleared at the same ones."""
    ours, theirs = [ev(0, WED, "created", {"status": "open"})], [ev(0, WED, "created", {"status": "open"})]
    for i, (minutes, ny, kind) in enumerate(changes, start=1):
        at = WED + timedelta(minutes=minutes)
        zone = {"requester_time_zone": "America/New_York", "requester_country": "US"} if ny else {
            "requester_time_zone": None, "requester_country": None}  # fmt: skip
        ours.append(ev(i, at, kind, zone))
        theirs.append(ev(i, at, kind, {"custom": {"region": "us" if ny else None}}))
    now = WED + timedelta(days=6)
    a = evaluate(POLICY, replay_ticket(POLICY, ours), now).clocks
    b = evaluate(MAPPED, replay_ticket(MAPPED, theirs), now).clocks
    names = {"paris-office": "paris-office", "paris-office|America/New_York|US": "ny"}
    assert [(c.metric, c.cycle, names[c.calendar], c.status, c.due_at, c.business_seconds) for c in a] == [
        (c.metric, c.cycle, c.calendar, c.status, c.due_at, c.business_seconds) for c in b
    ]
