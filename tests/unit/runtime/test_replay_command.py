"""`slaclock replay` end to end on a temporary directory: outputs, exit codes, malformed input."""

import csv
import io
import json
import pathlib

import pytest
from slaclock.cli import main
from slaclock.commands._io import Progress

ROOT = pathlib.Path(__file__).resolve().parents[3]

CONFIG = """\
calendars:
  paris:
    timezone: Europe/Paris
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"],
            fri: ["09:00-17:00"]}
levels:
  standard:
    calendar: paris
    targets: {first_response: {within: 2h}, resolution: {within: 8h, pause_when_status: [pending]}}
rules:
  - {name: Everyone else, set_level: standard}
"""

EVENTS = [
    {"id": "a1", "ticket_id": "1", "type": "created", "at": "2026-01-05T08:00:00Z",
     "ticket": {"status": "open", "requester": "ann@client.test", "department": "billing",
                "assignee": "eva@x.test"}},
    {"id": "a2", "ticket_id": "1", "type": "agent_replied", "at": "2026-01-05T09:30:00Z"},
    {"id": "b1", "ticket_id": "2", "type": "created", "at": "2026-01-06T08:00:00Z",
     "ticket": {"status": "open", "requester": "bob@client.test", "department": "sales"}},
]  # fmt: skip


@pytest.fixture
def files(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    lines = [json.dumps(EVENTS[0]), json.dumps(EVENTS[1]), "{not json", "", json.dumps(EVENTS[2])]
    lines.append(json.dumps({"id": "x", "ticket_id": "3", "type": "exploded", "at": "yesterday"}))
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config, events, tmp_path / "out"


def _run(capsys, *argv):
    try:
        code = main(["replay", *map(str, argv)])
    except SystemExit as e:  # argparse refuses a bad option value: usage, then exit 2
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_replay_writes_the_three_files_and_reports_malformed_lines(files, capsys):
    config, events, out = files
    code, stdout, stderr = _run(capsys, "--config", config, "--events", events, "--out", out)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["compliance.csv", "sla_log.csv", "summary.html"]
    assert f"{events}:3: not valid JSON" in stderr
    assert f"{events}:6: invalid event: type: 'exploded' is not one of" in stderr
    assert "at: 'yesterday' is not an ISO 8601 instant" in stderr
    assert "Traceback" not in stderr
    assert "\r" not in stderr  # no progress bar when stderr is not a terminal
    assert (
        "Replayed 2 tickets from 3 events as of 2026-01-06T08:00:00Z (2 malformed entries skipped)" in stdout
    )
    # ticket 1: answered in 1 h 30 (met); its 8 h resolution ran out Monday 17:00 Paris (missed)
    assert "Clocks: 4 (1 met, 1 missed, 2 running; 0 cancelled left out)" in stdout
    assert "Compliance: 50.00%" in stdout
    assert "sla_log.csv (4 rows)" in stdout
    log = list(csv.DictReader((out / "sla_log.csv").open(encoding="utf-8", newline="")))
    assert [(r["ticket_id"], r["metric"], r["status"]) for r in log] == [
        ("1", "first_response", "met"), ("1", "resolution", "missed"), ("2", "first_response", "open"),
        ("2", "resolution", "open"),
    ]  # fmt: skip
    assert not list(out.glob("*.part"))


def test_strict_stops_at_the_first_malformed_line_and_writes_nothing(files, capsys):
    config, events, out = files
    code, stdout, stderr = _run(capsys, "--config", config, "--events", events, "--out", out, "--strict")
    assert code == 1
    assert f"{events}:3: not valid JSON" in stderr and "--strict" in stderr
    assert not out.exists() or not list(out.iterdir())
    assert stdout == ""


def test_invalid_configuration_exits_1_with_every_error(files, capsys):
    config, events, out = files
    config.write_text(
        CONFIG.replace("within: 2h", "within: 2 hours").replace("calendar: paris", "calendar: x")
    )
    code, _, stderr = _run(capsys, "--config", config, "--events", events, "--out", out)
    assert code == 1
    assert "invalid configuration (2 errors)" in stderr
    assert "levels.standard.calendar" in stderr
    assert "levels.standard.targets.first_response.within" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--events", "missing.jsonl"], 1, "cannot read events file"),
        (["--config", "missing.yaml"], 1, "cannot read"),
        (["--now", "next tuesday"], 2, "--now: 'next tuesday' is not an ISO 8601 instant"),
        (["--now", "2026-01-06T10:00:00"], 2, "has no UTC offset"),
        (["--group-by", "level,team"], 2, "argument --group-by: 'team' is not one of"),
        (["--sort", "priority"], 2, "argument --sort: 'priority' is not one of"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(files, capsys, tmp_path, argv, code, message):
    config, events, out = files
    base = {"--config": str(config), "--events": str(events), "--out": str(out)}
    for key, value in zip(argv[::2], argv[1::2], strict=True):
        base[key] = str(tmp_path / value) if value.startswith("missing") else value
    got, _, stderr = _run(capsys, *[x for kv in base.items() for x in kv])
    assert got == code
    assert message in stderr
    assert "Traceback" not in stderr


def test_a_json_array_gives_the_same_reports_as_json_lines(files, capsys, tmp_path):
    config, _, out = files
    lines = tmp_path / "e.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    array = tmp_path / "e.json"
    array.write_text("\n  " + json.dumps(EVENTS, indent=2), encoding="utf-8")
    assert (
        _run(capsys, "--config", config, "--events", lines, "--out", out / "a", "--group-by", "level")[0] == 0
    )
    assert (
        _run(capsys, "--config", config, "--events", array, "--out", out / "b", "--group-by", "level")[0] == 0
    )
    for name in ("sla_log.csv", "compliance.csv"):
        assert (out / "a" / name).read_bytes() == (out / "b" / name).read_bytes()
    assert (out / "a" / "compliance.csv").read_text().startswith("date,level,met,")


def test_a_broken_json_array_is_fatal_with_its_line(files, capsys, tmp_path):
    config, _, out = files
    broken = tmp_path / "e.json"
    broken.write_text('[\n {"id": "a"},\n {"id": \n', encoding="utf-8")
    code, _, stderr = _run(capsys, "--config", config, "--events", broken, "--out", out)
    assert code == 1
    assert f"{broken}:4: not a valid JSON array" in stderr


def test_a_bad_item_of_a_json_array_is_reported_by_its_position(files, capsys, tmp_path):
    config, _, out = files
    array = tmp_path / "e.json"
    array.write_text(json.dumps([EVENTS[0], {"id": "z"}, EVENTS[1]]), encoding="utf-8")
    code, stdout, stderr = _run(capsys, "--config", config, "--events", array, "--out", out)
    assert code == 0
    assert f"{array}: item 2: invalid event" in stderr
    assert "from 2 events as of 2026-01-05T09:30:00Z (1 malformed entry skipped)" in stdout


def test_now_before_some_events_leaves_them_out(files, capsys):
    config, events, out = files
    code, stdout, _ = _run(
        capsys, "--config", config, "--events", events, "--out", out, "--now", "2026-01-05T10:00:00+01:00"
    )
    assert code == 0
    assert "Replayed 1 ticket from 1 event as of 2026-01-05T09:00:00Z" in stdout
    assert "2 events after --now left out" in stdout
    log = list(csv.DictReader((out / "sla_log.csv").open(encoding="utf-8", newline="")))
    # at 09:00Z ticket 1 waits for its first answer: 1 h of its 2 h used
    assert [(r["metric"], r["status"], r["business_seconds"]) for r in log] == [
        ("first_response", "open", "3600"), ("resolution", "open", "3600"),
    ]  # fmt: skip


def test_empty_events_file_writes_header_only_reports(files, capsys, tmp_path):
    config, _, out = files
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    code, stdout, _ = _run(
        capsys, "--config", config, "--events", empty, "--out", out, "--group-by", "metric"
    )
    assert code == 0
    assert (out / "sla_log.csv").read_text().count("\n") == 1
    assert (out / "compliance.csv").read_text().startswith("date,metric,met")
    assert "n/a" in stdout


def test_quiet_prints_nothing_on_success(files, capsys):
    config, events, out = files
    code, stdout, _ = _run(capsys, "--config", config, "--events", events, "--out", out, "--quiet")
    assert code == 0 and stdout == ""


def test_the_progress_bar_draws_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    bar = Progress(tty, enabled=tty.isatty())
    bar.show("reading", 50, 100)
    bar.show("reading", 50, 100)  # same percentage: not redrawn
    bar.done()
    assert tty.getvalue().count("\r") == 3 and " 50%" in tty.getvalue()
    plain = io.StringIO()
    Progress(plain, enabled=plain.isatty()).show("reading", 1, 2)
    assert plain.getvalue() == ""


def test_the_bundled_example_replays(capsys, tmp_path):
    code, stdout, stderr = _run(
        capsys,
        "--config", ROOT / "examples" / "sla.yaml",
        "--events", ROOT / "examples" / "events.jsonl",
        "--out", tmp_path,
        "--group-by", "level,metric",
    )  # fmt: skip
    assert code == 0, stderr
    assert "Replayed 300 tickets" in stdout
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "enterprise-24x7" in page and "Compliance per day" in page


def test_a_lone_surrogate_in_a_ticket_value_is_replaced_not_a_crash(files, capsys, tmp_path):
    config, _, out = files
    events = tmp_path / "surrogate.jsonl"
    # "\ud800" is a lone surrogate: valid JSON escape, not encodable as UTF-8
    events.write_text(
        '{"id": "s1", "ticket_id": "9", "type": "created", "at": "2026-01-05T08:00:00Z",'
        ' "ticket": {"status": "open", "requester": "bad\\ud800x@client.test"}}\n',
        encoding="utf-8",
    )
    code, _, _ = _run(capsys, "--config", config, "--events", events, "--out", out, "--quiet")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO((out / "sla_log.csv").read_text(encoding="utf-8"))))
    assert [r["requester"] for r in rows] == ["bad?x@client.test"] * len(rows) and rows
