"""`ConnectorActionRunner`: an `ActionCall` becomes the documented request (through the connectors
and the chat message builders, against a loopback server), with the credentials read from the
source's secret; giving up is `ServiceUnavailable`, a refusal `ActionRejected`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slaclock.connectors.chat import validate_slack, validate_teams
from slaclock.connectors.http import HttpClient
from slaclock.connectors.runner import ConnectorActionRunner
from slaclock.engine.clocks import Notice, Step, StepKind
from slaclock.engine.config import Metric
from slaclock.ports import ActionCall, ActionRejected, ServiceUnavailable

from tests.fakes import FakeSecrets
from tests.fakes.world import T0, minutes
from tests.fixtures.api_server import Answer, ApiServer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "connectors"
ZENDESK = json.loads((FIXTURES / "zendesk.json").read_text())
NOTICE = Notice("123", Metric.FIRST_RESPONSE, 1, "gold", Step(StepKind.BREACH, T0, ()), T0)
VALUES = {"ticket": "123", "ticket_url": "https://acme.zendesk.com/agent/tickets/123"}


@pytest.fixture
def server() -> Iterator[ApiServer]:
    with ApiServer() as s:
        yield s


def runner(server: ApiServer, **secrets: str) -> ConnectorActionRunner:
    store = FakeSecrets(
        {
            "zd-api": json.dumps({"email": "bot@acme.test", "api_token": "tok"}),
            "slack-url": f"{server.url}/services/T0/B0/X",
            "teams-url": f"{server.url}/workflows/run",
            **secrets,
        }
    )
    return ConnectorActionRunner(store, HttpClient(timeout_seconds=2, attempts=2, backoff_seconds=0.01))


def call(kind: str, params: dict[str, Any] | None = None, text: str | None = None, **kw: Any) -> ActionCall:
    source = {"provider": "zendesk", "api_url": "", "api_secret": "zd-api"}
    return ActionCall(kind, "123", params or {}, VALUES, NOTICE, "Europe/Paris", text, **{**source, **kw})


@pytest.mark.parametrize("kind", ["unassign", "reply"])
def test_a_write_back_is_the_documented_request(server: ApiServer, kind: str) -> None:
    text = "We are on it" if kind == "reply" else None
    host = runner(server).run(call(kind, text=text, api_url=server.url), now=T0 + minutes(5))
    assert host == "127.0.0.1"
    (want,) = ZENDESK["calls"][kind]
    (got,) = server.received
    assert (got.method, got.path, got.json()) == (want["method"], want["path"], want["json"])
    assert got.headers["authorization"].startswith("Basic ")


def test_slack_and_teams_messages_go_to_the_secret_webhook_url(server: ApiServer) -> None:
    r = runner(server)
    r.run(call("slack", {"webhook_secret": "slack-url"}, provider=None), now=T0 + minutes(5))
    r.run(call("teams", {"webhook_secret": "teams-url"}, provider=None), now=T0 + minutes(5))
    slack, teams = server.received
    assert slack.path == "/services/T0/B0/X" and validate_slack(slack.json()) == []
    assert "123" in slack.json()["text"]
    assert teams.path == "/workflows/run" and validate_teams(teams.json()) == []


def test_giving_up_is_service_unavailable_and_a_refusal_is_rejected(server: ApiServer) -> None:
    r = runner(server)
    server.answer(Answer(503), Answer(503))
    with pytest.raises(ServiceUnavailable, match="gave up"):
        r.run(call("unassign", api_url=server.url), now=T0)
    server.answer(Answer(404))
    with pytest.raises(ActionRejected, match="404"):
        r.run(call("unassign", api_url=server.url), now=T0)


def test_missing_credentials_or_api_are_refused_naming_no_value(server: ApiServer) -> None:
    r = runner(server, **{"zd-api": json.dumps({"email": "bot@acme.test"})})
    with pytest.raises(ActionRejected, match="lacks api_token"):
        r.run(call("unassign", api_url=server.url), now=T0)
    with pytest.raises(ActionRejected, match="no api"):
        r.run(call("unassign", api_url=None), now=T0)
    assert server.received == []
