"""Rule matching and level choice (slaclock.engine.rules), per the semantics in its module docstring."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.config import AllOf, AnyOf, Config, Not, Predicate, Rule, load_config
from slaclock.engine.rules import choose_level, compile_condition, matches
from slaclock.engine.rules import conditions as conditions_module

AT = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)

TICKET = {
    "channel": "email",
    "status": "open",
    "priority": "High",
    "tags": ["URGENT", "billing", "vip-2026"],
    "department": "Billing",
    "assignee": "ana@example.com",
    "requester": "bob@client.test",
    "customer_group": "VIP",
    "created_at": "2026-11-20T12:45:00Z",  # 3 h before AT
    "updated_at": "2026-11-20T15:15:00+00:00",  # 30 min before AT
    "deleted": False,
    "via_invitation": True,
    "referrer_url": "https://shop.example.com/checkout?step=2",
    "custom": {"plan": "Gold", "seats": 250, "renewal": "2026-12-01T00:00:00Z", "region.eu": "yes"},
}


def p(field, op, value=None):
    return Predicate(field, op, value)


# -- every operator --------

OPERATOR_TABLE = [
    # is / is_not: whole-value equality, case-insensitive; numbers and booleans by their text form
    ("status", "is", "open", True),
    ("status", "is", "OPEN", True),
    ("status", "is", "pending", False),
    ("priority", "is", "high", True),
    ("status", "is_not", "pending", True),
    ("status", "is_not", "Open", False),
    ("deleted", "is", False, True),
    ("via_invitation", "is", True, True),
    ("custom.seats", "is", 250, True),
    ("custom.seats", "is", "250", True),
    ("custom.seats", "is", 250.0, True),
    # list field: is / in / starts_with / matches hold if ANY element does
    ("tags", "is", "urgent", True),
    ("tags", "is", "sales", False),
    ("tags", "is_not", "sales", True),
    # in / not_in
    ("customer_group", "in", ["vip", "enterprise"], True),
    ("customer_group", "in", ["enterprise"], False),
    ("customer_group", "not_in", ["enterprise", "smb"], True),
    ("customer_group", "not_in", ["Vip"], False),
    ("tags", "in", ["sales", "Billing"], True),
    ("tags", "not_in", ["sales", "billing"], False),
    ("custom.seats", "in", [100, 250], True),
    # contains: element membership on a list, substring on a string
    ("tags", "contains", "urgent", True),
    ("tags", "contains", "URG", False),  # not a substring test on list elements
    ("requester", "contains", "CLIENT.test", True),
    ("requester", "contains", "example.com", False),
    ("tags", "not_contains", "sales", True),
    ("tags", "not_contains", "Urgent", False),
    ("requester", "not_contains", "client", False),
    # starts_with
    ("department", "starts_with", "bill", True),
    ("department", "starts_with", "ill", False),
    ("tags", "starts_with", "VIP-", True),
    ("referrer_url", "starts_with", "https://shop.", True),
    # matches: regex searched anywhere, case-sensitive unless (?i)
    ("referrer_url", "matches", r"checkout\?step=\d", True),
    ("referrer_url", "matches", r"^checkout", False),
    ("department", "matches", "^billing$", False),
    ("department", "matches", "(?i)^billing$", True),
    ("tags", "matches", r"^vip-\d{4}$", True),
    ("custom.seats", "matches", r"^2\d\d$", True),
    # gt / lt: numbers, numeric strings, ISO instants
    ("custom.seats", "gt", 100, True),
    ("custom.seats", "gt", 250, False),
    ("custom.seats", "lt", 250.5, True),
    ("priority", "gt", 1, False),  # "High" is not a number
    ("created_at", "lt", datetime(2026, 11, 20, 13, 0, tzinfo=UTC), True),
    ("created_at", "gt", "2026-11-20T13:00:00+01:00", True),  # 12:00 UTC
    ("custom.renewal", "gt", "2026-11-30T23:59:59Z", True),
    # exists
    ("assignee", "exists", True, True),
    ("assignee", "exists", False, False),
    ("assignee_status", "exists", True, False),
    ("assignee_status", "exists", False, True),
    ("custom.plan", "exists", None, True),  # no value means true
    # older_than / newer_than: against AT, in real elapsed time
    ("created_at", "older_than", timedelta(hours=2), True),
    ("created_at", "older_than", timedelta(hours=4), False),
    ("created_at", "newer_than", timedelta(hours=4), True),
    ("updated_at", "newer_than", timedelta(minutes=15), False),
    ("custom.renewal", "newer_than", timedelta(days=1), True),  # in the future: age is negative
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), OPERATOR_TABLE)
def test_operator_table(field, op, value, expected):
    assert matches(p(field, op, value), TICKET, AT) is expected


def test_every_operator_is_in_the_table():
    from slaclock.engine.config import OPERATORS

    assert {op for _, op, _, _ in OPERATOR_TABLE} == set(OPERATORS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "OPEN"),
        ("status", "Open"),
        ("tags", "billing"),
        ("tags", "BILLING"),
        ("department", "bIlLiNg"),
    ],
)
def test_text_comparison_ignores_case(field, value):
    assert matches(p(field, "is", value), TICKET, AT)
    assert matches(p(field, "in", [value.swapcase()]), TICKET, AT)
    assert matches(p(field, "contains", value.upper()), TICKET, AT)


def test_case_folding_is_unicode_aware():
    assert matches(p("department", "is", "STRASSE"), {"department": "Straße"}, AT)


def test_custom_fields_read_the_custom_mapping_and_keep_dots_in_the_key():
    assert matches(p("custom.plan", "is", "gold"), TICKET, AT)
    assert matches(p("custom.region.eu", "is", "yes"), TICKET, AT)
    assert not matches(p("custom.plan", "is", "gold"), {"plan": "gold"}, AT)  # not a top-level field
    assert not matches(p("custom.plan", "is", "gold"), {"custom": "gold"}, AT)  # custom not a mapping
    assert matches(p("custom.plan", "is_not", "gold"), {"custom": None}, AT)


# -- missing fields --------

MISSING_CASES = [
    ("is", "x"),
    ("in", ["x"]),
    ("contains", "x"),
    ("starts_with", "x"),
    ("matches", ".*"),
    ("gt", 0),
    ("lt", 10**9),
    ("older_than", timedelta(0)),
    ("newer_than", timedelta(days=10_000)),
]


@pytest.mark.parametrize(("op", "value"), MISSING_CASES)
@pytest.mark.parametrize("fields", [{}, {"custom.x": None, "custom": {"x": None}}, {"custom": {}}])
def test_a_positive_operator_on_a_missing_field_is_false(op, value, fields):
    assert not matches(p("custom.x", op, value), fields, AT)


@pytest.mark.parametrize(("op", "value"), [("is_not", "x"), ("not_in", ["x"]), ("not_contains", "x")])
@pytest.mark.parametrize("fields", [{}, {"status": None}])
def test_a_negative_operator_on_a_missing_field_is_true(op, value, fields):
    assert matches(p("status", op, value), fields, AT)


@pytest.mark.parametrize("empty", [None, "", []])
def test_exists_treats_null_empty_text_and_empty_list_as_missing(empty):
    assert not matches(p("tags", "exists", True), {"tags": empty}, AT)
    assert matches(p("tags", "exists", False), {"tags": empty}, AT)
    assert not matches(p("tags", "exists"), {}, AT)


def test_a_null_element_or_a_nested_value_never_equals_text():
    assert not matches(p("tags", "is", "none"), {"tags": [None]}, AT)
    assert not matches(p("status", "is", "{}"), {"status": {}}, AT)
    assert matches(p("status", "is_not", "{}"), {"status": {}}, AT)


def test_dates_without_offset_or_unparseable_never_compare():
    for created in ("2026-11-20T12:45:00", "yesterday", 12345, datetime(2026, 11, 20, 12, 45)):
        fields = {"created_at": created}
        assert not matches(p("created_at", "older_than", timedelta(0)), fields, AT)
        assert not matches(p("created_at", "newer_than", timedelta(days=9999)), fields, AT)
        assert not matches(p("created_at", "gt", datetime(2000, 1, 1, tzinfo=UTC)), fields, AT)


# -- dates relative to the event instant --------


def test_older_than_and_newer_than_use_the_event_instant_with_strict_boundaries():
    older = p("created_at", "older_than", timedelta(hours=3))
    newer = p("created_at", "newer_than", timedelta(hours=3))
    fields = {"created_at": "2026-11-20T12:45:00Z"}
    exactly = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)
    assert not matches(older, fields, exactly) and not matches(newer, fields, exactly)
    assert matches(older, fields, exactly + timedelta(microseconds=1))
    assert matches(newer, fields, exactly - timedelta(microseconds=1))


def test_date_operators_depend_on_at_only_never_on_the_wall_clock():
    cond = p("created_at", "older_than", timedelta(days=1))
    fields = {"created_at": "2020-01-01T00:00:00Z"}
    assert matches(cond, fields, datetime(2020, 1, 2, 0, 0, 1, tzinfo=UTC))
    assert not matches(cond, fields, datetime(2020, 1, 1, 12, tzinfo=UTC))  # long ago, yet "not older"


def test_instants_compare_across_offsets():
    fields = {"updated_at": "2026-11-20T16:15:00+01:00"}  # == 15:15Z
    assert matches(p("updated_at", "newer_than", timedelta(minutes=31)), fields, AT)
    assert not matches(p("updated_at", "newer_than", timedelta(minutes=30)), fields, AT)
    assert matches(p("updated_at", "older_than", timedelta(minutes=29)), fields, AT)


# -- nesting --------

VIP = p("customer_group", "in", ["vip", "enterprise"])
HIGH = p("priority", "is", "high")
PENDING = p("status", "is", "pending")


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (AllOf((VIP, HIGH)), True),
        (AllOf((VIP, HIGH, PENDING)), False),
        (AnyOf((PENDING, HIGH)), True),
        (AnyOf((PENDING, Not(VIP))), False),
        (Not(PENDING), True),
        (Not(Not(PENDING)), False),
        (AllOf((VIP, AnyOf((PENDING, Not(AllOf((HIGH, PENDING))))))), True),
        (AnyOf((AllOf((VIP, PENDING)), AllOf((Not(HIGH), VIP)))), False),
        (AllOf((HIGH,)), True),
        (AnyOf((PENDING,)), False),
    ],
)
def test_nested_all_any_not(cond, expected):
    assert matches(cond, TICKET, AT) is expected


def test_no_condition_matches_every_ticket():
    assert matches(None, {}, AT)


# -- properties --------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "A", "ab", "B", "", "vip"])
)
field_values = st.one_of(scalars, st.lists(scalars, max_size=4))
ops_values = st.one_of(
    st.tuples(st.just("is"), scalars.filter(lambda v: v is not None)),
    st.tuples(st.just("in"), st.lists(scalars.filter(lambda v: v is not None), min_size=1, max_size=3)),
    st.tuples(st.just("contains"), scalars.filter(lambda v: v is not None)),
)


@settings(max_examples=400, deadline=None)
@given(ops_values, field_values)
def test_a_negative_operator_is_exactly_not_its_positive(op_value, value):
    op, want = op_value
    negative = {"is": "is_not", "in": "not_in", "contains": "not_contains"}[op]
    fields = {"status": value}
    assert matches(p("status", negative, want), fields, AT) is not matches(p("status", op, want), fields, AT)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_changing_the_case_of_a_value_never_changes_is_in_contains(text, rnd):
    variant = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
    if variant.casefold() != text.casefold():  # a few characters change length/identity under upper()
        return
    fields = {"department": text, "tags": [text]}
    assert matches(p("department", "is", variant), fields, AT)
    assert matches(p("department", "in", ["zzz-other", variant]), fields, AT)
    assert matches(p("department", "contains", variant), fields, AT)
    assert matches(p("tags", "contains", variant), fields, AT)
    assert matches(p("department", "starts_with", variant), fields, AT)


@settings(max_examples=300, deadline=None)
@given(field_values, st.lists(scalars.filter(lambda v: v is not None), min_size=1, max_size=3))
def test_in_is_any_of_is(value, options):
    fields = {"status": value}
    expected = any(matches(p("status", "is", o), fields, AT) for o in options)
    assert matches(p("status", "in", options), fields, AT) is expected


# -- choosing the level --------


def config_of(*rules):
    return Config(calendars={}, levels={}, rules=tuple(rules))


def test_every_matching_rule_applies_and_the_last_level_wins():
    cfg = config_of(
        Rule("default", set_level="standard"),
        Rule("vip", when=VIP, set_level="priority"),
        Rule("pending", when=PENDING, set_level="slow"),
        Rule("high", when=HIGH, set_level="urgent"),
    )
    assert choose_level(cfg, TICKET, AT) == ("urgent", ("default", "vip", "high"))
    assert choose_level(cfg, {"customer_group": "vip"}, AT) == ("priority", ("default", "vip"))
    assert choose_level(cfg, {}, AT) == ("standard", ("default",))


def test_a_matching_stop_rule_ends_the_walk():
    cfg = config_of(
        Rule("vip", when=VIP, set_level="urgent", stop=True),
        Rule("high", when=HIGH, set_level="high"),
        Rule("default", set_level="standard"),
    )
    assert choose_level(cfg, TICKET, AT) == ("urgent", ("vip",))
    assert choose_level(cfg, {"priority": "HIGH"}, AT) == ("standard", ("high", "default"))


def test_a_stop_rule_that_does_not_match_does_not_stop():
    cfg = config_of(Rule("pending", when=PENDING, stop=True), Rule("default", set_level="standard"))
    assert choose_level(cfg, TICKET, AT) == ("standard", ("default",))


def test_a_stop_rule_without_a_level_keeps_the_level_set_so_far():
    cfg = config_of(
        Rule("default", set_level="standard"),
        Rule("spam", when=p("requester", "matches", r"@client\.test$"), stop=True),
        Rule("vip", when=VIP, set_level="urgent"),
    )
    assert choose_level(cfg, TICKET, AT) == ("standard", ("default", "spam"))


def test_no_applied_level_gives_none_for_hand_built_configs():
    cfg = config_of(Rule("vip", when=VIP, set_level="urgent"))
    assert choose_level(cfg, {}, AT) == (None, ())


def test_choose_level_on_a_loaded_configuration():
    cfg = load_config(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
            "levels": {
                "standard": {"calendar": "always", "targets": {"first_response": {"within": "8h"}}},
                "urgent": {"calendar": "always", "targets": {"first_response": {"within": "1h"}}},
            },
            "rules": [
                {"name": "Everyone else", "set_level": "standard"},
                {
                    "name": "Stale VIP",
                    "when": {
                        "all": [
                            {"field": "customer_group", "op": "in", "value": ["vip", "enterprise"]},
                            {
                                "any": [
                                    {"field": "created_at", "op": "older_than", "value": "2h"},
                                    {"not": PENDING_DOC},
                                ]
                            },
                        ]
                    },
                    "set_level": "urgent",
                    "stop": True,
                },
                {
                    "name": "Never reached for stale VIPs",
                    "when": {"field": "tags", "op": "exists"},
                    "set_level": "standard",
                },
            ],
        }
    )
    assert choose_level(cfg, TICKET, AT) == ("urgent", ("Everyone else", "Stale VIP"))
    fresh_pending = {**TICKET, "status": "pending", "created_at": "2026-11-20T15:00:00Z"}
    assert choose_level(cfg, fresh_pending, AT) == (
        "standard",
        ("Everyone else", "Never reached for stale VIPs"),
    )


PENDING_DOC = {"field": "status", "op": "is", "value": "pending"}


def test_a_loaded_configuration_compiles_regexes_once(monkeypatch):
    cfg = load_config(
        {
            "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
            "levels": {"standard": {"calendar": "always", "targets": {"resolution": {"within": "8h"}}}},
            "rules": [
                {"name": "default", "set_level": "standard"},
                {
                    "name": "shop",
                    "when": {"field": "referrer_url", "op": "matches", "value": "shop"},
                    "stop": True,
                },
            ],
        }
    )
    assert isinstance(cfg.rules[1].when.value, re.Pattern)

    def no_compile(*args, **kwargs):
        raise AssertionError("a regex was compiled while matching")

    monkeypatch.setattr(re, "compile", no_compile)
    monkeypatch.setattr(conditions_module.re, "compile", no_compile)
    for _ in range(3):
        assert choose_level(cfg, TICKET, AT) == ("standard", ("default", "shop"))


def test_compile_condition_equals_matches_on_the_table():
    for field, op, value, expected in OPERATOR_TABLE:
        assert compile_condition(p(field, op, value))(TICKET, AT) is expected, (field, op, value)
