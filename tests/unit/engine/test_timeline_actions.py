"""The timeline's ``actions`` (`slaclock.engine.timeline.build_timeline`) against ``actions.csv`` of
`slaclock replay` for the same events and instant: a differential test, row by row (the two come from
one plan, `slaclock.engine.action_plan.owed_actions`, and must never drift apart)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from slaclock.engine.policy import compile_policy
from slaclock.engine.timeline import build_timeline

from tests.fakes.world import T0, World, minutes
from tests.unit.engine.test_replay_actions import doc, events, replay


def timeline_rows(world: World, now: datetime) -> list[tuple[str, ...]]:
    policy = compile_policy(world.config)
    evs = events(world)
    rows = []
    for ticket in sorted({e.ticket_id for e in evs}):
        mine = [e for e in evs if e.ticket_id == ticket]
        doc_ = build_timeline(policy, mine, now)
        ats = [a["at"] for a in doc_["actions"]]
        assert ats == sorted(ats)  # instant order
        rows += [
            (ticket, a["metric"], str(a["cycle"]), a["step"], a["kind"], a["target"], a["at"])
            for a in doc_["actions"]
        ]
    return rows


@pytest.mark.parametrize("after", [5, 37, 45, 120])
def test_timeline_actions_are_the_rows_of_replays_actions_csv(tmp_path: Path, after: int) -> None:
    world = World(doc())
    now = T0 + minutes(after)
    csv_rows = replay(tmp_path, events(world), as_lines=False, now=now.isoformat())
    want = [
        tuple(r[c] for c in ("ticket", "metric", "cycle", "step", "kind", "target", "instant"))
        for r in csv_rows
    ]
    got = timeline_rows(world, now)
    # actions.csv lists a ticket's actions in step order (met steps last), the timeline by instant
    assert sorted(got) == sorted(want)
    assert len(got) == len(want)


def test_a_steps_actions_keep_their_order_and_index() -> None:
    world = World(doc())
    ticket_1 = [e for e in events(world) if e.ticket_id == "1"]
    actions = build_timeline(compile_policy(world.config), ticket_1, T0 + minutes(120))["actions"]
    assert [(a["at"], a["step"], a["index"], a["kind"]) for a in actions] == [
        ("2026-11-20T10:36:00Z", "escalation-1", 1, "unassign"),
        ("2026-11-20T11:00:00Z", "breach", 1, "slack"),
        ("2026-11-20T11:00:00Z", "breach", 2, "add_tags"),
    ]


def test_no_action_is_owed_before_its_step() -> None:
    world = World(doc())
    ticket_1 = [e for e in events(world) if e.ticket_id == "1"]
    assert build_timeline(compile_policy(world.config), ticket_1, T0 + minutes(30))["actions"] == []
