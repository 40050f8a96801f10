"""The generic provider (canonical events, JMESPath mappings), the v1 signing helper, the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slaclock.engine.errors import ConfigError
from slaclock.helpdesk import PROVIDER_NAMES, AuthError, PayloadError, provider_for, signing
from slaclock.helpdesk.generic import validate_mapping

from tests.fixtures.builders import DELETE, SECRET, body, load, raw, source, with_

T = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)
GENERIC = provider_for("generic")

SHOP_MAPPING = {
    "id": "delivery.id",
    "ticket_id": "ticket.number",
    "type": "event",
    "at": "occurred_at",
    "ticket.status": "ticket.state",
    "ticket.priority": "ticket.urgency",
    "ticket.channel": "'web'",
    "ticket.tags": "ticket.labels",
    "ticket.department": "ticket.team",
    "ticket.assignee": "ticket.owner.email",
    "ticket.requester": "ticket.customer.email",
    "ticket.customer_group": "ticket.customer.segment",
    "ticket.custom.plan": "ticket.plan",
}
SHOP_OPTIONS = {"type_map": {"ticket.replied_by_agent": "agent_replied"}, "priority_map": {"P1": "urgent"}}


def mapped(doc, mapping=None, **options):
    src = source("generic", mapping=mapping or SHOP_MAPPING, **(options or SHOP_OPTIONS))
    return [e.to_dict() for e in GENERIC.parse({}, body(doc), src)]


# ---------------------------------------------------------------- canonical events


def test_a_canonical_list_with_a_bad_item_names_the_item_and_field():
    doc = with_(load("generic", "canonical_batch"), "1.type", "answered")
    with pytest.raises(PayloadError) as err:
        GENERIC.parse({}, body(doc), source("generic"))
    assert [path for path, _ in err.value.errors] == ["[1].type"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"[]", "body: an empty list"), (b'"created"', "body: an event must be a JSON object")],
)
def test_canonical_bodies_that_are_not_events(payload, message):
    with pytest.raises(PayloadError) as err:
        GENERIC.parse({}, payload, source("generic"))
    assert err.value.messages()[0].startswith(message)


def test_canonical_events_keep_the_senders_ids():
    (event,) = GENERIC.parse({}, raw("generic", "canonical_event"), source("generic"))
    assert event.id == "evt-123"


# ---------------------------------------------------------------- JMESPath mapping


def test_any_json_is_mapped_with_jmespath_expressions():
    (event,) = mapped(load("generic", "shop_webhook"))
    assert event == {
        "id": "dlv_8f2c41",
        "ticket_id": "4711",
        "type": "agent_replied",
        "at": "2026-11-20T16:02:41Z",
        "ticket": {
            "status": "pending",
            "priority": "urgent",
            "channel": "web",
            "tags": ["URGENT", "refund"],
            "department": "billing",
            "assignee": "ana@example.com",
            "requester": "bob@client.test",
            "customer_group": "vip",
            "custom": {"plan": "gold"},
        },
    }


def test_a_mapping_can_select_a_list_of_items_and_read_unix_times():
    mapping = {
        "events": "items",
        "id": "id",
        "ticket_id": "ticket",
        "type": "kind",
        "at": "ts",
        "ticket.status": "state",
    }
    first, second = mapped(load("generic", "shop_batch"), mapping, type_map={})
    assert (first["id"], first["at"], first["ticket"]) == ("a1", "2026-11-20T15:45:00Z", {"status": "open"})
    assert (second["id"], second["at"], second["type"]) == ("a2", "2026-11-20T16:02:41Z", "customer_replied")


def test_without_an_id_expression_the_id_is_a_hash_of_the_item_stable_across_redelivery():
    mapping = {k: v for k, v in SHOP_MAPPING.items() if k != "id"}
    doc = load("generic", "shop_webhook")
    reordered = dict(reversed(list(doc.items())))
    changed = with_(doc, "occurred_at", "2026-11-20T17:05:00+01:00")
    ids = [mapped(d, mapping)[0]["id"] for d in (doc, reordered, changed)]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("generic:")


def test_a_null_id_also_falls_back_to_the_hash():
    (event,) = mapped(with_(load("generic", "shop_webhook"), "delivery.id", None))
    assert event["id"].startswith("generic:")


def test_mapping_problems_name_the_mapping_key_its_expression_and_the_value_found():
    doc = with_(with_(load("generic", "shop_webhook"), "event", "ticket.escalated"), "ticket.number", DELETE)
    doc = with_(doc, "occurred_at", "yesterday")
    with pytest.raises(PayloadError) as err:
        mapped(doc)
    assert err.value.messages() == [
        "mapping.ticket_id (ticket.number): found no ticket id",
        "mapping.type (event): 'ticket.escalated' is not one of created, agent_replied, customer_replied, "
        "updated, solved, closed, reopened, deleted (see options.type_map)",
        "mapping.at (occurred_at): 'yesterday' is not an ISO 8601 instant or unix time",
    ]


def test_mapping_problems_in_a_list_name_the_item():
    mapping = {"events": "items", "ticket_id": "ticket", "type": "kind", "at": "ts"}
    doc = with_(load("generic", "shop_batch"), "items.1.kind", "pinged")
    with pytest.raises(PayloadError) as err:
        mapped(doc, mapping, type_map={})
    assert [path for path, _ in err.value.errors] == ["events[1].mapping.type (kind)"]


def test_a_mapping_whose_events_expression_finds_no_list_is_a_payload_error():
    mapping = {"events": "payload", "ticket_id": "ticket", "type": "kind", "at": "ts"}
    with pytest.raises(PayloadError, match="mapping.events: selected NoneType, not a list of items"):
        mapped(load("generic", "shop_batch"), mapping, type_map={})


def test_a_runtime_jmespath_error_is_a_payload_error_naming_the_key():
    mapping = {**SHOP_MAPPING, "ticket.custom.size": "length(ticket.number)"}
    with pytest.raises(PayloadError, match="mapping.ticket.custom.size: In function length"):
        mapped(load("generic", "shop_webhook"), mapping)


def test_an_invalid_mapping_is_a_configuration_error_listing_every_problem():
    mapping = {"ticket_id": "a..b", "type": "event", "ticket.colour": "x", "priority": "p"}
    with pytest.raises(ConfigError) as err:
        mapped(load("generic", "shop_webhook"), mapping)
    assert [path for path, _ in err.value.errors] == [
        "sources.generic-test.mapping.ticket_id",
        "sources.generic-test.mapping.ticket.colour",
        "sources.generic-test.mapping.priority",
        "sources.generic-test.mapping.at",
    ]


def test_validate_mapping_accepts_every_canonical_field_and_custom_ones():
    good = {
        **SHOP_MAPPING,
        "events": "@",
        "ticket.custom": "ticket.extra",
        "ticket.assignee_status": "x",
        "ticket.via_invitation": "y",
    }
    assert validate_mapping(good) == []
    assert validate_mapping({**good, "ticket.custom.": "x"}) == [
        ("mapping.ticket.custom.", "unknown mapping key (see docs/helpdesks.md, generic provider)")
    ]
    assert validate_mapping({**good, "at": ""}) == [
        ("mapping.at", "must be a JMESPath expression (a non-empty string)")
    ]


# ---------------------------------------------------------------- authentication and delivery ids


def test_generic_accepts_a_v1_signature_and_reports_the_senders_delivery_id():
    payload = raw("generic", "canonical_event")
    headers = {**signing.sign(SECRET, payload, T), "x-slaclock-delivery": "d-1"}
    GENERIC.authenticate(headers, payload, SECRET, T)
    assert GENERIC.delivery_id(headers, payload) == "d-1"
    assert GENERIC.delivery_id({}, payload) is None


@pytest.mark.parametrize(
    ("name", "headers", "payload", "expected"),
    [
        ("zendesk", {"X-Zendesk-Webhook-Invocation-Id": "8350205582"}, b"{}", "zendesk:8350205582"),
        ("zendesk", {}, raw("zendesk", "ticket_created"), "zendesk:01JD2W7V4S7Z3K9Q6X1B8N5M2C"),
        ("zendesk", {}, raw("zendesk", "trigger_agent_replied"), None),
        ("zendesk", {}, b"not json", None),
        (
            "intercom",
            {},
            raw("intercom", "conversation_admin_replied"),
            "intercom:notif_44d1f763-d3ad-4927-8e5c-da6cd6ca78d2",
        ),
        ("intercom", {}, raw("intercom", "ping"), None),
        ("jira", {"x-atlassian-webhook-identifier": "c4b5f1e2"}, b"{}", "jira:c4b5f1e2"),
        ("jira", {}, b"{}", None),
        ("freshdesk", {}, raw("freshdesk", "ticket_created"), None),
        ("liveagent", {}, raw("liveagent", "ticket_created"), None),
        ("helpscout", {}, raw("helpscout", "convo_created"), None),
    ],
)
def test_delivery_ids_come_from_the_providers_own_delivery_identifiers(name, headers, payload, expected):
    assert provider_for(name).delivery_id(headers, payload) == expected


# ---------------------------------------------------------------- signing helper


def test_sign_then_verify_round_trips_and_binds_body_secret_and_time():
    payload = b'{"ticket_id": "4711"}'
    headers = signing.sign(SECRET, payload, T)
    assert headers["X-Slaclock-Timestamp"] == str(int(T.timestamp()))
    assert (
        headers["X-Slaclock-Signature"].startswith("v1=") and len(headers["X-Slaclock-Signature"]) == 3 + 64
    )
    signing.verify(SECRET, headers, payload, T + timedelta(minutes=4))
    for secret, changed, now in [
        ("other", payload, T),
        (SECRET, payload + b" ", T),
        (SECRET, payload, T + timedelta(minutes=6)),
        (SECRET, payload, T - timedelta(minutes=6)),
    ]:
        with pytest.raises(AuthError):
            signing.verify(secret, headers, changed, now)


def test_sign_accepts_unix_seconds_or_a_datetime_and_is_deterministic():
    assert (
        signing.sign(SECRET, b"x", int(T.timestamp()))
        == signing.sign(SECRET, b"x", T)
        == signing.sign(SECRET, b"x", T)
    )


def test_a_known_vector_pins_the_scheme():
    """printf '1795190561.{}' | openssl dgst -sha256 -hmac s3cret"""
    expected = "3c74d2f9f7a02eb960209660f496a2ac1671da1e183e0c0d92e5eb6360cd461a"
    assert signing.signature("s3cret", b"{}", 1795190561) == expected
    assert signing.sign("s3cret", b"{}", 1795190561)["X-Slaclock-Signature"] == f"v1={expected}"


def test_one_matching_signature_among_several_is_enough_for_secret_rotation():
    payload = b"{}"
    good = signing.sign(SECRET, payload, T)
    old = signing.sign("previous-secret", payload, T)
    both = {**good, "X-Slaclock-Signature": f"{old['X-Slaclock-Signature']}, {good['X-Slaclock-Signature']}"}
    signing.verify(SECRET, both, payload, T)


def test_verify_reads_lowercased_headers():
    payload = b"{}"
    headers = {k.lower(): v for k, v in signing.sign(SECRET, payload, T).items()}
    signing.verify(SECRET, headers, payload, T)


@pytest.mark.parametrize("missing", ["X-Slaclock-Timestamp", "X-Slaclock-Signature"])
def test_verify_names_a_missing_header(missing):
    headers = signing.sign(SECRET, b"{}", T)
    del headers[missing]
    with pytest.raises(AuthError, match=f"missing {missing}"):
        signing.verify(SECRET, headers, b"{}", T)


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_every_provider_is_registered_under_its_name(name):
    provider = provider_for(name)
    assert provider.name == name
    assert provider_for(name) is provider


def test_an_unknown_provider_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown helpdesk provider 'kayako' \\(known: generic, zendesk, "):
        provider_for("kayako")
