"""Each provider's sample payloads parse into exactly the expected canonical events; malformed bodies
and missing fields are PayloadErrors naming the problem; event ids survive redelivery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from slaclock.helpdesk import PayloadError, provider_for

from tests.fixtures.builders import DELETE, body, load, raw, source, with_

ZENDESK_OPTIONS = {
    "users": {"20978392": "bob@client.test", "8447388090495": "Ana@Example.com"},
    "groups": {"98738": "billing"},
    "organizations": {"509974": "vip"},
}
INTERCOM_OPTIONS = {"users": {"9608799": "ana@example.com"}, "teams": {"5017691": "billing"}}
JIRA_OPTIONS = {
    "fields": {"customer_group": "customfield_10002"},
    "custom_fields": {"customfield_10050": "plan"},
}
RECEIVED = {"X-Slaclock-Received-At": "2026-11-21T10:00:00Z"}


@dataclass(frozen=True)
class Hashed:
    """An id derived from a hash of the body: only its readable prefix is pinned here (stability is
    tested separately)."""

    prefix: str


@dataclass(frozen=True)
class Case:
    provider: str
    fixture: str
    expected: list[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.fixture}"


BOB, ANA = "bob@client.test", "ana@example.com"
CASES = [
    # ------------------------------------------------------------ generic
    Case(
        "generic",
        "canonical_event",
        [
            {
                "id": "evt-123",
                "ticket_id": "4711",
                "type": "created",
                "at": "2026-11-20T15:45:00Z",
                "ticket": {
                    "status": "open",
                    "priority": "high",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "department": "billing",
                    "assignee": ANA,
                    "requester": BOB,
                    "customer_group": "vip",
                    "custom": {"plan": "gold"},
                },
            },
        ],
    ),
    Case(
        "generic",
        "canonical_batch",
        [
            {
                "id": "evt-124",
                "ticket_id": "4711",
                "type": "customer_replied",
                "at": "2026-11-20T16:10:00Z",
                "ticket": {},
            },
            {
                "id": "evt-125",
                "ticket_id": "4711",
                "type": "agent_replied",
                "at": "2026-11-20T16:25:30Z",
                "ticket": {"status": "pending"},
            },
        ],
    ),
    # ------------------------------------------------------------ zendesk
    Case(
        "zendesk",
        "ticket_created",
        [
            {
                "id": "zendesk:01JD2W7V4S7Z3K9Q6X1B8N5M2C",
                "ticket_id": "35436",
                "type": "created",
                "at": "2026-11-20T15:45:00.482913Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "new",
                    "priority": "high",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "assignee": None,
                    "requester": BOB,
                    "department": "billing",
                    "customer_group": "vip",
                },
            },
        ],
        options=ZENDESK_OPTIONS,
    ),
    Case(
        "zendesk",
        "ticket_comment_added",
        [
            {
                "id": "zendesk:d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52",
                "ticket_id": "35436",
                "type": "agent_replied",
                "at": "2026-11-20T16:02:41.123456Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "priority": "high",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "assignee": ANA,
                    "requester": BOB,
                    "department": "billing",
                    "customer_group": "vip",
                },
                "reply": {"public": True, "author": "agent"},  # comment.is_public, author.is_staff
            },
        ],
        options=ZENDESK_OPTIONS,
    ),
    Case(
        "zendesk",
        "ticket_status_changed",
        [  # no options: ids are kept, not guessed
            {
                "id": "zendesk:5b9e2c1a-77d3-4f0e-9a61-3c2d8e4f1b07",
                "ticket_id": "35436",
                "type": "solved",
                "at": "2026-11-20T16:30:05Z",
                "ticket": {
                    "status": "solved",
                    "priority": "high",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "custom": {
                        "zendesk_assignee_id": "8447388090495",
                        "zendesk_requester_id": "20978392",
                        "zendesk_group_id": "98738",
                        "zendesk_organization_id": "509974",
                    },
                },
            },
        ],
    ),
    Case("zendesk", "user_created", []),
    Case(
        "zendesk",
        "trigger_agent_replied",
        [
            {
                "id": "zendesk:8350205582",
                "ticket_id": "35436",
                "type": "agent_replied",
                "at": "2026-11-20T16:02:41Z",  # the minute from the body, the seconds from the signature
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "priority": "high",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "billing",
                    "customer_group": "vip",
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"plan": "gold"},
                },
            },
        ],
        headers={
            "X-Zendesk-Webhook-Signature-Timestamp": "2026-11-20T16:02:41Z",
            "X-Zendesk-Webhook-Invocation-Id": "8350205582",
        },
    ),
    # ------------------------------------------------------------ freshdesk
    # Freshdesk has no time placeholder: every event is dated by the stamped receive instant.
    Case(
        "freshdesk",
        "ticket_created",
        [
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "created",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "priority": "urgent",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "Billing",
                    "assignee": None,
                    "requester": BOB,
                    "customer_group": "VIP",
                    "custom": {"plan": "gold"},
                },
            },
        ],
        headers=RECEIVED,
    ),
    Case(
        "freshdesk",
        "status_resolved",
        [
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "solved",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "solved",
                    "priority": "urgent",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "Billing",
                    "assignee": ANA,
                    "requester": BOB,
                    "customer_group": "VIP",
                    "custom": {"plan": "gold"},
                },
            },
        ],
        headers=RECEIVED,
    ),
    Case(
        "freshdesk",
        "agent_replied",
        [
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "agent_replied",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "pending",
                    "priority": "urgent",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "Billing",
                    "assignee": ANA,
                    "requester": BOB,
                    "customer_group": "VIP",
                    "custom": {"plan": "gold"},
                },
            },
        ],
        headers=RECEIVED,
    ),
    Case(
        "freshdesk",
        "status_codes_reopened",
        [  # {status:{from:4,to:6}}: Resolved -> Waiting on Customer
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "reopened",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Test ticket subject",
                    "status": "pending",
                    "priority": "low",
                    "requester": "requester-bob@example.com",
                },
            },
        ],
        headers=RECEIVED,
    ),
    Case(
        "freshdesk",
        "public_note",
        [
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "updated",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Test ticket subject",
                    "status": "open",
                    "priority": "normal",
                    "requester": "requester-bob@example.com",
                },
                "reply": {"public": True},  # {note_type:public}
            },
        ],
        headers=RECEIVED,
    ),
    Case(
        "freshdesk",
        "private_note",
        [
            {
                "id": Hashed("freshdesk:11:"),
                "ticket_id": "11",
                "type": "updated",  # an internal note answers nobody unless responses say so
                "at": "2026-11-21T10:00:00Z",
                "ticket": {
                    "subject": "Test ticket subject",
                    "status": "open",
                    "priority": "normal",
                    "requester": "requester-bob@example.com",
                },
                "reply": {"public": False},  # {note_type:private}
            },
        ],
        headers=RECEIVED,
    ),
    # ------------------------------------------------------------ liveagent
    Case(
        "liveagent",
        "ticket_created",
        [
            {
                "id": Hashed("liveagent:fp80688h:"),
                "ticket_id": "fp80688h",
                "type": "created",
                "at": "2026-11-20T15:45:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "new",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "department": "billing",
                    "requester": BOB,
                    "custom": {"plan": "gold", "liveagent_code": "XYZ-42-ABC"},
                },
            },
        ],
        options={"departments": {"d5f2a1c0": "billing"}},
    ),
    Case(
        "liveagent",
        "customer_replied",
        [
            {
                "id": Hashed("liveagent:fp80688h:"),
                "ticket_id": "fp80688h",
                "type": "customer_replied",
                "at": "2026-11-20T16:02:41Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "billing",
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"liveagent_code": "XYZ-42-ABC"},
                },
            },
        ],
    ),
    Case(
        "liveagent",
        "internal_note",
        [
            {
                "id": Hashed("liveagent:fp80688h:"),
                "ticket_id": "fp80688h",
                "type": "updated",
                "at": "2026-11-20T16:20:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "department": "billing",
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"liveagent_code": "XYZ-42-ABC"},
                },
                "reply": {"public": False, "via": "I"},  # message group type I: INTERNAL
            },
        ],
    ),
    Case(
        "liveagent",
        "ticket_resolved",
        [
            {
                "id": Hashed("liveagent:fp80688h:"),
                "ticket_id": "fp80688h",
                "type": "solved",
                "at": "2026-11-20T15:30:05Z",  # LiveAgent writes times without offset: Europe/Paris here
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "solved",
                    "channel": "email",
                    "tags": ["URGENT", "invoice"],
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"liveagent_code": "XYZ-42-ABC"},
                },
            },
        ],
        options={"users": {"a9k3m2p1": ANA}, "timezone": "Europe/Paris"},
    ),
    # ------------------------------------------------------------ intercom
    Case(
        "intercom",
        "conversation_user_created",
        [
            {
                "id": "intercom:215472621202693:created",
                "ticket_id": "215472621202693",
                "type": "created",
                "at": "2026-11-20T15:45:00Z",
                "ticket": {
                    "status": "open",
                    "priority": "high",
                    "channel": "chat",
                    "tags": ["URGENT"],
                    "assignee": None,
                    "requester": BOB,
                    "custom": {"plan": "gold", "Has attachments": False},
                },
            },
        ],
    ),
    Case(
        "intercom",
        "conversation_admin_replied",
        [
            {
                "id": "intercom:215472621202693:part:37358429305",
                "ticket_id": "215472621202693",
                "type": "agent_replied",
                "at": "2026-11-20T16:02:41Z",
                "ticket": {
                    "status": "open",
                    "priority": "high",
                    "channel": "chat",
                    "tags": ["URGENT"],
                    "assignee": ANA,
                    "department": "billing",
                    "requester": BOB,
                    "custom": {"plan": "gold"},
                },
                "reply": {"public": True, "author": "agent"},  # part_type comment, author.type admin
            },
        ],
        options=INTERCOM_OPTIONS,
    ),
    Case(
        "intercom",
        "conversation_admin_closed",
        [  # admin and team ids the source does not map
            {
                "id": "intercom:215472621202693:part:37358431001",
                "ticket_id": "215472621202693",
                "type": "solved",
                "at": "2026-11-20T16:30:05Z",
                "ticket": {
                    "status": "solved",
                    "priority": "high",
                    "channel": "chat",
                    "tags": ["URGENT"],
                    "requester": BOB,
                    "custom": {
                        "intercom_admin_assignee_id": "9608799",
                        "intercom_team_assignee_id": "5017691",
                        "plan": "gold",
                    },
                },
            },
        ],
    ),
    Case(
        "intercom",
        "conversation_admin_replied_v1",
        [
            {
                "id": "intercom:21322009097:part:2824382500",
                "ticket_id": "21322009097",
                "type": "agent_replied",
                "at": "2019-03-22T21:45:11Z",
                "ticket": {
                    "status": "open",
                    "tags": [],
                    "assignee": "cordelia@zulip.com",
                    "requester": "jerryguitarist@gmail.com",
                },
            },
        ],
    ),
    Case("intercom", "ping", []),
    # ------------------------------------------------------------ jira
    Case(
        "jira",
        "issue_created",
        [
            {
                "id": "jira:10042:created",
                "ticket_id": "SUP-12",
                "type": "created",
                "at": "2026-11-20T15:45:00.123000Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "priority": "high",
                    "tags": ["URGENT", "invoice"],
                    "assignee": None,
                    "requester": BOB,
                    "department": "billing",
                    "customer_group": "vip",
                    "custom": {
                        "jira_issue_id": "10042",
                        "jira_status": "Waiting for support",
                        "plan": "gold",
                    },
                },
            },
        ],
        options=JIRA_OPTIONS,
    ),
    Case(
        "jira",
        "issue_updated_resolved",
        [
            {
                "id": "jira:10042:changelog:10950",
                "ticket_id": "SUP-12",
                "type": "solved",
                "at": "2026-11-20T16:30:05Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "solved",
                    "priority": "high",
                    "tags": ["URGENT", "invoice"],
                    "assignee": ANA,
                    "requester": BOB,
                    "department": "billing",
                    "custom": {"jira_issue_id": "10042", "jira_status": "Resolved"},
                },
            },
        ],
        options=JIRA_OPTIONS,
    ),
    Case(
        "jira",
        "comment_created",
        [
            {
                "id": "jira:10042:comment:10107",
                "ticket_id": "SUP-12",
                "type": "customer_replied",
                "at": "2026-11-20T16:02:41Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "priority": "high",
                    "assignee": None,
                    "custom": {"jira_issue_id": "10042", "jira_status": "Waiting for support"},
                },
                "reply": {"public": True, "author": "customer"},  # jsdPublic, accountType customer
            },
        ],
    ),
    Case(
        "jira",
        "issue_updated_status",
        [  # To Do -> In Progress: category "indeterminate" is open
            {
                "id": "jira:10000:changelog:10000",
                "ticket_id": "TEST-1",
                "type": "updated",
                "at": "2017-01-30T17:32:14.716000Z",
                "ticket": {
                    "subject": "Fix That",
                    "status": "open",
                    "priority": "normal",
                    "tags": [],
                    "assignee": None,
                    "requester": "kolaszek@tlen.pl",
                    "custom": {"jira_issue_id": "10000", "jira_status": "In Progress"},
                },
            },
        ],
    ),
    # ------------------------------------------------------------ helpscout
    Case(
        "helpscout",
        "convo_created",
        [
            {
                "id": "helpscout:123:created",
                "ticket_id": "123",
                "type": "created",
                "at": "2026-11-20T15:45:00Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "assignee": None,
                    "requester": BOB,
                    "department": "billing",
                    "custom": {"Plan": "gold", "helpscout_number": "12"},
                },
            },
        ],
        headers={"X-HelpScout-Event": "convo.created"},
        options={"mailboxes": {"13": "billing"}},
    ),
    Case(
        "helpscout",
        "convo_agent_reply",
        [
            {
                "id": "helpscout:123:thread:2198262393",
                "ticket_id": "123",
                "type": "agent_replied",
                "at": "2026-11-20T16:02:41Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "pending",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"helpscout_mailbox_id": "13", "Plan": "gold", "helpscout_number": "12"},
                },
                "reply": {"public": True, "author": "agent"},  # the event name (X-HelpScout-Event)
            },
        ],
        headers={"X-HelpScout-Event": "convo.agent.reply.created"},
    ),
    Case(
        "helpscout",
        "convo_customer_reply",
        [
            {
                "id": "helpscout:123:thread:2198262401",
                "ticket_id": "123",
                "type": "customer_replied",
                "at": "2026-11-20T17:10:12Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "open",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "assignee": ANA,
                    "requester": BOB,
                    "department": "billing",
                    "custom": {"helpscout_number": "12"},
                },
                "reply": {"public": True, "author": "customer"},  # the event name (X-HelpScout-Event)
            },
        ],
        headers={"X-HelpScout-Event": "convo.customer.reply.created"},
        options={"mailboxes": {"13": "billing"}},
    ),
    Case(
        "helpscout",
        "convo_status_closed",
        [
            {
                "id": Hashed("helpscout:123:convo.status:"),
                "ticket_id": "123",
                "type": "solved",
                "at": "2026-11-20T17:30:05Z",
                "ticket": {
                    "subject": "Wrong VAT number on invoice",
                    "status": "solved",
                    "channel": "email",
                    "tags": ["URGENT"],
                    "assignee": ANA,
                    "requester": BOB,
                    "custom": {"helpscout_mailbox_id": "13", "helpscout_number": "12"},
                },
            },
        ],
        headers={"X-HelpScout-Event": "convo.status"},
    ),
    Case(
        "helpscout",
        "convo_deleted",
        [
            {
                "id": "helpscout:123:deleted",
                "ticket_id": "123",
                "type": "deleted",
                "at": "2026-11-21T10:00:00Z",
                "ticket": {},
            },
        ],
        headers={"X-HelpScout-Event": "convo.deleted", **RECEIVED},
    ),
]


def parse(
    case: Case, payload: bytes | None = None, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    events = provider_for(case.provider).parse(
        case.headers if headers is None else headers,
        raw(case.provider, case.fixture) if payload is None else payload,
        source(case.provider, **case.options),
    )
    return [e.to_dict() for e in events]


def matches(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    if len(actual) != len(expected):
        return False
    for got, want in zip(actual, expected, strict=True):
        want = dict(want)
        if isinstance(want["id"], Hashed):
            prefix = want.pop("id").prefix
            if not got["id"].startswith(prefix) or len(got["id"]) <= len(prefix):
                return False
            got = {k: v for k, v in got.items() if k != "id"}
        if got != want:
            return False
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_sample_payload_parses_into_exactly_the_expected_events(case):
    actual = parse(case)
    assert matches(actual, case.expected), json.dumps(actual, indent=1)


def test_every_provider_has_sample_payloads():
    assert {c.provider for c in CASES} == {
        "generic",
        "zendesk",
        "freshdesk",
        "liveagent",
        "intercom",
        "jira",
        "helpscout",
    }


# ---------------------------------------------------------------- redelivery


@pytest.mark.parametrize("case", [c for c in CASES if c.expected], ids=lambda c: c.id)
def test_event_ids_are_the_same_when_the_same_payload_is_delivered_again(case):
    reformatted = json.dumps(load(case.provider, case.fixture), indent=4, sort_keys=True).encode()
    first, again, retried = parse(case), parse(case), parse(case, payload=reformatted)
    assert [e["id"] for e in first] == [e["id"] for e in again] == [e["id"] for e in retried]
    assert len({e["id"] for e in first}) == len(first)


@pytest.mark.parametrize(
    ("provider", "fixture", "path", "value", "headers"),
    [
        ("freshdesk", "status_resolved", "freshdesk_webhook.ticket_status", "Closed", RECEIVED),
        ("liveagent", "customer_replied", "ticket.date_changed", "2026-11-20 16:40:00", {}),
        (
            "helpscout",
            "convo_status_closed",
            "userUpdatedAt",
            "2026-11-20T17:40:00Z",
            {"X-HelpScout-Event": "convo.status"},
        ),
        ("zendesk", "trigger_agent_replied", "ticket.updated_at", "2026-11-20T16:40Z", {}),
    ],
)
def test_hashed_ids_differ_for_a_different_change_of_the_same_ticket(provider, fixture, path, value, headers):
    case = Case(provider, fixture, [], headers=headers)
    changed = body(with_(load(provider, fixture), path, value))
    assert parse(case)[0]["id"] != parse(case, payload=changed)[0]["id"]


# ---------------------------------------------------------------- malformed bodies

HEADERS_FOR = {"helpscout": {"X-HelpScout-Event": "convo.created"}}
ALL = ["generic", "zendesk", "freshdesk", "liveagent", "intercom", "jira", "helpscout"]


@pytest.mark.parametrize("provider", ALL)
def test_malformed_json_is_a_payload_error_naming_line_and_column(provider):
    with pytest.raises(PayloadError) as err:
        provider_for(provider).parse(HEADERS_FOR.get(provider, {}), b'{"a" 1}', source(provider))
    assert err.value.messages() == ["body: not valid JSON (line 1 column 6): Expecting ':' delimiter"]


@pytest.mark.parametrize("provider", ALL)
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "body: empty; a JSON document is required"),
        (b"\xff\xfe{}", "body: not UTF-8 text (bad byte at offset 0)"),
    ],
    ids=["empty", "not-utf8"],
)
def test_empty_or_undecodable_bodies_are_payload_errors(provider, payload, message):
    with pytest.raises(PayloadError) as err:
        provider_for(provider).parse(HEADERS_FOR.get(provider, {}), payload, source(provider))
    assert err.value.messages() == [message]


@pytest.mark.parametrize("provider", [p for p in ALL if p != "generic"])
def test_a_body_that_is_not_an_object_is_a_payload_error(provider):
    with pytest.raises(PayloadError) as err:
        provider_for(provider).parse(HEADERS_FOR.get(provider, {}), b"[1, 2]", source(provider))
    assert err.value.messages() == ["body: must be a JSON object, not list"]


MISSING = [
    ("generic", "canonical_event", "ticket_id", {}, "ticket_id: required, a non-empty string"),
    ("zendesk", "ticket_created", "detail.id", {}, "detail.id: required"),
    ("zendesk", "ticket_created", "time", {}, "time: required"),
    ("zendesk", "trigger_agent_replied", "ticket.id", {}, "ticket.id: required"),
    (
        "zendesk",
        "trigger_agent_replied",
        "ticket.updated_at",
        {},
        "ticket.updated_at: required, an ISO 8601 instant",
    ),
    (
        "freshdesk",
        "ticket_created",
        "freshdesk_webhook.ticket_id",
        {},
        "freshdesk_webhook.ticket_id: required",
    ),
    (
        "freshdesk",
        "status_resolved",
        "freshdesk_webhook.ticket_updated_at",
        {},
        "freshdesk_webhook.ticket_updated_at: required: the instant of the change",
    ),
    ("liveagent", "ticket_created", "id", {}, "id: required"),
    ("liveagent", "customer_replied", "ticket.id", {}, "ticket.id: required"),
    ("intercom", "conversation_admin_replied", "data.item.id", {}, "data.item.id: required"),
    ("intercom", "conversation_admin_replied", "created_at", {}, "created_at: required"),
    ("jira", "comment_created", "issue.key", {}, "issue.key: required"),
    ("jira", "comment_created", "comment.id", {}, "comment.id: required"),
    ("jira", "issue_created", "webhookEvent", {}, "webhookEvent: required: this is not a Jira webhook"),
    (
        "helpscout",
        "convo_created",
        "id",
        {"X-HelpScout-Event": "convo.created"},
        "id: required: the conversation id",
    ),
]


@pytest.mark.parametrize(("provider", "fixture", "path", "headers", "message"), MISSING, ids=lambda v: str(v))
def test_a_missing_required_field_is_a_payload_error_naming_it(provider, fixture, path, headers, message):
    payload = body(with_(load(provider, fixture), path, DELETE))
    with pytest.raises(PayloadError) as err:
        provider_for(provider).parse(headers, payload, source(provider))
    assert message in err.value.messages()


def test_a_help_scout_delivery_without_its_event_header_is_a_payload_error():
    with pytest.raises(PayloadError) as err:
        provider_for("helpscout").parse({}, raw("helpscout", "convo_created"), source("helpscout"))
    assert err.value.messages() == ["header X-HelpScout-Event: required: names the Help Scout event"]


@pytest.mark.parametrize(
    ("provider", "fixture", "path", "value", "message"),
    [
        ("zendesk", "trigger_agent_replied", "event", "answered", "event: 'answered' is not one of"),
        ("zendesk", "ticket_created", "time", "soon", "time: 'soon' is not an ISO 8601 instant"),
        ("liveagent", "customer_replied", "event", "chatted", "event: 'chatted' is not one of"),
        (
            "freshdesk",
            "ticket_created",
            "freshdesk_webhook.ticket_created_at",
            "Tue, 11 Oct 2022 at 11:43 AM",
            "freshdesk_webhook.ticket_created_at: 'Tue, 11 Oct 2022 at 11:43 AM' is not an ISO 8601 instant",
        ),
        (
            "freshdesk",
            "ticket_created",
            "freshdesk_webhook.slaclock_event",
            "noted",
            "freshdesk_webhook.slaclock_event: 'noted' is not one of",
        ),
    ],
)
def test_an_invalid_value_is_a_payload_error_naming_field_and_value(provider, fixture, path, value, message):
    payload = body(with_(load(provider, fixture), path, value))
    with pytest.raises(PayloadError) as err:
        provider_for(provider).parse({}, payload, source(provider))
    assert any(m.startswith(message) for m in err.value.messages()), err.value.messages()


def test_a_payload_error_is_a_validation_error_listing_every_problem():
    from slaclock.engine.errors import ValidationError

    payload = body(with_(with_(load("liveagent", "customer_replied"), "ticket.id", DELETE), "event", "nope"))
    with pytest.raises(ValidationError) as err:
        provider_for("liveagent").parse({}, payload, source("liveagent"))
    assert len(err.value.errors) == 2
    assert str(err.value).startswith("malformed webhook payload (2 errors)")
