"""The runtime's edges: error -> HTTP mapping, settings validation, the outgoing webhook's retries."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pydantic import ValidationError as SettingsError
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.helpdesk import AuthError, PayloadError
from slaclock.ports import ConflictError, ServiceUnavailable
from slaclock.runtime.http import error_body, status_for
from slaclock.runtime.outgoing import UrllibWebhookPoster
from slaclock.runtime.settings import CheckSettings
from slaclock.services.ingest import PayloadTooLargeError, UnknownSourceError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (PayloadError([("body", "not valid JSON")]), 400),
        (ValidationError([("at", "bad")]), 400),
        (AuthError("signature does not match"), 401),
        (UnknownSourceError("no source"), 404),
        (PayloadTooLargeError("too big"), 413),
        (ConflictError("busy"), 503),
        (ServiceUnavailable("dynamodb throttled"), 503),
        (SlaclockError("something else"), 500),
        (RuntimeError("bug"), 500),
        (KeyError("x"), 500),
    ],
)
def test_every_error_has_one_status(exc, status):
    assert status_for(exc) == status


def test_a_domain_error_may_declare_its_own_status():
    class GoneError(SlaclockError):
        http_status = 404

    class SillyError(SlaclockError):
        http_status = 200  # not an error status: ignored

    assert status_for(GoneError("no such report")) == 404
    assert error_body(GoneError("no such report"))[1] == {"error": "no such report"}
    assert status_for(SillyError("x")) == 500


def test_a_400_lists_every_problem_and_a_500_says_nothing():
    status, body, _ = error_body(
        PayloadError([("body[0].type", "'x' is not one"), ("body[0].at", "required")])
    )
    assert status == 400 and body["problems"] == ["body[0].type: 'x' is not one", "body[0].at: required"]
    status, body, headers = error_body(RuntimeError("/var/task/secret.py line 3"))
    assert (status, body, headers) == (500, {"error": "internal error"}, {})


def test_a_503_tells_the_sender_when_to_retry():
    status, _, headers = error_body(ConflictError("busy"))
    assert status == 503 and headers == {"Retry-After": "5"}


def test_settings_name_every_missing_and_malformed_variable(monkeypatch):
    for name in ("SLACLOCK_TABLE", "SLACLOCK_SENDER", "SLACLOCK_CONFIG_BUCKET", "SLACLOCK_SCHEDULE_GROUP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACLOCK_SCHEDULER_ROLE_ARN", "not-an-arn")
    monkeypatch.setenv("SLACLOCK_CHECK_FUNCTION_ARN", "arn:aws:lambda:eu-west-1:1:function:x-check")
    monkeypatch.setenv("SLACLOCK_SCHEDULER_DLQ_ARN", "arn:aws:sqs:eu-west-1:1:dlq")
    monkeypatch.setenv("SLACLOCK_NOTICE_LEASE_SECONDS", "30")
    with pytest.raises(SettingsError) as info:
        CheckSettings()  # type: ignore[call-arg]
    bad = {e["loc"][0] for e in info.value.errors()}
    assert bad == {
        "table",
        "sender",
        "config_bucket",
        "schedule_group",
        "scheduler_role_arn",
        "notice_lease_seconds",
    }


class _Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver():
    _Receiver.answers, _Receiver.bodies = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


def test_the_outgoing_webhook_is_retried_on_5xx_then_delivered(receiver):
    url, handler = receiver
    handler.answers = [503, 502]
    UrllibWebhookPoster(backoff_seconds=0.01).post(url, b'{"a":1}', {"Content-Type": "application/json"})
    assert handler.bodies == [b'{"a":1}'] * 3


def test_an_outgoing_webhook_that_keeps_failing_raises_service_unavailable(receiver):
    url, handler = receiver
    handler.answers = [500, 500, 500]
    with pytest.raises(ServiceUnavailable, match="500"):
        UrllibWebhookPoster(backoff_seconds=0.01).post(url, b"{}", {})
    assert len(handler.bodies) == 3


def test_a_refused_outgoing_webhook_is_not_retried(receiver):
    url, handler = receiver
    handler.answers = [400]
    with pytest.raises(ServiceUnavailable, match="400"):
        UrllibWebhookPoster(backoff_seconds=0.01).post(url, b"{}", {})
    assert len(handler.bodies) == 1


def test_an_unreachable_receiver_raises_service_unavailable():
    with pytest.raises(ServiceUnavailable):
        UrllibWebhookPoster(backoff_seconds=0.01, timeout_seconds=0.5).post(
            "http://127.0.0.1:9/hook", b"{}", {}
        )
