"""End to end on the local embedded stack: helpdesk webhooks in over HTTP (each in its own format,
signed as it signs), the virtual clock fast-forwarded through a working week with a public holiday,
warning / breach / escalation e-mails and the escalation webhook out, report links that download.

The week is examples/webhooks/story.yaml (the demo's): Monday 9 to Friday 13 November 2026, with
Wednesday 11 November a public holiday of the Paris office.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from slaclock.helpdesk import signing
from slaclock_local.demo import STORY, Step, load_story
from slaclock_local.stack import LocalStack

pytestmark = [
    pytest.mark.e2e,
    # Powertools warns when an invocation (a sweep, a report firing) records no metric: the function's
    # own output, which the local stack writes to its function log; pytest records warnings separately.
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

STORY_DOC = load_story(STORY)
EXAMPLES = STORY.parent
PROVIDERS = {"zendesk", "freshdesk", "liveagent", "intercom", "jira", "helpscout", "generic"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def week(stack: LocalStack, http: Any) -> list[tuple[Step, int, Any]]:
    """The story played over HTTP: fast-forward to each step's instant, POST its webhook; then the
    clock runs to the end of the week. Returns (step, status, JSON answer) per step."""
    played = []
    for step in STORY_DOC.steps:
        http.fast_forward(step.at)
        body = (EXAMPLES / step.file).read_bytes()
        secret = "forged-secret" if step.tamper == "signature" else None
        answer = http.post_webhook(step.source, body, event=step.event, secret=secret)
        played.append((step, answer.status_code, answer.json()))
    http.fast_forward(STORY_DOC.end)
    return played


def _subjects(emails: list[dict[str, Any]], ticket: str) -> dict[str, dict[str, Any]]:
    return {e["subject"]: e for e in emails if f"ticket {ticket}," in e["subject"]}


def test_every_helpdesk_format_is_accepted_when_signed_as_the_helpdesk_signs(week, stack):
    for step, status, answer in week:
        assert status == step.expect, (step.file, answer)
    accepted = {stack.sources[step.source].provider for step, status, _ in week if status == 202}
    assert accepted == PROVIDERS


def test_the_rules_choose_each_tickets_level(week, http):
    expected = {
        "35436": ("high", "Urgent or high priority"),
        "fd-11": ("standard", "Everyone else"),  # each source but zendesk-main has a ticket_prefix
        "hs-123": ("high", "Billing disputes on paid plans"),
        "la-fp80688h": ("low", "Trials and free plans"),
        "portal-P-1001": ("low", "Low priority"),
        "jira-OPS-7": ("urgent", "Urgent tag, outages, urgent calls and chats"),
    }
    for ticket, (level, rule) in expected.items():
        answer = http.ticket(ticket)
        assert answer.status_code == 200, ticket
        view = answer.json()
        assert view["level"] == level, ticket
        assert view["matched_rules"][-1] == rule, ticket


def test_a_breach_across_the_public_holiday_is_emailed_to_the_assignee(week, http, stack):
    # Freshdesk ticket 11 (fd-11 in slaclock: its source's ticket_prefix), level standard (8 h first
    # response, paris-office), created Tuesday 15:00 Paris: 3 h on Tuesday, Wednesday is Armistice Day,
    # so it is due Thursday 15:00 (14:00Z) and warned at 75 % (6 h): Thursday 12:00 (11:00Z).
    mails = _subjects(http.emails(to="bruno@example.com"), "fd-11")
    warning = next(e for s, e in mails.items() if s.startswith("SLA warning: ticket fd-11, first response"))
    breach = next(e for s, e in mails.items() if s.startswith("SLA breached: ticket fd-11, first response"))
    assert warning["sent_at"] == "2026-11-12T11:00:00Z"
    assert breach["sent_at"] == "2026-11-12T14:00:00Z"
    assert breach["to"] == ["bruno@example.com"]
    assert breach["from"] == stack.sender
    assert "Thu 12 Nov 2026 15:00 CET (Europe/Paris)" in breach["text"]


def test_an_answer_after_the_warning_stops_the_clock_without_a_breach(week, http):
    mails = _subjects(http.emails(to="ana@example.com"), "35436")
    assert any(s.startswith("SLA warning: ticket 35436, first response") for s in mails)
    assert not any(s.startswith("SLA breached: ticket 35436") for s in mails)
    clocks = {c["metric"]: c for c in http.ticket("35436").json()["clocks"]}
    assert clocks["first_response"]["status"] == "met"
    assert clocks["first_response"]["stopped_at"] == "2026-11-09T11:40:00Z"


def test_the_outage_escalates_to_the_leads_and_its_webhook_is_signed(week, http, stack):
    mails = _subjects(http.emails(), "jira-OPS-7")
    breach = next(
        e for s, e in mails.items() if s.startswith("SLA breached: ticket jira-OPS-7, first response")
    )
    assert breach["sent_at"] == "2026-11-13T10:00:00Z"  # 1 h after 09:00 London (extended-europe)
    assert set(breach["to"]) == {"dmitri@example.com", "head-of-support@example.com"}
    second = next(e for s, e in mails.items() if s.startswith("SLA escalation 2: ticket jira-OPS-7"))
    assert {"tech-lead@example.com", "oncall@example.com"} <= set(second["to"])

    sent = http.get("/_local/webhooks-sent").json()["webhooks"]
    hooks = [h for h in sent if json.loads(h["body"]).get("ticket_id") == "jira-OPS-7"]
    assert [h["url"] for h in hooks] == ["https://hooks.example.com/sla"]
    hook = hooks[0]
    assert hook["at"] == "2026-11-13T12:00:00Z" and hook["delivered"] is False
    signing.verify(stack.outgoing_secret, hook["headers"], hook["body"].encode(), _at(hook["at"]))


def test_a_forged_signature_is_401_and_nothing_is_stored(week, http, stack):
    body = (EXAMPLES / "zendesk-ticket-created.json").read_text().replace('"35436"', '"e2e-forged"').encode()
    answer = http.post_webhook("zendesk-main", body, secret="not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert http.ticket("e2e-forged").status_code == 404
    schedules = http.get("/_local/schedules").json()["schedules"]
    assert not any("e2e-forged" in (s["input"] or "") for s in schedules)


def test_a_malformed_body_is_400_naming_the_problem(week, http):
    answer = http.post_webhook("freshdesk-eu", b'{"freshdesk_webhook": {"ticket_id": ')
    assert answer.status_code == 400
    assert any(p.startswith("body: not valid JSON") for p in answer.json()["problems"])


def test_an_unknown_source_is_404(week, http):
    answer = http.post("/webhooks/no-such-helpdesk", b"{}", {"Content-Type": "application/json"})
    assert answer.status_code == 404
    assert http.post("/no/such/route", b"{}").status_code == 404


def test_a_lost_schedule_is_caught_by_the_sweeper(week, http, stack):
    # A new High ticket on Monday 16 November 09:00 Paris is warned at 12:00 Paris (11:00Z). Its
    # one-time schedule is lost (deleted behind slaclock's back): the 5-minute sweeper still sends it.
    monday = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    http.fast_forward(monday)
    doc = json.loads((EXAMPLES / "zendesk-ticket-created.json").read_text())
    doc["ticket"].update(id="e2e-lost", created_at="2026-11-16T08:00Z", updated_at="2026-11-16T08:00Z")
    assert http.post_webhook("zendesk-main", json.dumps(doc).encode()).status_code == 202
    scheduler = boto3.client(
        "scheduler", endpoint_url=stack.aws_endpoint, region_name=stack.region,
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    schedules = http.get("/_local/schedules").json()["schedules"]
    lost = next(s for s in schedules if '"e2e-lost"' in (s["input"] or ""))
    scheduler.delete_schedule(GroupName=lost["group"], Name=lost["name"])

    fired = http.fast_forward(monday + timedelta(hours=3, minutes=10))["fired"]
    assert not any(lost["name"] in f["source"] for f in fired)
    warning = next(
        e
        for e in http.emails(to="ana@example.com")
        if e["subject"].startswith("SLA warning: ticket e2e-lost,")
    )
    sent = _at(warning["sent_at"])
    due = datetime(2026, 11, 16, 11, 0, tzinfo=UTC)
    assert due <= sent < due + timedelta(minutes=5)
    assert any(f["function"] == "SweeperFunction" and _at(f["at"]) == sent for f in fired)


def test_the_report_links_download_while_the_stack_runs(week, http, stack):
    if not any(r.route_key == "POST /reports" for r in stack.routes()):
        pytest.skip("template.yaml routes no POST /reports yet (the report function is not deployed)")
    answer = http.post(
        "/reports",
        json={
            "period": {"from": "2026-11-09", "to": "2026-11-13"},
            "calendar": "paris-office",
            "group_by": ["level"],
        },
    )
    assert answer.status_code == 202, answer.text
    report_id = answer.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        status = http.get(f"/reports/{report_id}").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["status"] == "done", status
    files = {name: info["url"] for name, info in status["files"].items()}
    assert set(files) == {"sla_log.csv", "compliance.csv", "summary.html"}
    # the links are tokens under the link route, which redirects to a fresh presigned download
    assert all(url.startswith(f"{stack.front_url}/links/v1.") for url in files.values())
    log = http.get(files["sla_log.csv"])
    assert log.status_code == 200 and [r.status_code for r in log.history] == [302]
    header, *rows = log.text.splitlines()
    assert header.startswith("ticket_id,requester,department,agent,level,metric,cycle")
    assert any(row.startswith("jira-OPS-7,") for row in rows)
    page = http.get(files["summary.html"])
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_the_sample_webhooks_are_the_files_the_story_names():
    named = {step.file for step in STORY_DOC.steps}
    on_disk = {p.name for p in Path(EXAMPLES).glob("*.json")}
    assert named == on_disk
