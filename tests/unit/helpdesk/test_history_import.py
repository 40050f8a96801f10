"""`slaclock import` on the documented export fixtures (tests/fixtures/exports/), then `slaclock replay` on
its output: the events and the SLA outcomes are checked against figures worked out by hand.

Calendar: Paris, Monday to Friday 09:00-17:00 (UTC+1 in January). Level: first response within 2 h,
resolution within 8 h paused while pending.
"""

import csv
import json
import pathlib

import pytest
from slaclock.cli import main
from slaclock.engine.config import Source
from slaclock.helpdesk import provider_for

EXPORTS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "exports"
ZENDESK = EXPORTS / "zendesk-ticket-audits.json"
ZENDESK_PAGES = EXPORTS / "zendesk-ticket-audits-pages.jsonl"
JIRA = EXPORTS / "jira-issues-changelog.json"
HELPSCOUT = EXPORTS / "helpscout-conversations-threads.json"

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
sources:
  zendesk-main:
    provider: zendesk
    secret: {ssm_parameter: /slaclock/zendesk-main}
    options: {groups: {"360001": billing, "360002": support}}
  jira-itsm:
    provider: jira
    secret: {ssm_parameter: /slaclock/jira-itsm}
    ticket_prefix: jira-
    options: {status_map: {"Waiting for support": open}}
  helpscout-billing:
    provider: helpscout
    secret: {ssm_parameter: /slaclock/helpscout-billing}
    ticket_prefix: hs-
    options: {mailboxes: {"77": billing}}
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _import(capsys, *argv):
    code = main(["import", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _replay(capsys, config, events, out):
    assert main(["replay", "--config", str(config), "--events", str(events), "--out", str(out)]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader((out / "sla_log.csv").open(encoding="utf-8", newline="")))
    return {(r["ticket_id"], r["metric"]): r for r in rows}


def test_zendesk_audits_become_the_webhooks_events(config, tmp_path, capsys):
    out = tmp_path / "events.jsonl"
    code, stdout, stderr = _import(capsys, "zendesk", ZENDESK, "--config", config, "--out", out)
    assert code == 0 and stdout == ""
    events = _lines(out)
    assert [(e["id"], e["ticket_id"], e["type"], e["at"]) for e in events] == [
        ("zendesk:audit:5001:1", "101", "created", "2026-01-05T08:00:00Z"),
        ("zendesk:audit:5002:1", "101", "agent_replied", "2026-01-05T09:30:00Z"),
        ("zendesk:audit:5002:2", "101", "updated", "2026-01-05T09:30:00Z"),
        ("zendesk:audit:5003:1", "101", "customer_replied", "2026-01-05T12:00:00Z"),
        ("zendesk:audit:5003:2", "101", "updated", "2026-01-05T12:00:00Z"),
        ("zendesk:audit:5004:1", "101", "updated", "2026-01-05T15:00:00Z"),  # the internal note
        ("zendesk:audit:5004:2", "101", "solved", "2026-01-05T15:00:00Z"),
    ]  # fmt: skip
    created = events[0]["ticket"]
    # group 360001 -> billing through the source's options.groups, as the webhook maps it
    assert created["status"] == "new" and created["priority"] == "normal" and created["channel"] == "web"
    assert created["department"] == "billing" and created["tags"] == ["billing"]
    assert created["custom"] == {"zendesk_requester_id": "9001"}
    assert events[2]["ticket"]["status"] == "pending"
    assert events[2]["ticket"]["custom"] == {"zendesk_assignee_id": "7001"}
    assert events[4]["ticket"]["status"] == "open"
    # the audit without created_at is reported with file and position, and skipped
    assert f"skipped {ZENDESK}: audits[4]: not a ticket audit: created_at required" in stderr
    assert "Imported 7 events for 1 ticket from 5 zendesk records, 1 malformed skipped" in stderr


def test_an_audit_and_the_live_webhook_for_it_give_the_same_ticket_fields(config, tmp_path, capsys):
    out = tmp_path / "events.jsonl"
    _import(capsys, "zendesk", ZENDESK, "--config", config, "--out", out)
    solved = _lines(out)[-1]
    live = {  # ticket.status_changed as documented at
        # https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
        "type": "zen:event-type:ticket.status_changed", "id": "x", "time": "2026-01-05T15:00:00Z",
        "subject": "zen:ticket:101", "detail": {"id": "101", "status": "SOLVED"},
        "event": {"current": "SOLVED", "previous": "OPEN"},
    }  # fmt: skip
    source = Source(name="zendesk-main", provider="zendesk", options={"groups": {"360001": "billing"}})
    [webhook] = provider_for("zendesk").parse({}, json.dumps(live).encode(), source)
    assert solved["type"] == webhook.type.value and solved["ticket"] == dict(webhook.ticket)


def test_sideloaded_user_roles_decide_who_replied(tmp_path, capsys):
    out = tmp_path / "events.jsonl"
    code, _, _ = _import(capsys, "zendesk", ZENDESK_PAGES, "--out", out)
    assert code == 0
    # 7002 is an agent; 9004 is an end-user CC'd on the ticket (not its requester): a customer
    assert [(e["id"], e["type"]) for e in _lines(out)] == [
        ("zendesk:audit:5101:1", "created"),
        ("zendesk:audit:5102:1", "agent_replied"),
        ("zendesk:audit:5103:1", "customer_replied"),
        ("zendesk:audit:5103:2", "updated"),
    ]
    assert _lines(out)[-1]["ticket"]["priority"] == "high"


def test_zendesk_history_replays_to_the_hand_computed_outcomes(config, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    code, _, stderr = _import(
        capsys,
        "zendesk",
        ZENDESK,
        ZENDESK_PAGES,
        "--config",
        config,
        "--source",
        "zendesk-main",
        "--out",
        events,
    )
    assert code == 0
    # line 4 is cut after `"events": [` (92 characters): the value is expected at its end, column 93
    assert f"skipped {ZENDESK_PAGES}: line 4: not valid JSON (Expecting value at column 93)" in stderr
    log = _replay(capsys, config, events, tmp_path / "out")
    # 101: created Mon 09:00 Paris, first agent reply 10:30 -> 1 h 30 of 2 h: met.
    fr = log[("101", "first_response")]
    assert (fr["status"], fr["stopped_at"], fr["business_seconds"]) == ("met", "2026-01-05T09:30:00Z", "5400")
    # resolution: 09:00-10:30 running (1 h 30), pending 10:30-13:00 paused, 13:00-16:00 running (3 h):
    # 4 h 30 of 8 h when solved at 16:00: met.
    res = log[("101", "resolution")]
    assert (res["status"], res["stopped_at"], res["business_seconds"]) == (
        "met",
        "2026-01-05T15:00:00Z",
        "16200",
    )
    # 102: created Mon 16:30 Paris; 2 h of business time end Tue 10:30 (30 min Monday + 1 h 30
    # Tuesday); the agent (role from the sideloaded users) replied Tue 11:00: missed by 30 min.
    fr = log[("102", "first_response")]
    assert (fr["status"], fr["due_at"], fr["stopped_at"]) == (
        "missed",
        "2026-01-06T09:30:00Z",
        "2026-01-06T10:00:00Z",
    )
    assert log[("102", "resolution")]["status"] == "open"


def test_jira_changelog_and_comments_replay_like_the_same_story_in_zendesk(config, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    code, _, stderr = _import(capsys, "jira", JIRA, "--config", config, "--out", events)
    assert code == 0
    got = _lines(events)
    # the webhook's own ids, so a history imported after live webhooks adds no duplicate
    assert [(e["id"], e["ticket_id"], e["type"], e["at"]) for e in got] == [
        ("jira:10042:created", "jira-SUP-1", "created", "2026-01-05T08:00:00Z"),
        ("jira:10042:changelog:30001", "jira-SUP-1", "updated", "2026-01-05T09:30:00Z"),
        ("jira:10042:changelog:30002", "jira-SUP-1", "updated", "2026-01-05T12:00:00Z"),
        ("jira:10042:changelog:30003", "jira-SUP-1", "solved", "2026-01-05T15:00:00Z"),
        ("jira:10042:comment:20001", "jira-SUP-1", "agent_replied", "2026-01-05T09:30:00Z"),
        ("jira:10042:comment:20002", "jira-SUP-1", "customer_replied", "2026-01-05T11:59:00Z"),
        ("jira:10042:comment:20003", "jira-SUP-1", "updated", "2026-01-05T14:59:00Z"),
    ]  # fmt: skip
    # the state at each moment is rebuilt from the changelog: open (mapped by options.status_map)
    # at creation, pending after the first transition, solved at the end
    assert [e["ticket"]["status"] for e in got[:4]] == ["open", "pending", "open", "solved"]
    assert got[0]["ticket"]["requester"] == "ann@client.test" and got[0]["ticket"]["department"] == "Billing"
    assert f"skipped {JIRA}: issues[1]: fields.created: None is not an ISO 8601 instant" in stderr
    log = _replay(capsys, config, events, tmp_path / "out")
    assert (log[("jira-SUP-1", "first_response")]["status"], log[("jira-SUP-1", "resolution")]["status"]) == (
        "met",
        "met",
    )
    res = log[("jira-SUP-1", "resolution")]
    assert (res["stopped_at"], res["business_seconds"]) == ("2026-01-05T15:00:00Z", "16200")  # 4 h 30


def test_helpscout_threads_replay_like_the_same_story(config, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    code, _, stderr = _import(capsys, "helpscout", HELPSCOUT, "--config", config, "--out", events)
    assert code == 0
    got = _lines(events)
    # threads arrive newest first; the first (customer) thread opened the conversation; the note adds
    # nothing; reply ids are the webhook's own
    ids = [e["id"].rsplit(":", 1)[0] if "convo.status" in e["id"] else e["id"] for e in got]
    assert [(i, e["type"], e["at"]) for i, e in zip(ids, got, strict=True)] == [
        ("helpscout:501:created", "created", "2026-01-05T08:00:00Z"),
        ("helpscout:501:thread:9002", "agent_replied", "2026-01-05T09:30:00Z"),
        ("helpscout:501:convo.status", "updated", "2026-01-05T09:30:00Z"),
        ("helpscout:501:thread:9003", "customer_replied", "2026-01-05T12:00:00Z"),
        ("helpscout:501:convo.status", "reopened", "2026-01-05T12:00:00Z"),
        ("helpscout:501:thread:9004", "agent_replied", "2026-01-05T15:00:00Z"),
        ("helpscout:501:convo.status", "solved", "2026-01-05T15:00:00Z"),
    ]  # fmt: skip
    assert {e["ticket_id"] for e in got} == {"hs-501"}
    assert [e["ticket"]["status"] for e in got] == [
        "open",
        "pending",
        "pending",
        "open",
        "open",
        "solved",
        "solved",
    ]
    assert got[0]["ticket"]["department"] == "billing"  # options.mailboxes, as for the webhook
    assert "_embedded.conversations[1]: _embedded.threads: required" in stderr
    log = _replay(capsys, config, events, tmp_path / "out")
    fr, res = log[("hs-501", "first_response")], log[("hs-501", "resolution")]
    assert (fr["status"], fr["business_seconds"]) == ("met", "5400")
    assert (res["status"], res["stopped_at"], res["business_seconds"]) == (
        "met",
        "2026-01-05T15:00:00Z",
        "16200",
    )


def test_strict_stops_at_the_first_malformed_record_and_writes_nothing(config, tmp_path, capsys):
    out = tmp_path / "events.jsonl"
    code, _, stderr = _import(capsys, "zendesk", ZENDESK, "--config", config, "--out", out, "--strict")
    assert code == 1
    assert f"{ZENDESK}: audits[4]: not a ticket audit" in stderr and "--strict" in stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_stdout_is_the_default_output(capsys):
    code, stdout, _ = _import(capsys, "zendesk", ZENDESK, "--quiet")
    assert code == 0
    assert [json.loads(line)["type"] for line in stdout.splitlines()][:2] == ["created", "agent_replied"]
    # without --config the provider's defaults: the group stays an id
    assert json.loads(stdout.splitlines()[0])["ticket"]["custom"]["zendesk_group_id"] == "360001"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["liveagent", str(ZENDESK)],
            2,
            "cannot import 'liveagent' history (importable: zendesk, jira, helpscout, freshdesk, intercom)",
        ),
        (["zendesk", "missing.json"], 1, "cannot read"),
        (["zendesk", str(ZENDESK), "--config", "CONFIG", "--source", "nope"], 1, "defines no source 'nope'"),
        (["zendesk", str(ZENDESK), "--config", "CONFIG", "--source", "jira-itsm"], 1, "is a jira source"),
        (["zendesk", str(ZENDESK), "--source", "zendesk-main"], 1, "--source needs --config"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(config, tmp_path, capsys, argv, code, message):
    argv = [
        str(config) if a == "CONFIG" else str(tmp_path / a) if a.startswith("missing") else a for a in argv
    ]
    got, _, stderr = _import(capsys, *argv)
    assert got == code
    assert message in stderr and "Traceback" not in stderr


def test_a_file_that_is_not_json_is_reported_and_skipped(tmp_path, capsys):
    bad = tmp_path / "audits.json"
    bad.write_text('{"audits": [\n  {"id": 1,\n', encoding="utf-8")
    code, stdout, stderr = _import(capsys, "zendesk", bad, ZENDESK)
    assert code == 0
    assert f"skipped {bad}: not valid JSON" in stderr
    assert len(stdout.splitlines()) == 7  # the good file is still imported


@pytest.mark.parametrize(
    ("provider", "page", "message"),
    [
        ("zendesk", {"audits": ["not an audit"]}, "audits[0]: an audit must be a JSON object, not str"),
        ("zendesk", {"audits": [{"id": 1, "ticket_id": 2, "created_at": "2026-01-05T08:00:00Z"}]},
         "audits[0]: events: required, a list"),
        ("zendesk", {"audits": [{"id": 1, "ticket_id": 2, "created_at": "yesterday",
                                 "events": [{"type": "Create", "field_name": "status", "value": "new"}]}]},
         "audits[0]: time: 'yesterday' is not an ISO 8601 instant"),
        ("jira", {"issues": [{"id": "1", "key": "SUP-1", "fields": {"created": "2026-01-05T08:00:00Z"},
                              "changelog": {"histories": [{"id": "9", "created": "soon", "items": []}]}}]},
         "issues[0]: changelog history '9': id and an ISO 8601 'created' required"),
        ("jira", {"issues": [{"id": "1", "key": "SUP-1", "fields": {"created": "2026-01-05T08:00:00Z",
                                                                   "comment": {"comments": [{"id": "5"}]}}}]},
         "issues[0]: comment '5': an ISO 8601 'created' required"),
        ("jira", {"issues": [{"key": "SUP-1", "fields": {}}]}, "issues[0]: not a Jira issue"),
    ],
)  # fmt: skip
def test_malformed_records_are_named_and_skipped_while_good_ones_are_kept(
    tmp_path, capsys, provider, page, message
):
    good = ZENDESK if provider == "zendesk" else JIRA
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(page) + "\n", encoding="utf-8")
    code, stdout, stderr = _import(capsys, provider, bad, good)
    assert code == 0
    assert f"skipped {bad}: line 1 {message}" in stderr and "Traceback" not in stderr
    assert len(stdout.splitlines()) == 7  # the good file's events, nothing from the bad record


def test_a_record_a_live_webhook_would_refuse_is_skipped_with_the_webhooks_words(config, tmp_path, capsys):
    """The checks of a live delivery (`services.ingest.event_problems`) judge each imported record:
    an audit whose subject holds a lone UTF-16 surrogate (valid JSON, not Unicode text: the webhook
    answers 400), or one dated 30 days after today (no clock reads it yet: more than a day ahead), is
    not imported; the other audits of the page are. The page is the documented fixture's."""
    from datetime import UTC, datetime, timedelta

    page = json.loads(ZENDESK.read_text(encoding="utf-8"))
    first = page["audits"][0]
    surrogate = json.loads(json.dumps(first))
    surrogate["ticket_id"] = 777
    next(e for e in surrogate["events"] if e.get("field_name") == "subject")["value"] = "Invoice \ud800"
    ahead = json.loads(json.dumps(first))
    ahead["ticket_id"] = 778
    future = datetime.now(UTC) + timedelta(days=30)
    ahead["created_at"] = future.strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = tmp_path / "page.json"
    bad.write_text(json.dumps({"audits": [surrogate, ahead]}), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    argv = ["zendesk", bad, ZENDESK, "--config", config, "--source", "zendesk-main", "--out", events]
    code, _, stderr = _import(capsys, *argv)
    assert code == 0
    assert (
        f"skipped {bad}: line 1 audits[0]: ticket.subject: holds a lone UTF-16 surrogate: not Unicode text"
        in stderr
    )
    assert f"skipped {bad}: line 1 audits[1]: at: {ahead['created_at']} is more than 24 h after" in stderr
    imported = {e["ticket_id"] for e in _lines(events)}
    assert imported and not imported & {"777", "778"}  # the fixture's tickets only
    code, _, stderr = _import(capsys, *argv, "--strict")
    assert code == 1 and "(--strict: stopping)" in stderr
