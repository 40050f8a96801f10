"""`slaclock replay` writes actions.csv: the actions each ticket would have triggered. The same rows
whichever way the replay runs (streamed JSON Lines, a JSON array in memory), and the same actions the
live check runs for the same events (a differential test, action by action)."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from slaclock.cli import main

from tests.fakes.world import CONFIG_DOC, T0, World, minutes

SLACK = {"kind": "slack", "webhook_secret": "slaclock/test/slack"}


def doc() -> dict[str, Any]:
    d = copy.deepcopy(CONFIG_DOC)
    d["sources"] = {
        "zd": {
            "provider": "zendesk",
            "secret": {"ssm_parameter": "/slaclock/custom"},
            "api": {"url": "https://acme.zendesk.com", "secret": {"secrets_manager": "slaclock/test/zd"}},
        }
    }
    level = d["levels"]["standard"]
    level["actions"] = {"breach": [SLACK, {"kind": "add_tags", "tags": ["late"]}], "met": [SLACK]}
    level["escalations"] = [{"at": "60%", "actions": [{"kind": "unassign"}]}, *level["escalations"]]
    return d


def events(w: World) -> list[Any]:
    return [
        w.event("created", at=T0, ticket_id="1"),  # never answered: 60%, breach, escalation
        w.event("created", at=T0, ticket_id="2"),
        w.event("agent_replied", at=T0 + minutes(40), ticket_id="2"),  # after the 60% rung, met in time
        w.event("created", at=T0 + minutes(5), ticket_id="3"),
        w.event("agent_replied", at=T0 + minutes(10), ticket_id="3"),  # met before any rung
    ]


def replay(tmp_path: Path, evs: list[Any], *, as_lines: bool, now: str) -> list[dict[str, str]]:
    config = tmp_path / "sla.yaml"
    config.write_text(yaml.safe_dump(doc()), encoding="utf-8")
    path = tmp_path / ("events.jsonl" if as_lines else "events.json")
    dicts = [e.to_dict() for e in evs]
    text = "\n".join(json.dumps(d) for d in dicts) + "\n" if as_lines else json.dumps(dicts)
    path.write_text(text, encoding="utf-8")
    out = tmp_path / ("lines" if as_lines else "array")
    args = ["replay", "--config", str(config), "--events", str(path), "--out", str(out), "--now", now]
    assert main([*args, "--quiet", *(["--workers", "1"] if as_lines else [])]) == 0
    with (out / "actions.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("as_lines", [True, False])
def test_actions_csv_lists_every_action_each_ticket_would_trigger(tmp_path: Path, as_lines: bool) -> None:
    rows = replay(tmp_path, events(World(doc())), as_lines=as_lines, now=(T0 + minutes(120)).isoformat())
    got = [(r["ticket"], r["metric"], r["step"], r["kind"], r["target"], r["instant"]) for r in rows]
    assert got == [
        ("1", "first_response", "escalation-1", "unassign", "zd", "2026-11-20T10:36:00Z"),
        ("1", "first_response", "breach", "slack", "slaclock/test/slack", "2026-11-20T11:00:00Z"),
        ("1", "first_response", "breach", "add_tags", "zd", "2026-11-20T11:00:00Z"),
        ("2", "first_response", "escalation-1", "unassign", "zd", "2026-11-20T10:36:00Z"),
        ("2", "first_response", "met", "slack", "slaclock/test/slack", "2026-11-20T10:40:00Z"),
        ("3", "first_response", "met", "slack", "slaclock/test/slack", "2026-11-20T10:10:00Z"),
    ]


def test_streamed_and_in_memory_replays_write_the_same_actions(tmp_path: Path) -> None:
    evs = events(World(doc()))
    now = (T0 + minutes(45)).isoformat()
    assert replay(tmp_path, evs, as_lines=True, now=now) == replay(tmp_path, evs, as_lines=False, now=now)


def test_replay_lists_what_the_live_check_runs(tmp_path: Path) -> None:
    w = World(doc())
    evs = events(w)
    end = T0 + minutes(120)

    def fire_until(t: Any) -> None:  # every schedule due by `t`, in time order, as the scheduler would
        while due := sorted((at, tid) for tid, at in w.scheduler.schedules.items() if at <= t):
            w.fire(due[0][1])

    for e in sorted(evs, key=lambda e: e.at):
        fire_until(e.at)
        w.ingest(e, now=e.at)
    fire_until(end)
    live = sorted((c.notice.ticket_id, c.notice.step.key, c.kind) for c in w.actions.calls)
    rows = replay(tmp_path, evs, as_lines=False, now=end.isoformat())
    assert live == sorted((r["ticket"], r["step"], r["kind"]) for r in rows)


def test_no_actions_no_actions_csv(tmp_path: Path) -> None:
    config = tmp_path / "sla.yaml"
    config.write_text(yaml.safe_dump(CONFIG_DOC), encoding="utf-8")
    path = tmp_path / "e.json"
    path.write_text(json.dumps([e.to_dict() for e in events(World())]), encoding="utf-8")
    assert (
        main(
            [
                "replay",
                "--config",
                str(config),
                "--events",
                str(path),
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
        == 0
    )
    assert not (tmp_path / "o" / "actions.csv").exists()
