"""Command-line conventions (issue 17.4) and `slaclock ticket ID`.

- ``--version``; help text on every option of every subcommand (the parser tree is walked); the same
  name, ``--config FILE``, wherever a configuration file is read; errors name the flag as typed.
- ``slaclock ticket``: from a replay of an events file (a file or ``-``) and from the admin API over a
  loopback HTTP server that checks the request is signed with SigV4 (the ``Authorization`` header of
  AWS Signature Version 4: ``AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/execute-api/aws4_request,
  SignedHeaders=..., Signature=<64 hex>``, with ``X-Amz-Date``), as API Gateway expects
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-request.html).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from slaclock import __version__, cli
from slaclock.adapters.config_file import load_config_file
from slaclock.commands._io import eta_text
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy
from slaclock.engine.timeline import build_timeline

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "examples" / "sla.yaml"
EVENTS = ROOT / "examples" / "events.jsonl"
TICKET = "10184"  # 13 events: replies, pending and on_hold pauses, a solve, a reopening


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _subparsers(child)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"slaclock {__version__}\n"


def test_every_option_of_every_subcommand_has_help():
    missing = [
        f"{prog} {'/'.join(action.option_strings) or action.dest}"
        for prog, parser in _subparsers(cli._parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and not (action.help and action.help.strip())
    ]
    assert missing == []
    assert len(list(_subparsers(cli._parser()))) >= 10


def test_a_configuration_file_is_always_config():
    for prog, parser in _subparsers(cli._parser()):
        for action in parser._actions:
            if action.dest == "config":
                assert action.option_strings[0] == "--config", prog
                assert action.metavar == "FILE", prog
    args = cli._parser().parse_args(["config", "push", "--file", "sla.yaml"])  # the former name still works
    assert args.config == "sla.yaml"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--group-by", "level,level"], "argument --group-by: 'level' given twice"),
        (
            ["--group-by", "team"],
            "argument --group-by: 'team' is not one of department, agent, level, metric",
        ),
        (["--sort", "due,-due"], "argument --sort: 'due' given twice"),
        (["--sort=-size"], "argument --sort: '-size' is not one of requester"),
    ],
)
def test_errors_name_the_flag(capsys, tmp_path, argv, message):
    base = ["replay", "--config", str(CONFIG), "--events", str(EVENTS), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_:
        cli.main([*base, *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "group_by[" not in err and "sort[" not in err
    assert not (tmp_path / "o").exists()


def test_sort_help_says_which_way_overdue_sorts():
    replay = dict(_subparsers(cli._parser()))["slaclock replay"]
    sort = next(a for a in replay._actions if a.dest == "sort")
    assert "-overdue puts the most overdue first" in sort.help


def test_the_eta_is_the_time_left_at_the_pace_so_far():
    started: dict[str, float] = {}
    assert eta_text("reading", 0.0, started, now=100.0) == ""  # first draw: the pace is unknown
    assert eta_text("reading", 0.25, started, now=130.0) == " ETA 1:30"  # 30 s for 25 %: 90 s left
    assert eta_text("reading", 0.001, started, now=200.0) == ""
    assert eta_text("replaying", 0.5, started, now=100.0) == ""  # each stage has its own pace
    assert eta_text("replaying", 0.5, started, now=4000.0) == " ETA 1:05:00"


# -- slaclock ticket --------------------------------------------------------------------------------


def _expected(now: datetime | None = None) -> dict:
    config = load_config_file(CONFIG)
    events = [parse_event(json.loads(line)) for line in EVENTS.read_text().splitlines() if TICKET in line]
    events = [e for e in events if e.ticket_id == TICKET]
    return build_timeline(compile_policy(config), events, now or max(e.at for e in events))


def test_ticket_json_from_an_events_file_is_the_timeline_document(capsys):
    assert cli.main(["ticket", TICKET, "--config", str(CONFIG), "--events", str(EVENTS), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == _expected()


def test_ticket_text_from_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(EVENTS.read_bytes())))
    now = "2026-01-19T12:00:00Z"
    assert cli.main(["ticket", TICKET, "--config", str(CONFIG), "--events", "-", "--now", now]) == 0
    text = capsys.readouterr().out
    doc = _expected(datetime(2026, 1, 19, 12, tzinfo=UTC))
    assert text.startswith(f"Ticket {TICKET} as of 2026-01-19 12:00Z\n")
    assert text.count("\n  20") == len(doc["events"]) + len(doc["decisions"]) + len(doc["notices"])
    res = doc["clocks"][-1]
    assert res["intervals"][-1]["kind"] == "paused" and res["intervals"][-1]["end"] is None
    assert "    paused   2026-01-18 23:47:56Z -> now" in text
    assert "rule 'Asia-Pacific'" in text


def test_ticket_out_file_and_unknown_ticket(capsys, tmp_path):
    out = tmp_path / "t.json"
    argv = ["ticket", TICKET, "--config", str(CONFIG), "--events", str(EVENTS), "--json", "--out", str(out)]
    assert cli.main(argv) == 0
    assert json.loads(out.read_text()) == _expected()
    assert cli.main(["ticket", "nope", "--config", str(CONFIG), "--events", str(EVENTS)]) == 1
    assert "ticket 'nope' has no event in --events" in capsys.readouterr().err
    assert cli.main(["ticket", TICKET, "--events", str(EVENTS)]) == 2
    assert "--config and --events" in capsys.readouterr().err


def test_ctrl_c_while_writing_the_ticket_leaves_no_file(capsys, tmp_path, monkeypatch):
    out = tmp_path / "t.txt"

    def interrupted(self, text, encoding=None):
        with open(self, "w", encoding=encoding) as f:
            f.write(text[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    argv = ["ticket", TICKET, "--config", str(CONFIG), "--events", str(EVENTS), "--out", str(out)]
    assert cli.main(argv) == 130
    assert list(tmp_path.iterdir()) == []
    assert "interrupted" in capsys.readouterr().err


SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=AKIDTEST/(\d{8})/eu-west-3/execute-api/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$"
)


@pytest.fixture
def api(monkeypatch):
    """A loopback server for ``GET /admin/tickets/{id}/timeline`` that refuses (403) a request without
    a well-formed SigV4 Authorization header, as API Gateway's IAM authorization does."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    seen: list[dict[str, str]] = []
    doc = _expected()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen.append({"path": self.path, **headers})
            match = SIGV4.match(headers.get("authorization", ""))
            if not match or "x-amz-date" not in headers or "host" not in match.group(2).split(";"):
                return self._send(403, {"message": "Missing Authentication Token"})
            if self.path != f"/prod/admin/tickets/{TICKET}/timeline":
                return self._send(404, {"message": "Not Found"})
            return self._send(200, doc)

        def _send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/prod", seen, doc
    server.shutdown()
    server.server_close()


def test_ticket_from_the_api_is_signed_with_sigv4(capsys, api):
    url, seen, doc = api
    assert cli.main(["ticket", TICKET, "--api", url + "/", "--region", "eu-west-3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == doc
    assert len(seen) == 1 and SIGV4.match(seen[0]["authorization"])
    assert cli.main(["ticket", TICKET, "--api", url, "--region", "eu-west-3"]) == 0
    assert capsys.readouterr().out.startswith(f"Ticket {TICKET} as of ")


def test_ticket_from_the_api_reports_a_refusal(capsys, api):
    url, _, _ = api
    assert cli.main(["ticket", "other", "--api", url, "--region", "eu-west-3"]) == 1
    assert "answered 404: Not Found" in capsys.readouterr().err
    assert cli.main(["ticket", TICKET, "--api", url]) == 1  # no Region anywhere
    assert "--region" in capsys.readouterr().err
    assert cli.main(["ticket", TICKET, "--api", "ftp://x"]) == 2
    assert cli.main(["ticket", TICKET, "--api", url, "--events", str(EVENTS)]) == 2


def test_the_readme_shows_what_slaclock_ticket_prints(capsys):
    readme = (ROOT / "README.md").read_text()
    command = "$ slaclock ticket 10184 --config examples/sla.yaml --events examples/events.jsonl --now "
    block = readme[readme.index(command) :]
    block = block[: block.index("```")]
    first, _, shown = block.partition("\n")
    argv = first.removeprefix("$ slaclock ").split()
    argv = [str(ROOT / a) if a.startswith("examples/") else a for a in argv]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == shown


def test_a_configuration_from_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(CONFIG.read_text()))
    assert cli.main(["validate", "--config", "-"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
    monkeypatch.setattr("sys.stdin", io.StringIO("calendars: {}\n"))
    assert cli.main(["validate", "--config", "-"]) == 1
    assert "calendars: at least one calendar is needed" in capsys.readouterr().err


def test_the_progress_bar_shows_its_eta_on_a_terminal_only():
    import time

    from slaclock.commands._io import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    bar = Progress(tty, enabled=tty.isatty())
    bar._started["reading"] = time.monotonic() - 10  # the stage began 10 s ago
    bar.show("reading", 50, 100, "5,000 lines")
    assert "50% 5,000 lines ETA 0:1" in tty.getvalue()  # 10 s more at that pace (0:10 or 0:11)
    plain = io.StringIO()
    Progress(plain, enabled=plain.isatty()).show("reading", 50, 100)
    assert plain.getvalue() == ""


def test_ticket_text_lists_the_actions_the_engine_owes_and_what_the_ledger_holds(capsys, tmp_path):
    """``Actions``: one line per owed action (instant, kind, metric, step and place, target), the same
    rows as the document's; from the API each line also says its ledger status and attempts."""
    import yaml
    from slaclock.commands.ticket import render_text

    from tests.fakes.world import T0, World, minutes
    from tests.unit.engine.test_replay_actions import doc, events

    config = tmp_path / "sla.yaml"
    config.write_text(yaml.safe_dump(doc()), encoding="utf-8")
    evs = tmp_path / "events.json"
    evs.write_text(json.dumps([e.to_dict() for e in events(World(doc()))]), encoding="utf-8")
    now = (T0 + minutes(120)).isoformat()
    argv = ["ticket", "1", "--config", str(config), "--events", str(evs), "--now", now]
    assert cli.main([*argv, "--json"]) == 0
    timeline = json.loads(capsys.readouterr().out)
    assert len(timeline["actions"]) == 3
    assert cli.main(argv) == 0
    section = capsys.readouterr().out.split("\nActions\n", 1)[1].splitlines()
    assert section == [
        "  2026-11-20 10:36Z  unassign    first_response  (escalation-1 #1) -> zd",
        "  2026-11-20 11:00Z  slack       first_response  (breach #1) -> slaclock/test/slack",
        "  2026-11-20 11:00Z  add_tags    first_response  (breach #2) -> zd",
    ]
    merged = [
        {**timeline["actions"][0], "status": "dead_lettered", "attempts": 3},
        {**timeline["actions"][1], "status": "owed", "attempts": 0},
    ]
    text = render_text({**timeline, "actions": merged})
    assert "(escalation-1 #1, dead_lettered, 3 attempts) -> zd" in text
    assert "(breach #1, owed) -> slaclock/test/slack" in text
