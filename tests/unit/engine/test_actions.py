"""Action definitions: every error listed at once (unknown kind, a write-back a source's provider
cannot do, an unknown template variable, bad parameters), and reply templates per language/channel."""

from __future__ import annotations

from typing import Any

import pytest
from slaclock.connectors import CAPABILITIES
from slaclock.engine.actions import (
    KINDS,
    TEMPLATE_VARIABLES,
    WRITE_BACK_KINDS,
    parse_actions,
    render,
    reply_template,
    validate_actions,
)
from slaclock.engine.errors import ConfigError

SOURCES = {"support": "zendesk"}

VALID: list[dict[str, Any]] = [
    {"kind": "email", "to": ["oncall@acme.example"]},
    {"kind": "webhook", "url": "https://hooks.acme.example/sla", "secret": "/slaclock/prod/hook"},
    {"kind": "eventbridge"},
    {"kind": "slack", "webhook_secret": "slaclock/prod/slack"},
    {"kind": "teams", "webhook_secret": "slaclock/prod/teams"},
    {"kind": "add_tags", "tags": ["sla-breach"]},
    {"kind": "set_priority", "priority": "urgent"},
    {"kind": "set_field", "field": "360001", "value": "EU"},
    {"kind": "internal_note", "text": "{metric} of {ticket} due {due}, {late}"},
    {"kind": "unassign"},
    {
        "kind": "reply",
        "templates": {"en": "We are on {ticket}", "de": "Wir sind an {ticket}", "chat": {"en": "On it!"}},
    },
]


def validate(doc: Any, sources: dict[str, str] = SOURCES) -> list[tuple[str, str]]:
    return validate_actions(doc, sources, capabilities=CAPABILITIES)


def test_every_kind_has_a_valid_example_and_parses() -> None:
    assert sorted(a["kind"] for a in VALID) == sorted(KINDS)
    actions = parse_actions(VALID, SOURCES, capabilities=CAPABILITIES)
    assert [a.kind for a in actions] == [a["kind"] for a in VALID]
    assert {a.kind for a in actions if a.is_write_back} == WRITE_BACK_KINDS
    assert actions[7].params == {"field": "360001", "value": "EU"}


def test_every_error_is_listed_at_once() -> None:
    doc = [
        {"kind": "sms", "to": "+1"},
        {"kind": "set_priority", "priority": "urgent"},
        {"kind": "internal_note", "text": "Hello {requester_email} about {ticket!r}"},
        {"kind": "add_tags"},
        {"kind": "webhook", "url": "http://plain.example", "secret": "", "extra": 1},
        "unassign",
    ]
    errors = validate(doc, {"mail": "helpscout", "chat": "intercom"})
    assert errors == [
        ("actions[0].kind", "unknown kind 'sms' (" + ", ".join(KINDS) + ")"),
        ("actions[1]", "source 'chat' (intercom) cannot set_priority"),
        ("actions[1]", "source 'mail' (helpscout) cannot set_priority"),
        (
            "actions[2].text",
            "unknown variable {requester_email} (known: " + ", ".join(sorted(TEMPLATE_VARIABLES)) + ")",
        ),
        ("actions[2].text", "{ticket} takes no format or conversion"),
        ("actions[3].tags", "required for add_tags"),
        ("actions[4].extra", "not a parameter of webhook (url, secret)"),
        ("actions[4].url", "must be an https:// URL"),
        ("actions[4].secret", "must name a secret (an SSM parameter path or a Secrets Manager name)"),
        ("actions[5]", "must be a mapping with a kind"),
    ]


def test_a_generic_source_cannot_take_any_write_back() -> None:
    errors = validate([{"kind": "unassign"}, {"kind": "slack", "webhook_secret": "s"}], {"shop": "generic"})
    assert errors == [("actions[0]", "source 'shop' (generic) cannot unassign")]


def test_liveagent_takes_set_field_only() -> None:
    assert validate([{"kind": "set_field", "field": "region", "value": 3}], {"la": "liveagent"}) == []
    assert validate([{"kind": "reply", "templates": {"en": "x"}}], {"la": "liveagent"}) == [
        ("actions[0]", "source 'la' (liveagent) cannot reply")
    ]


@pytest.mark.parametrize(
    ("templates", "error"),
    [
        ({}, ("actions[0].templates", "must map languages (or channels, then languages) to templates")),
        (
            {"en": "Hi {"},
            ("actions[0].templates.en", "invalid template: Single '{' encountered in format string"),
        ),
        (
            {"fax": {"en": "x"}},
            ("actions[0].templates.fax", "unknown channel 'fax' (email, chat, web, messaging, phone, api)"),
        ),
        (
            {"email": {"en": "{ticket.__class__}"}},
            (
                "actions[0].templates.email.en",
                "unknown variable {ticket.__class__} (known: " + ", ".join(sorted(TEMPLATE_VARIABLES)) + ")",
            ),
        ),
        ({"en": "  "}, ("actions[0].templates.en", "must be non-empty text")),
    ],
)
def test_reply_templates_are_checked(templates: Any, error: tuple[str, str]) -> None:
    assert validate([{"kind": "reply", "templates": templates}]) == [error]


def test_a_bad_document_raises_config_error_with_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        parse_actions(
            [{"kind": "x"}, {"kind": "set_priority", "priority": "p1"}], SOURCES, capabilities=CAPABILITIES
        )
    assert [path for path, _ in err.value.errors] == ["actions[0].kind", "actions[1].priority"]
    assert validate({"kind": "email"}) == [("actions", "must be a list of actions")]


def test_reply_template_prefers_the_channel_then_the_language_then_the_default() -> None:
    (action,) = parse_actions([VALID[-1]], SOURCES, capabilities=CAPABILITIES)
    assert reply_template(action, "en", "chat") == "On it!"
    assert reply_template(action, "de", "chat") == "Wir sind an {ticket}"
    assert reply_template(action, "de", "email") == "Wir sind an {ticket}"
    assert reply_template(action, "fr", "email") == "We are on {ticket}"
    assert reply_template(action, "fr", "email", default_language="it") is None


def test_render_fills_known_variables_and_keeps_literal_braces() -> None:
    assert (
        render("{{x}} {ticket} is {late}", {"ticket": "4711", "late": "5m late", "level": "gold"})
        == "{x} 4711 is 5m late"
    )
