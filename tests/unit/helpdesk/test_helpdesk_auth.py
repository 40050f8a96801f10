"""Every provider's authentication: good signature or token accepted, anything else is an AuthError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from slaclock.helpdesk import PROVIDER_NAMES, TIMESTAMP_TOLERANCE, AuthError, provider_for

from tests.fixtures.builders import (
    SECRET,
    generic_headers,
    helpscout_headers,
    intercom_headers,
    jira_headers,
    lowercase,
    raw,
    token_headers,
    zendesk_headers,
)

T = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)
INTERCOM_CREATED = datetime(2026, 11, 20, 16, 2, 42, tzinfo=UTC)  # created_at inside the fixture


@dataclass(frozen=True)
class Scheme:
    fixture: tuple[str, str]
    sign: Callable[[bytes, datetime, str], dict[str, str]]
    anchor: datetime  # the signed instant the tolerance window is measured from
    windowed: bool  # the scheme carries a signed timestamp


SIGNED = {
    "generic": Scheme(("generic", "canonical_event"), generic_headers, T, True),
    "zendesk": Scheme(("zendesk", "ticket_comment_added"), zendesk_headers, T, True),
    "intercom": Scheme(
        ("intercom", "conversation_admin_replied"),
        lambda b, at, s: intercom_headers(b, s),
        INTERCOM_CREATED,
        False,  # signs no timestamp, and delivers late by design (throttling, paused endpoints)
    ),
    "jira": Scheme(("jira", "comment_created"), lambda b, at, s: jira_headers(b, s), T, False),
    "helpscout": Scheme(
        ("helpscout", "convo_agent_reply"),
        lambda b, at, s: helpscout_headers(b, "convo.agent.reply.created", s),
        T,
        False,
    ),
}
TOKEN_PROVIDERS = {"freshdesk": ("freshdesk", "ticket_created"), "liveagent": ("liveagent", "ticket_created")}
TOKEN_FORMS = ["bearer", "header", "basic", "apikey"]


def test_every_provider_has_its_authentication_tested():
    assert set(SIGNED) | set(TOKEN_PROVIDERS) == set(PROVIDER_NAMES)


# ---------------------------------------------------------------- signed schemes


@pytest.mark.parametrize("name", SIGNED)
@pytest.mark.parametrize("lower", [False, True], ids=["as-sent", "lowercased"])
def test_a_good_signature_is_accepted(name, lower):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, SECRET)
    provider_for(name).authenticate(lowercase(headers) if lower else headers, body, SECRET, scheme.anchor)


@pytest.mark.parametrize("name", SIGNED)
def test_a_signature_made_with_another_secret_is_refused(name):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, "not-the-secret")
    with pytest.raises(AuthError, match="does not match"):
        provider_for(name).authenticate(headers, body, SECRET, scheme.anchor)


@pytest.mark.parametrize("name", SIGNED)
def test_a_body_changed_after_signing_is_refused(name):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, SECRET)
    tampered = body.replace(b"16:02", b"16:03") if b"16:02" in body else body + b" "
    assert tampered != body
    with pytest.raises(AuthError):
        provider_for(name).authenticate(headers, tampered, SECRET, scheme.anchor)


@pytest.mark.parametrize("name", SIGNED)
def test_a_missing_signature_is_refused(name):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    with pytest.raises(AuthError, match="missing"):
        provider_for(name).authenticate({"Content-Type": "application/json"}, body, SECRET, scheme.anchor)


WINDOWED = [n for n, s in SIGNED.items() if s.windowed]
OUTSIDE = TIMESTAMP_TOLERANCE + timedelta(seconds=1)
INSIDE = TIMESTAMP_TOLERANCE - timedelta(seconds=1)


@pytest.mark.parametrize("name", WINDOWED)
@pytest.mark.parametrize(
    ("receive_offset", "accepted"),
    [(INSIDE, True), (-INSIDE, True), (OUTSIDE, False), (-OUTSIDE, False)],
    ids=["4m59s-old", "4m59s-ahead", "expired", "future"],
)
def test_signed_timestamps_are_accepted_only_within_five_minutes(name, receive_offset, accepted):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, SECRET)
    now = scheme.anchor + receive_offset
    if accepted:
        provider_for(name).authenticate(headers, body, SECRET, now)
    else:
        with pytest.raises(AuthError, match="future" if receive_offset < timedelta(0) else "old|away"):
            provider_for(name).authenticate(headers, body, SECRET, now)


def test_the_tolerance_is_five_minutes():
    assert timedelta(minutes=5) == TIMESTAMP_TOLERANCE


@pytest.mark.parametrize("name", [n for n, s in SIGNED.items() if not s.windowed])
def test_schemes_without_a_signed_timestamp_accept_a_late_redelivery(name):
    """Jira, Help Scout and Intercom retry or throttle for hours and sign no timestamp: age is not
    checked (ids dedupe)."""
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, SECRET)
    provider_for(name).authenticate(headers, body, SECRET, scheme.anchor + timedelta(hours=6))


def test_a_zendesk_timestamp_that_is_not_an_instant_is_refused():
    body = raw("zendesk", "ticket_comment_added")
    headers = zendesk_headers(body, T) | {"X-Zendesk-Webhook-Signature-Timestamp": "yesterday"}
    with pytest.raises(AuthError, match="not an ISO 8601 instant"):
        provider_for("zendesk").authenticate(headers, body, SECRET, T)


def test_a_zendesk_timestamp_changed_after_signing_is_refused():
    body = raw("zendesk", "ticket_comment_added")
    headers = zendesk_headers(body, T) | {"X-Zendesk-Webhook-Signature-Timestamp": "2026-11-20T16:02:42Z"}
    with pytest.raises(AuthError, match="does not match"):
        provider_for("zendesk").authenticate(headers, body, SECRET, T)


@pytest.mark.parametrize("delay", [timedelta(minutes=20), timedelta(hours=3), timedelta(days=2)])
def test_an_intercom_notification_delayed_by_intercom_is_accepted(delay):
    """Intercom pauses a failing endpoint for 15 minutes and throttles under its rate limits
    (developers.intercom.com/docs/webhooks/webhook-notifications): a genuine notification can arrive
    minutes to hours after its created_at. A 5-minute window refused it."""
    body = raw("intercom", "conversation_admin_replied")
    provider_for("intercom").authenticate(intercom_headers(body), body, SECRET, INTERCOM_CREATED + delay)


def test_an_intercom_notification_without_created_at_is_judged_by_its_signature():
    body = b'{"type": "notification_event", "topic": "conversation.admin.replied", "data": {"item": {}}}'
    provider_for("intercom").authenticate(intercom_headers(body), body, SECRET, T)
    with pytest.raises(AuthError, match="does not match"):
        provider_for("intercom").authenticate(intercom_headers(body, "wrong"), body, SECRET, T)


def test_a_generic_timestamp_that_is_not_unix_seconds_is_refused():
    body = raw("generic", "canonical_event")
    headers = generic_headers(body, T) | {"X-Slaclock-Timestamp": "2026-11-20T16:02:41Z"}
    with pytest.raises(AuthError, match="not unix seconds"):
        provider_for("generic").authenticate(headers, body, SECRET, T)


# ---------------------------------------------------------------- tokens


TOKEN_CAPABLE = [*TOKEN_PROVIDERS, "generic", "jira"]


@pytest.mark.parametrize("name", TOKEN_CAPABLE)
@pytest.mark.parametrize("form", TOKEN_FORMS)
def test_the_right_token_is_accepted_in_every_form(name, form):
    provider_for(name).authenticate(lowercase(token_headers(SECRET, form)), b"{}", SECRET, T)


@pytest.mark.parametrize("name", TOKEN_CAPABLE)
@pytest.mark.parametrize("form", TOKEN_FORMS)
def test_a_wrong_token_is_refused(name, form):
    with pytest.raises(AuthError, match="does not match"):
        provider_for(name).authenticate(token_headers("guess", form), b"{}", SECRET, T)


@pytest.mark.parametrize("name", TOKEN_CAPABLE)
def test_a_missing_token_is_refused(name):
    with pytest.raises(AuthError, match="missing"):
        provider_for(name).authenticate({"Authorization": "Digest abc"}, b"{}", SECRET, T)


@pytest.mark.parametrize("name", list(TOKEN_PROVIDERS))
def test_an_empty_configured_secret_never_authenticates(name):
    with pytest.raises(AuthError, match="no secret"):
        provider_for(name).authenticate({"Authorization": "Bearer "}, b"{}", "", T)


def test_basic_credentials_that_are_not_base64_are_refused():
    with pytest.raises(AuthError, match="base64"):
        provider_for("freshdesk").authenticate({"Authorization": "Basic ***"}, b"{}", SECRET, T)


@pytest.mark.parametrize("name", ["generic", "jira"])
def test_a_wrong_signature_is_not_rescued_by_a_right_token(name):
    scheme = SIGNED[name]
    body = raw(*scheme.fixture)
    headers = scheme.sign(body, scheme.anchor, "not-the-secret") | token_headers(SECRET)
    with pytest.raises(AuthError, match="does not match"):
        provider_for(name).authenticate(headers, body, SECRET, scheme.anchor)
