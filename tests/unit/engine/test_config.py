"""Loading and validating a configuration document as a whole (slaclock.engine.config.load_config)."""

import copy
import re
from datetime import timedelta

import pytest
from slaclock.engine.config import (
    AllOf,
    AnyOf,
    Config,
    Escalation,
    Metric,
    Not,
    Predicate,
    ReportSubscription,
    Source,
    Target,
    load_config,
)
from slaclock.engine.errors import ConfigError, ValidationError

ALWAYS = {"timezone": "UTC", "hours": "24x7"}
OPS = (
    "is, is_not, in, not_in, contains, not_contains, starts_with, matches, gt, lt, exists, older_than, "
    "newer_than"
)
SHAPES = "{all: [...]}, {any: [...]}, {not: ...} or {field, op, value}"


ALL_METRICS = (
    "first_response, next_response, resolution, periodic_update, requester_wait, agent_work, first_assign"
)
"""The defined metrics (the built-ins) in definition order, as error messages list them."""


def base():
    """A small valid document; each test breaks one thing in its own copy."""
    return {
        "calendars": {
            "always": dict(ALWAYS),
            "office": {"timezone": "Europe/Paris", "hours": {"mon": ["09:00-17:00"]}},
        },
        "leads": {"billing": ["billing-lead@example.com"]},
        "levels": {
            "standard": {"calendar": "office", "targets": {"first_response": {"within": "8h"}}},
            "urgent": {
                "calendar": "always",
                "targets": {
                    "first_response": {"within": "1h", "warn_at": "50%"},
                    "next_response": {"within": "30m", "warn_before": "10m"},
                    "resolution": {"within": "8h", "warn_at": "75%", "pause_when_status": ["pending"]},
                },
                "notify": {"warning": ["assignee"], "breach": ["assignee", "lead:billing"]},
                "escalations": [{"after_due": "2h", "notify": ["boss@example.com"]}],
            },
        },
        "rules": [
            {"name": "Everyone else", "set_level": "standard"},
            {
                "name": "Urgent tag",
                "when": {"field": "tags", "op": "contains", "value": "urgent"},
                "set_level": "urgent",
            },
        ],
        "sources": {
            "zendesk-main": {"provider": "zendesk", "secret": {"ssm_parameter": "/slaclock/zendesk"}}
        },
        "reports": [{"name": "Weekly", "period": "weekly", "calendar": "office", "group_by": ["level"]}],
    }


def errors_of(doc):
    with pytest.raises(ConfigError) as err:
        load_config(doc)
    return err.value.errors


def the_error(doc):
    errors = errors_of(doc)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_base_document_is_valid_and_typed():
    cfg = load_config(base())
    assert isinstance(cfg, Config)
    assert set(cfg.calendars) == {"always", "office"}
    urgent = cfg.levels["urgent"]
    assert urgent.calendar == "always"
    assert urgent.targets[Metric.FIRST_RESPONSE] == Target(within=timedelta(hours=1), warn_at=0.5)
    assert urgent.targets[Metric.NEXT_RESPONSE] == Target(
        within=timedelta(minutes=30), warn_before=timedelta(minutes=10)
    )
    assert urgent.targets[Metric.RESOLUTION].pause_when_status == frozenset({"pending"})
    assert urgent.notify_breach == ("assignee", "lead:billing")
    assert urgent.escalations == (Escalation(notify=("boss@example.com",), after_due=timedelta(hours=2)),)
    assert cfg.levels["standard"].notify_warning == ("assignee",)  # the default
    assert [r.name for r in cfg.rules] == ["Everyone else", "Urgent tag"]
    assert cfg.rules[1].when == Predicate("tags", "contains", "urgent")
    assert cfg.sources["zendesk-main"] == Source(
        "zendesk-main", "zendesk", secret_ssm_parameter="/slaclock/zendesk"
    )
    assert cfg.leads == {"billing": ("billing-lead@example.com",)}
    assert cfg.reports == (ReportSubscription("Weekly", "weekly", "office", group_by=("level",)),)
    assert cfg.warnings == ()
    assert cfg.calendar_of("standard").timezone == "Europe/Paris"


def test_the_document_is_kept_as_a_copy():
    doc = base()
    cfg = load_config(doc)
    assert cfg.document == doc
    doc["levels"]["urgent"]["calendar"] = "office"
    assert cfg.document["levels"]["urgent"]["calendar"] == "always"


def test_optional_sections_may_be_absent():
    doc = base()
    for key in ("sources", "leads", "reports"):
        del doc[key]
    doc["levels"]["urgent"]["notify"]["breach"] = ["assignee"]
    cfg = load_config(doc)
    assert cfg.sources == {} and cfg.leads == {} and cfg.reports == ()


def test_x_keys_at_the_top_are_ignored_for_yaml_anchors():
    doc = base()
    doc["x-defaults"] = {"anything": [1, 2]}
    load_config(doc)


def test_nothing_is_half_loaded_one_error_rejects_everything():
    doc = base()
    doc["levels"]["standard"]["targets"]["first_response"]["within"] = "1 hour"
    with pytest.raises(ConfigError) as err:
        load_config(doc)
    assert isinstance(err.value, ValidationError)
    assert err.value.errors == [
        ("levels.standard.targets.first_response.within", "'1 hour' is not a duration")
    ]
    assert str(err.value) == (
        "invalid configuration (1 error)\n"
        "levels.standard.targets.first_response.within: '1 hour' is not a duration"
    )


# -- many mistakes at once --------


def test_every_mistake_is_reported_with_its_exact_path():
    doc = base()
    doc["calendars"]["office"]["timezone"] = "Mars/Olympus"
    doc["levels"]["urgent"]["calendar"] = "paris"
    doc["levels"]["urgent"]["targets"]["first_response"]["within"] = "1 hour"
    doc["levels"]["urgent"]["targets"]["next_response"]["warn_before"] = "45m"
    doc["levels"]["urgent"]["taregts"] = {}
    doc["levels"]["urgent"]["notify"]["breach"] = ["lead:sales", "bob"]
    doc["rules"][1]["when"] = {
        "all": [
            {"field": "tags", "op": "contains", "value": "x"},
            {"field": "priority", "op": "equals", "value": "high"},
            {"any": [{"field": "subject", "op": "matches", "value": "(unclosed"}]},
        ]
    }
    doc["rules"].insert(
        1,
        {
            "name": "Gold",
            "when": {"field": "customer_group", "op": "in", "value": "gold"},
            "set_level": "gold",
        },
    )
    doc["sources"]["zendesk-main"]["provider"] = "zendsk"
    doc["reports"][0]["period"] = "hourly"
    assert errors_of(doc) == [
        (
            "calendars.office.timezone",
            "'Mars/Olympus' is not a known IANA time zone (e.g. 'Europe/Paris', 'UTC')",
        ),
        ("levels.urgent.taregts", "unknown key (did you mean 'targets'?)"),
        ("levels.urgent.calendar", "unknown calendar 'paris' (calendars: always, office)"),
        ("levels.urgent.targets.first_response.within", "'1 hour' is not a duration"),
        ("levels.urgent.targets.next_response.warn_before", "'45m' must be shorter than within (30m)"),
        ("levels.urgent.notify.breach[0]", "'lead:sales' needs leads.sales (leads: billing)"),
        (
            "levels.urgent.notify.breach[1]",
            "'bob' is not a recipient (assignee, an e-mail address, or lead:<department>)",
        ),
        ("rules[1].when.value", "in takes a non-empty list of values, not 'gold'"),
        ("rules[1].set_level", "unknown level 'gold' (levels: standard, urgent)"),
        (
            "rules[2].when.all[1].op",
            f"unknown operator 'equals' ({OPS})",
        ),
        (
            "rules[2].when.all[2].any[0].field",
            "unknown field 'subject' (channel, status, priority, tags, department, assignee, "
            "assignee_status, requester, customer_group, created_at, updated_at, deleted, referrer_url, "
            "via_invitation, "
            "last_message_by, custom.<name>)",
        ),
        (
            "rules[2].when.all[2].any[0].value",
            "bad regular expression '(unclosed': missing ), unterminated subpattern at position 0",
        ),
        (
            "sources.zendesk-main.provider",
            "unknown provider 'zendsk' (zendesk, freshdesk, liveagent, intercom, jira, helpscout, generic)",
        ),
        ("reports[0].period", "unknown period 'hourly' (daily, weekly, monthly)"),
    ]


def test_a_document_that_is_not_a_mapping():
    assert errors_of(None) == [
        ("", "the configuration must be a mapping with calendars, levels and rules, not empty")
    ]
    assert errors_of([1]) == [
        ("", "the configuration must be a mapping with calendars, levels and rules, not a list")
    ]


def test_required_sections():
    assert errors_of({}) == [("calendars", "required"), ("levels", "required"), ("rules", "required")]


# -- calendars, levels, targets --------


def mutate(path, value):
    """base() with the value at dotted/indexed `path` set (or deleted when value is DELETE)."""
    doc = base()
    keys = [int(k) if k.isdigit() else k for k in re.split(r"\.|\[|\]\.?", path) if k != ""]
    node = doc
    for key in keys[:-1]:
        node = node[key]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return doc


DELETE = object()
URGENT = "levels.urgent"
FR = "levels.urgent.targets.first_response"


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("calendars", ["always"], ("calendars", "must be a mapping of calendars by name, not a list")),
        ("leads", ["a@example.com"], ("leads", "must be a mapping of leads by name, not a list")),
        (
            "levels.urgent.calendar",
            DELETE,
            (f"{URGENT}.calendar", "required: one of the calendars (always, office)"),
        ),
        (
            "levels.urgent.calendar",
            7,
            (f"{URGENT}.calendar", "unknown calendar 7 (calendars: always, office)"),
        ),
        (
            "levels.urgent.targets",
            {},
            (
                f"{URGENT}.targets",
                f"a target for at least one of {ALL_METRICS} is needed",
            ),
        ),
        (
            "levels.urgent.targets.first_reponse",
            {"within": "1h"},
            (
                f"{URGENT}.targets.first_reponse",
                f"unknown metric 'first_reponse' ({ALL_METRICS})",
            ),
        ),
        (f"{FR}.within", DELETE, (f"{FR}.within", "required: the target duration, e.g. 8h")),
        (f"{FR}.within", "0s", (f"{FR}.within", "must be longer than 0s")),
        (f"{FR}.within", 60, (f"{FR}.within", "60 is not a duration (add a unit: '60s' or '60m')")),
        (f"{FR}.warn_at", "0%", (f"{FR}.warn_at", "'0%' must be above 0% and at most 100%")),
        (f"{FR}.warn_at", "101%", (f"{FR}.warn_at", "'101%' must be above 0% and at most 100%")),
        (
            f"{FR}.warn_at",
            75,
            (f"{FR}.warn_at", "75 is not a share (write '75%' for a percentage, or a number 0-1)"),
        ),
        (f"{FR}.warn_at", "half", (f"{FR}.warn_at", "'half' is not a share (write e.g. '75%' or 0.75)")),
        (f"{FR}.warn_before", "10m", (FR, "warn_at and warn_before are exclusive: keep one")),
        (f"{FR}.warn_before", "1h", None),  # checked separately: two errors
        (f"{FR}.pause_when_status", "pending", (f"{FR}.pause_when_status", "must be a list")),
        (
            f"{FR}.pause_when_status",
            ["pending", ""],
            (f"{FR}.pause_when_status[1]", "must be a non-empty string, not ''"),
        ),
        (f"{FR}.withn", "1h", (f"{FR}.withn", "unknown key (did you mean 'within'?)")),
        (
            "levels.urgent.notify",
            ["assignee"],
            (f"{URGENT}.notify", "must be a mapping {warning: [...], breach: [...]}, not a list"),
        ),
        (
            "levels.urgent.notify.warnings",
            [],
            (f"{URGENT}.notify.warnings", "unknown key (did you mean 'warning'?)"),
        ),
        (
            "levels.urgent.notify.warning",
            "assignee",
            (
                f"{URGENT}.notify.warning",
                "must be a list of recipients (assignee, e-mail addresses, lead:<department>)",
            ),
        ),
        (
            "levels.urgent.notify.warning",
            ["lead:"],
            (f"{URGENT}.notify.warning[0]", "'lead:' needs leads.<department> (leads: billing)"),
        ),
        (
            "levels.urgent.notify.warning",
            ["Assignee"],
            (
                f"{URGENT}.notify.warning[0]",
                "'Assignee' is not a recipient (assignee, an e-mail address, or lead:<department>)",
            ),
        ),
        (
            "levels.urgent.colour",
            "red",
            (
                f"{URGENT}.colour",
                "unknown key (allowed: calendar, calendar_from, calendar_map, targets, notify, escalations, "
                "unassigned, responses, actions, interim_reply_answers)",
            ),
        ),
        (
            "levels.urgent",
            "fast",
            (
                URGENT,
                "must be a level: {calendar, targets, notify, escalations, unassigned, actions, ...},"
                " not 'fast'",
            ),
        ),
        ("levels", {}, ("levels", "at least one level is needed")),
        ("leads.billing", [], ("leads.billing", "must be a non-empty list of e-mail addresses")),
        ("leads.billing", ["billing"], ("leads.billing[0]", "'billing' is not an e-mail address")),
    ],
)
def test_level_and_calendar_errors(path, value, error):
    doc = mutate(path, value)
    if error is None:
        return
    if path == "levels":
        doc["rules"] = [{"name": "x", "stop": True}, {"name": "y", "set_level": "standard"}]
        errors = errors_of(doc)
        assert error in errors
        return
    assert the_error(doc) == error


def test_warn_before_must_be_shorter_than_within_and_exclusive_with_warn_at():
    doc = mutate(f"{FR}.warn_before", "1h")
    assert errors_of(doc) == [
        (FR, "warn_at and warn_before are exclusive: keep one"),
        (f"{FR}.warn_before", "'1h' must be shorter than within (1h)"),
    ]


def test_a_level_on_a_broken_calendar_is_not_reported_as_unknown_calendar():
    doc = mutate("calendars.office.hours", {"mon": ["17:00-09:00x"]})
    errors = errors_of(doc)
    assert [p for p, _ in errors] == ["calendars.office.hours.mon[0]"]


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (
            {"notify": ["assignee"]},
            ("", "needs one of at (a share of the target), before_due or after_due (durations)"),
        ),
        (
            {"at": "50%", "after_due": "1h", "notify": ["assignee"]},
            ("", "at and after_due are exclusive: keep one"),
        ),
        ({"at": "0%", "notify": ["assignee"]}, (".at", "must be above 0%")),
        (
            {"at": 90, "notify": ["assignee"]},
            (".at", "90 is not a share (write '90%' for a percentage, or a number 0-1)"),
        ),
        (
            {"before_due": "45m", "notify": ["assignee"]},
            (".before_due", "'45m' is not shorter than targets.next_response.within (30m)"),
        ),
        ({"after_due": "soon", "notify": ["assignee"]}, (".after_due", "'soon' is not a duration")),
        ({"after_due": "1h"}, ("", "needs notify recipients, a webhook or actions")),
        (
            {"after_due": "1h", "webhook": "http://hooks.example.com/x"},
            (".webhook", "'http://hooks.example.com/x' is not an https:// URL"),
        ),
        (
            {"after_due": "1h", "webhook": "hooks.example.com"},
            (".webhook", "'hooks.example.com' is not an https:// URL"),
        ),
        (
            {"after_due": "1h", "notify": ["x@y"]},
            (".notify[0]", "'x@y' is not a recipient (assignee, an e-mail address, or lead:<department>)"),
        ),
        (
            {"after_due": "1h", "notify": ["assignee"], "emails": []},
            (".emails", "unknown key (allowed: at, before_due, after_due, notify, webhook, actions)"),
        ),
    ],
)
def test_escalation_errors(step, error):
    doc = base()
    doc["levels"]["urgent"]["escalations"] = [{"at": "50%", "notify": ["assignee"]}, step]
    path, message = the_error(doc)
    assert (path, message) == (f"levels.urgent.escalations[1]{error[0]}", error[1])


def test_escalations_typed():
    doc = base()
    doc["levels"]["urgent"]["escalations"] = [
        {"at": "150%", "notify": ["lead:billing"]},
        {"before_due": "5m", "notify": ["assignee"]},
        {"after_due": "PT2H", "webhook": "https://hooks.example.com/sla"},
        {"after_due": "1h", "webhook": "http://localhost:8787/hook"},
    ]
    assert load_config(doc).levels["urgent"].escalations == (
        Escalation(notify=("lead:billing",), at=1.5),
        Escalation(notify=("assignee",), before_due=timedelta(minutes=5)),
        Escalation(notify=(), after_due=timedelta(hours=2), webhook="https://hooks.example.com/sla"),
        Escalation(notify=(), after_due=timedelta(hours=1), webhook="http://localhost:8787/hook"),
    )


# -- conditions --------

W = "rules[1].when"


def with_when(when):
    doc = base()
    doc["rules"][1]["when"] = when
    return doc


@pytest.mark.parametrize(
    ("when", "error"),
    [
        (
            "tags contains urgent",
            (
                W,
                f"a condition is one of {SHAPES}, not 'tags contains urgent'",
            ),
        ),
        (
            [{"field": "tags", "op": "exists"}],
            (
                W,
                f"a condition is one of {SHAPES}, not a list",
            ),
        ),
        ({"all": []}, (f"{W}.all", "must be a non-empty list of conditions")),
        ({"any": {"field": "tags", "op": "exists"}}, (f"{W}.any", "must be a non-empty list of conditions")),
        ({"not": None}, (f"{W}.not", "is empty")),
        (
            {"all": [{"field": "tags", "op": "exists"}], "any": []},
            (
                W,
                f"mixes all, any: a condition is one of {SHAPES}",
            ),
        ),
        (
            {"all": [{"field": "tags", "op": "exists"}], "field": "x"},
            (
                W,
                f"mixes all, field: a condition is one of {SHAPES}",
            ),
        ),
        ({"fild": "tags", "op": "exists"}, None),
        (
            {"field": "tags"},
            (
                f"{W}.op",
                f"required: one of {OPS}",
            ),
        ),
        ({"field": "custom.", "op": "exists"}, (f"{W}.field", None)),
        (
            {"field": "status", "op": "is"},
            (f"{W}.value", "required for is (use op: exists to test whether a field is set)"),
        ),
        (
            {"field": "status", "op": "is", "value": None},
            (f"{W}.value", "required for is (use op: exists to test whether a field is set)"),
        ),
        (
            {"field": "status", "op": "is", "value": ["open", "new"]},
            (f"{W}.value", "is takes one value; use in for a list"),
        ),
        (
            {"field": "tags", "op": "contains", "value": ["a", "b"]},
            (f"{W}.value", "contains takes one value; combine several with any/all"),
        ),
        (
            {"field": "status", "op": "is", "value": {"a": 1}},
            (f"{W}.value", "is compares with a string, number or true/false, not a mapping"),
        ),
        (
            {"field": "status", "op": "in", "value": []},
            (f"{W}.value", "in takes a non-empty list of values, not []"),
        ),
        (
            {"field": "status", "op": "in", "value": ["open", ["x"]]},
            (f"{W}.value[1]", "in compares with a string, number or true/false, not a list"),
        ),
        (
            {"field": "status", "op": "starts_with", "value": 4},
            (f"{W}.value", "starts_with takes a string, not 4"),
        ),
        (
            {"field": "status", "op": "matches", "value": "[a-"},
            (f"{W}.value", "bad regular expression '[a-': unterminated character set at position 0"),
        ),
        (
            {"field": "status", "op": "matches", "value": 3},
            (f"{W}.value", "matches takes a regular expression (a string), not 3"),
        ),
        (
            {"field": "priority", "op": "gt", "value": "high"},
            (f"{W}.value", "gt compares with a number or an ISO 8601 instant, not 'high'"),
        ),
        (
            {"field": "priority", "op": "gt", "value": True},
            (f"{W}.value", "gt compares with a number or an ISO 8601 instant, not True"),
        ),
        (
            {"field": "created_at", "op": "lt", "value": "2026-01-01T00:00:00"},
            (f"{W}.value", "'2026-01-01T00:00:00' has no UTC offset (add 'Z' or '+hh:mm')"),
        ),
        (
            {"field": "created_at", "op": "lt", "value": 5},
            (
                f"{W}.value",
                "created_at is an instant: compare it with an ISO 8601 instant, e.g. "
                "'2026-01-01T00:00:00Z' (or use older_than/newer_than)",
            ),
        ),
        ({"field": "tags", "op": "gt", "value": 5}, (f"{W}.op", "gt compares single values; tags is a list")),
        (
            {"field": "status", "op": "older_than", "value": "2h"},
            (
                f"{W}.op",
                "older_than applies to date fields (created_at, updated_at, custom.<name>), not status",
            ),
        ),
        (
            {"field": "created_at", "op": "older_than", "value": "2 hours"},
            (f"{W}.value", "'2 hours' is not a duration"),
        ),
        (
            {"field": "assignee", "op": "exists", "value": "yes"},
            (f"{W}.value", "exists takes true or false (or no value), not 'yes'"),
        ),
        (
            {"field": "channel", "op": "in", "value": ["email", "fax"]},
            (f"{W}.value[1]", "unknown channel 'fax' (email, chat, phone, web, social, api)"),
        ),
        (
            {"field": "deleted", "op": "is", "value": "yes"},
            (f"{W}.value", "deleted is true or false, not 'yes'"),
        ),
        (
            {"field": "tags", "op": "exists", "valeu": True},
            (f"{W}.valeu", "unknown key (did you mean 'value'?)"),
        ),
    ],
)
def test_condition_errors(when, error):
    errors = errors_of(with_when(when))
    if error is None:
        assert errors == [(f"{W}.fild", "unknown key (did you mean 'field'?)"), (f"{W}.field", "required")]
        return
    assert len(errors) == 1, errors
    assert errors[0][0] == error[0]
    if error[1] is not None:
        assert errors[0][1] == error[1]


def test_conditions_are_typed_and_values_prepared():
    when = {
        "all": [
            {"field": "channel", "op": "in", "value": ["Email", "chat"]},
            {
                "any": [
                    {"field": "referrer_url", "op": "matches", "value": "^https://shop"},
                    {"not": {"field": "assignee", "op": "exists"}},
                ]
            },
            {"field": "created_at", "op": "older_than", "value": "PT2H"},
            {"field": "custom.seats", "op": "gt", "value": 10},
            {"field": "updated_at", "op": "lt", "value": "2026-01-01T01:00:00+01:00"},
            {"field": "assignee", "op": "exists", "value": False},
        ]
    }
    cond = load_config(with_when(when)).rules[1].when
    assert isinstance(cond, AllOf)
    channel, either, created, seats, updated, unassigned = cond.items
    assert channel == Predicate("channel", "in", ("Email", "chat"))
    assert isinstance(either, AnyOf) and isinstance(either.items[1], Not)
    assert either.items[0].value.pattern == "^https://shop"
    assert either.items[1].item == Predicate("assignee", "exists", True)
    assert created.value == timedelta(hours=2)
    assert seats.value == 10
    assert updated.value.isoformat() == "2026-01-01T00:00:00+00:00"
    assert unassigned.value is False


# -- rules: shape and coverage --------


def with_rules(*rules):
    doc = base()
    doc["rules"] = list(rules)
    return doc


DEFAULT = {"name": "Everyone else", "set_level": "standard"}
VIP = {"field": "customer_group", "op": "is", "value": "vip"}


def test_the_rules_must_give_every_ticket_a_level():
    assert the_error(with_rules({"name": "VIP", "when": VIP, "set_level": "urgent"})) == (
        "rules",
        "no rule sets a level for every ticket: add a last rule without 'when' that sets one "
        "(e.g. {name: Everyone else, set_level: standard})",
    )


def test_a_stop_without_level_before_the_catch_all_would_leave_tickets_without_a_level():
    doc = with_rules({"name": "Spam", "when": VIP, "stop": True}, DEFAULT)
    assert the_error(doc) == (
        "rules[0]",
        "stops the walk without setting a level before the catch-all rules[1] ('Everyone else'): a ticket "
        "it matches gets no level; give it set_level or move it after rules[1]",
    )


def test_a_stop_without_level_after_the_catch_all_keeps_the_level_so_far():
    cfg = load_config(
        with_rules(
            DEFAULT,
            {"name": "Spam", "when": VIP, "stop": True},
            {"name": "U", "when": VIP, "set_level": "urgent"},
        )
    )
    assert [r.stop for r in cfg.rules] == [False, True, False]


def test_a_catch_all_stop_makes_the_rules_after_it_unreachable():
    doc = with_rules(
        DEFAULT, {"name": "Freeze", "stop": True}, {"name": "Late", "when": VIP, "set_level": "urgent"}
    )
    assert the_error(doc) == ("rules[2]", "unreachable: rules[1] ('Freeze') has no 'when' and stops the walk")


def test_a_catch_all_stop_before_any_level_means_no_level_for_anyone():
    errors = errors_of(with_rules({"name": "Freeze", "stop": True}, DEFAULT))
    assert ("rules[1]", "unreachable: rules[0] ('Freeze') has no 'when' and stops the walk") in errors
    assert errors[-1][0] == "rules"


def test_a_catch_all_that_sets_and_stops_is_fine_last():
    cfg = load_config(
        with_rules(
            {"name": "VIP", "when": VIP, "set_level": "urgent", "stop": True}, {**DEFAULT, "stop": True}
        )
    )
    assert cfg.warnings == ()


def test_a_level_a_later_catch_all_always_replaces_is_a_warning_not_an_error():
    cfg = load_config(with_rules({"name": "VIP", "when": VIP, "set_level": "urgent"}, DEFAULT))
    assert cfg.warnings == (
        (
            "rules[0]",
            "'VIP' sets a level that rules[1] ('Everyone else'), a later rule without 'when', always "
            "replaces (the last applied rule wins): add stop: true, or move the catch-all first",
        ),
    )


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ([], ("rules", "at least one rule is needed (the last one, without 'when', sets the default level)")),
        (
            [{"name": "Noop", "when": VIP}, DEFAULT],
            ("rules[0]", "does nothing: give it set_level, stop: true, or both"),
        ),
        (
            [{"when": VIP, "set_level": "urgent", "stop": True}, DEFAULT],
            ("rules[0].name", "required: a non-empty string"),
        ),
        (
            [{"name": "A", "when": VIP, "set_level": "urgent", "stop": True}, {**DEFAULT, "name": "A"}],
            ("rules[1].name", "duplicate rule name 'A' (also rules[0])"),
        ),
        (
            [{"name": "A", "when": None, "set_level": "urgent"}, DEFAULT],
            ("rules[0].when", "is empty (remove it to match every ticket)"),
        ),
        (
            [{"name": "A", "when": VIP, "set_level": "urgent", "stop": "yes"}, DEFAULT],
            ("rules[0].stop", "must be true or false, not 'yes'"),
        ),
        ([DEFAULT, "oops"], ("rules[1]", "must be a rule: {name, when, set_level, stop}, not 'oops'")),
    ],
)
def test_rule_errors(rules, error):
    assert the_error(with_rules(*rules)) == error


def test_a_typo_in_a_rule_is_reported_with_what_it_causes():
    doc = with_rules({"name": "A", "when": VIP, "set_levle": "urgent", "stop": True}, DEFAULT)
    assert [path for path, _ in errors_of(doc)] == ["rules[0].set_levle", "rules[0]"]
    assert errors_of(doc)[0][1] == "unknown key (did you mean 'set_level'?)"


def test_an_empty_calendars_section_and_its_references():
    doc = base()
    doc["calendars"] = {}
    assert errors_of(doc) == [
        ("calendars", "at least one calendar is needed"),
        ("levels.standard.calendar", "unknown calendar 'office' (calendars: none defined)"),
        ("levels.urgent.calendar", "unknown calendar 'always' (calendars: none defined)"),
        ("reports[0].calendar", "unknown calendar 'office' (calendars: none defined)"),
    ]


def test_a_section_of_the_wrong_shape_is_one_error_not_one_per_reference():
    doc = base()
    doc["levels"] = ["standard", "urgent"]
    assert errors_of(doc) == [("levels", "must be a mapping of levels by name, not a list")]


def test_rules_must_be_a_list():
    doc = base()
    doc["rules"] = {"name": "x"}
    assert the_error(doc) == ("rules", "must be a list of rules, not a mapping")


# -- sources, reports, keys --------

S = "sources.zendesk-main"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            {"secret": {"ssm_parameter": "/x"}},
            (
                f"{S}.provider",
                "required: one of zendesk, freshdesk, liveagent, intercom, jira, helpscout, generic",
            ),
        ),
        (
            {"provider": "zendesk"},
            (f"{S}.secret", "required: {ssm_parameter: /path} or {secrets_manager: arn-or-name}"),
        ),
        (
            {"provider": "zendesk", "secret": "hunter2"},
            (
                f"{S}.secret",
                "must be {ssm_parameter: /path} or {secrets_manager: arn-or-name}, not 'hunter2'",
            ),
        ),
        (
            {"provider": "zendesk", "secret": {}},
            (f"{S}.secret", "needs exactly one of ssm_parameter, secrets_manager"),
        ),
        (
            {"provider": "zendesk", "secret": {"ssm_parameter": "/a", "secrets_manager": "b"}},
            (f"{S}.secret", "needs exactly one of ssm_parameter, secrets_manager"),
        ),
        (
            {"provider": "zendesk", "secret": {"ssm_parameter": "/my secret"}},
            (f"{S}.secret.ssm_parameter", "must be a parameter name or ARN without spaces, not '/my secret'"),
        ),
        (
            {"provider": "zendesk", "secret": {"ssm_parameter": "/a"}, "mapping": {"id": "x"}},
            (f"{S}.mapping", "only the generic provider takes a mapping, not zendesk"),
        ),
        (
            {"provider": "generic", "secret": {"ssm_parameter": "/a"}, "mapping": {"id": ""}},
            (f"{S}.mapping.id", "must be a JMESPath expression (a string), not ''"),
        ),
        (
            {"provider": "generic", "secret": {"ssm_parameter": "/a"}, "mapping": {"id": 3}},
            (f"{S}.mapping.id", "must be a JMESPath expression (a string), not 3"),
        ),
        (
            {"provider": "zendesk", "secret": {"ssm_parameter": "/a"}, "options": []},
            (f"{S}.options", "must be a mapping, not a list"),
        ),
        ({"provider": "zendesk", "secret": {"ssm_paramter": "/a"}}, None),
    ],
)
def test_source_errors(source, error):
    doc = base()
    doc["sources"]["zendesk-main"] = source
    errors = errors_of(doc)
    if error is None:
        assert errors == [
            (f"{S}.secret.ssm_paramter", "unknown key (did you mean 'ssm_parameter'?)"),
            (f"{S}.secret", "needs exactly one of ssm_parameter, secrets_manager"),
        ]
        return
    assert errors == [error]


def test_source_names_go_in_the_webhook_url():
    doc = base()
    doc["sources"]["zendesk main/eu"] = doc["sources"].pop("zendesk-main")
    assert the_error(doc) == (
        "sources.zendesk main/eu",
        "a source name is part of the webhook URL: letters, digits, '-' and '_' only",
    )


def test_generic_source_keeps_its_mapping_and_options():
    doc = base()
    doc["sources"]["custom"] = {
        "provider": "generic",
        "secret": {"secrets_manager": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"},
        "mapping": {"ticket_id": "ticket.id", "at": "time"},
        "options": {"signature_header": "X-Sig"},
    }
    src = load_config(doc).sources["custom"]
    assert src.secret_arn.startswith("arn:aws:secretsmanager") and src.secret_ssm_parameter is None
    assert src.mapping == {"ticket_id": "ticket.id", "at": "time"}
    assert src.options == {"signature_header": "X-Sig"}


def _two_sources(zendesk_prefix=None, helpscout_prefix=None):
    doc = base()
    doc["sources"]["helpscout-billing"] = {
        "provider": "helpscout",
        "secret": {"ssm_parameter": "/slaclock/hs"},
    }
    for name, prefix in (("zendesk-main", zendesk_prefix), ("helpscout-billing", helpscout_prefix)):
        if prefix is not None:
            doc["sources"][name]["ticket_prefix"] = prefix
    return doc


def test_a_source_has_no_ticket_prefix_unless_given():
    cfg = load_config(_two_sources(helpscout_prefix="hs-"))
    assert cfg.sources["zendesk-main"].ticket_prefix == ""
    assert cfg.sources["helpscout-billing"].ticket_prefix == "hs-"
    assert cfg.warnings == ()  # one source without a prefix, one with: nothing can collide


@pytest.mark.parametrize("prefix", ["hs-", "HS_2.", "jira:", "a" * 32, ""])
def test_a_ticket_prefix_of_up_to_32_safe_characters_is_accepted(prefix):
    assert (
        load_config(_two_sources(helpscout_prefix=prefix)).sources["helpscout-billing"].ticket_prefix
        == prefix
    )


@pytest.mark.parametrize("prefix", ["hs/", "h s", "hs#", "é-", "a" * 33, 7, None, ["hs-"]])
def test_a_bad_ticket_prefix_is_an_error_naming_the_rule(prefix):
    doc = _two_sources()
    doc["sources"]["helpscout-billing"]["ticket_prefix"] = prefix
    path, message = the_error(doc)
    assert path == "sources.helpscout-billing.ticket_prefix"
    assert message == (
        f"must be at most 32 letters, digits, '-', '_', '.' or ':' (e.g. \"hs-\"), not {prefix!r}"
    )


@pytest.mark.parametrize(("zendesk", "helpscout"), [(None, None), ("", None), ("x-", "x-")])
def test_two_sources_sharing_a_ticket_prefix_load_with_a_warning_on_each(zendesk, helpscout):
    cfg = load_config(_two_sources(zendesk, helpscout))
    assert [p for p, _ in cfg.warnings] == [
        "sources.zendesk-main.ticket_prefix",
        "sources.helpscout-billing.ticket_prefix",
    ]
    shown = repr(helpscout) if helpscout else "not set"
    zendesk_warning, helpscout_warning = (m for _, m in cfg.warnings)
    assert zendesk_warning.startswith(f"{shown}, the same as helpscout-billing: the same ticket id ")
    assert "becomes ONE ticket" in zendesk_warning and 'ticket_prefix: "zendesk-main-"' in zendesk_warning
    assert helpscout_warning.startswith(f"{shown}, the same as zendesk-main:")
    assert 'ticket_prefix: "helpscout-billing-"' in helpscout_warning


def test_only_the_sources_that_share_a_prefix_are_warned_about():
    doc = _two_sources(helpscout_prefix="hs-")
    doc["sources"]["helpscout-2"] = {
        "provider": "helpscout", "secret": {"ssm_parameter": "/slaclock/hs2"}, "ticket_prefix": "hs-"
    }  # fmt: skip
    doc["sources"]["intercom-chat"] = {
        "provider": "intercom", "secret": {"ssm_parameter": "/slaclock/ic"}, "ticket_prefix": "ic-"
    }  # fmt: skip
    warnings = load_config(doc).warnings
    assert [p for p, _ in warnings] == [
        "sources.helpscout-billing.ticket_prefix",
        "sources.helpscout-2.ticket_prefix",
    ]
    assert warnings[0][1].startswith("'hs-', the same as helpscout-2:")


def test_a_single_source_needs_no_ticket_prefix():
    assert load_config(base()).warnings == ()


R = "reports[0]"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": ""}, (f"{R}.name", "required: a non-empty string")),
        ({"period": None}, (f"{R}.period", "required: one of daily, weekly, monthly")),
        (
            {"calendar": "nowhere"},
            (f"{R}.calendar", "unknown calendar 'nowhere' (calendars: always, office)"),
        ),
        (
            {"group_by": ["level", "team"]},
            (f"{R}.group_by[1]", "unknown grouping 'team' (department, agent, level, metric, agreement)"),
        ),
        ({"group_by": ["level", "level"]}, (f"{R}.group_by[1]", "'level' is listed twice")),
        (
            {"filters": {"level": ["gold"]}},
            (f"{R}.filters.level[0]", "unknown level 'gold' (levels: standard, urgent)"),
        ),
        (
            {"filters": {"metric": ["first_reply"]}},
            (
                f"{R}.filters.metric[0]",
                f"unknown metric 'first_reply' (metrics: {', '.join(sorted(ALL_METRICS.split(', ')))})",
            ),
        ),
        (
            {"filters": {"team": ["a"]}},
            (f"{R}.filters.team", "unknown filter (department, agent, level, metric, agreement)"),
        ),
        ({"filters": {"department": []}}, (f"{R}.filters.department", "must be a non-empty list")),
        ({"recipients": ["boss"]}, (f"{R}.recipients[0]", "'boss' is not an e-mail address")),
        ({"recipient": ["boss@example.com"]}, (f"{R}.recipient", "unknown key (did you mean 'recipients'?)")),
    ],
)
def test_report_errors(change, error):
    doc = base()
    doc["reports"][0].update(change)
    assert the_error(doc) == error


def test_duplicate_report_names():
    doc = base()
    doc["reports"].append(dict(doc["reports"][0]))
    assert the_error(doc) == ("reports[1].name", "duplicate report name 'Weekly' (also reports[0])")


def test_report_filters_typed():
    doc = base()
    doc["reports"][0]["filters"] = {"department": ["billing"], "level": ["urgent"]}
    doc["reports"][0]["recipients"] = ["a@example.com"]
    report = load_config(doc).reports[0]
    assert report.filters == {"department": ("billing",), "level": ("urgent",)}
    assert report.recipients == ("a@example.com",)


def test_unknown_top_level_key_and_non_string_keys():
    doc = base()
    doc["level"] = {}
    doc["levels"][3] = {}
    assert errors_of(doc) == [
        ("level", "unknown key (did you mean 'levels'?)"),
        ("levels.3", "a level name must be a non-empty string"),
    ]


def test_an_error_free_document_is_not_mutated():
    doc = base()
    before = copy.deepcopy(doc)
    load_config(doc)
    assert doc == before


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"ssm_parameter": "slaclock/zendesk"}, "is a path like /slaclock/<source>"),
        ({"secrets_manager": "/slaclock/zendesk"}, "not a path"),
    ],
)
def test_secret_names_say_which_store_they_live_in(secret, message):
    doc = base()
    doc["sources"]["zendesk-main"]["secret"] = secret
    path, error = the_error(doc)
    assert path.startswith("sources.zendesk-main.secret.")
    assert message in error


def test_a_parameter_outside_slaclock_loads_with_a_warning_about_iam():
    doc = base()
    doc["sources"]["zendesk-main"]["secret"] = {"ssm_parameter": "/team/zendesk"}
    config = load_config(doc)
    assert [p for p, m in config.warnings if "IAM" in m] == ["sources.zendesk-main.secret.ssm_parameter"]
