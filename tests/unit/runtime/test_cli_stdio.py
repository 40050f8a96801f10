"""``-`` for standard input where a command reads a file: `slaclock import PROVIDER -` reads the export
from standard input and writes the same events as from the file; `slaclock diff --events -` the events."""

import io
import json
import pathlib
import sys

from slaclock.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[3]
ZENDESK = ROOT / "tests" / "fixtures" / "exports" / "zendesk-ticket-audits.json"


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_import_reads_standard_input(capsys, monkeypatch):
    assert main(["import", "zendesk", str(ZENDESK), "--quiet"]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", _Stdin(ZENDESK.read_bytes()))
    assert main(["import", "zendesk", "-", "--quiet"]) == 0
    from_stdin = capsys.readouterr().out
    assert from_stdin == from_file and len(from_file.splitlines()) >= 5
    assert all(json.loads(line)["ticket_id"] == "101" for line in from_file.splitlines()[:3])


def test_diff_reads_events_from_standard_input(tmp_path, capsys, monkeypatch):
    config = tmp_path / "old.yaml"
    config.write_text(
        "calendars: {c: {timezone: UTC, hours: 24x7}}\n"
        "levels: {l: {calendar: c, targets: {first_response: {within: 1h}}}}\n"
        "rules: [{name: all, set_level: l}]\n",
        encoding="utf-8",
    )
    new = tmp_path / "new.yaml"
    new.write_text(config.read_text().replace("within: 1h", "within: 3h"), encoding="utf-8")
    events = [
        {
            "id": "1",
            "ticket_id": "7",
            "type": "created",
            "at": "2026-01-05T08:00:00Z",
            "ticket": {"status": "open"},
        },
        {"id": "2", "ticket_id": "7", "type": "agent_replied", "at": "2026-01-05T10:00:00Z"},
    ]
    monkeypatch.setattr(sys, "stdin", _Stdin("".join(json.dumps(e) + "\n" for e in events).encode()))
    out = tmp_path / "diff"
    argv = ["diff", "--config", str(config), "--config", str(new), "--events", "-", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    changes = (out / "changes.csv").read_text(encoding="utf-8").splitlines()
    assert len(changes) == 2  # the header and ticket 7, answered after 2 h: missed under 1 h, met under 3 h
    ticket, metric, _, _, old, new = changes[1].split(",")[:6]
    assert (ticket, metric, old, new) == ("7", "first_response", "missed", "met")
