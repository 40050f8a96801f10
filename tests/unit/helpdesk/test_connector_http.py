"""The one outgoing HTTP client against a loopback server: 429 storms with Retry-After, 5xx then
success, timeouts, and the bounded total time."""

from __future__ import annotations

import time

import pytest
from slaclock.connectors.http import GaveUpError, HttpClient, RejectedError, Request

from tests.fixtures.api_server import Answer, ApiServer, serve

server = pytest.fixture(serve)


def post(server: ApiServer) -> Request:
    return Request(
        "POST", server.url + "/api/v2/tickets/123", headers={"Authorization": "Bearer t"}, json_body={"a": 1}
    )


def test_a_429_storm_honours_retry_after_then_gives_up(server: ApiServer) -> None:
    server.default = Answer(status=429, headers={"Retry-After": "1"})
    client = HttpClient(attempts=3, backoff_seconds=0.01, deadline_seconds=10)
    started = time.monotonic()
    with pytest.raises(GaveUpError) as err:
        client.send(post(server))
    elapsed = time.monotonic() - started
    assert len(server.received) == 3
    assert 2.0 <= elapsed < 5.0  # two Retry-After waits of 1 s, not the 0.01 s backoff
    assert err.value.status == 429
    assert "/api/v2" not in str(err.value)  # names method and host only


def test_5xx_then_success_returns_the_answer_and_resends_the_same_request(server: ApiServer) -> None:
    server.answer(Answer(status=503), Answer(status=502), Answer(status=201, body={"id": 9}))
    response = HttpClient(attempts=3, backoff_seconds=0.01).send(post(server))
    assert (response.status, response.json()) == (201, {"id": 9})
    assert len(server.received) == 3
    assert {r.raw for r in server.received} == {b'{"a":1}'}
    assert {r.headers["authorization"] for r in server.received} == {"Bearer t"}


def test_a_retry_after_beyond_the_time_budget_is_not_waited_for(server: ApiServer) -> None:
    server.default = Answer(status=429, headers={"Retry-After": "120"})
    started = time.monotonic()
    with pytest.raises(GaveUpError):
        HttpClient(attempts=5, deadline_seconds=2).send(post(server))
    assert time.monotonic() - started < 1.5
    assert len(server.received) == 1


def test_backoff_stops_at_the_time_budget(server: ApiServer) -> None:
    server.default = Answer(status=500)
    started = time.monotonic()
    with pytest.raises(GaveUpError):
        HttpClient(attempts=50, backoff_seconds=0.2, deadline_seconds=1.5).send(post(server))
    assert time.monotonic() - started < 2.5
    assert 2 <= len(server.received) < 50


def test_a_slow_receiver_times_out_and_gives_up(server: ApiServer) -> None:
    server.default = Answer(delay=1.0)
    started = time.monotonic()
    with pytest.raises(GaveUpError, match="ReadTimeoutError"):
        HttpClient(timeout_seconds=0.2, attempts=2, backoff_seconds=0.01).send(post(server))
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_gives_up() -> None:
    with pytest.raises(GaveUpError):
        HttpClient(attempts=2, backoff_seconds=0.01).send(Request("GET", "http://127.0.0.1:9/x"))


def test_a_4xx_is_rejected_without_retrying(server: ApiServer) -> None:
    server.default = Answer(status=401)
    with pytest.raises(RejectedError):
        HttpClient(attempts=3).send(post(server))
    assert len(server.received) == 1
