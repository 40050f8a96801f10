"""No traceback to a user: bad `local up` values, events on standard input, Ctrl-C during a replay."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from slaclock.cli import main

from tests.unit.runtime.test_replay_command import CONFIG, EVENTS


def usage_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["local", "up", "--speed", "0"], "above 0"),
        (["local", "up", "--speed", "-3"], "above 0"),
        (["local", "up", "--speed", "nan"], "finite number above 0"),
        (["local", "up", "--speed", "inf"], "finite number above 0"),
        (["local", "up", "--speed", "fast"], "'fast' is not a number"),
        (["local", "up", "--port", "80000"], "80000 is not a port"),
        (["local", "up", "--port", "-1"], "-1 is not a port"),
        (["local", "emails", "--port", "65536"], "65536 is not a port"),
    ],
)
def test_bad_local_values_are_one_usage_line_and_exit_2(capsys, argv, words):
    line = usage_error(capsys, argv)
    assert line.startswith("slaclock local ") and "error:" in line and words in line


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def jsonl() -> bytes:
    return ("\n".join(json.dumps(e) for e in EVENTS) + "\n").encode()


def test_events_from_standard_input_with_a_dash(config_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl())))
    out = tmp_path / "out"
    assert main(["replay", "--config", str(config_file), "--events", "-", "--out", str(out)]) == 0
    assert "Replayed 2 tickets from 3 events" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["compliance.csv", "sla_log.csv", "summary.html"]


@pytest.mark.parametrize("events", ["/dev/stdin", "-"])
def test_events_piped_into_the_command(config_file, tmp_path, events):
    if events.startswith("/dev/") and not os.path.exists(events):
        pytest.skip("no /dev/stdin here")
    answer = subprocess.run(
        [sys.executable, "-m", "slaclock.cli", "replay", "--config", str(config_file), "--events", events,
         "--out", str(tmp_path / "out")],
        input=jsonl(), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr.decode()
    assert b"Traceback" not in answer.stderr
    assert b"Replayed 2 tickets from 3 events" in answer.stdout


def test_a_json_array_on_standard_input(config_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(EVENTS).encode())))
    assert main(["replay", "--config", str(config_file), "--events", "-", "--out", str(tmp_path / "o")]) == 0


def test_ctrl_c_while_writing_stops_cleanly_and_leaves_no_part_file(
    config_file, tmp_path, capsys, monkeypatch
):
    import slaclock.commands.replay as replay

    events = tmp_path / "events.json"  # a JSON array: the in-memory path (JSON Lines streams, below)
    events.write_text(json.dumps(EVENTS))
    original = replay.write_reports

    def interrupted(*args, **kwargs):
        kwargs["sla_log"].write("half a report")
        kwargs["sla_log"].flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(replay, "write_reports", interrupted)
    out = tmp_path / "out"
    code = main(["replay", "--config", str(config_file), "--events", str(events), "--out", str(out)])
    assert code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() == "slaclock replay: interrupted; no report written"
    assert list(out.iterdir()) == []  # neither *.part nor a half report
    monkeypatch.setattr(replay, "write_reports", original)


def test_ctrl_c_while_reading_stops_cleanly(config_file, tmp_path, capsys, monkeypatch):
    import slaclock.commands.replay as replay

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(replay, "read_events", interrupted)
    events = tmp_path / "events.json"
    events.write_text(json.dumps(EVENTS))
    code = main(
        ["replay", "--config", str(config_file), "--events", str(events), "--out", str(tmp_path / "o")]
    )
    assert code == 130 and "Traceback" not in capsys.readouterr().err


def test_a_real_sigint_during_a_replay_exits_130_without_traceback(config_file, tmp_path):
    """SIGINT sent to a replay reading a pipe that never ends (the user pressed Ctrl-C)."""
    if sys.platform == "win32":
        pytest.skip("POSIX signals")
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "slaclock.cli", "replay", "--config", str(config_file), "--events", "-",
         "--out", str(tmp_path / "out")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(jsonl())
    process.stdin.flush()
    _wait_until_reading_stdin(process.pid)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr and b"interrupted" in stderr
    assert not list((tmp_path).glob("out/*.part"))


def _wait_until_reading_stdin(pid: int, timeout: float = 60.0) -> None:
    """Until the process blocks in read(0, ...) (Linux: /proc/<pid>/syscall), i.e. it has started and
    is reading the events; elsewhere, a generous pause."""
    import time

    read_calls = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fields = open(f"/proc/{pid}/syscall").read().split()  # noqa: PTH123, SIM115
        except OSError:
            time.sleep(5)
            return
        if read_calls is None:
            time.sleep(5)
            return
        if fields[:2] == [read_calls, "0x0"]:
            return
        time.sleep(0.05)
    raise AssertionError("the replay never started reading its standard input")


def test_ctrl_c_while_a_streamed_replay_writes_leaves_no_part_file(
    config_file, tmp_path, capsys, monkeypatch
):
    """JSON Lines take the streamed path (`commands._stream`): Ctrl-C after the SLA log was half written
    (while the compliance and summary are being finished) leaves no ``*.part`` and no report."""
    import slaclock.commands._stream as stream

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stream, "finish", interrupted)
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl())
    out = tmp_path / "out"
    code = main(
        ["replay", "--config", str(config_file), "--events", str(events), "--out", str(out), "--workers", "1"]
    )
    assert code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().endswith("slaclock replay: interrupted; no report written")
    assert not out.exists() or list(out.iterdir()) == []


def test_ctrl_c_while_a_streamed_replay_reads_stops_cleanly(config_file, tmp_path, capsys, monkeypatch):
    import slaclock.commands._stream as stream

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stream, "stream", interrupted)
    events = tmp_path / "events.jsonl"
    events.write_bytes(jsonl())
    out = tmp_path / "o"
    code = main(
        ["replay", "--config", str(config_file), "--events", str(events), "--out", str(out), "--workers", "1"]
    )
    assert code == 130 and "Traceback" not in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []
