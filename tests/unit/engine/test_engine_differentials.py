"""Where two surfaces of the engine compute the same thing, they are compared row by row.

The engine has one clock walk, one rule walk and one CSV writer; what remains are pairs of surfaces over
them, or over a library, checked on generated tickets (`slaclock_local.sample`, the vocabulary of
examples/sla.yaml) and on hypothesis tickets with odd values:

- the level decision reused while a ticket is folded (`rules.RuleInputs`: a real cache, whose key must
  tell apart every input the walk tells apart) against `choose_level` walked on every event;
- `clocks.clock_outcomes` (the walk without steps, for reports) against `evaluate(replay_ticket())`;
- `write_reports` on a `Replay` (rows written from the outcomes) against the same views written row by
  row, byte for byte;
- against the standard library: the CSV cell quoting against the `csv` module, `format_instant`
  against ``isoformat``, the calendar's integer-microsecond `elapsed_us` / `add_us` against its
  `elapsed` / `add` on datetimes;
- `parse_event`'s quick acceptance of a well-formed event against the full validation.

(The command's reader, `commands.replay.read_events`, is compared with ``json.loads`` in
test_read_events_differential.py.)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slaclock.adapters.config_file import load_config_file
from slaclock.engine import clocks
from slaclock.engine.calendar import BusinessCalendar
from slaclock.engine.clocks import clock_outcomes, evaluate, replay_ticket
from slaclock.engine.config import Config, load_config
from slaclock.engine.errors import EventError
from slaclock.engine.events import Event, EventType, _parse_checked, parse_event
from slaclock.engine.policy import Policy, compile_policy
from slaclock.engine.replay import Replay, group_by_ticket, write_reports
from slaclock.engine.reports import csv_text, format_instant
from slaclock.engine.rules import RuleInputs, choose_level, rule_inputs
from slaclock_local.sample import generate_events

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = load_config_file(ROOT / "examples" / "sla.yaml")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Configurations whose rules read the event instant (TIMED) or the status (STATUS), so the fold cannot
# use its quick test and keys every decision; with dates, numbers, regexes, `exists` and custom fields.
TIMED = load_config(
    {
        "calendars": {
            "office": {"timezone": "Europe/Paris", "hours": {d: ["09:00-17:00"] for d in ("mon", "wed")}},
            "always": {"timezone": "UTC", "hours": "24x7"},
        },
        "levels": {
            "fast": {
                "calendar": "always",
                "targets": {"first_response": {"within": "30m"}, "next_response": {"within": "1h"},
                            "resolution": {"within": "4h", "pause_when_status": ["pending"]}},
            },
            "slow": {
                "calendar": "office",
                "targets": {"first_response": {"within": "4h"},
                            "resolution": {"within": "16h", "pause_when_status": ["pending", "on_hold"]}},
            },
        },
        "rules": [
            {"name": "Stale", "when": {"field": "created_at", "op": "older_than", "value": "2h"},
             "set_level": "slow"},
            {"name": "Fresh urgent",
             "when": {"all": [{"field": "updated_at", "op": "newer_than", "value": "30m"},
                              {"field": "priority", "op": "in", "value": ["urgent", "high"]}]},
             "set_level": "fast", "stop": True},
            {"name": "Seats", "when": {"field": "custom.seats", "op": "gt", "value": 10},
             "set_level": "fast", "stop": True},
            {"name": "Region", "when": {"any": [{"field": "custom.region", "op": "exists"},
                                               {"field": "requester", "op": "matches", "value": r"\.ca$"}]},
             "set_level": "fast"},
            {"name": "Tagged", "when": {"not": {"field": "tags", "op": "not_contains", "value": "VIP"}},
             "set_level": "fast", "stop": True},
            {"name": "Default", "set_level": "slow"},
        ],
    }
)  # fmt: skip


STATUS = load_config(
    {
        **TIMED.document,
        "rules": [
            {"name": "Pending", "when": {"field": "status", "op": "in", "value": ["pending", "on_hold"]},
             "set_level": "slow", "stop": True},
            *TIMED.document["rules"][2:-1],
            {"name": "Default", "set_level": "fast"},
        ],
    }
)  # fmt: skip
DELETED = load_config(
    {
        **TIMED.document,
        "rules": [
            {"name": "Deleted", "when": {"field": "deleted", "op": "is", "value": True}, "set_level": "fast",
             "stop": True},
            {"name": "Default", "set_level": "slow"},
        ],
    }
)  # fmt: skip
CONFIGS = [EXAMPLE, TIMED, STATUS, DELETED]


def sample_tickets(n: int, seed: int) -> list[list[Event]]:
    """The events of `n` generated tickets, grouped by ticket (arrival order, duplicates included).
    Some events carry `updated_at` (and `created` events `created_at`), for the date rules."""
    docs = list(generate_events(n, seed=seed))
    for i, d in enumerate(docs):
        if i % 3 == 0 or d["type"] == "created":
            d["ticket"] = {**(d.get("ticket") or {}), "updated_at": d["at"]}
            if d["type"] == "created":
                d["ticket"]["created_at"] = d["at"]
    return list(group_by_ticket(parse_event(d) for d in docs).values())


# ------------------------------------------------------------------------------------ tickets with odd values

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
ODD = [None, "", "urgent", "URGENT", "high", "low", "vip", "VIP", "enterprise", "chat", "phone", "pending",
       "x@client.ca", 1, 1.0, True, False, 0, 11, "11", 10.5, [], ["VIP"], ["vip", 1], ["outage"], {"a": 1},
       "2026-03-02T06:00:00Z", "2026-03-02T08:59:00+01:00", "not a date"]  # fmt: skip
FIELD_NAMES = ["priority", "tags", "customer_group", "channel", "status", "requester", "created_at",
               "updated_at", "department", "assignee", "custom"]  # fmt: skip
values = st.sampled_from(ODD)
customs = st.one_of(
    st.none(),
    st.sampled_from(["gold", 3]),
    st.dictionaries(st.sampled_from(["seats", "region", "plan"]), values, max_size=2),
)
updates = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=3).flatmap(
    lambda d: st.just(d) if "custom" not in d else customs.map(lambda c: {**d, "custom": c})
)
KINDS = list(EventType)


@st.composite
def odd_tickets(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(1, 9))
    events = []
    for i in range(n):
        kind = EventType.CREATED if i == 0 and draw(st.booleans()) else draw(st.sampled_from(KINDS))
        at = T0 + timedelta(minutes=15 * draw(st.integers(0, 40)))
        events.append(Event(f"e{i}", "T", kind, at, draw(updates)))
    return events


def uncached(config: Config) -> Policy:
    """`config`'s policy with a decision key that never repeats: the fold walks the rules on every event,
    as before the decision was cached."""
    never_equal = RuleInputs(key=lambda fields, at: (object(),), fields=frozenset(), reads_at=True)
    return dataclasses.replace(compile_policy(config), decision=never_equal)


def folds_of_every_prefix(policy: Policy, events: list[Event]) -> list[clocks.TicketState]:
    ordered = sorted(events, key=lambda e: e.key)
    return [replay_ticket(policy, ordered[:k]) for k in range(1, len(ordered) + 1)]


# ------------------------------------------------------------------------------------------- the level cache


@pytest.mark.parametrize("config", CONFIGS, ids=["example", "timed", "status", "deleted"])
def test_the_cached_level_decision_equals_choose_level_on_every_event_of_generated_tickets(
    config,
):
    tickets = sample_tickets(250, seed=31)
    cached = [folds_of_every_prefix(compile_policy(config), evs) for evs in tickets]
    walked = [folds_of_every_prefix(uncached(config), evs) for evs in tickets]
    assert cached == walked
    changed = sum(1 for states in walked if len({s.level for s in states}) > 1)
    assert changed > 5 or config is DELETED, "the generated tickets should change level now and then"


@PROPERTY
@given(events=odd_tickets(), config=st.sampled_from(CONFIGS))
def test_the_cached_level_decision_equals_choose_level_with_odd_values(events, config):
    cached = folds_of_every_prefix(compile_policy(config), events)
    walked = folds_of_every_prefix(uncached(config), events)
    assert cached == walked
    # and each state's level is what choose_level says of its fields at its last event
    for state in cached:
        assert (state.level, state.matched_rules) == choose_level(config, state.fields, state.last_key[0])


@pytest.mark.parametrize(
    ("config", "kinds"),
    [
        (STATUS, [EventType.SOLVED, EventType.REOPENED, EventType.CLOSED, EventType.CUSTOMER_REPLIED]),
        (DELETED, [EventType.DELETED]),
    ],
)
def test_the_cached_decision_follows_the_status_and_deletion_events_imply(config, kinds):
    # The events carry no field: their type sets the status (or `deleted`), which a rule reads.
    for kind in kinds:
        events = [
            Event("a", "T", EventType.CREATED, T0, {"status": "pending"}),
            Event("b", "T", EventType.SOLVED, T0 + timedelta(minutes=5), {}),
            Event("c", "T", kind, T0 + timedelta(minutes=10), {}),
            Event("d", "T", EventType.UPDATED, T0 + timedelta(minutes=15), {"status": "on_hold"}),
            Event("e", "T", kind, T0 + timedelta(minutes=20), {}),
        ]
        cached = folds_of_every_prefix(compile_policy(config), events)
        assert cached == folds_of_every_prefix(uncached(config), events)
        assert len({state.level for state in cached}) == 2


@PROPERTY
@given(fields=updates, other=updates, minutes=st.integers(-300, 300), config=st.sampled_from(CONFIGS))
def test_equal_decision_keys_mean_equal_decisions(fields, other, minutes, config):
    key = rule_inputs(config.rules).key
    mixed = {**fields, **other}
    at, later = T0, T0 + timedelta(minutes=minutes)
    for a, b in ((fields, mixed), (fields, other), (mixed, other)):
        for t in (at, later):
            if key(a, at) == key(b, t):
                assert choose_level(config, a, at) == choose_level(config, b, t)


def test_decision_keys_tell_apart_values_python_finds_equal():
    key = rule_inputs(TIMED.rules).key
    assert key({"custom": {"seats": 1}}, T0) != key({"custom": {"seats": True}}, T0)
    assert key({"tags": ["VIP"]}, T0) != key({"tags": ("VIP",)}, T0)
    assert key({"custom": {"region": object()}}, T0) != key({"custom": {"region": object()}}, T0)
    assert key({"priority": "high", "status": "new"}, T0) == key({"priority": "high", "status": "new"}, T0)
    # reading `at`: the date tests' outcomes are part of the key
    created = {"created_at": "2026-03-02T06:00:00Z"}
    assert key(created, T0) != key(created, T0 + timedelta(hours=2))


# ----------------------------------------------------------------------------------------- clock outcomes


def outcome_of(clock: clocks.Clock) -> tuple[object, ...]:
    return (
        clock.metric, clock.cycle, clock.level, clock.calendar, clock.started_at, clock.due_at,
        clock.stopped_at, clock.status, clock.business_seconds, clock.remaining_seconds,
    )  # fmt: skip


def assert_outcomes_equal_evaluate(config: Config, events: list[Event], now: datetime) -> None:
    policy = compile_policy(config)
    view = evaluate(policy, replay_ticket(policy, events), now)
    ticket_id, fields, outcomes = clock_outcomes(policy, events, now)
    assert (ticket_id, fields) == (view.ticket_id, view.fields)
    assert outcomes == [outcome_of(c) for c in view.clocks]
    for o in outcomes:  # the same types too (CSV text and sums depend on them)
        assert o[5] is None or o[5].tzinfo is UTC
        assert type(o[8]) is float and type(o[9]) is float


@PROPERTY
@given(events=odd_tickets(), later=st.integers(0, 3000), config=st.sampled_from(CONFIGS))
def test_clock_outcomes_equal_the_evaluated_view_with_odd_values(events, later, config):
    assert_outcomes_equal_evaluate(config, events, max(e.at for e in events) + timedelta(minutes=later))


@pytest.mark.parametrize("reply_after", [29, 30, 31])
def test_clock_outcomes_at_the_due_boundary(reply_after):
    # The first response is due within 30 minutes (24x7): a reply exactly at due is met.
    config = load_config({**TIMED.document, "rules": [{"name": "All", "set_level": "fast"}]})
    events = [
        Event("a", "T", EventType.CREATED, T0, {}),
        Event("b", "T", EventType.AGENT_REPLIED, T0 + timedelta(minutes=reply_after), {}),
    ]
    for now in (T0 + timedelta(minutes=reply_after), T0 + timedelta(minutes=30), T0 + timedelta(hours=9)):
        assert_outcomes_equal_evaluate(config, events, now)
    (first, *_) = clock_outcomes(compile_policy(config), events, T0 + timedelta(hours=9))[2]
    assert first[7].value == ("missed" if reply_after > 30 else "met")
    (first, *_) = clock_outcomes(compile_policy(config), events[:1], T0 + timedelta(minutes=30))[2]
    assert first[7].value == "open"  # at due exactly: not missed yet


def test_clock_outcomes_raise_what_replay_ticket_raises():
    with pytest.raises(Exception, match="no event to replay"):
        clock_outcomes(compile_policy(EXAMPLE), [], T0)
    mixed = [Event("a", "1", EventType.CREATED, T0, {}), Event("b", "2", EventType.CREATED, T0, {})]
    with pytest.raises(Exception, match="mixed"):
        clock_outcomes(compile_policy(EXAMPLE), mixed, T0)


# ------------------------------------------------------------------------------------------------ reports

ODD_TEXT = ["a,b", 'say "hi"', "=SUM(A1)", "-1", "+33 1 23", "@home", "line\nbreak", "cr\rx", "\ttab",
            " lead", "é,ü", "", 12, 3.5, True, None, ["x", "y"]]  # fmt: skip


def odd_events(n: int, seed: int) -> list[Event]:
    """Generated events whose requester, department and assignee are sometimes odd texts."""
    rnd = random.Random(seed)
    out = []
    for d in generate_events(n, seed=seed):
        ticket = d.get("ticket") or {}
        for name in ("requester", "department", "assignee"):
            if rnd.random() < 0.1:
                ticket[name] = rnd.choice(ODD_TEXT)
        if rnd.random() < 0.02:
            d["ticket_id"] = rnd.choice(["=1", 'a,"b"', "x\ny"]) + d["ticket_id"]
        d["ticket"] = ticket
        out.append(parse_event(d))
    return out


def written(
    config: Config, views: object, group_by: str, now: datetime | None
) -> tuple[str, str, str, object]:
    log, comp, page = io.StringIO(newline=""), io.StringIO(newline=""), io.StringIO()
    stats = write_reports(
        config, views, sla_log=log, compliance=comp, summary=page, group_by=group_by, now=now,  # type: ignore[arg-type]
        stats=getattr(views, "stats", None),
    )  # fmt: skip
    return log.getvalue(), comp.getvalue(), page.getvalue(), stats


@pytest.mark.parametrize("group_by", ["", "level,metric", "department,agent,level,metric", "agent"])
def test_writing_a_replay_equals_writing_its_views_row_by_row(group_by):
    config = load_config(_odd_level_names(EXAMPLE.document))
    events = odd_events(300, seed=11)
    for at in (None, datetime(2026, 1, 20, 12, tzinfo=UTC)):
        now = Replay(config, events, at).now
        fast = written(config, Replay(config, events, at), group_by, now)
        slow = written(config, list(Replay(config, events, at)), group_by, now)
        assert fast[:3] == slow[:3]
        assert fast[3] == _stats_of_views(config, events, at, group_by)
    assert '"high, ""p1"""' in fast[0] and "'=SUM(A1)" in fast[0] and '"line\nbreak"' in fast[0]


def _stats_of_views(config: Config, events: list[Event], now: datetime | None, group_by: str) -> object:
    run = Replay(config, events, now)
    stats = run.stats
    write_reports(
        config, list(run), sla_log=io.StringIO(newline=""), compliance=io.StringIO(newline=""),
        group_by=group_by, stats=stats,
    )  # fmt: skip
    return stats


def _odd_level_names(document: dict) -> dict:
    """examples/sla.yaml with levels named so that they need CSV quoting."""
    text = json.dumps(document)
    text = text.replace('"high"', '"high, \\"p1\\""').replace('"low"', '"=low"')
    return json.loads(text)


@given(st.text(alphabet=st.sampled_from('ab ,"\r\n\t\x00é\u2028;='), max_size=12))
@settings(max_examples=300, deadline=None)
def test_csv_text_quotes_as_the_csv_module(text):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([text, "x"])
    assert buffer.getvalue() == csv_text(text) + ",x\r\n"


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)
@settings(max_examples=300, deadline=None)
def test_format_instant_equals_isoformat(naive, tz):
    t = naive.replace(tzinfo=tz)
    assert format_instant(t) == t.astimezone(UTC).isoformat()[:-6] + "Z"


# ----------------------------------------------------------------------------------------------- calendar

CALENDARS = [
    BusinessCalendar.from_dict(
        {"timezone": "Europe/Paris", "hours": {"mon": ["09:00-12:30", "13:30-18:00"], "fri": ["22:00-02:00"]},
         "holidays": {"country": "FR", "closures": [{"date": "2026-03-04", "from": "10:00"}]}}
    ),
    BusinessCalendar.from_dict({"timezone": "UTC", "hours": "24x7"}),
]  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


@given(
    cal=st.sampled_from(CALENDARS),
    a=st.integers(0, 3 * 365 * 86400 * 10**6),
    span=st.integers(-(10**12), 2 * 365 * 86400 * 10**6),
)
@settings(max_examples=200, deadline=None)
def test_microsecond_calendar_arithmetic_equals_the_datetime_one(cal, a, span):
    x = 1_767_225_600_000_000 + a  # from 2026-01-01
    t, u = EPOCH + x * US, EPOCH + (x + span) * US
    assert cal.elapsed_us(x, x + span) * US == cal.elapsed(t, u)
    if span >= 0:
        assert EPOCH + cal.add_us(x, span) * US == cal.add(t, span * US)


# ------------------------------------------------------------------------------------------- parse & read

VALID = {"id": "e1", "ticket_id": "T1", "type": "created", "at": "2026-03-02T09:00:00Z",
         "ticket": {"status": "open", "tags": ["a"], "custom": {"plan": "gold"}}}  # fmt: skip
CORRUPTIONS = {
    "id": ["", 7, True, None, ["e"]],
    "ticket_id": ["", 5, None],
    "type": ["solved", "bogus", 3, ["created"], None],
    "at": ["2026-03-02T09:00:00.5+02:00", "2026-03-02T09:00:00", "2026-03-02", "soon", 5, None],
    "ticket": [None, [], {}, {"tags": "x"}, {"zzz": 1}, {"tags": ["a", 1]}, {"tags": None}, {"custom": [1]},
               {"custom": None}, {"tags": ("a",)}, {"status": 3, "priority": None}],
    "source": ["zendesk"],
    "extra": [1],
}  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> dict:
    """A valid event document with up to three parts missing, changed or added."""
    doc = json.loads(json.dumps(VALID))
    for name in draw(st.lists(st.sampled_from(sorted(CORRUPTIONS)), max_size=3, unique=True)):
        if name in doc and draw(st.booleans()):
            del doc[name]
        else:
            doc[name] = draw(st.sampled_from(CORRUPTIONS[name]))
    return doc


@given(documents())
@settings(max_examples=300, deadline=None)
def test_parse_event_equals_the_full_validation(doc):
    try:
        expected = _parse_checked(doc)
    except EventError as e:
        with pytest.raises(EventError) as raised:
            parse_event(doc)
        assert raised.value.messages() == e.messages()
    else:
        event = parse_event(doc)
        assert event == expected and type(event.ticket) is dict
        assert event.at.tzinfo is UTC and event.ticket is not doc.get("ticket")
