"""`slaclock diff`: two policies over the same events, with outcomes checked by hand.

Ticket 1 is created Monday 2026-01-05 at 09:00 Paris (08:00Z) and answered at 10:30 Paris: 1.5
business hours. Under the old policy (first response within 2h) it is met, due 11:00 Paris (10:00Z);
under the new one (within 1h) it is missed, due 10:00 Paris (09:00Z). Ticket 2 is still waiting at
`now` (its creation, the latest event) under both: still open, its due instant moves from 10:00Z to
09:00Z (a change of due, not of status). Ticket 1's resolution (8h, due Monday 17:00 Paris) is
missed at `now` under both, so Monday's compliance goes from 1 met + 1 missed (50%) to 2 missed
(0%): -50 points."""

import csv
import json
import pathlib

import pytest
from slaclock.cli import main

CONFIG = """\
calendars:
  paris:
    timezone: Europe/Paris
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"],
            fri: ["09:00-17:00"]}
levels:
  standard:
    calendar: paris
    targets: {first_response: {within: 2h}, resolution: {within: 8h}}
rules:
  - {name: Everyone else, set_level: standard}
"""

EVENTS = [
    {"id": "a1", "ticket_id": "1", "type": "created", "at": "2026-01-05T08:00:00Z",
     "ticket": {"status": "open", "requester": "ann@client.test", "department": "billing"}},
    {"id": "a2", "ticket_id": "1", "type": "agent_replied", "at": "2026-01-05T09:30:00Z"},
    {"id": "b1", "ticket_id": "2", "type": "created", "at": "2026-01-06T08:00:00Z",
     "ticket": {"status": "open", "requester": "bob@client.test", "department": "sales"}},
]  # fmt: skip


@pytest.fixture
def files(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(CONFIG, encoding="utf-8")
    new.write_text(CONFIG.replace("first_response: {within: 2h}", "first_response: {within: 1h}"))
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return old, new, events, tmp_path / "out"


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_one_ticket_moves_from_met_to_missed(files, capsys):
    old, new, events, out = files
    code = main(
        ["diff", "--config", str(old), "--config", str(new), "--events", str(events), "--out", str(out)]
    )
    assert code == 0
    changes = _rows(out / "changes.csv")
    assert [(c["ticket_id"], c["metric"], c["change"]) for c in changes] == [
        ("1", "first_response", "met->missed"),
        ("2", "first_response", "same-status"),
    ]
    change, waiting = changes
    assert (waiting["old_status"], waiting["new_status"]) == ("open", "open")
    assert (waiting["old_due_at"], waiting["new_due_at"]) == ("2026-01-06T10:00:00Z", "2026-01-06T09:00:00Z")
    assert (change["old_level"], change["new_level"]) == ("standard", "standard")
    assert (change["old_due_at"], change["new_due_at"]) == ("2026-01-05T10:00:00Z", "2026-01-05T09:00:00Z")
    day = [r for r in _rows(out / "compliance_diff.csv") if r["date"] == "2026-01-05"]
    assert len(day) == 1
    assert (day[0]["old_met"], day[0]["old_missed"], day[0]["new_met"], day[0]["new_missed"]) == (
        "1",
        "1",
        "0",
        "2",
    )
    assert day[0]["delta_pct"] == "-50.00"
    printed = capsys.readouterr().out
    assert "changed: 2 clock cycles (met->missed 1, same-status 1)" in printed


def test_same_policy_twice_changes_nothing(files):
    old, _, events, out = files
    assert (
        main(["diff", "--config", str(old), "--config", str(old), "--events", str(events), "--out", str(out)])
        == 0
    )
    assert _rows(out / "changes.csv") == []
    assert all(r["delta_pct"] in ("+0.00", "") for r in _rows(out / "compliance_diff.csv"))


def test_invalid_new_policy_is_refused_before_anything_is_written(files, capsys):
    old, new, events, out = files
    new.write_text(CONFIG.replace("calendar: paris", "calendar: nowhere"), encoding="utf-8")
    code = main(
        ["diff", "--config", str(old), "--config", str(new), "--events", str(events), "--out", str(out)]
    )
    assert code == 1
    assert not out.exists()
    assert "slaclock diff:" in capsys.readouterr().err


def test_one_config_is_a_usage_error(files, capsys):
    old, _, events, out = files
    assert main(["diff", "--config", str(old), "--events", str(events), "--out", str(out)]) == 2
    assert "--config twice" in capsys.readouterr().err


def test_each_side_equals_its_own_replay(tmp_path):
    """Differential: the old and new columns of compliance_diff.csv are, row by row, the compliance
    reports `slaclock replay` writes for each configuration alone (examples/sla.yaml and a variant)."""
    root = pathlib.Path(__file__).resolve().parents[3]
    old = root / "examples" / "sla.yaml"
    new = tmp_path / "new.yaml"
    new.write_text(old.read_text(encoding="utf-8").replace("within: 1h,", "within: 30m,"), encoding="utf-8")
    events = root / "examples" / "events.jsonl"
    out = tmp_path / "diff"
    assert (
        main(
            [
                "diff",
                "--config",
                str(old),
                "--config",
                str(new),
                "--events",
                str(events),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    diff = _rows(out / "compliance_diff.csv")
    for side, config in (("old", old), ("new", new)):
        replayed = tmp_path / side
        assert (
            main(
                [
                    "replay",
                    "--config",
                    str(config),
                    "--events",
                    str(events),
                    "--out",
                    str(replayed),
                    "--quiet",
                    "--workers",
                    "1",
                ]
            )
            == 0
        )
        expected = [
            (r["date"], r["met"], r["missed"], r["compliance_pct"])
            for r in _rows(replayed / "compliance.csv")
        ]
        got = [
            (r["date"], r[f"{side}_met"], r[f"{side}_missed"], r[f"{side}_compliance_pct"])
            for r in diff
            if r[f"{side}_compliance_pct"]
        ]
        assert got == expected
    assert any(r["delta_pct"] not in ("", "+0.00") for r in diff)  # the variant does change something


def test_diff_on_a_low_open_files_limit_uses_fewer_partitions_and_writes_the_same(tmp_path):
    """Splitting holds one file per partition open, as the streamed replay's does: with 2.5 kB
    partitions, a 400-ticket file needs about 150; in a child process whose soft and hard limits are
    both 100, diff uses fewer partitions (before: "Too many open files") and writes what it writes
    with the default partitions."""
    import resource
    import subprocess
    import sys

    from slaclock_local.sample import generate_events, write_jsonl

    root = pathlib.Path(__file__).resolve().parents[3]
    old = root / "examples" / "sla.yaml"
    new = tmp_path / "new.yaml"
    new.write_text(old.read_text(encoding="utf-8").replace("within: 1h,", "within: 30m,"), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8", newline="\n") as f:
        write_jsonl(generate_events(400, 11), f)
    assert events.stat().st_size // 2_500 > 130
    argv = ["diff", "--config", str(old), "--config", str(new), "--events", str(events), "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "default")]) == 0
    code = (
        "import sys; from slaclock.commands import _stream; from slaclock.cli import main\n"
        "_stream.PARTITION_BYTES = 2_500\n"
        f"sys.exit(main({[*argv, '--out', str(tmp_path / 'few')]!r}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100)),  # noqa: PLW1509
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-800:]
    for name in ("changes.csv", "compliance_diff.csv", "notices_diff.csv", "diff.html"):
        assert (tmp_path / "few" / name).read_bytes() == (tmp_path / "default" / name).read_bytes(), name
