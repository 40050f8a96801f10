"""`slaclock replay`'s optional SLA log columns (--time-zone, --durations human, --subject,
--ticket-links) and `--out -`: kept out by default (today's thirteen columns byte for byte), appended
after them when asked, every value checked against the UTC columns it restates."""

import csv
import io
import json
import pathlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from slaclock.cli import main
from slaclock.engine.reports import SLA_LOG_COLUMNS, human_business_time

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONFIG = (
    (ROOT / "tests" / "fixtures" / "config" / "paris-office.yaml").read_text(encoding="utf-8")
    + """\
sources:
  zd: {provider: zendesk, secret: {ssm_parameter: /slaclock/s/zd},
       ticket_url: "https://acme.zendesk.com/agent/tickets/{ticket_number}"}
  hs: {provider: helpscout, secret: {ssm_parameter: /slaclock/s/hs}, ticket_prefix: hs-}
"""
)

EVENTS = [
    {"id": "a1", "ticket_id": "1", "type": "created", "at": "2026-03-27T08:00:00Z",
     "ticket": {"status": "open", "requester": "ann@client.test", "subject": "Invoice, \"March\"",
                "assignee": "eva@x.test"}},
    {"id": "a2", "ticket_id": "1", "type": "agent_replied", "at": "2026-03-30T09:30:00Z"},
    {"id": "b1", "ticket_id": "hs-2", "type": "created", "at": "2026-03-29T08:00:00Z",
     "ticket": {"status": "open", "subject": "=HYPERLINK(\"http://evil.test\")"}},
]  # fmt: skip
EXTRA = ("started_at_local", "due_at_local", "stopped_at_local", "business_time", "remaining_time",
         "subject", "ticket_url")  # fmt: skip
ALL = ["--time-zone", "America/New_York", "--durations", "human", "--subject", "--ticket-links"]


@pytest.fixture
def files(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return config, events, tmp_path


def _replay(files, name, *extra):
    config, events, tmp = files
    out = tmp / name
    argv = ["replay", "--config", str(config), "--events", str(events), "--out", str(out), "--quiet"]
    assert main([*argv, "--now", "2026-04-01T12:00:00Z", *extra]) == 0
    return out / "sla_log.csv"


def test_default_columns_are_unchanged_and_options_only_append(files):
    plain = _replay(files, "plain").read_bytes()
    rich = _replay(files, "rich", *ALL).read_bytes()
    assert plain.split(b"\r\n")[0].decode() == ",".join(SLA_LOG_COLUMNS)
    plain_rows = list(csv.reader(io.StringIO(plain.decode(), newline="")))
    rich_rows = list(csv.reader(io.StringIO(rich.decode(), newline="")))
    assert rich_rows[0] == [*SLA_LOG_COLUMNS, *EXTRA]
    assert [r[: len(SLA_LOG_COLUMNS)] for r in rich_rows] == plain_rows  # the thirteen, cell for cell
    assert (files[2] / "rich" / "compliance.csv").read_bytes() == (
        files[2] / "plain" / "compliance.csv"
    ).read_bytes()


def test_local_columns_restate_the_utc_instants_in_the_zone(files):
    rows = list(csv.DictReader(_replay(files, "tz", "--time-zone", "Europe/Paris").open(newline="")))
    assert rows
    for row in rows:
        for name in ("started_at", "due_at", "stopped_at"):
            utc, local = row[name], row[f"{name}_local"]
            if not utc:
                assert local == ""
                continue
            instant = datetime.fromisoformat(utc.replace("Z", "+00:00"))
            assert datetime.fromisoformat(local) == instant
            assert (
                datetime.fromisoformat(local).utcoffset()
                == instant.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
            )
    # 27 March 2026 is CET (+01:00); from 29 March Paris is on summer time (+02:00)
    assert rows[0]["started_at_local"] == "2026-03-27T09:00:00+01:00"
    assert any(r["due_at_local"].endswith("+02:00") for r in rows)


def test_human_durations_restate_the_business_seconds(files):
    rows = list(csv.DictReader(_replay(files, "human", "--durations", "human").open(newline="")))
    pattern = re.compile(r"^(-?)(?:(\d+)h (\d\d)m (\d\d)s|(\d+)m (\d\d)s|(\d+)s)$")
    for row in rows:
        for seconds, shown in (
            (row["business_seconds"], row["business_time"]),
            (row["remaining_seconds"], row["remaining_time"]),
        ):
            m = pattern.match(shown)
            assert m, shown
            h, mi, s = (int(m[2] or 0), int(m[3] or m[5] or 0), int(m[4] or m[6] or m[7] or 0))
            total = h * 3600 + mi * 60 + s
            assert total == int(abs(float(seconds))) and (m[1] == "-") == (float(seconds) <= -1)
    assert any("h " in r["business_time"] for r in rows)  # over an hour: hours, never days
    assert human_business_time(-3905.9) == "-1h 05m 05s" and human_business_time(200 * 3600) == "200h 00m 00s"


def test_subject_and_ticket_link_columns(files):
    rows = list(csv.DictReader(_replay(files, "links", "--subject", "--ticket-links").open(newline="")))
    first = [r for r in rows if r["ticket_id"] == "1"]
    other = [r for r in rows if r["ticket_id"] == "hs-2"]
    assert first and other
    assert {r["subject"] for r in first} == {'Invoice, "March"'}
    assert {r["ticket_url"] for r in first} == {"https://acme.zendesk.com/agent/tickets/1"}
    assert {r["subject"] for r in other} == {'\'=HYPERLINK("http://evil.test")'}  # no formula
    assert {r["ticket_url"] for r in other} == {""}  # Help Scout's source has no template


def test_out_dash_writes_the_sla_log_to_stdout_byte_for_byte(files, capfdbinary):
    config, events, _ = files
    expected = _replay(files, "file", *ALL).read_bytes()
    capfdbinary.readouterr()
    argv = [
        "replay",
        "--config",
        str(config),
        "--events",
        str(events),
        "--out",
        "-",
        "--now",
        "2026-04-01T12:00:00Z",
    ]
    assert main([*argv, *ALL]) == 0
    captured = capfdbinary.readouterr()
    assert captured.out == expected
    assert b"Wrote the SLA log to standard output" in captured.err


def test_an_unknown_time_zone_names_the_flag(files, capsys):
    config, events, tmp = files
    argv = ["replay", "--config", str(config), "--events", str(events), "--out", str(tmp / "x")]
    assert main([*argv, "--time-zone", "Mars/Olympus"]) == 2
    assert "--time-zone: unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert not (tmp / "x").exists()


def test_utc_shows_the_page_instants_in_utc(files):
    local = (_replay(files, "local").parent / "summary.html").read_text(encoding="utf-8")
    utc = (_replay(files, "utc", "--utc").parent / "summary.html").read_text(encoding="utf-8")
    due = re.search(r'data-ticket="hs-2" data-metric="first_response" [^>]*data-due_at="([^"]+)"', utc)
    assert due  # the missed first response of hs-2, due at this instant (UTC, as the CSV writes it)
    instant = datetime.fromisoformat(due[1].replace("Z", "+00:00"))
    paris = instant.astimezone(ZoneInfo("Europe/Paris"))
    assert f"<td class=t>{instant:%Y-%m-%d %H:%M} UTC</td>" in utc and "Due (UTC)" in utc
    assert f"<td class=t>{paris:%Y-%m-%d %H:%M} {paris.tzname()}</td>" in local
    assert "Due (level&#x27;s time zone)" in local or "Due (level's time zone)" in local
