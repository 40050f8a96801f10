"""A notice that is owed is sent at its own check, whatever events arrive before that check runs.

The race: a step falls inside a minute (12:57:03), so its check is armed for the next whole minute
(12:58). An event that lands in between (a customer reply at 12:57:23) used to re-arm the ticket for its
NEXT deadline (the new next-response cycle), skipping the owed step; an agent's reply then moved the
check again, and the last step of a clock was never sent at all. Tried for each step kind of a
resolution clock: its warning (50%), its breach, its escalation (1 h after due, the ladder's last rung).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slaclock.engine.clocks import StepKind, evaluate
from slaclock.engine.config import Metric
from slaclock.engine.policy import compile_policy
from slaclock.engine.schedules import round_up_to_minute

from tests.fakes.world import NEW_TICKET, World

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
RACE_DOC: dict[str, Any] = {
    "calendars": {"always": {"timezone": "UTC", "hours": "24x7"}},
    "levels": {
        "standard": {
            "calendar": "always",
            # 4 h 6 s: warning 10:00:03, breach 12:00:06, escalation 13:00:06 (none on a whole minute).
            "targets": {
                "first_response": {"within": "1h"},
                "next_response": {"within": "30m"},
                "resolution": {"within": "PT4H6S", "warn_at": "50%"},
            },
            "notify": {"warning": ["assignee"], "breach": ["assignee"]},
            "escalations": [{"after_due": "1h", "notify": ["head@example.com"]}],
        },
    },
    "rules": [{"name": "Everyone", "set_level": "standard"}],
    "sources": {"custom": {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"}}},
}


def resolution_step(world: World, kind: StepKind) -> datetime:
    view = evaluate(compile_policy(world.config), world.state(), T0)
    clock = next(c for c in view.clocks if c.metric is Metric.RESOLUTION)
    return next(s.at for s in clock.steps if s.kind is kind)


def run_until(world: World, until: datetime) -> None:
    """The scheduler fires every schedule armed before `until`, in time order (2 s late, as it may)."""
    while (armed := world.scheduler.schedules.get("4711")) is not None and armed < until:
        world.fire("4711", now=armed + timedelta(seconds=2))


def sent_at(world: World, key: str) -> datetime | None:
    record = world.ledger.records.get(key)
    return None if record is None else record.sent_at


@pytest.mark.parametrize("kind", [StepKind.WARNING, StepKind.BREACH, StepKind.ESCALATION])
def test_an_owed_step_is_sent_at_its_check_though_replies_arrive_before_it_runs(kind):
    w = World(RACE_DOC)
    w.ingest(w.event("created", at=T0, **NEW_TICKET), now=T0)
    w.ingest(w.event("agent_replied", at=T0 + timedelta(minutes=1)), now=T0 + timedelta(minutes=1))
    step = resolution_step(w, kind)
    assert step.second != 0  # its check is armed for the next whole minute
    armed = round_up_to_minute(step)
    run_until(w, step)  # every earlier step is sent on time

    reply = step + timedelta(seconds=20)  # after the step became owed, before its check ran
    assert reply < armed
    w.ingest(w.event("customer_replied", at=reply), now=reply)
    assert w.scheduler.schedules["4711"] == armed, "the owed step's check stays armed"
    run_until(w, reply + timedelta(minutes=13))
    answer = reply + timedelta(minutes=13)  # the agent answers: the next-response cycle is met
    w.ingest(w.event("agent_replied", at=answer), now=answer)
    run_until(w, T0 + timedelta(days=1))

    key = f"4711#resolution#1#{'escalation-1' if kind is StepKind.ESCALATION else kind.value}"
    when = sent_at(w, key)
    assert when is not None, f"{key} was never sent"
    assert when <= armed + timedelta(seconds=2), f"{key} sent at {when}, its check was armed for {armed}"
    owed = evaluate(compile_policy(w.config), w.state(), T0 + timedelta(days=1)).notices
    assert sorted(w.ledger.records) == sorted(n.key for n in owed)
    assert w.ledger.unsent() == []
    assert len(w.mailer.sent) == len(w.ledger.records), "each notice e-mailed exactly once"


def test_the_issues_timeline_resolution_due_12_57_03_reply_12_57_23_answer_13_10():
    """The exact timeline of the report: the breach e-mail goes out at 12:58."""
    doc = {**RACE_DOC, "levels": {"standard": {**RACE_DOC["levels"]["standard"], "escalations": []}}}
    doc["levels"]["standard"]["targets"] = {
        "first_response": {"within": "1h"},
        "next_response": {"within": "30m"},
        "resolution": {"within": "PT4H57M3S"},
    }
    w = World(doc)
    w.ingest(w.event("created", at=T0, **NEW_TICKET), now=T0)
    w.ingest(w.event("agent_replied", at=T0 + timedelta(minutes=5)), now=T0 + timedelta(minutes=5))
    assert resolution_step(w, StepKind.BREACH) == datetime(2026, 11, 20, 12, 57, 3, tzinfo=UTC)
    assert w.scheduler.schedules["4711"] == datetime(2026, 11, 20, 12, 58, tzinfo=UTC)
    w.ingest(w.event("customer_replied", at=datetime(2026, 11, 20, 12, 57, 23, tzinfo=UTC)))
    w.ingest(w.event("agent_replied", at=datetime(2026, 11, 20, 13, 10, tzinfo=UTC)))
    run_until(w, T0 + timedelta(days=1))
    assert sent_at(w, "4711#resolution#1#breach") == datetime(2026, 11, 20, 12, 58, 2, tzinfo=UTC)
