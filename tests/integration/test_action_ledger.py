"""The action ledger and the action dead-letter queue against moto, on the resources template.yaml
creates: each action claimed on its own record, beside its notice's, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slaclock.adapters.action_ledger import DynamoActionLedger, action_sk
from slaclock.adapters.dead_letters import SqsDeadLetters
from slaclock.adapters.dynamodb import DynamoNoticeLedger
from slaclock.engine.action_plan import action_key
from slaclock.engine.clocks import Notice, Step, StepKind
from slaclock.engine.config import Metric
from slaclock.ports import ClaimOutcome, ServiceUnavailable

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)
LEASE = timedelta(minutes=5)
NOTICE = Notice("T-9", Metric.FIRST_RESPONSE, 1, "urgent", Step(StepKind.BREACH, T0, ("assignee",)), T0)
SLACK = action_key(NOTICE, 0, "slack")
UNASSIGN = action_key(NOTICE, 1, "unassign")


def test_each_action_has_its_own_record_beside_the_notice(aws) -> None:
    actions = DynamoActionLedger(aws.table)
    notices = DynamoNoticeLedger(aws.table)
    assert notices.claim(NOTICE, now=T0, lease=LEASE) is ClaimOutcome.CLAIMED
    assert actions.claim(NOTICE, SLACK, now=T0, lease=LEASE) is ClaimOutcome.CLAIMED
    assert actions.claim(NOTICE, UNASSIGN, now=T0, lease=LEASE) is ClaimOutcome.CLAIMED
    assert actions.claim(NOTICE, SLACK, now=T0, lease=LEASE) is ClaimOutcome.HELD
    actions.mark_done(NOTICE, SLACK, now=T0, outcome="dead_letter")
    assert actions.claim(NOTICE, SLACK, now=T0 + LEASE * 3, lease=LEASE) is ClaimOutcome.SENT
    assert actions.status(NOTICE, SLACK) == {"status": "sent", "outcome": "dead_letter", "attempts": 1}
    # the notice's own record is untouched by its actions
    assert notices.status(NOTICE)["status"] == "claimed"
    item = aws.client("dynamodb").get_item(
        TableName=aws.table, Key={"pk": {"S": "T#T-9"}, "sk": {"S": action_sk(NOTICE, SLACK)}}
    )["Item"]
    assert item["sk"]["S"] == "N#first_response#1#breach#action-1-slack"
    assert item["action_key"]["S"] == "T-9#first_response#1#breach#action-1-slack"


def test_a_lapsed_claim_is_claimed_again_and_racing_checks_get_one_claim(aws) -> None:
    ledgers = [DynamoActionLedger(aws.table) for _ in range(5)]  # in turn: moto serialises nothing
    outcomes = [led.claim(NOTICE, UNASSIGN, now=T0, lease=LEASE) for led in ledgers]
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1
    assert ledgers[0].claim(NOTICE, UNASSIGN, now=T0 + LEASE, lease=LEASE) is ClaimOutcome.CLAIMED


def test_an_action_key_of_another_notice_is_refused() -> None:
    with pytest.raises(ValueError, match="not an action key"):
        action_sk(NOTICE, "T-9#resolution#1#breach#action-1-slack")


def test_dead_letters_land_on_the_encrypted_queue(aws) -> None:
    url = aws.stack.ref("ActionDeadLetterQueue")
    sqs = aws.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs.get("SqsManagedSseEnabled") == "true"
    SqsDeadLetters(queue_url=url).put({"action": SLACK, "kind": "slack", "error": "GaveUp"})
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == {"action": SLACK, "kind": "slack", "error": "GaveUp"}
    with pytest.raises(ServiceUnavailable):
        SqsDeadLetters(queue_url=url + "-gone").put({"action": SLACK})


def test_breach_tally_counts_a_set_and_one_check_wins_each_crossing(aws) -> None:
    from slaclock.adapters.breach_tally import DynamoBreachTally, tally_pk

    tally = DynamoBreachTally(aws.table)
    assert tally.add("Lea@x.test", "A#first_response#1") == {"A#first_response#1"}
    assert tally.add("lea@x.test", "A#first_response#1") == {"A#first_response#1"}  # idempotent
    assert tally.add("lea@x.test", "B#resolution#1") == {"A#first_response#1", "B#resolution#1"}
    assert [tally.cross("lea@x.test") for _ in range(3)] == [True, False, False]
    tally.remove("lea@x.test", {"A#first_response#1"})
    tally.reset("lea@x.test")
    assert tally.add("lea@x.test", "C#first_response#1") == {"B#resolution#1", "C#first_response#1"}
    assert tally.cross("lea@x.test") is True
    assert "lea" not in tally_pk("lea@x.test")  # no address in a key
