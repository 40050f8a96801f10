"""``python -m slaclock_local.demo`` (``make demo``): one working week of a support team, end to end, on the
local embedded stack. No AWS account, nothing left running.

What it does: starts the local stack (`slaclock_local.stack`, the same code as ``slaclock local up``)
with examples/sla.yaml on a virtual clock stopped at Monday 9 November 2026 08:30 in Paris; plays
examples/webhooks/story.yaml: at each step it fast-forwards the clock to the step's instant (every
check due on the way fires into the real `check` function, in order) and POSTs the bundled webhook
body, in its helpdesk's own format and signed as that helpdesk signs, to the local HTTP endpoint; one
forged signature (401) and one truncated body (400) show what is refused. Then it runs the clock to
the end of the week (Wednesday 11 November is a public holiday of the Paris office) and asks for a
report of the week. It prints the story as it happens: tickets received with the level chosen and the
rule that chose it, the e-mails sent (to whom, why, when in the calendar's time zone), and the
report links. Deterministic: the virtual clock only moves when the story moves it.

Closed-loop actions: the demo adds to the configuration (`with_demo_actions`) an API for the Zendesk
source, pointing at a loopback server that speaks Zendesk's and Slack's documented APIs
(`slaclock_local.api_server`), and, on the ``high`` level, a step at 60% of the target that releases
the ticket's ownership (``unassign``) and sends the requester an interim ``reply``, and a Slack message
on every warning. They run through the real connector code; each call is shown as it happens and is
listed at ``GET /_local/actions``.

``--keep-running`` leaves the stack up at the end (until Ctrl-C), so the report links can be
downloaded with curl.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import yaml
from slaclock.engine.errors import SlaclockError
from slaclock.engine.events import parse_instant

from slaclock_local.client import request, request_json

__all__ = ["Step", "Story", "load_story", "main", "send"]

STORY = Path(__file__).resolve().parents[3] / "examples" / "webhooks" / "story.yaml"
HOME_ZONE = "Europe/Paris"  # the day headers of the story
PROVIDER_NAMES = {
    "zendesk": "Zendesk", "freshdesk": "Freshdesk", "liveagent": "LiveAgent", "intercom": "Intercom",
    "jira": "Jira Service Management", "helpscout": "Help Scout", "generic": "generic JSON",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Step:
    """One webhook of the story: at virtual instant `at`, `file` (under the story's folder) to `source`."""

    at: datetime
    source: str
    file: str
    say: str = ""
    event: str | None = None
    tamper: str | None = None
    expect: int = 202


@dataclass(frozen=True, slots=True)
class Story:
    folder: Path
    start: datetime
    end: datetime
    steps: tuple[Step, ...]
    report: Mapping[str, Any]
    """``{"period": {"from", "to"}, "calendar", "group_by", "title"}``: the report asked for at the end."""


def _instant(value: Any, where: str) -> datetime:
    errors: list[tuple[str, str]] = []
    t = parse_instant(str(value), where, errors)
    if t is None:
        raise ValueError("; ".join(f"{p}: {m}" for p, m in errors))
    return t


def load_story(path: Path = STORY) -> Story:
    """Read a story file (see examples/webhooks/story.yaml). Steps must be in time order."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = tuple(
        Step(
            at=_instant(s["at"], f"steps[{i}].at"),
            source=str(s["source"]),
            file=str(s["file"]),
            say=str(s.get("say", "")),
            event=s.get("event"),
            tamper=s.get("tamper"),
            expect=int(s.get("expect", 202)),
        )
        for i, s in enumerate(doc["steps"])
    )
    if any(b.at < a.at for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(f"{path}: steps must be in time order")
    report = doc.get("report") or {}
    if "period" not in report or "calendar" not in report:
        raise ValueError(f"{path}: report.period and report.calendar are required")
    return Story(path.parent, _instant(doc["start"], "start"), _instant(doc["end"], "end"), steps, report)


# ------------------------------------------------------------------------------------------ actions

DEMO_SLACK_SECRET = "slaclock/slaclock/demo-slack-webhook"  # noqa: S105 - a secret's name
DEMO_ZENDESK_SECRET = "slaclock/slaclock/zendesk-main-api"  # noqa: S105 - a secret's name
DEMO_INTERIM_REPLY = (
    "Hello, we have your request (ticket {ticket}) and are on it: a specialist will answer before {due}."
)


def with_demo_actions(doc: dict[str, Any], api_url: str) -> dict[str, Any]:
    """`doc` (a configuration document) with the demo's actions: Zendesk's API at `api_url`, and on
    the ``high`` level an ``unassign`` and an interim ``reply`` at 60% plus a Slack message on warnings."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    zendesk = {"url": f"{api_url}/zendesk", "secret": {"secrets_manager": DEMO_ZENDESK_SECRET}}
    out["sources"]["zendesk-main"]["api"] = zendesk
    high = out["levels"]["high"]
    release = [
        {"kind": "unassign", "sources": ["zendesk-main"]},
        {"kind": "reply", "sources": ["zendesk-main"], "templates": {"en": DEMO_INTERIM_REPLY}},
    ]
    high["escalations"] = [*high.get("escalations", []), {"at": "60%", "actions": release}]
    high["actions"] = {"warning": [{"kind": "slack", "webhook_secret": DEMO_SLACK_SECRET}]}
    return out


def demo_secrets(stack: Any, api_url: str) -> None:
    """The secrets the demo's actions read: Zendesk's API token and the Slack incoming-webhook URL."""
    sm = stack.client("secretsmanager")
    token = json.dumps({"email": "slaclock-bot@example.com", "api_token": "demo-token"})
    sm.create_secret(Name=DEMO_ZENDESK_SECRET, SecretString=token)
    sm.create_secret(Name=DEMO_SLACK_SECRET, SecretString=f"{api_url}/slack/services/T000/B000/XXXX")


def describe_call(call: Any) -> str:
    """One captured action call, in words."""
    path = call.url.split("/", 3)[-1]
    if "/slack/" in call.url:
        text = call.body.get("text", "") if isinstance(call.body, dict) else ""
        return f"Slack message: “{text}”"
    ticket = call.body.get("ticket", {}) if isinstance(call.body, dict) else {}
    if "assignee_id" in ticket:
        what = "release of ownership (assignee_id: null)"
    elif "comment" in ticket:
        what = "interim reply to the requester" if ticket["comment"].get("public") else "internal note"
    else:
        what = "update"
    return f"Zendesk API {call.method} /{path.split('/', 1)[-1]}: {what}"


# ------------------------------------------------------------------------------------------ HTTP


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST over HTTP; (status, JSON answer or text)."""
    status, raw = request("POST", url, body, headers)
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def get_json(url: str) -> tuple[int, Any]:
    return request_json("GET", url)


def send(stack: Any, step: Step, folder: Path) -> tuple[int, Any]:
    """POST the step's body to its source, signed as its helpdesk signs it at the clock's now."""
    from slaclock_local.helpdesks import signed_headers

    source = stack.sources[step.source]
    body = (folder / step.file).read_bytes()
    secret = source.secret or ""
    if step.tamper == "signature":
        secret = "not-the-secret"  # noqa: S105 - a forged signature, on purpose
    delivery = f"demo-{step.source}-{step.file}-{step.at:%Y%m%dT%H%M}"
    headers = signed_headers(source.provider, secret, body, stack.now(), event=step.event, delivery=delivery)
    return post(source.url, body, headers)


# ------------------------------------------------------------------------------------------ story


def _local(t: datetime, zone: str) -> str:
    local = t.astimezone(ZoneInfo(zone))
    return f"{local:%a %H:%M} {local.tzname()}"


_LEVEL_LINE = re.compile(r"^SLA level: (.+)$", re.M)
_DUE_LINE = re.compile(r"^Due: (.+)$", re.M)


class Narrator:
    """Prints the story: day headers, webhooks and their outcome, e-mails as they are captured."""

    def __init__(self, stack: Any, out: TextIO, closed: dict[date, list[str]] | None = None) -> None:
        self.stack = stack
        self.closed = closed or {}
        self.config = stack.config
        self.out = out
        self.day: str | None = None
        self.emails_seen = 0
        self.hooks_seen = 0
        self.actions_seen = 0
        self.tickets: dict[str, str] = {}  # ticket id -> source
        self.counts = {"accepted": 0, "refused": 0, "emails": 0, "warning": 0, "breach": 0, "escalation": 0,
                       "report": 0, "actions": 0}  # fmt: skip

    def _zone_of_level(self, level: str | None) -> str:
        if level and level in self.config.levels:
            return str(self.config.calendars[self.config.levels[level].calendar].timezone)
        return HOME_ZONE

    def _day(self, t: datetime) -> None:
        local = t.astimezone(ZoneInfo(HOME_ZONE))
        label = f"{local:%A %d %B %Y}"
        if label != self.day:
            self.day = label
            closed = self.closed.get(local.date(), [])
            extra = f"  closed: {'; '.join(closed)}" if closed else ""
            self.out.write(f"\n── {label} {'─' * max(0, 60 - len(label))}{extra}\n")

    def line(self, t: datetime, zone: str, text: str) -> None:
        """One event at `t`: the time column in Paris (the story's clock); when the ticket's calendar
        is in another zone, its local time too."""
        self._day(t)
        if zone != HOME_ZONE:
            local = t.astimezone(ZoneInfo(zone))
            text += f"  [{local:%H:%M} {local.tzname()} in {zone}]"
        self.out.write(f"  {_local(t, HOME_ZONE):<15} {text}\n")

    def note(self, text: str) -> None:
        self.out.write(f"  {'':<15}   {text}\n")

    def emails(self) -> None:
        """Print the e-mails, outgoing webhooks and action calls captured since the last call, in time
        order (one fast-forward may run several checks)."""
        entries: list[tuple[datetime, int, Callable[[Any], None], Any]] = []
        emails = self.stack.emails()
        entries += [
            (e.sent_at, len(entries) + i, self._email, e) for i, e in enumerate(emails[self.emails_seen :])
        ]
        self.emails_seen = len(emails)
        hooks = self.stack.outgoing.snapshot() if self.stack.outgoing is not None else []
        entries += [(h.at, len(entries) + i, self._hook, h) for i, h in enumerate(hooks[self.hooks_seen :])]
        self.hooks_seen = len(hooks)
        calls = self.stack.outgoing.actions() if self.stack.outgoing is not None else []
        entries += [(c.at, len(entries) + i, self._call, c) for i, c in enumerate(calls[self.actions_seen :])]
        self.actions_seen = len(calls)
        for _, _, show, item in sorted(entries, key=lambda x: (x[0], x[1])):
            show(item)

    def _email(self, e: Any) -> None:
        self.counts["emails"] += 1
        text = e.text
        level = m.group(1).strip() if (m := _LEVEL_LINE.search(text)) else None
        zone = self._zone_of_level(level)
        subject = e.subject
        kind = "report" if subject.lower().startswith("sla report") else (
            "breach" if "breach" in subject.lower() else
            "escalation" if "escalation" in subject.lower() else "warning"
        )  # fmt: skip
        self.counts[kind] += 1
        icon = {"warning": "⚠", "breach": "✖", "escalation": "⇧", "report": "▤"}[kind]
        self.line(e.sent_at, zone, f"{icon} e-mail to {', '.join(e.to)}")
        self.note(f"“{subject}”")
        due = _DUE_LINE.search(text)
        if due and kind != "report":
            self.note(f"level {level}, due {due.group(1).strip()}")
        if kind == "report":
            links = re.findall(r"https?://\S+", text)
            if links:
                self.note(f"{len(links)} links, e.g. {links[0][:90]}…")

    def _hook(self, hook: Any) -> None:
        try:
            detail = json.loads(hook.body)
        except ValueError:
            detail = {}
        ticket, step = detail.get("ticket_id", "?"), detail.get("step", "")
        what = f"{detail.get('type', 'event')} of ticket {ticket} ({step})"
        self.line(hook.at, HOME_ZONE, f"↗ webhook POST {hook.url}: {what}")
        self.note("signed (X-Slaclock-Signature); captured by the local stack, not sent")

    def _call(self, call: Any) -> None:
        self.counts["actions"] += 1
        self.line(call.at, HOME_ZONE, f"⚙ {describe_call(call)}")
        answer = f"answered {call.status}" if call.error is None else call.error
        self.note(f"through the real connector, to the loopback API at {call.url.split('/')[2]}: {answer}")

    def received(self, step: Step, status: int, answer: Any) -> None:
        source = self.stack.sources[step.source]
        provider = PROVIDER_NAMES.get(source.provider, source.provider)
        tickets = answer.get("tickets", []) if isinstance(answer, dict) else []
        zone = HOME_ZONE
        views = []
        for ticket_id in tickets:
            code, view = get_json(f"{self.stack.front_url}/_local/tickets/{ticket_id}")
            if code == 200 and view:
                views.append(view)
                zone = self._zone_of_level(view.get("level"))
        self.line(step.at, zone, f"{provider} → POST /webhooks/{step.source}: {step.say}")
        if status == 202:
            self.counts["accepted"] += 1
        else:
            self.counts["refused"] += 1
        if status != 202:
            reason = answer.get("reason") or answer.get("error") if isinstance(answer, dict) else answer
            problems = answer.get("problems") if isinstance(answer, dict) else None
            detail = f"{reason}" + (f" ({'; '.join(problems)})" if problems else "")
            self.note(f"← {status} {detail}; nothing stored")
            return
        for view in views:
            self.tickets.setdefault(view["ticket_id"], step.source)
            rules = view.get("matched_rules") or []
            rule = f"rule “{rules[-1]}”" if rules else "no rule"
            open_clocks = [
                c for c in view.get("clocks", []) if c["status"] in ("open", "paused") and c["due_at"]
            ]
            due = ""
            if open_clocks:
                first = min(open_clocks, key=lambda c: c["due_at"])
                due_at = _instant(first["due_at"], "due_at")
                zone = self._zone_of_level(view["level"])
                due = f"; {first['metric'].replace('_', ' ')} due {_local(due_at, zone)}"
                if due_at.date() != step.at.date():
                    due += f" {due_at.astimezone(ZoneInfo(zone)):%d %b}"
            met = [c for c in view.get("clocks", []) if c["status"] in ("met", "missed") and c["stopped_at"]]
            done = ""
            if met:
                last = max(met, key=lambda c: c["stopped_at"])
                done = f"; {last['metric'].replace('_', ' ')} {last['status']}"
            self.note(f"← 202 ticket {view['ticket_id']}: level {view['level']} by {rule}{due}{done}")


def public_holidays(config: Any, start: datetime, end: datetime) -> dict[date, list[str]]:
    """Weekday public holidays of the configured calendars between `start` and `end` (local dates):
    date -> ["paris-office (Armistice Day)", ...]. Read with the `holidays` package, as the engine does."""
    import holidays as holidays_lib

    out: dict[date, list[str]] = {}
    calendars = config.document.get("calendars", {}) if isinstance(config.document, Mapping) else {}
    for name, cal in config.calendars.items():
        spec = (calendars.get(name) or {}).get("holidays") or {}
        if not spec.get("country"):
            continue
        zone = ZoneInfo(str(cal.timezone))
        first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        years = range(first.year, last.year + 1)
        days = holidays_lib.country_holidays(spec["country"], subdiv=spec.get("subdivision"), years=years)
        for day, label in sorted(days.items()):
            if first <= day < last and day.weekday() < 5:
                out.setdefault(day, []).append(f"{name} ({label})")
    return out


def run_demo(story: Story, config: Path | None, out: TextIO, keep_running: bool = False) -> int:
    import tempfile

    from slaclock_local.api_server import ApiServer
    from slaclock_local.reports import report_links
    from slaclock_local.stack import DEFAULT_CONFIG, LocalStack

    started = time.perf_counter()
    out.write("slaclock demo: one working week of a support team, on the local embedded stack (no AWS)\n")
    api = ApiServer().__enter__()
    folder = Path(tempfile.mkdtemp(prefix="slaclock-demo-"))
    doc = yaml.safe_load((config or DEFAULT_CONFIG).read_text(encoding="utf-8"))
    demo_config = folder / "sla.yaml"
    demo_config.write_text(yaml.safe_dump(with_demo_actions(doc, api.url), sort_keys=False), encoding="utf-8")
    stack = LocalStack(config=demo_config, start_at=story.start, paused=True, keep_workdir=True)
    try:
        stack.start()
        demo_secrets(stack, api.url)
        cfg = stack.config
        home_start = story.start.astimezone(ZoneInfo(HOME_ZONE))
        out.write(
            f"\nConfiguration {stack.config_path}: {len(cfg.calendars)} calendars, {len(cfg.levels)} levels, "
            f"{len(cfg.rules)} rules, {len(cfg.sources)} webhook sources\n"
            f"Stack up in {time.perf_counter() - started:.1f} s: webhooks at"
            f" {stack.front_url}/webhooks/<source>, AWS (moto) at {stack.aws_endpoint}\n"
            f"Virtual clock stopped at {home_start:%a %d %b %Y %H:%M %Z}: only the story moves it."
            f" Times are Paris time ({HOME_ZONE}); a ticket on another calendar shows its own too.\n"
        )
        closed = public_holidays(cfg, story.start, story.end)
        for day, names in sorted(closed.items()):
            out.write(f"Public holiday {day:%A %d %B}: closed {', '.join(names)}\n")
        narrator = Narrator(stack, out, closed)
        for step in story.steps:
            stack.fast_forward(step.at)
            narrator.emails()
            status, answer = send(stack, step, story.folder)
            narrator.received(step, status, answer)
            if status != step.expect:
                out.write(f"  !! expected {step.expect}, got {status}: {answer}\n")
            narrator.emails()
        stack.fast_forward(story.end)
        narrator.emails()

        out.write("\n── The week's report " + "─" * 50 + "\n")
        report = story.report
        links = report_links(
            stack, narrator.tickets, period=report["period"], calendar=report["calendar"],
            group_by=tuple(report.get("group_by", ("level",))), title=report.get("title", "SLA report"),
        )  # fmt: skip
        period, groups = report["period"], ", ".join(report.get("group_by", ["level"]))
        out.write(
            f"  {report.get('title', 'SLA report')}: outcomes decided {period['from']} to {period['to']}"
            f" ({report['calendar']}), by {groups}\n"
        )
        out.write(f"  built by the {links.via}\n")
        if links.note:
            out.write(f"  note: {links.note}\n")
        for name, url in links.files.items():
            size = _download_size(url)
            out.write(f"  {name:<15} {size:>7} bytes  {url}\n")
        if links.files:
            first = next(iter(links.files.values()))
            out.write(f"  curl -sL '{first}' | head   # works while the stack runs\n")
        c = narrator.counts
        sent = stack.outgoing.snapshot() if stack.outgoing else []
        out.write(
            "\n── Summary " + "─" * 59 + "\n"
            f"  webhooks: {c['accepted']} accepted, {c['refused']} refused;"
            f" tickets: {len(narrator.tickets)}\n"
            f"  e-mails: {c['emails']} ({c['warning']} warnings, {c['breach']} breaches, {c['escalation']} "
            f"escalations, {c['report']} reports)\n"
            f"  outgoing escalation webhooks captured (not sent): {len(sent)}"
            + (f" → {sent[0].url}" if sent else "") + "\n"
            f"  actions run through the connectors (GET /_local/actions): {c['actions']}\n"
            f"  function logs (kept): {stack.function_log}\n"
        )  # fmt: skip
        out.write(
            "\n── The SLA board " + "─" * 53 + "\n"
            f"  {stack.board_url}\n"
            "  (open it in a browser while the stack runs: `python -m slaclock_local.demo --keep-running`;"
            " the link sets a local read-only session, the stand-in for SigV4 or a JWT in AWS)\n"
        )
        if keep_running:
            out.write(f"\nThe stack keeps running at {stack.front_url}: press Ctrl-C to stop it.\n")
            out.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        stack.stop()
        api.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)
    out.write(
        f"\nStopped everything (nothing left running). Wall time {time.perf_counter() - started:.1f} s.\n"
    )
    return 0


def _download_size(url: str) -> str:
    """The size of what `url` serves, downloaded as curl would (or the error)."""
    try:
        status, raw = request("GET", url)
    except OSError as err:
        return f"error {err}"
    return str(len(raw)) if status == 200 else f"HTTP {status}"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m slaclock_local.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, help="configuration (default: examples/sla.yaml)")
    p.add_argument(
        "--story", type=Path, default=STORY, help="story file (default: examples/webhooks/story.yaml)"
    )
    p.add_argument("--keep-running", action="store_true", help="keep the stack up at the end until Ctrl-C")
    args = p.parse_args(argv)
    story = load_story(args.story)
    try:
        return run_demo(story, args.config, sys.stdout, keep_running=args.keep_running)
    except KeyboardInterrupt:
        print("\ninterrupted: the stack was stopped", file=sys.stderr)
        return 130
    except SlaclockError as err:
        print(f"slaclock demo: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
