# ruff: noqa: F811 - fixtures imported from _handlers are bound again as test parameters (pytest injection)
"""Service quotas on moto: EventBridge Scheduler's schedule quota, SES's send rate, the fan-out call.

The errors are the services' documented ones: ``ServiceQuotaExceededException`` from CreateSchedule
(https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html, "Errors") and
``ThrottlingException`` "Maximum sending rate exceeded" from SendEmail
(https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html).
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from slaclock.adapters.fanout import LambdaSweepFanOut
from slaclock.adapters.ses import SesMailer
from slaclock.runtime import wiring
from slaclock.services.check import CheckPorts, CheckResult, run_check
from slaclock.services.sweep import sweep

from tests.fakes.world import T0, World
from tests.integration._handlers import Pipeline, emitted_metrics, pipeline  # noqa: F401 - fixture
from tests.integration.conftest import AwsStack, set_send_rate

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


@pytest.fixture
def schedule_quota_used_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """CreateSchedule/UpdateSchedule answer ServiceQuotaExceededException while ``state["on"]``: the
    account's number of schedules (shared by every workload in the Region) is used up."""
    from moto.core.exceptions import JsonRESTError
    from moto.scheduler.models import EventBridgeSchedulerBackend

    state = {"on": True}

    def refusing(original: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state["on"]:
                raise JsonRESTError("ServiceQuotaExceededException", "Schedule quota exceeded")
            return original(self, *args, **kwargs)

        return call

    for name in ("create_schedule", "update_schedule"):
        monkeypatch.setattr(
            EventBridgeSchedulerBackend, name, refusing(getattr(EventBridgeSchedulerBackend, name))
        )
    yield state


def test_a_schedule_refused_for_quota_is_counted_for_its_alarm_and_the_sweeper_keeps_the_ticket(
    pipeline: Pipeline, schedule_quota_used_up, capsys
):
    p = pipeline
    p.now = T0 + MIN
    capsys.readouterr()

    status, _ = p.deliver(p.event("created", at=T0))

    assert status == 202 and p.schedule() is None  # the sender is not at fault: accepted
    metrics = emitted_metrics(capsys.readouterr().out, p.aws)
    assert metrics["ScheduleQuotaExceeded"] == 1 and metrics["ScheduleFailures"] == 1

    # Still no room for a schedule: the sweeper fires the warning from the table, and counts again.
    p.now = T0 + 31 * MIN
    result = p.sweep()
    assert result["checked"] == 1 and [m.subject.split(":")[0] for m in p.emails()] == ["SLA warning"]
    assert emitted_metrics(capsys.readouterr().out, p.aws)["ScheduleQuotaExceeded"] == 1

    schedule_quota_used_up["on"] = False  # quota raised: the next check arms its schedule again
    p.now = T0 + 61 * MIN
    p.sweep()
    assert p.armed_for() == "2026-11-20T11:30:00Z"
    assert [m.subject.split(":")[0] for m in p.emails()] == ["SLA warning", "SLA breached"]


# ----------------------------------------------------------------------------------- the fan-out


def test_the_fan_out_is_one_asynchronous_invoke_of_the_sweeper_itself(aws: AwsStack):
    arn = f"arn:aws:lambda:{aws.region}:{aws.account_id}:function:{aws.stack.stack_name}-sweeper"
    client = aws.client("lambda")
    fan_out = LambdaSweepFanOut(arn, client=client)
    with Stubber(client) as stub:  # validates the request against the Lambda API model
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": arn,
                "InvocationType": "Event",
                "Payload": b'{"sweep_part":2,"lease_holder":"r-1"}',
            },
        )
        fan_out.continue_sweep(2, "r-1")
        stub.assert_no_pending_responses()


def test_a_throttled_fan_out_is_a_service_refusal(aws: AwsStack):
    from slaclock.ports import ServiceUnavailable

    client = aws.client("lambda")
    with Stubber(client) as stub:
        for _ in range(5):  # botocore's standard mode: 5 attempts
            stub.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
        with pytest.raises(ServiceUnavailable, match="TooManyRequestsException"):
            LambdaSweepFanOut(
                "arn:aws:lambda:eu-west-1:123456789012:function:x", client=client
            ).continue_sweep(0, "h")


# ------------------------------------------------------------------------------------- SES pacing


def test_the_mailer_reads_the_account_send_rate_and_paces_to_its_share(aws: AwsStack, monkeypatch):
    set_send_rate(monkeypatch, 14.0)  # a new production account's maximum send rate
    share = 1 / 2
    mailer = SesMailer(
        sender=aws.sender, client=aws.client("sesv2"), quota_client=aws.client("ses"), rate_share=share
    )
    started = time.monotonic()
    for n in range(8):
        mailer.send([f"agent{n}@example.com"], "s", "t", "<p>h</p>")
    elapsed = time.monotonic() - started

    assert mailer.send_rate == pytest.approx(7.0)
    assert elapsed >= 8 / 7.0 - 0.05  # an empty bucket refilled at 7/s: no burst above the share


def test_the_check_containers_split_the_send_rate_between_them(aws: AwsStack):
    settings = wiring.check_settings()
    # template defaults: 10 check containers + 5 sweeper containers share 100% of the account's rate
    assert (settings.check_concurrency, settings.sweeper_concurrency, settings.ses_rate_percent) == (
        10,
        5,
        100,
    )
    assert settings.send_rate_share == pytest.approx(1 / 15)
    wiring.reset()


# ---------------------------------------------------------------------------------- the burst test


class ThrottlingSes:
    """moto's SES v2 SendEmail behind the account's send rate, as SES enforces it: a token bucket of
    `rate` messages per second that allows short bursts up to `rate` (SES: "you can exceed the
    maximum send rate for short bursts"); past it, ThrottlingException "Maximum sending rate
    exceeded". Real time: the mailers pace with real time too."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rate: float) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.sesv2.models import SESV2Backend

        self.rate = rate
        self.tokens = rate
        self.last = time.monotonic()
        self.lock = threading.Lock()
        self.accepted: list[float] = []
        self.throttled = 0
        original = SESV2Backend.send_email
        ses = self

        def send_email(backend: Any, *args: Any, **kwargs: Any) -> Any:
            with ses.lock:
                now = time.monotonic()
                ses.tokens = min(ses.rate, ses.tokens + (now - ses.last) * ses.rate)
                ses.last = now
                if ses.tokens < 1:
                    ses.throttled += 1
                    raise JsonRESTError("ThrottlingException", "Maximum sending rate exceeded.")
                ses.tokens -= 1
                ses.accepted.append(now)
            return original(backend, *args, **kwargs)

        monkeypatch.setattr(SESV2Backend, "send_email", send_email)

    def peak(self, window: float = 1.0) -> int:
        """Most messages accepted in any `window` seconds."""
        times, best, lo = sorted(self.accepted), 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


def _burst_world(count: int) -> tuple[World, list[str], list[tuple[str, datetime]]]:
    """`count` urgent tickets created at T0: every first-response clock breaches at 10:10."""
    w = World()
    ids = [f"burst-{n:04d}" for n in range(count)]
    events = [
        w.event("created", at=T0, ticket_id=t, tags=["URGENT"], assignee=f"{t}@example.com") for t in ids
    ]
    w.ingest(*events, now=T0 + MIN)
    firings = [(t, w.scheduler.schedules[t]) for t in ids]
    assert {at for _, at in firings} == {T0 + 10 * MIN}
    return w, ids, firings


def _container_ports(w: World, aws: AwsStack, share: float) -> CheckPorts:
    """One Lambda container's ports: the shared stores (fakes here: moto's DynamoDB costs ~0.1 s a
    write on this machine, which would make 1,000 checks a ten-minute test; the stores' exactly-once
    rules are the same ones tests/integration/test_adapters_dynamodb.py checks on moto) and its OWN
    SES mailer on moto: its own client and pacing bucket, as each Lambda container has."""
    mailer = SesMailer(
        sender=aws.sender,
        client=aws.session.client("sesv2", region_name=aws.region),
        quota_client=aws.session.client("ses", region_name=aws.region),
        rate_share=share,
    )
    return replace(w.check_ports, mailer=mailer)


def _fire_with_containers(
    ports: list[CheckPorts], firings: list[tuple[str, datetime]], now: datetime
) -> list[CheckResult]:
    """The scheduler fires every schedule in the same minute; Lambda runs at most ``len(ports)``
    checks at once (the reserved concurrency); the other firings wait in its asynchronous queue."""
    queue = list(firings)
    lock = threading.Lock()
    results: list[CheckResult] = []
    errors: list[BaseException] = []

    def container(p: CheckPorts) -> None:
        while True:
            with lock:
                if not queue:
                    return
                ticket_id, armed_for = queue.pop(0)
            try:
                result = run_check(p, ticket_id, now, armed_for)
            except BaseException as err:  # noqa: BLE001 - reported by the test
                errors.append(err)
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=container, args=(p,)) for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


@pytest.mark.slow
def test_a_minute_in_which_1000_clocks_breach_loses_and_repeats_no_notice_within_the_send_rate(
    aws: AwsStack, monkeypatch
):
    """1,000 first-response clocks breach at 10:10. The account's SES rate is 130/s (scaled from the
    default 14/s so the test takes seconds, not the 71 s 1,000 e-mails need at 14/s; the arithmetic
    is the same), the check function's reserved concurrency 8 and the sweeper's 5: each container
    may send 130 / 13 = 10/s, so the 8 busy check containers send 80/s, never above the account."""
    rate, check_containers, sweeper_containers = 130.0, 8, 5
    set_send_rate(monkeypatch, rate)
    w, ids, firings = _burst_world(1000)
    share = 1 / (check_containers + sweeper_containers)
    ports = [_container_ports(w, aws, share) for _ in range(check_containers)]
    ses = ThrottlingSes(monkeypatch, rate)

    started = time.monotonic()
    results = _fire_with_containers(ports, firings, T0 + 10 * MIN + timedelta(seconds=5))
    elapsed = time.monotonic() - started

    assert ses.throttled == 0  # paced below the account's rate: SES never refused
    sent = sorted(n.ticket_id for r in results for n in r.sent)
    assert sent == ids and all(r.pending == () for r in results)  # each breach once: none lost or repeated
    messages = _sent_messages(aws)
    assert sorted(m.destinations["ToAddresses"][0] for m in messages) == sorted(
        f"{t}@example.com" for t in ids
    )
    assert elapsed >= 1000 / (check_containers * rate * share) * 0.9  # paced, not bursting
    print(
        f"\nburst: 1000 breaches, {check_containers} check containers, account rate {rate:.0f}/s: "
        f"all sent in {elapsed:.1f} s, peak {ses.peak()} msg/s, throttled {ses.throttled}"
    )


@pytest.mark.slow
def test_when_other_workloads_take_part_of_the_send_rate_throttled_notices_are_retried_once(
    aws: AwsStack, monkeypatch
):
    """The same burst on 300 tickets, but SES accepts only a third of what the account's quota says
    (other workloads send too): some e-mails are refused past botocore's retries, stay
    claimed-but-unsent, and the sweep after their lease sends each exactly once."""
    import botocore.endpoint

    no_sleep = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    no_sleep.sleep = lambda seconds: None  # botocore's backoff between its retries, skipped
    monkeypatch.setattr(botocore.endpoint, "time", no_sleep)
    rate, check_containers = 130.0, 8
    set_send_rate(monkeypatch, rate)
    w, ids, firings = _burst_world(300)
    share = 1 / (check_containers + 5)
    ports = [_container_ports(w, aws, share) for _ in range(check_containers)]
    ses = ThrottlingSes(monkeypatch, rate / 3)
    ses.tokens = 0

    results = _fire_with_containers(ports, firings, T0 + 10 * MIN + timedelta(seconds=5))
    pending = [r.ticket_id for r in results if r.pending]
    first = [n.ticket_id for r in results for n in r.sent]
    assert ses.throttled > 0 and pending  # SES refused some, after botocore's own retries
    assert sorted(first + pending) == ids

    ses.rate = ses.tokens = rate  # the other workload is done
    later = T0 + 17 * MIN  # after the 5-minute leases
    swept = sweep(ports[0], later)
    assert sorted(c.ticket_id for c in swept.checked if c.sent) == sorted(pending)
    assert sweep(ports[0], later).checked == ()
    subjects = sorted(m.subject.split(",")[0] for m in _sent_messages(aws))
    assert subjects == sorted(f"SLA breached: ticket {t}" for t in ids)  # each exactly once


def _sent_messages(aws: AwsStack) -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[aws.account_id][aws.region].sent_messages)
