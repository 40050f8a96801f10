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

import os.path
import sys

# `python bench/import_history.py` puts bench/ first on sys.path, where bench/calendar.py would shadow
# the standard library's `calendar`: take bench/ off the path.
if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

import argparse
import json
import random
import resource
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_export(path: Path, tickets: int, rng: random.Random) -> int:
    """Audits pages (100 audits each), one per line; returns the number of audits."""
    audits: list[dict] = []
    count = 0
    with path.open("w", encoding="utf-8") as out:

        def flush() -> None:
            if audits:
                out.write(json.dumps({"audits": audits, "next_page": None}) + "\n")
                audits.clear()

        for n in range(tickets):
            t = START + timedelta(minutes=7 * n)
            requester, agent, aid = 900000 + n, 7000 + n % 40, 10 * n

            def audit(i: int, at: datetime, author: int, events: list[dict]) -> None:
                nonlocal count
                audits.append(
                    {"id": aid + i, "ticket_id": n + 1, "created_at": _iso(at), "author_id": author,
                     "via": {"channel": "web"}, "events": events}
                )  # fmt: skip
                count += 1
                if len(audits) == 100:
                    flush()

            comment = {"type": "Comment", "public": True, "body": "...", "attachments": []}
            audit(0, t, requester, [
                {**comment, "id": 1, "author_id": requester},
                {"id": 2, "type": "Create", "field_name": "status", "value": "new"},
                {"id": 3, "type": "Create", "field_name": "priority", "value": rng.choice(["low", "normal", "high"])},
                {"id": 4, "type": "Create", "field_name": "requester_id", "value": requester},
                {"id": 5, "type": "Create", "field_name": "group_id", "value": 360000 + n % 5},
                {"id": 6, "type": "Create", "field_name": "tags", "value": ["billing"]},
            ])  # fmt: skip
            t += timedelta(minutes=rng.randint(5, 240))
            audit(1, t, agent, [
                {**comment, "id": 7, "author_id": agent},
                {"id": 8, "type": "Change", "field_name": "status", "value": "pending", "previous_value": "new"},
            ])  # fmt: skip
            t += timedelta(minutes=rng.randint(5, 600))
            audit(2, t, requester, [
                {**comment, "id": 9, "author_id": requester},
                {"id": 10, "type": "Change", "field_name": "status", "value": "open", "previous_value": "pending"},
            ])  # fmt: skip
            t += timedelta(minutes=rng.randint(1, 60))
            audit(3, t, agent, [
                {"id": 11, "type": "Change", "field_name": "priority", "value": "urgent", "previous_value": "high"}
            ])  # fmt: skip
            t += timedelta(minutes=rng.randint(5, 600))
            audit(4, t, agent, [
                {"id": 12, "type": "Change", "field_name": "status", "value": "solved", "previous_value": "open"}
            ])  # fmt: skip
        flush()
    return count


def jira_export(path: Path, tickets: int, rng: random.Random) -> int:
    """Search pages (50 issues each, expand=changelog), one per line; returns the number of issues."""

    def status(name: str, key: str) -> dict:
        return {"name": name, "statusCategory": {"key": key}}

    page: list[dict] = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(tickets):
            t0 = START + timedelta(minutes=7 * n)
            times = [t0 + timedelta(minutes=m) for m in sorted(rng.sample(range(5, 2000), 6))]
            agent = {"accountId": f"agent-{n % 40}", "accountType": "atlassian"}
            customer = {"accountId": f"qm:cust-{n}", "accountType": "customer", "emailAddress": f"c{n}@x.test"}

            def item(a: str, b: str) -> dict:
                return {"field": "status", "fieldId": "status", "fromString": a, "toString": b}

            histories = [
                {"id": str(4 * n + 1), "created": _iso(times[0]), "items": [item("Open", "Waiting for customer")]},
                {"id": str(4 * n + 2), "created": _iso(times[2]), "items": [item("Waiting for customer", "Open")]},
                {"id": str(4 * n + 3), "created": _iso(times[3]),
                 "items": [{"field": "priority", "fieldId": "priority", "fromString": "Medium", "toString": "High"}]},
                {"id": str(4 * n + 4), "created": _iso(times[5]), "items": [item("Open", "Done")]},
            ]  # fmt: skip
            comments = [
                {"id": str(2 * n + 1), "author": agent, "created": _iso(times[0]), "jsdPublic": True},
                {"id": str(2 * n + 2), "author": customer, "created": _iso(times[1]), "jsdPublic": True},
            ]
            page.append(
                {"id": str(10000 + n), "key": f"SUP-{n + 1}",
                 "fields": {"created": _iso(t0), "updated": _iso(times[5]), "status": status("Done", "done"),
                            "priority": {"name": "High"}, "labels": ["billing"], "reporter": customer,
                            "assignee": agent, "components": [{"name": "Billing"}],
                            "comment": {"comments": comments, "total": 2}},
                 "changelog": {"histories": histories}}
            )  # fmt: skip
            if len(page) == 50:
                out.write(json.dumps({"issues": page}) + "\n")
                page = []
        if page:
            out.write(json.dumps({"issues": page}) + "\n")
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
