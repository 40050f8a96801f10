# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Every provider's authentication through the real webhook function on moto: good (202, stored),
wrong secret (401, nothing stored), and for schemes that sign a timestamp, an expired one (401).

Payloads and signers are the helpdesk fixtures (tests/fixtures/); secrets live in SSM as deployed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from slaclock.helpdesk import PROVIDER_NAMES

from tests.fakes.world import CONFIG_DOC
from tests.fixtures.builders import (
    SECRET,
    generic_headers,
    helpscout_headers,
    intercom_headers,
    jira_headers,
    raw,
    token_headers,
    zendesk_headers,
)
from tests.integration._handlers import Pipeline, config_yaml, pipeline, put_config  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

T = datetime(2026, 11, 20, 16, 2, 41, tzinfo=UTC)
INTERCOM_CREATED = datetime(2026, 11, 20, 16, 2, 42, tzinfo=UTC)  # the notification's signed created_at


@dataclass(frozen=True)
class Case:
    fixture: tuple[str, str]
    sign: Callable[[bytes, datetime, str], dict[str, str]]
    anchor: datetime  # the instant the signature vouches for
    windowed: bool  # a signed timestamp: refused once older than 5 minutes


CASES = {
    "generic": Case(("generic", "canonical_event"), generic_headers, T, True),
    "zendesk": Case(("zendesk", "ticket_comment_added"), zendesk_headers, T, True),
    "intercom": Case(("intercom", "conversation_admin_replied"), lambda b, at, s: intercom_headers(b, s),
                     INTERCOM_CREATED, False),  # no signed time; Intercom itself delivers late
    "jira": Case(("jira", "comment_created"), lambda b, at, s: jira_headers(b, s), T, False),
    "helpscout": Case(("helpscout", "convo_agent_reply"),
                      lambda b, at, s: helpscout_headers(b, "convo.agent.reply.created", s), T, False),
    "freshdesk": Case(("freshdesk", "ticket_created"), lambda b, at, s: token_headers(s), T, False),
    "liveagent": Case(("liveagent", "ticket_created"), lambda b, at, s: token_headers(s, "header"), T, False),
}  # fmt: skip


def test_every_provider_is_covered():
    assert set(CASES) == set(PROVIDER_NAMES)


@pytest.fixture
def providers(pipeline: Pipeline) -> Pipeline:
    """The pipeline with one source per provider, named after it, its secret in SSM."""
    doc = copy.deepcopy(CONFIG_DOC)
    ssm = pipeline.aws.client("ssm")
    for name in CASES:
        doc["sources"][name] = {"provider": name, "secret": {"ssm_parameter": f"/slaclock/{name}"}}
        ssm.put_parameter(Name=f"/slaclock/{name}", Value=SECRET, Type="SecureString")
    doc["sources"]["freshdesk"]["options"] = {"domain": "acme"}
    put_config(pipeline.aws, config_yaml(doc))
    return pipeline


def stored_items(p: Pipeline) -> list[dict]:
    table = p.aws.session.resource("dynamodb", region_name=p.aws.region).Table(p.aws.table)
    return list(table.scan()["Items"])  # a test reads everything back; the functions never scan


@pytest.mark.parametrize("name", CASES)
def test_a_good_signature_is_accepted_and_stored(providers: Pipeline, name):
    case = CASES[name]
    body = raw(*case.fixture)
    providers.now = case.anchor + timedelta(seconds=1)
    status, answer, _ = providers.post(name, body, case.sign(body, case.anchor, SECRET))
    assert status == 202, answer
    assert answer["event_ids"], "the fixture carries at least one event"
    assert any(i["sk"].startswith("E#") for i in stored_items(providers))


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_secret_is_401_and_nothing_is_stored(providers: Pipeline, name):
    case = CASES[name]
    body = raw(*case.fixture)
    providers.now = case.anchor + timedelta(seconds=1)
    status, answer, _ = providers.post(name, body, case.sign(body, case.anchor, "not-the-secret"))
    assert status == 401 and answer["error"] == "unauthorized"
    assert stored_items(providers) == []


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.windowed])
def test_an_expired_signed_timestamp_is_401_and_nothing_is_stored(providers: Pipeline, name):
    case = CASES[name]
    body = raw(*case.fixture)
    providers.now = case.anchor + timedelta(minutes=5, seconds=1)
    status, _, _ = providers.post(name, body, case.sign(body, case.anchor, SECRET))
    assert status == 401
    assert stored_items(providers) == []
