"""The streamed replay (partitions spilled to disk, `--workers`, `--shard` + `slaclock merge`) writes
byte for byte what the in-memory replay of the whole file writes."""

import io
import json
import pathlib

import pytest
import yaml
from slaclock.adapters.config_file import load_config_file
from slaclock.cli import main
from slaclock.commands import _io, _stream
from slaclock.engine.events import parse_event, parse_instant
from slaclock.engine.partial import Partial, fold
from slaclock.engine.replay import Replay, write_reports
from slaclock_local.sample import generate_events, write_jsonl

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONFIG = ROOT / "examples" / "sla.yaml"
NAMES = ("sla_log.csv", "compliance.csv", "summary.html")


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        write_jsonl(generate_events(400, 11), f)
    return path


def _in_memory(events_path, out, now=None, group_by=(), config_path=CONFIG):
    """Today's replay: every event in memory, `write_reports` on a `Replay`."""
    config = load_config_file(str(config_path))
    with events_path.open(encoding="utf-8") as f:
        events = [parse_event(json.loads(line)) for line in f if line.strip()]
    replay = Replay(config, events, now)
    out.mkdir(parents=True, exist_ok=True)
    handles = [(out / n).open("w", encoding="utf-8", errors="replace", newline="") for n in NAMES]
    try:
        write_reports(
            config, replay, sla_log=handles[0], compliance=handles[1], summary=handles[2], group_by=group_by,
            title="SLA replay", subtitle=f"Configuration {config_path} · events {events_path}",
            now=replay.now, stats=replay.stats,
        )  # fmt: skip
    finally:
        for h in handles:
            h.close()
    return {n: (out / n).read_bytes() for n in NAMES}


def _replay(capsys, events_path, out, *extra):
    code = main(["replay", "--config", str(CONFIG), "--events", str(events_path), "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured


def _outputs(out):
    return {n: (out / n).read_bytes() for n in NAMES}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_streamed_replay_equals_the_in_memory_replay(events_file, tmp_path, capsys, monkeypatch, workers):
    monkeypatch.setattr(_stream, "PARTITION_BYTES", 20_000)  # many partitions on a small file
    expected = _in_memory(events_file, tmp_path / "memory")
    assert expected["sla_log.csv"].count(b"\r\n") > 400  # a real set: hundreds of rows
    _replay(capsys, events_file, tmp_path / "stream", "--workers", workers, "--group-by", "")
    assert _outputs(tmp_path / "stream") == expected


def test_streamed_replay_with_now_and_group_by_equals_the_in_memory_replay(
    events_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(_stream, "PARTITION_BYTES", 50_000)
    now = parse_instant("2026-01-20T12:00:00Z", "now", [])
    expected = _in_memory(events_file, tmp_path / "memory", now=now, group_by=("level", "department"))
    captured = _replay(
        capsys, events_file, tmp_path / "stream", "--workers", "2", "--now", "2026-01-20T12:00:00Z",
        "--group-by", "level,department",
    )  # fmt: skip
    assert _outputs(tmp_path / "stream") == expected
    assert "after --now left out" in captured.out


def test_four_shards_merged_equal_one_replay(events_file, tmp_path, capsys):
    expected = _in_memory(events_file, tmp_path / "memory", group_by=("level",))
    shards = []
    for k in range(4):
        shard = tmp_path / f"shard{k}"
        _replay(capsys, events_file, shard, "--shard", f"{k}/4", "--workers", "1", "--group-by", "level")
        assert not (shard / "sla_log.csv").exists()
        shards.append(str(shard))
    # every shard replayed some tickets, and no ticket twice
    docs = [json.loads((pathlib.Path(s) / "shard.json").read_text()) for s in shards]
    counts = [doc["aggregates"]["stats"]["tickets"] for doc in docs]
    assert all(counts) and sum(counts) == 400
    code = main(["merge", *reversed(shards), "--out", str(tmp_path / "merged"), "--quiet"])
    assert code == 0
    assert _outputs(tmp_path / "merged") == expected


def test_merge_refuses_a_missing_or_repeated_shard_and_writes_nothing(events_file, tmp_path, capsys):
    for k in range(2):
        _replay(capsys, events_file, tmp_path / f"s{k}", "--shard", f"{k}/2", "--workers", "1")
    out = tmp_path / "merged"
    assert main(["merge", str(tmp_path / "s0"), "--out", str(out)]) == 1
    assert "missing shard 1 of 2" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s0"), "--out", str(out)]) == 1
    assert "given twice" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path), "--out", str(out)]) == 1
    assert "not a shard output" in capsys.readouterr().err
    assert not out.exists()
    rows = tmp_path / "s1" / "rows.jsonl"
    rows.write_text(rows.read_text()[:-40] + "\n", encoding="ascii")  # a truncated upload
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(out)]) == 1
    assert "rows.jsonl file is corrupt" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    text = rows.read_text()
    rows.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 1], encoding="ascii")  # a line short
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(out)]) == 1
    assert "its shard wrote" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_merge_refuses_shards_replayed_at_different_instants(events_file, tmp_path, capsys):
    _replay(capsys, events_file, tmp_path / "s0", "--shard", "0/2", "--now", "2026-02-01T00:00:00Z")
    _replay(capsys, events_file, tmp_path / "s1", "--shard", "1/2")
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m")]) == 1
    assert "different now" in capsys.readouterr().err


def test_bad_shard_and_workers_values_exit_2(events_file, tmp_path, capsys):
    base = ["replay", "--config", str(CONFIG), "--events", str(events_file), "--out", str(tmp_path / "o")]
    for extra in (
        ["--shard", "4/4"],
        ["--shard", "x"],
        ["--workers", "0"],
        ["--workers", "2", "--sort", "ticket"],
        ["--workers", str(_stream.max_workers() + 1)],  # 4 per core: a typo must not fork thousands
    ):
        code = main([*base, *extra])
        assert code == 2, extra
    err = capsys.readouterr().err
    most = _stream.max_workers()
    assert f"--workers {most + 1}: at most {most} on this machine ({most // 4} cores, 4 processes each" in err


@pytest.mark.parametrize(("soft", "hard"), [(100, None), (100, 100)], ids=["soft-raised", "hard-capped"])
def test_a_low_open_files_limit_is_raised_or_partitions_are_fewer_and_outputs_the_same(
    events_file, tmp_path, capsys, soft, hard
):
    """A splitting worker holds one file per partition. With 2.5 kB partitions this file needs about 150
    (`ulimit -n` is 1,024 on many systems: inputs of about 8 GB): in a child process started at a
    soft limit of 100, the replay raises it toward the hard limit, or, when the hard limit is 100 too,
    uses fewer partitions; either way the outputs are the replay's. Before, both stopped with "Too many
    open files"."""
    import resource
    import subprocess
    import sys

    expected = _in_memory(events_file, tmp_path / "memory")
    assert events_file.stat().st_size // 2_500 > 130
    limit_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1] if hard is None else hard
    if limit_hard != resource.RLIM_INFINITY and limit_hard < 100:
        pytest.skip("this machine's hard limit is below 100 open files")
    code = (
        "import sys; from slaclock.commands import _stream; from slaclock.cli import main\n"
        "_stream.PARTITION_BYTES = 2_500\n"
        f"sys.exit(main(['replay', '--config', {str(CONFIG)!r}, '--events', {str(events_file)!r},"
        f" '--out', {str(tmp_path / 'stream')!r}, '--workers', '2', '--quiet']))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, limit_hard)),  # noqa: PLW1509
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-800:]
    assert _outputs(tmp_path / "stream") == expected


def test_malformed_lines_are_numbered_from_the_start_of_the_file_whatever_the_worker(tmp_path, capsys):
    text = io.StringIO()
    write_jsonl(generate_events(60, 3), text)
    lines = text.getvalue().splitlines()
    bad_at = [5, len(lines) - 3]  # one in each half: the two workers' ranges
    for i in bad_at:
        lines[i] = "{not json"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    captured = _replay(capsys, path, tmp_path / "out", "--workers", "2")
    assert [f"{path}:{i + 1}: not valid JSON" in captured.err for i in bad_at] == [True, True]
    assert "2 malformed entries skipped" in captured.out
    code = main(
        [
            "replay",
            "--config",
            str(CONFIG),
            "--events",
            str(path),
            "--out",
            str(tmp_path / "s"),
            "--strict",
            "--workers",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and f"{path}:{bad_at[0] + 1}: not valid JSON" in err and "--strict" in err
    assert not (tmp_path / "s" / "sla_log.csv").exists()


def test_partial_survives_its_json_form_exactly(events_file):
    config = load_config_file(str(CONFIG))
    with events_file.open(encoding="utf-8") as f:
        events = [parse_event(json.loads(line)) for line in f]
    now = max(e.at for e in events)
    part = fold(config, events, now, ("level",), lambda key, text: None)
    again = Partial.from_dict(json.loads(json.dumps(part.to_dict())))
    assert again.to_dict() == part.to_dict()
    assert part.summary._overdue and part.stats.missed > 0
    buffers = [io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()]
    from slaclock.engine.partial import finish

    finish(part, compliance=buffers[0], summary=buffers[1], title="t", subtitle="s", now=now)
    finish(again, compliance=buffers[2], summary=buffers[3], title="t", subtitle="s", now=now)
    assert buffers[0].getvalue() == buffers[2].getvalue() and buffers[1].getvalue() == buffers[3].getvalue()


def test_streamed_replay_of_declarative_metrics_equals_the_in_memory_replay(
    events_file, tmp_path, capsys, monkeypatch
):
    """Every new built-in and a configured KPI targeted (docs/clocks.md, "Metrics as definitions"): the
    streamed replay, whose spilled events carry no reply facts, writes what the in-memory one does."""
    monkeypatch.setattr(_stream, "PARTITION_BYTES", 20_000)
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    doc["metrics"] = {
        "billing_time": {
            "start": {"field": "department", "becomes": "billing"},
            "stop": {"field": "department", "leaves": "billing"},
            "cycles": True,
        }
    }
    for level in doc["levels"].values():
        for metric in ("periodic_update", "requester_wait", "agent_work", "first_assign", "billing_time"):
            level["targets"][metric] = {"within": "24h"}
    config = tmp_path / "metrics.yaml"
    config.write_text(yaml.safe_dump(doc), encoding="utf-8")
    expected = _in_memory(events_file, tmp_path / "memory", config_path=config)
    log = expected["sla_log.csv"].decode()
    assert all(m in log for m in ("periodic_update", "requester_wait", "agent_work", "first_assign"))
    args = [
        "replay",
        "--config",
        str(config),
        "--events",
        str(events_file),
        "--out",
        str(tmp_path / "stream"),
    ]
    assert main([*args, "--workers", "2", "--group-by", ""]) == 0, capsys.readouterr().err
    assert _outputs(tmp_path / "stream") == expected


@pytest.mark.parametrize("workers", ["1", "2"])
def test_streamed_replay_reads_the_configuration_once(events_file, tmp_path, capsys, monkeypatch, workers):
    """The command's own load of the configuration serves the split and fold workers (forked ones
    inherit it) and actions.csv: the file is loaded once per replay, and the reports are the same."""
    from slaclock.adapters import config_file

    loads = tmp_path / "loads.txt"  # appended to by every process that loads it (forked workers too)
    real = config_file.load_config_file

    def counting(path, *args, **kwargs):
        with loads.open("a", encoding="utf-8") as f:
            f.write(f"{path}\n")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(config_file, "load_config_file", counting)
    _replay(capsys, events_file, tmp_path / "streamed", "--workers", workers)
    assert loads.read_text(encoding="utf-8").splitlines() == [str(CONFIG)]
    assert _outputs(tmp_path / "streamed") == _in_memory(events_file, tmp_path / "memory")


def test_streamed_replay_keeps_each_events_reply_facts(events_file, tmp_path, capsys, monkeypatch):
    """The spilled events keep `reply` (docs/helpdesks.md, "Message facts"): with ``responses: {bots:
    ignore}`` and every other agent reply written by a bot, the streamed replay writes what the
    in-memory one does, and that differs from the replay of the same file that does not ignore bots."""
    monkeypatch.setattr(_stream, "PARTITION_BYTES", 20_000)
    facts = tmp_path / "facts.jsonl"
    with events_file.open(encoding="utf-8") as src, facts.open("w", encoding="utf-8", newline="\n") as dst:
        for n, line in enumerate(src):
            record = json.loads(line)
            if record["type"] == "agent_replied":
                record["reply"] = {"author": "bot" if n % 2 else "agent", "public": True}
            dst.write(json.dumps(record) + "\n")
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    doc["responses"] = {"bots": "ignore"}
    config = tmp_path / "bots.yaml"
    config.write_text(yaml.safe_dump(doc), encoding="utf-8")
    expected = _in_memory(facts, tmp_path / "memory", config_path=config)
    assert expected["sla_log.csv"] != _in_memory(facts, tmp_path / "counting")["sla_log.csv"]
    for workers in ("1", "2"):
        out = tmp_path / f"stream{workers}"
        args = ["replay", "--config", str(config), "--events", str(facts), "--out", str(out)]
        assert main([*args, "--workers", workers, "--group-by", ""]) == 0, capsys.readouterr().err
        assert _outputs(out) == expected


def _lines_by_readline(data, start, end):
    """What the splitter's range was before it read in blocks: `readline` from the first line that
    starts at or after `start` while the line starts before `end`; each line with `tell()` after it."""
    handle = io.BytesIO(data)
    pos = start
    if start > 0:
        handle.seek(start - 1)
        pos = start - 1 + len(handle.readline())
    lines = []
    while pos < end and (line := handle.readline()):
        pos += len(line)
        lines.append((line, pos))
    return lines


_RANGE_FILES = [
    b"",
    b"\n",
    b"a",
    b"a\n",
    b"\n\n\n",
    b'{"a":1}\r\n{"b":2}\r\n',  # CRLF
    b'\xef\xbb\xbf{"a":1}\n{"b":2}',  # BOM, last line without a newline
    b"x\ry\nz\r",  # a lone CR does not end a line
    b"abc\n\ndef\n  \nghi",  # empty and blank lines
    b"1\n22\n333\n4444\n55555\n",
]


def _range_lines(data, start, end):
    """The lines `_read_lines` reads of a `_Range`, each with the position it tells after it."""
    blocks = _io._line_blocks(_stream._Range(io.BytesIO(data), start, end))
    return [
        (line, at + lines.tell()) for at, block in blocks for lines in [io.BytesIO(block)] for line in lines
    ]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 20])
def test_range_read_in_blocks_gives_the_lines_readline_reads(block, monkeypatch):
    """A `_Range` read in blocks of whole lines (`_line_blocks`, iterated at C speed) gives the lines,
    and tells the positions, of a `readline` loop, for every range of every file: ranges starting or
    ending mid-line, on a newline, at the end of the file."""
    import random

    monkeypatch.setattr(_io, "READ_BLOCK", block)
    rnd = random.Random(7)
    files = _RANGE_FILES + [bytes(rnd.choice(b"ab\n\r") for _ in range(rnd.randrange(30))) for _ in range(40)]
    for data in files:
        for start in range(len(data) + 1):
            for end in range(start, len(data) + 1):
                expected = _lines_by_readline(data, start, end)
                assert _range_lines(data, start, end) == expected, (data, start, end)
        cuts = sorted(rnd.sample(range(len(data) + 1), min(3, len(data) + 1)))
        tiles = [0, *cuts, len(data)]
        pieces = [
            line for a, b in zip(tiles, tiles[1:], strict=False) for line, _ in _range_lines(data, a, b)
        ]
        assert b"".join(pieces) == data  # ranges that tile the file read each line once


def test_split_then_read_partition_gives_back_the_parsed_events(tmp_path):
    """What a splitting worker spills, `read_partition` rebuilds as the very events parsed: every
    field equal, `at` in UTC to the microsecond from the first instant to the last (the instant is
    spilled as the datetime's pickle state)."""
    instants = [
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T00:00:00Z",
        "2026-03-29T01:30:00.5+02:00",
        "2026-10-25T02:30:00.000001-07:00",
        "9999-12-31T23:59:59.999999Z",
    ]
    docs = [
        {"id": f"e{n}", "ticket_id": str(n % 4), "type": "updated", "at": at, "ticket": {"status": "open"}}
        for n, at in enumerate(instants * 3)
    ]
    docs[1]["reply"] = {"author": "bot", "public": True}
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    size = path.stat().st_size
    spill = tmp_path / "spill"
    spill.mkdir()
    done = _stream._split((str(path), 0, size, 0, 3, str(spill), False, None))
    events = [e for p in range(3) for e in _stream.read_partition(_stream.partition_files(str(spill), p, 1))]
    expected = {e.id: e for e in map(parse_event, docs)}
    assert sorted(events, key=lambda e: int(e.id[1:])) == list(expected.values())
    assert all(e.at.tzinfo is expected[e.id].at.tzinfo for e in events)
    assert done.latest == max(e.at for e in expected.values()) and done.events == len(docs)
    assert not list(spill.iterdir())  # read, then removed
