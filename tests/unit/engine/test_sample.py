"""The seeded event generator (slaclock_local.sample) behind examples/events.jsonl, the demo and the bench."""

import io
import itertools
import json
import pathlib
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from slaclock.engine.events import parse_event
from slaclock_local.sample import generate_events, write_jsonl

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def sample():
    return list(generate_events(400, seed=3))


def test_same_seed_same_events_other_seed_other_events():
    assert list(generate_events(60, seed=11)) == list(generate_events(60, seed=11))
    assert list(generate_events(60, seed=11)) != list(generate_events(60, seed=12))


def test_every_event_is_a_valid_canonical_event(sample):
    for event in sample:
        parse_event(event)
    assert len({e["ticket_id"] for e in sample}) == 400
    assert Counter(e["type"] for e in sample if e["type"] == "created")["created"] >= 400


def test_the_file_exercises_every_event_type_and_the_pauses(sample):
    types = Counter(e["type"] for e in sample)
    assert set(types) == {
        "created", "agent_replied", "customer_replied", "updated", "solved", "closed", "reopened", "deleted",
    }  # fmt: skip
    statuses = {e["ticket"].get("status") for e in sample}
    assert {"new", "open", "pending", "on_hold", "solved", "closed"} <= statuses
    assert any(e["type"] == "updated" and "priority" in e["ticket"] for e in sample)  # level changes
    assert 4.0 < len(sample) / 400 < 6.5  # about five events per ticket


def test_created_carries_the_whole_ticket_and_later_events_only_changes(sample):
    created = [e for e in sample if e["type"] == "created"]
    for e in created:
        assert {"status", "priority", "channel", "tags", "department", "assignee", "requester",
                "customer_group", "custom"} <= set(e["ticket"])  # fmt: skip
    later = [e for e in sample if e["type"] == "agent_replied"]
    assert all("requester" not in e["ticket"] for e in later)


def test_webhooks_arrive_twice_and_out_of_order(sample):
    by_id = defaultdict(list)
    for e in sample:
        by_id[e["id"]].append(e)
    repeated = [v for v in by_id.values() if len(v) > 1]
    assert repeated, "some events must be delivered twice"
    assert all(v[0] == v[1] for v in repeated)  # the same body
    late = 0
    last_at = {}
    for e in sample:
        tid = e["ticket_id"]
        if tid in last_at and e["at"] < last_at[tid]:
            late += 1
        last_at[tid] = max(last_at.get(tid, ""), e["at"])
    assert late > 0, "some events must arrive after a later event of their ticket"
    assert late < len(sample) * 0.1


def test_start_is_respected_and_must_be_aware():
    start = datetime(2027, 3, 1, tzinfo=UTC)
    events = list(generate_events(30, seed=1, start=start))
    assert min(e["at"] for e in events) >= "2027-03-01T00:00:00Z"
    with pytest.raises(ValueError, match="aware"):
        next(generate_events(1, seed=1, start=datetime(2027, 3, 1)))


def test_streams_without_generating_everything_first():
    first = list(itertools.islice(generate_events(10**9, seed=5), 10))
    assert len(first) == 10


def test_write_jsonl_writes_one_compact_object_per_line():
    out = io.StringIO()
    assert write_jsonl(generate_events(5, seed=2), out) == out.getvalue().count("\n")
    for line in out.getvalue().splitlines():
        assert json.loads(line)["ticket_id"]


def test_the_bundled_example_file_is_the_seeded_output():
    # examples/events.jsonl == `python examples/generate_events.py --tickets 300 --seed 7`
    out = io.StringIO()
    write_jsonl(generate_events(300, seed=7), out)
    assert (ROOT / "examples" / "events.jsonl").read_text(encoding="utf-8") == out.getvalue()
