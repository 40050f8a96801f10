"""Hostile files given to the commands: JSON nested thousands deep (a RecursionError inside the
standard library's decoder), NaN, integers of thousands of digits (Python's own 4,300-digit limit),
YAML nested deep enough to overflow libyaml's stack (which killed the process). Each command answers
with a message naming the line and the problem, skips or stops as it documents, and never prints a
traceback. The decoder is `engine.json_input` (tests/unit/engine/test_json_input.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from slaclock.cli import main

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "examples" / "sla.yaml"
GOOD = b'{"id":"e1","ticket_id":"t1","type":"created","at":"2026-01-05T09:00:00Z"}\n'
DEEP = b"[" * 100_000 + b"]" * 100_000


def _update(n: int, custom_x: bytes) -> bytes:
    """A canonical event line whose ``custom.x`` field is the JSON text `custom_x`."""
    head = f'{{"id":"e{n}","ticket_id":"t1","type":"updated","at":"2026-01-05T09:0{n}:00Z",'.encode()
    return head + b'"ticket":{"custom":{"x":' + custom_x + b"}}}\n"


DEEP_FIELD = _update(2, b"[" * 5000 + b"]" * 5000)
NAN = _update(3, b"NaN")
HUGE = _update(4, b"9" * 5000)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err


@pytest.mark.parametrize("provider", ["zendesk", "jira", "freshdesk", "helpscout", "intercom"])
def test_import_skips_hostile_lines_naming_each(tmp_path, capsys, provider):
    path = tmp_path / "export.jsonl"
    path.write_bytes(b'{"a": 1}\n' + DEEP + b"\n" + b'{"a": NaN}\n' + b'{"a": ' + b"9" * 5000 + b"}\n[1,2\n")
    code, _, err = _run(capsys, "import", provider, path, "--out", tmp_path / "events.jsonl")
    assert code == 0
    assert f"skipped {path}: line 2: nested deeper than 64 levels" in err
    assert f"skipped {path}: line 3: NaN is not JSON: numbers must be finite" in err
    assert f"skipped {path}: line 4: an integer of 5000 digits (at most 38)" in err
    assert f"skipped {path}: line 5: not valid JSON (Expecting ',' delimiter at column 5)" in err
    code, _, err = _run(capsys, "import", provider, path, "--out", tmp_path / "strict.jsonl", "--strict")
    assert code == 1 and not (tmp_path / "strict.jsonl").exists()


def test_import_of_one_hostile_document_is_reported_and_the_next_file_still_read(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_bytes(DEEP)
    export = ROOT / "tests" / "fixtures" / "exports" / "zendesk-ticket-audits.json"
    code, out, err = _run(capsys, "import", "zendesk", deep, export)
    assert code == 0 and f"skipped {deep}: nested deeper than 64 levels" in err
    assert out.count("\n") > 0  # the good export's events


def test_merge_refuses_a_hostile_shard_file(tmp_path, capsys):
    for n, body in enumerate((DEEP, b'{"format": NaN}')):
        shard = tmp_path / f"s{n}"
        shard.mkdir()
        (shard / "shard.json").write_bytes(body)
        code, _, err = _run(capsys, "merge", shard, "--out", tmp_path / "out")
        assert code == 1 and f"{shard / 'shard.json'}: not valid JSON" in err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.json", b'{"calendars": ' + DEEP + b"}", "refused: nested deeper than 64 levels"),
        ("huge.json", b'{"levels": ' + b"9" * 5000 + b"}", "refused: an integer of 5000 digits (at most 38)"),
        ("deep.yaml", b"calendars: " + DEEP, "refused: nested deeper than 64 levels"),
        ("huge.yaml", b"levels: " + b"9" * 5000, "an integer of 5000 digits (at most 38)"),
    ],
)
def test_validate_refuses_a_hostile_configuration_in_a_process_that_survives(tmp_path, name, text, message):
    """`slaclock validate` itself, in a child process: before, the deep YAML killed it (SIGSEGV)."""
    path = tmp_path / name
    path.write_bytes(text)
    run = subprocess.run(
        [sys.executable, "-m", "slaclock.cli", "validate", "--config", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, (run.returncode, run.stderr[-300:])
    assert message in run.stderr and "Traceback" not in run.stderr


EVENTS = GOOD + DEEP + b"\n" + DEEP_FIELD + NAN + HUGE + b"[1,2\n"
SKIPPED = [
    ":2: nested deeper than 64 levels",
    ":3: nested deeper than 64 levels",
    ":4: NaN is not JSON: numbers must be finite",
    ":5: an integer of 5000 digits (at most 38)",
    ":6: not valid JSON (Expecting ',' delimiter at column 5)",
]


@pytest.mark.parametrize(
    "extra",
    [["--workers", "1"], ["--workers", "2"], ["--sort", "ticket"]],  # streamed, on 2 cores, in memory
    ids=["streamed", "two-workers", "in-memory"],
)
def test_replay_skips_hostile_lines_naming_each_and_replays_the_rest(tmp_path, capsys, extra):
    events = tmp_path / "events.jsonl"
    events.write_bytes(EVENTS)
    code, out, err = _run(
        capsys, "replay", "--config", CONFIG, "--events", events, "--out", tmp_path / "o", *extra
    )
    assert code == 0
    assert [line.removeprefix(f"skipped {events}") for line in err.splitlines()] == SKIPPED
    assert "Replayed 1 ticket from 1 event" in out and "(5 malformed entries skipped)" in out
    code, _, err = _run(
        capsys, "replay", "--config", CONFIG, "--events", events, "--out", tmp_path / "s", "--strict"
    )
    assert (
        code == 1
        and err == f"slaclock replay: {events}:2: nested deeper than 64 levels (--strict: stopping)\n"
    )
    assert not (tmp_path / "s" / "sla_log.csv").exists()


def test_diff_skips_the_same_lines(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_bytes(EVENTS)
    code, _, err = _run(
        capsys, "diff", "--config", CONFIG, "--config", CONFIG, "--events", events, "--out", tmp_path / "d"
    )
    assert code == 0
    assert [
        line.removeprefix(f"skipped {events}") for line in err.splitlines() if "skipped" in line
    ] == SKIPPED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"[" + GOOD.strip() + b"," + DEEP + b"]",
            "not a JSON array slaclock reads (nested deeper than 64 levels)",
        ),
        (
            b"[" + GOOD.strip() + b", NaN]",
            "not a JSON array slaclock reads (NaN is not JSON: numbers must be finite)",
        ),
    ],
)
def test_a_hostile_json_array_of_events_is_refused_whole(tmp_path, capsys, body, message):
    events = tmp_path / "events.json"
    events.write_bytes(body)
    code, _, err = _run(capsys, "replay", "--config", CONFIG, "--events", events, "--out", tmp_path / "o")
    assert code == 1 and err == f"slaclock replay: {events}: {message}\n"
