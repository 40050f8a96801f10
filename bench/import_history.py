"""Import benchmark: `slaclock import zendesk` and `slaclock import jira` on generated exports.

    .venv/bin/python bench/import_history.py                  # 2,000 and 20,000 tickets
    .venv/bin/python bench/import_history.py --sizes 5000

For each size it writes a seeded export in the documented shapes (Zendesk: audits pages of 100, one
page per line, 5 audits per ticket: create, agent reply + pending, customer reply + open, priority
change, solve; Jira: search pages of 50 issues, each with 4 changelog histories and 2 comments) into a
temporary directory, then runs the command IN A FRESH PROCESS (`slaclock import ... --out FILE`) and
prints one row per provider and size: records, events written, CPU seconds of the child process, events
per CPU second (one core: the command is single-threaded), and the peak RSS
(`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`, kernel-measured: the largest of the children run so
far, so a row never shows less than the rows above it).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _change(i: int, field: str, value: object, previous: object) -> dict:
    return {"id": i, "type": "Change", "field_name": field, "value": value, "previous_value": previous}


def _create(i: int, field: str, value: object) -> dict:
    return {"id": i, "type": "Create", "field_name": field, "value": value}


def _comment(i: int, author: int) -> dict:
    return {"id": i, "type": "Comment", "author_id": author, "public": True, "body": "...", "attachments": []}


def _ticket_audits(n: int, rng: random.Random) -> list[dict]:
    """Five audits of ticket n+1: create, agent reply + pending, customer reply + open, priority, solve."""
    requester, agent = 900000 + n, 7000 + n % 40
    t = START + timedelta(minutes=7 * n)
    steps = [
        (0, requester, [_comment(1, requester), _create(2, "status", "new"),
                        _create(3, "priority", rng.choice(["low", "normal", "high"])),
                        _create(4, "requester_id", requester), _create(5, "group_id", 360000 + n % 5),
                        _create(6, "tags", ["billing"])]),
        (rng.randint(5, 240), agent, [_comment(7, agent), _change(8, "status", "pending", "new")]),
        (rng.randint(5, 600), requester, [_comment(9, requester), _change(10, "status", "open", "pending")]),
        (rng.randint(1, 60), agent, [_change(11, "priority", "urgent", "high")]),
        (rng.randint(5, 600), agent, [_change(12, "status", "solved", "open")]),
    ]  # fmt: skip
    audits = []
    for i, (minutes, author, events) in enumerate(steps):
        t += timedelta(minutes=minutes)
        audits.append(
            {"id": 10 * n + i, "ticket_id": n + 1, "created_at": _iso(t), "author_id": author,
             "via": {"channel": "web"}, "events": events}
        )  # fmt: skip
    return audits


def zendesk_export(path: Path, tickets: int, rng: random.Random) -> int:
    """Audits pages (100 audits each), one per line; returns the number of audits."""
    audits: list[dict] = []
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for n in range(tickets):
            audits.extend(_ticket_audits(n, rng))
            while len(audits) >= 100:
                out.write(json.dumps({"audits": audits[:100], "next_page": None}) + "\n")
                count += 100
                del audits[:100]
        if audits:
            out.write(json.dumps({"audits": audits, "next_page": None}) + "\n")
            count += len(audits)
    return count


def _jira_issue(n: int, rng: random.Random) -> dict:
    """Issue SUP-n+1 with 4 changelog histories (pending, open, priority, done) and 2 comments."""
    t0 = START + timedelta(minutes=7 * n)
    at = [_iso(t0 + timedelta(minutes=m)) for m in sorted(rng.sample(range(5, 2000), 6))]
    agent = {"accountId": f"agent-{n % 40}", "accountType": "atlassian"}
    customer = {"accountId": f"qm:cust-{n}", "accountType": "customer", "emailAddress": f"c{n}@x.test"}

    def history(i: int, when: str, field: str, before: str, after: str) -> dict:
        item = {"field": field, "fieldId": field, "fromString": before, "toString": after}
        return {"id": str(4 * n + i), "created": when, "items": [item]}

    histories = [
        history(1, at[0], "status", "Open", "Waiting for customer"),
        history(2, at[2], "status", "Waiting for customer", "Open"),
        history(3, at[3], "priority", "Medium", "High"),
        history(4, at[5], "status", "Open", "Done"),
    ]
    comments = [
        {"id": str(2 * n + 1), "author": agent, "created": at[0], "jsdPublic": True},
        {"id": str(2 * n + 2), "author": customer, "created": at[1], "jsdPublic": True},
    ]
    fields = {
        "created": _iso(t0), "updated": at[5], "status": {"name": "Done", "statusCategory": {"key": "done"}},
        "priority": {"name": "High"}, "labels": ["billing"], "reporter": customer, "assignee": agent,
        "components": [{"name": "Billing"}], "comment": {"comments": comments, "total": 2},
    }  # fmt: skip
    return {
        "id": str(10000 + n),
        "key": f"SUP-{n + 1}",
        "fields": fields,
        "changelog": {"histories": histories},
    }


def jira_export(path: Path, tickets: int, rng: random.Random) -> int:
    """Search pages (50 issues each, expand=changelog), one per line; returns the number of issues."""
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, tickets, 50):
            page = [_jira_issue(n, rng) for n in range(start, min(start + 50, tickets))]
            out.write(json.dumps({"issues": page, "startAt": start}) + "\n")
    return tickets


def run_child(provider: str, export: Path, out: Path) -> tuple[float, float, int]:
    """(CPU s, wall s, peak RSS KiB) of `slaclock import` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "slaclock.cli", "import", provider, str(export), "--out", str(out), "--quiet"],
        check=True,
    )
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="ticket counts, comma separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for provider, make in (("zendesk", zendesk_export), ("jira", jira_export)):
                export = Path(tmp) / f"{provider}-{size}.jsonl"
                records = make(export, size, random.Random(size))
                out = Path(tmp) / f"{provider}-{size}.events.jsonl"
                cpu, wall, rss = run_child(provider, export, out)
                with out.open("rb") as f:
                    events = sum(1 for _ in f)
                rows.append((provider, size, records, events, cpu, wall, rss))
                out.unlink()
                export.unlink()
    print(f"{'provider':<9} {'tickets':>8} {'records':>8} {'events':>9} {'CPU s':>7} {'wall s':>7}"
          f" {'events/s':>9} {'peak RSS':>9}")  # fmt: skip
    for provider, size, records, events, cpu, wall, rss in rows:
        print(f"{provider:<9} {size:>8,} {records:>8,} {events:>9,} {cpu:>7.2f} {wall:>7.2f}"
              f" {events / cpu:>9,.0f} {rss / 1024:>7.0f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
