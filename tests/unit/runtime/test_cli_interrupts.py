"""Ctrl-C (KeyboardInterrupt) in the middle of every long command: exit status 130, a message, no
traceback, and no partial file left (neither the half-written output nor a ``*.part``): diff, import,
merge (replay's own cases are in test_cli_edges.py). And ``--sort=-overdue`` end to end: the most
overdue clock first, as the help and docs/reports.md say."""

import csv
import json
import pathlib

import pytest
from slaclock.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[3]
ZENDESK = ROOT / "tests" / "fixtures" / "exports" / "zendesk-ticket-audits.json"

CONFIG = (ROOT / "tests" / "fixtures" / "config" / "paris-office.yaml").read_text(encoding="utf-8")

EVENTS = [
    {"id": f"e{n}", "ticket_id": str(n), "type": "created", "at": f"2026-01-0{n}T08:00:00Z",
     "ticket": {"status": "open", "requester": f"r{n}@client.test"}}
    for n in range(5, 10)
]  # fmt: skip


@pytest.fixture
def files(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    new = tmp_path / "new.yaml"
    new.write_text(CONFIG.replace("within: 2h", "within: 1h"), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return config, new, events, tmp_path


def _interrupt_after(n, inner):
    """`inner`'s iterator, raising KeyboardInterrupt after `n` items (the user pressing Ctrl-C)."""

    def wrapped(*args, **kwargs):
        for i, item in enumerate(inner(*args, **kwargs)):
            if i == n:
                raise KeyboardInterrupt
            yield item

    return wrapped


def _left(directory):
    return sorted(p.name for p in directory.rglob("*") if p.is_file())


def test_ctrl_c_in_diff_leaves_no_file(files, capsys, monkeypatch):
    from slaclock.commands import diff

    config, new, events, tmp = files
    out = tmp / "diff"
    monkeypatch.setattr(diff, "notices_diff", _interrupt_after(1, diff.notices_diff))  # after changes.csv
    argv = ["diff", "--config", str(config), "--config", str(new), "--events", str(events), "--out", str(out)]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted; no report written" in err and "Traceback" not in err
    assert _left(out) == []
    monkeypatch.undo()
    assert main(argv) == 0  # and a run that is not interrupted writes both
    assert _left(out) == ["changes.csv", "compliance_diff.csv", "diff.html", "notices_diff.csv"]


def test_ctrl_c_in_import_leaves_no_file(tmp_path, capsys, monkeypatch):
    from slaclock.services import ingest

    out = tmp_path / "events.jsonl"
    monkeypatch.setattr(ingest, "with_ticket_prefix", _interrupt_after(1, ingest.with_ticket_prefix))
    assert main(["import", "zendesk", str(ZENDESK), "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert _left(tmp_path) == []


def test_ctrl_c_in_merge_leaves_no_file(files, capsys, monkeypatch):
    from slaclock.commands import _stream

    config, _, events, tmp = files
    for k in range(2):
        argv = ["replay", "--config", str(config), "--events", str(events), "--out", str(tmp / f"s{k}")]
        assert main([*argv, "--shard", f"{k}/2", "--quiet"]) == 0
    shards = sorted(_left(tmp / "s0"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_stream, "finish", interrupted)
    out = tmp / "merged"
    assert main(["merge", str(tmp / "s0"), str(tmp / "s1"), "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert _left(out) == [] and sorted(_left(tmp / "s0")) == shards  # the shards are untouched


def test_sort_minus_overdue_puts_the_most_overdue_first(files, capsys):
    config, _, events, tmp = files
    argv = ["replay", "--config", str(config), "--events", str(events), "--now", "2026-01-12T12:00:00Z"]
    assert main([*argv, "--out", str(tmp / "o"), "--quiet", "--sort=-overdue"]) == 0
    rows = list(csv.DictReader((tmp / "o" / "sla_log.csv").open(encoding="utf-8", newline="")))
    remaining = [float(r["remaining_seconds"]) for r in rows]
    assert remaining == sorted(remaining) and remaining[0] < 0  # most overdue (most negative) first
    assert rows[0]["ticket_id"] == "5"  # the oldest ticket is the most overdue
    assert main([*argv, "--out", str(tmp / "p"), "--quiet", "--sort=overdue"]) == 0
    rows = list(csv.DictReader((tmp / "p" / "sla_log.csv").open(encoding="utf-8", newline="")))
    assert [float(r["remaining_seconds"]) for r in rows] == sorted(remaining, reverse=True)
