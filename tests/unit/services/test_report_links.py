"""Report link tokens (slaclock.services.report.links): a token grants one report object until its own
expiry instant, whoever signed it and however long their credentials lived; anything else is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slaclock.services.report.links import (
    LinkExpired,
    LinkNotFound,
    TokenLinks,
    mint,
    open_link,
    verify,
)

KEY = b"k" * 64
OTHER = b"o" * 64
OBJECT = "reports/daily-billing/2026-11-19/sla_log.csv"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@dataclass
class Ring:
    keys: list[bytes]

    def current(self) -> bytes:
        return self.keys[0]

    def all(self) -> list[bytes]:
        return list(self.keys)


@dataclass
class Presigner:
    calls: list[tuple[str, int]] = field(default_factory=list)

    def link(self, key: str, expires_in_seconds: int) -> str:
        self.calls.append((key, expires_in_seconds))
        return f"https://bucket.s3.example/{key}?X-Amz-Expires={expires_in_seconds}"


def test_a_token_grants_its_object_until_its_expiry_and_stops_exactly_there():
    token = mint(KEY, OBJECT, NOW + WEEK)
    grant = verify([KEY], token, NOW)
    assert grant.key == OBJECT and grant.expires_at == NOW + WEEK
    assert verify([KEY], token, NOW + WEEK - timedelta(microseconds=1)).key == OBJECT
    with pytest.raises(LinkExpired, match="expired at 2026-11-28T08:00:00Z"):
        verify([KEY], token, NOW + WEEK)
    with pytest.raises(LinkExpired):
        verify([KEY], token, NOW + WEEK + timedelta(days=30))


def test_a_token_holds_no_credential_only_the_object_and_the_instant():
    token = mint(KEY, OBJECT, NOW + WEEK)
    assert token.startswith("v1.") and token.count(".") == 2
    assert "X-Amz" not in token and len(token) < 200
    assert mint(KEY, OBJECT, NOW + WEEK) == token  # deterministic: nothing random, nothing secret inside


def test_another_key_an_altered_object_or_expiry_is_not_found():
    token = mint(KEY, OBJECT, NOW + WEEK)
    with pytest.raises(LinkNotFound):
        verify([OTHER], token, NOW)
    forged_object = mint(OTHER, "reports/other/2026-11-19/sla_log.csv", NOW + WEEK)
    version, _, signature = token.split(".")
    with pytest.raises(LinkNotFound):  # someone else's payload with our signature
        verify([KEY], f"{version}.{forged_object.split('.')[1]}.{signature}", NOW)
    longer = mint(OTHER, OBJECT, NOW + 52 * WEEK)
    with pytest.raises(LinkNotFound):  # a later expiry with our signature
        verify([KEY], f"{version}.{longer.split('.')[1]}.{signature}", NOW)


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v1..", "v1.abc", "v2.YQ.YQ", "v1.!!!.???", "v1.YQ.YQ.YQ", "x" * 5000, "v1.\u00e9\u00e9.YQ"],
)
def test_malformed_tokens_are_not_found_never_an_error(token):
    with pytest.raises(LinkNotFound):
        verify([KEY], token, NOW)


@given(st.integers(min_value=0), st.characters(codec="ascii"))
def test_any_single_character_change_is_refused(position, char):
    token = mint(KEY, OBJECT, NOW + WEEK)
    i = position % len(token)
    changed = token[:i] + char + token[i + 1 :]
    if changed == token:
        return
    with pytest.raises(LinkNotFound):
        verify([KEY], changed, NOW)


def test_a_rotated_key_still_opens_the_links_signed_with_the_previous_one():
    old = mint(OTHER, OBJECT, NOW + WEEK)
    assert verify([KEY, OTHER], old, NOW).key == OBJECT
    with pytest.raises(LinkNotFound):  # two rotations later it is gone
        verify([KEY], old, NOW)


def test_only_report_objects_are_ever_granted():
    with pytest.raises(ValueError, match="reports/"):
        mint(KEY, "config/sla.yaml", NOW + WEEK)
    from slaclock.services.report import links as report_links

    # A payload naming another object, signed with the right key (as if minted by a bug): refused.
    payload = f"{int((NOW + WEEK).timestamp())}:config/sla.yaml".encode()
    sig = report_links._signature(KEY, payload)
    token = f"v1.{report_links._b64(payload)}.{report_links._b64(sig)}"
    with pytest.raises(LinkNotFound):
        verify([KEY], token, NOW)


def test_token_links_put_the_token_under_the_link_route():
    links = TokenLinks(base_url="https://api.example/links/", keys=Ring([KEY]))
    url = links.link(OBJECT, NOW + WEEK)
    assert url.startswith("https://api.example/links/v1.")
    assert verify([KEY], url.removeprefix("https://api.example/links/"), NOW).key == OBJECT


def test_opening_a_link_presigns_briefly_and_never_past_the_tokens_expiry():
    presigner = Presigner()
    token = mint(KEY, OBJECT, NOW + WEEK)
    url = open_link(Ring([KEY]), presigner, token, NOW + timedelta(days=6, hours=23), 300)
    assert url.endswith("X-Amz-Expires=300") and presigner.calls == [(OBJECT, 300)]
    open_link(Ring([KEY]), presigner, token, NOW + WEEK - timedelta(seconds=42), 300)
    assert presigner.calls[-1] == (OBJECT, 42)
    open_link(Ring([KEY]), presigner, token, NOW + WEEK - timedelta(milliseconds=5), 300)
    assert presigner.calls[-1] == (OBJECT, 1)
    with pytest.raises(LinkExpired):
        open_link(Ring([KEY]), presigner, token, NOW + WEEK, 300)
    assert len(presigner.calls) == 3  # nothing presigned for an expired token
