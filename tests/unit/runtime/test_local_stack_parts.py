"""The local embedded stack's pure parts: the virtual clock, schedule expressions, the HTTP API event
shape, route matching, the helpdesk signers, captured e-mail text. (The running stack is tested over
HTTP in tests/e2e.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slaclock.helpdesk import AuthError, provider_for
from slaclock.runtime import report_wiring, wiring
from slaclock_local.clock import VirtualClock
from slaclock_local.front import build_http_api_event, match_route
from slaclock_local.functions import Route
from slaclock_local.helpdesks import signed_headers
from slaclock_local.mail import html_to_text
from slaclock_local.schedules import ScheduleExpressionError, next_occurrence, parse_at, with_context

ROOT = Path(__file__).resolve().parents[3]
T = datetime(2026, 11, 9, 7, 30, tzinfo=UTC)  # a Monday


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# ------------------------------------------------------------------------------------ clocks


def test_a_paused_virtual_clock_stands_still_until_advanced():
    mono = FakeMonotonic()
    clock = VirtualClock(T, paused=True, monotonic=mono)
    mono.t += 3600
    assert clock.now() == T
    assert clock.advance_to(T + timedelta(hours=2)) == T + timedelta(hours=2)
    assert clock.advance_to(T) == T + timedelta(hours=2)  # never back
    assert clock.real_seconds_until(T + timedelta(hours=3)) is None


def test_a_running_virtual_clock_moves_speed_times_faster():
    mono = FakeMonotonic()
    clock = VirtualClock(T, speed=60, monotonic=mono)
    mono.t += 10
    assert clock.now() == T + timedelta(minutes=10)
    clock.pause()
    mono.t += 10
    assert clock.now() == T + timedelta(minutes=10)
    clock.resume()
    mono.t += 1
    assert clock.now() == T + timedelta(minutes=11)
    assert clock.real_seconds_until(T + timedelta(minutes=12)) == pytest.approx(1.0)


def test_the_functions_clock_is_real_time_unless_the_wiring_is_given_one():
    fixed = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    try:
        wiring.override(clock=lambda: fixed)
        assert wiring.clock() == fixed
        assert report_wiring.clock() == fixed  # every composition root reads the one override
        wiring.override(clock=lambda: datetime(2026, 5, 4))  # noqa: DTZ001
        with pytest.raises(ValueError, match="naive"):
            wiring.clock()
    finally:
        wiring.override(clock=None)
    assert abs(wiring.clock() - datetime.now(UTC)) < timedelta(seconds=5)


# ------------------------------------------------------------------------------------ expressions


def test_rate_occurrences_are_whole_multiples_of_the_period():
    assert next_occurrence("rate(5 minutes)", T) == T + timedelta(minutes=5)
    assert next_occurrence("rate(5 minutes)", T + timedelta(minutes=1)) == T + timedelta(minutes=5)
    assert next_occurrence("rate(1 hour)", T) == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def test_cron_occurrences_follow_the_services_six_fields():
    hourly = "cron(15 * * * ? *)"
    assert next_occurrence(hourly, T) == datetime(2026, 11, 9, 8, 15, tzinfo=UTC)
    weekly = "cron(15 * ? * SUN,MON *)"
    saturday = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)
    assert next_occurrence(weekly, saturday) == datetime(2026, 11, 15, 0, 15, tzinfo=UTC)  # Sunday
    monthly = "cron(15 * 1,28-31 * ? *)"
    assert next_occurrence(monthly, T) == datetime(2026, 11, 28, 0, 15, tzinfo=UTC)
    paris_nine = "cron(0 9 ? * MON-FRI *)"
    assert next_occurrence(paris_nine, T, "Europe/Paris") == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    with pytest.raises(ScheduleExpressionError, match="not supported"):
        next_occurrence("cron(0 9 L * ? *)", T)


def test_one_time_expressions_and_context_attributes():
    assert parse_at("at(2026-11-09T10:31:00)") == datetime(2026, 11, 9, 10, 31, tzinfo=UTC)
    text = '{"scheduled_at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>"}'
    doc = json.loads(with_context(text, scheduled_at=T, schedule_arn="arn:x"))
    assert doc == {"scheduled_at": "2026-11-09T07:30:00Z", "arn": "arn:x"}


# ------------------------------------------------------------------------------------ HTTP front


def _keys(doc: object, prefix: str = "") -> set[str]:
    if not isinstance(doc, dict):
        return set()
    out = set()
    for k, v in doc.items():
        out.add(prefix + k)
        if k != "headers":
            out |= _keys(v, prefix + k + ".")
    return out


def test_a_request_becomes_the_http_api_payload_v2_event():
    fixture = json.loads((ROOT / "tests" / "events" / "apigateway-http-v2-webhook.json").read_text())
    route = Route("POST", "/webhooks/{source}", "WebhookFunction")
    event = build_http_api_event(
        route, {"source": "custom"}, method="POST", raw_path="/webhooks/custom", raw_query="",
        headers=[("Content-Type", "application/json"), ("X-Slaclock-Token", "s"), ("Host", "127.0.0.1:8787")],
        body=b"{}", source_ip="127.0.0.1", api_id="local", account_id="123456789012", now=T,
    )  # fmt: skip
    assert _keys(event) == _keys(fixture)
    assert event["routeKey"] == "POST /webhooks/{source}"
    assert event["pathParameters"] == {"source": "custom"}
    assert event["headers"]["x-slaclock-token"] == "s"
    assert (event["body"], event["isBase64Encoded"]) == ("{}", False)
    assert event["requestContext"]["timeEpoch"] == int(T.timestamp() * 1000)


def test_a_binary_body_is_base64_and_iam_routes_carry_the_authorizer():
    route = Route("POST", "/reports", "ReportFunction", iam_auth=True)
    event = build_http_api_event(
        route, {}, method="POST", raw_path="/reports", raw_query="a=1&a=2", headers=[],
        body=b"\xff\x00", source_ip="127.0.0.1", api_id="local", account_id="123456789012", now=T,
    )  # fmt: skip
    assert event["isBase64Encoded"] is True and event["body"] == "/wA="
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"


def test_routes_match_most_specific_first():
    routes = [
        Route("ANY", "/{proxy+}", "Catch"),
        Route("GET", "/reports/{id}", "Report"),
        Route("POST", "/reports", "Report"),
        Route("POST", "/webhooks/{source}", "Webhook"),
    ]
    assert match_route(routes, "GET", "/reports/r-1") == (routes[1], {"id": "r-1"})
    assert match_route(routes, "POST", "/webhooks/zendesk%2Dmain") == (routes[3], {"source": "zendesk-main"})
    assert match_route(routes, "DELETE", "/reports/r-1") == (routes[0], {"proxy": "reports/r-1"})
    assert match_route(routes[1:], "GET", "/webhooks/x") is None


# ------------------------------------------------------------------------------------ helpdesk signers


def _intercom_body(at: datetime) -> bytes:
    return json.dumps(
        {"type": "notification_event", "topic": "ping", "created_at": int(at.timestamp())}
    ).encode()


@pytest.mark.parametrize(
    "provider", ["zendesk", "freshdesk", "liveagent", "intercom", "jira", "helpscout", "generic"]
)
def test_each_signer_signs_as_its_provider_verifies(provider):
    body = _intercom_body(T) if provider == "intercom" else b'{"id": "1"}'
    event = "convo.created" if provider == "helpscout" else None
    headers = signed_headers(provider, "s3cret", body, T, event=event)
    lowered = {k.lower(): v for k, v in headers.items()}  # as API Gateway hands them over
    verifier = provider_for(provider)
    verifier.authenticate(lowered, body, "s3cret", T + timedelta(seconds=30))
    with pytest.raises(AuthError):
        verifier.authenticate(lowered, body, "another-secret", T + timedelta(seconds=30))


# ------------------------------------------------------------------------------------ e-mail text


def test_captured_html_reads_as_text_with_its_links():
    body = (
        "<p><strong>SLA breached: ticket 11</strong></p>"
        "<table><tr><th>Due</th><td>Thu 15:00</td></tr></table>"
        "<p><a href='http://127.0.0.1:1/r?a=1&amp;b=2'>SLA log</a></p>"
    )
    assert (
        html_to_text(body)
        == "SLA breached: ticket 11\nDue: Thu 15:00\nSLA log <http://127.0.0.1:1/r?a=1&b=2>"
    )
