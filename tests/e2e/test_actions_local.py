"""Closed-loop actions on the local stack, with injected faults: the real check function runs the
steps' actions through the real connectors against a loopback server speaking Zendesk's and Slack's
documented APIs (`slaclock_local.api_server`); the stack captures every call (``GET /_local/actions``).

Faults: a 429 storm (gives up within the bounded time, to the dead-letter queue, the e-mail still
sent), 5xx then success (retried, done once), a timeout (gives up, dead-lettered), and the echo webhook
Zendesk sends after slaclock's own reply (not an answer: the clock keeps running, nothing re-runs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from slaclock.engine.events import format_instant
from slaclock_local.api_server import Answer, ApiServer
from slaclock_local.demo import STORY, demo_secrets, load_story, with_demo_actions
from slaclock_local.stack import DEFAULT_CONFIG, LocalStack

from tests.e2e.conftest import Http

pytestmark = pytest.mark.e2e

API_USER = "900000000001"
CREATED = Path(__file__).parents[2] / "examples" / "webhooks" / "zendesk-ticket-created.json"
COMMENT = Path(__file__).parents[1] / "fixtures" / "zendesk" / "ticket_comment_added.json"


@pytest.fixture(scope="module")
def api() -> Iterator[ApiServer]:
    with ApiServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(api: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    doc = with_demo_actions(yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8")), api.url)
    doc["sources"]["zendesk-main"]["api"]["users"] = [API_USER]
    config = tmp_path_factory.mktemp("actions") / "sla.yaml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with LocalStack(
        config=config, start_at=load_story(STORY).start, paused=True, poll_seconds=0.1
    ) as running:
        demo_secrets(running, api.url)
        # short bounds, so the faults resolve in seconds: 0.5 s per attempt, 3 s per call in all
        running._set_environment(
            {"SLACLOCK_WEBHOOK_TIMEOUT_SECONDS": "0.5", "SLACLOCK_ACTION_DEADLINE_SECONDS": "3"}
        )
        from slaclock.runtime import wiring

        wiring.reset()
        yield running


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Http:
    return Http(stack)


def create(http: Http, ticket: str) -> datetime:
    """A new high-priority Zendesk ticket now; its 60% step (unassign, interim reply) instant."""
    now = http.stack.now()
    doc = json.loads(CREATED.read_text(encoding="utf-8"))
    doc["ticket"].update(id=ticket, created_at=format_instant(now), updated_at=format_instant(now))
    assert http.post_webhook("zendesk-main", json.dumps(doc).encode()).status_code == 202
    clocks = http.ticket(ticket).json()["clocks"]
    first = next(c for c in clocks if c["metric"] == "first_response")
    (step,) = [s for s in first["steps"] if s["key"] == "escalation-3"]  # the demo's 60% rung
    return datetime.fromisoformat(step["at"].replace("Z", "+00:00"))


def actions(http: Http, ticket: str) -> list[dict[str, Any]]:
    calls = http.get("/_local/actions").json()["actions"]
    return [c for c in calls if f"/tickets/{ticket}" in c["url"]]


def dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.resources.attributes[("ActionDeadLetterQueue", "QueueName")])[
        "QueueUrl"
    ]  # type: ignore[union-attr]
    out = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_the_60_percent_step_releases_ownership_and_replies_through_zendesks_api(
    http: Http, api: ApiServer
) -> None:
    step = create(http, "7001")
    api.received.clear()
    http.fast_forward(step + timedelta(minutes=1))
    calls = actions(http, "7001")
    assert [(c["method"], c["status"], c["delivered"]) for c in calls] == [("PUT", 200, True)] * 2
    assert calls[0]["body"] == {"ticket": {"assignee_id": None}}
    reply = calls[1]["body"]["ticket"]["comment"]
    assert reply["public"] is True and "ticket 7001" in reply["body"]
    got = [(r.method, r.path, r.json()) for r in api.received]
    assert got[0] == ("PUT", "/zendesk/api/v2/tickets/7001", {"ticket": {"assignee_id": None}})
    assert api.received[0].headers["authorization"].startswith("Basic ")
    # a later check (the sweeper, a redelivered firing) repeats nothing
    http.fast_forward(step + timedelta(minutes=20))
    assert len(actions(http, "7001")) == 2


def test_5xx_then_success_is_retried_and_done_once(http: Http, api: ApiServer) -> None:
    step = create(http, "7002")
    api.answer(Answer(503, path="/7002"), Answer(502, path="/7002"))  # then the default 200
    http.fast_forward(step + timedelta(minutes=1))
    calls = actions(http, "7002")
    assert [c["status"] for c in calls] == [200, 200]  # unassign after two retries, then the reply
    assert [r.path for r in api.received if "7002" in r.path] == ["/zendesk/api/v2/tickets/7002"] * 4
    assert dead_letters(http.stack) == []


def test_a_429_storm_gives_up_to_the_dead_letter_queue_and_never_delays_the_e_mail(
    http: Http, api: ApiServer
) -> None:
    step = create(http, "7003")
    storm = [Answer(429, headers={"Retry-After": "1"}, path="/7003") for _ in range(20)]
    api.answer(*storm)
    sent_before = len(http.emails())
    http.fast_forward(step + timedelta(minutes=1))
    api.clear()
    calls = actions(http, "7003")
    assert calls and all(c["error"] and "GaveUpError" in c["error"] for c in calls)
    letters = dead_letters(http.stack)
    assert sorted(d["kind"] for d in letters) == ["reply", "unassign"]
    assert all(d["ticket_id"] == "7003" and "429" in d["error"] for d in letters)
    assert len(http.emails()) > sent_before  # the step's escalation e-mail went out all the same
    http.fast_forward(step + timedelta(minutes=30))  # dead-lettered: not tried again
    assert len(actions(http, "7003")) == len(calls)


def test_a_timeout_gives_up_to_the_dead_letter_queue(http: Http, api: ApiServer) -> None:
    step = create(http, "7004")
    api.answer(*[Answer(delay=1.0, path="/7004") for _ in range(8)])
    http.fast_forward(step + timedelta(minutes=1))
    api.clear()
    calls = actions(http, "7004")
    assert calls and all(c["error"] and "GaveUpError" in c["error"] for c in calls)
    assert {d["kind"] for d in dead_letters(http.stack)} == {"unassign", "reply"}


def test_zendesks_echo_of_the_interim_reply_is_not_an_answer(http: Http, api: ApiServer) -> None:
    step = create(http, "7005")
    http.fast_forward(step + timedelta(minutes=1))
    assert len(actions(http, "7005")) == 2
    echo = json.loads(COMMENT.read_text(encoding="utf-8"))
    now = format_instant(http.stack.now())
    echo["detail"].update(id="7005", actor_id=API_USER, tags=["invoice"], created_at=now, updated_at=now)
    echo["event"]["comment"].update(body="Hello, we have your request", author={"id": int(API_USER)})
    echo.update(subject="zen:ticket:7005", time=now)
    assert http.post_webhook("zendesk-main", json.dumps(echo).encode()).status_code == 202
    first = next(c for c in http.ticket("7005").json()["clocks"] if c["metric"] == "first_response")
    assert first["status"] in ("open", "paused") and first["stopped_at"] is None
    http.fast_forward(http.stack.now() + timedelta(minutes=10))
    assert len(actions(http, "7005")) == 2  # nothing ran again
