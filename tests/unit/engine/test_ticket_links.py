"""Ticket links from a source's `ticket_url` template, and the template's validation."""

import pytest
from slaclock.engine.config import load_config
from slaclock.engine.config.model import Source
from slaclock.engine.errors import ConfigError
from slaclock.engine.ticket_links import ticket_linker

BASE = {
    "calendars": {"c": {"timezone": "UTC", "hours": "24x7"}},
    "levels": {"l": {"calendar": "c", "targets": {"first_response": {"within": "1h"}}}},
    "rules": [{"name": "all", "set_level": "l"}],
}
SECRET = {"ssm_parameter": "/slaclock/s/x"}


def _config(**sources):
    return load_config({**BASE, "sources": sources})


def test_the_longest_prefix_picks_the_source():
    config = _config(
        zd={"provider": "zendesk", "secret": SECRET, "ticket_url": "https://acme.zendesk.com/agent/tickets/{ticket_number}"},
        hs={"provider": "helpscout", "secret": SECRET, "ticket_prefix": "hs-",
            "ticket_url": "https://secure.helpscout.net/conversation/{ticket_number}?from={ticket_id}"},
    )  # fmt: skip
    link = ticket_linker(config.sources)
    assert link("42") == "https://acme.zendesk.com/agent/tickets/42"
    assert link("hs-11") == "https://secure.helpscout.net/conversation/11?from=hs-11"


def test_ids_are_percent_encoded():
    link = ticket_linker({"g": Source("g", "generic", ticket_url="https://h.test/t/{ticket_number}")})
    assert link("../../evil.test/x?y#z") == "https://h.test/t/..%2F..%2Fevil.test%2Fx%3Fy%23z"
    assert link("a b") == "https://h.test/t/a%20b"


def test_no_template_no_link():
    config = _config(
        zd={"provider": "zendesk", "secret": SECRET, "ticket_url": "https://a.test/{ticket_number}"},
        hs={"provider": "helpscout", "secret": SECRET, "ticket_prefix": "hs-"},
    )
    link = ticket_linker(config.sources)
    assert link("hs-11") == ""  # hs- is Help Scout's, which has no template: not Zendesk's link
    assert ticket_linker({})("1") == ""


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "https://a.test/{id}",
            "unknown placeholder {id}: the placeholders are {ticket_number}, {ticket_id}",
        ),
        ("https://a.test/{ticket_number:>5}", "placeholder {ticket_number} takes no format or conversion"),
        ("https://a.test/{ticket_number!r}", "placeholder {ticket_number} takes no format or conversion"),
        ("https://a.test/{ticket_number", "expected '}' before end of string"),
        ("ftp://a.test/{ticket_number}", "must be an absolute http(s) URL"),
        ("https://a.test/ x", "must be an absolute http(s) URL"),
        (42, "must be a URL template"),
    ],
)
def test_a_bad_template_is_refused_with_its_path(template, message):
    with pytest.raises(ConfigError) as info:
        _config(zd={"provider": "zendesk", "secret": SECRET, "ticket_url": template})
    errors = dict(info.value.errors)
    assert message in errors["sources.zd.ticket_url"]


def test_every_bad_placeholder_is_listed():
    with pytest.raises(ConfigError) as info:
        _config(zd={"provider": "zendesk", "secret": SECRET, "ticket_url": "https://a.test/{a}/{b}"})
    assert [m for p, m in info.value.errors if p == "sources.zd.ticket_url"] == [
        "unknown placeholder {a}: the placeholders are {ticket_number}, {ticket_id}",
        "unknown placeholder {b}: the placeholders are {ticket_number}, {ticket_id}",
    ]


def test_literal_braces_are_kept():
    config = _config(
        zd={"provider": "zendesk", "secret": SECRET, "ticket_url": "https://a.test/{{x}}/{ticket_id}"}
    )
    assert ticket_linker(config.sources)("7") == "https://a.test/{x}/7"
