# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Real provider payloads through the real webhook function on moto, for what only the deployed path
can show: the request is dated by API Gateway's ``requestContext.timeEpoch`` (payloads with no time
of their own are accepted and dated by it, and a caller cannot choose that date), Freshdesk's
identical reply bodies stay distinct replies while a redelivered status change stays one event, and
Intercom notifications that Intercom itself delayed are accepted, a replay of one adding nothing.

Payloads are the helpdesk fixtures (tests/fixtures/<provider>/, each directory's README names the
documentation pages they are built from).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.world import CONFIG_DOC
from tests.fixtures.builders import SECRET, helpscout_headers, intercom_headers, raw, token_headers
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

RECEIVED = datetime(2026, 11, 20, 16, 2, 41, 250000, tzinfo=UTC)
INTERCOM_CREATED = datetime(2026, 11, 20, 16, 2, 42, tzinfo=UTC)  # the notification's created_at


@pytest.fixture
def sources(pipeline: Pipeline) -> Pipeline:
    doc = copy.deepcopy(CONFIG_DOC)
    ssm = pipeline.aws.client("ssm")
    for name in ("freshdesk", "helpscout", "intercom"):
        doc["sources"][name] = {"provider": name, "secret": {"ssm_parameter": f"/slaclock/{name}"}}
        ssm.put_parameter(Name=f"/slaclock/{name}", Value=SECRET, Type="SecureString")
    put_config(pipeline.aws, config_yaml(doc))
    return pipeline


def stored_events(p: Pipeline, ticket_id: str) -> list[dict]:
    return [json.loads(i["event"]) for i in p.items(ticket_id, "E#")]


def post(p: Pipeline, source: str, body: bytes, headers: dict[str, str], received: datetime) -> tuple:
    p.now = received + timedelta(milliseconds=180)  # the function runs a little after API Gateway received it
    status, answer, _ = p.post(source, body, headers, received=received)
    return status, answer


# ---------------------------------------------------------------- received-at stamping


def test_a_freshdesk_body_without_any_time_is_accepted_and_dated_when_api_gateway_received_it(sources):
    status, answer = post(
        sources, "freshdesk", raw("freshdesk", "ticket_created"), token_headers(SECRET), RECEIVED
    )
    assert status == 202, answer
    [event] = stored_events(sources, "11")
    assert event["type"] == "created"
    assert event["at"] == "2026-11-20T16:02:41.250000Z"  # requestContext.timeEpoch, not the function's clock


def test_a_received_at_header_sent_by_the_caller_is_ignored(sources):
    headers = token_headers(SECRET) | {"X-Slaclock-Received-At": "2020-01-01T00:00:00Z"}
    status, _ = post(sources, "freshdesk", raw("freshdesk", "ticket_created"), headers, RECEIVED)
    assert status == 202
    [event] = stored_events(sources, "11")
    assert event["at"] == "2026-11-20T16:02:41.250000Z"


def test_a_help_scout_convo_deleted_is_dated_when_it_was_received(sources):
    body = raw("helpscout", "convo_deleted")
    status, answer = post(
        sources, "helpscout", body, helpscout_headers(body, "convo.deleted", SECRET), RECEIVED
    )
    assert status == 202, answer
    [event] = stored_events(sources, "123")
    assert (event["type"], event["at"]) == ("deleted", "2026-11-20T16:02:41.250000Z")


# ---------------------------------------------------------------- Freshdesk: replies vs redeliveries


def test_two_freshdesk_replies_with_identical_bodies_are_two_replies(sources):
    post(sources, "freshdesk", raw("freshdesk", "ticket_created"), token_headers(SECRET), RECEIVED)
    reply = raw("freshdesk", "customer_replied")
    first = post(sources, "freshdesk", reply, token_headers(SECRET), RECEIVED + timedelta(minutes=20))
    second = post(sources, "freshdesk", reply, token_headers(SECRET), RECEIVED + timedelta(hours=2))
    assert first[0] == second[0] == 202
    assert first[1]["event_ids"] != second[1]["event_ids"]
    replies = [e for e in stored_events(sources, "11") if e["type"] == "customer_replied"]
    assert sorted(e["at"] for e in replies) == ["2026-11-20T16:22:41.250000Z", "2026-11-20T18:02:41.250000Z"]


def test_a_redelivered_freshdesk_status_change_is_one_event(sources):
    post(sources, "freshdesk", raw("freshdesk", "ticket_created"), token_headers(SECRET), RECEIVED)
    resolved = raw("freshdesk", "status_resolved")
    post(sources, "freshdesk", resolved, token_headers(SECRET), RECEIVED + timedelta(minutes=30))
    # Freshdesk retries 5 minutes after a failed attempt, with the same body
    post(sources, "freshdesk", resolved, token_headers(SECRET), RECEIVED + timedelta(minutes=35))
    solved = [e for e in stored_events(sources, "11") if e["type"] == "solved"]
    assert [e["at"] for e in solved] == ["2026-11-20T16:32:41.250000Z"]


# ---------------------------------------------------------------- Intercom: delayed notifications


def test_an_intercom_notification_delivered_hours_late_is_accepted_and_a_replay_adds_nothing(sources):
    body = raw("intercom", "conversation_admin_replied")
    late = INTERCOM_CREATED + timedelta(hours=3)
    status, answer = post(sources, "intercom", body, intercom_headers(body, SECRET), late)
    assert status == 202, answer
    before = stored_events(sources, "215472621202693")
    assert [e["type"] for e in before] == ["agent_replied"]
    assert before[0]["at"] == "2026-11-20T16:02:41Z"  # the part's own created_at, not the late arrival

    status, again = post(sources, "intercom", body, intercom_headers(body, SECRET), late + timedelta(days=1))
    assert status == 202
    assert again["event_ids"] == answer["event_ids"]
    assert stored_events(sources, "215472621202693") == before
