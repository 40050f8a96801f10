"""Report benchmark (issue 5, item 6): the S3 report's build path on 100k and 1M clock records.

    .venv/bin/python bench/report.py                       # 100k and 1M records, three variants each
    .venv/bin/python bench/report.py --sizes 20000 --variants sorted

What runs: `slaclock.services.report.build_report`, the function the report Lambda calls, with the
DynamoDB query REPLACED BY A GENERATOR: moto would need hours to hold and page a million items, and
its speed says nothing about DynamoDB's. The generator yields the port's records (`ports.ClockSnapshot`,
what `DynamoClockSnapshots.query` yields after pynamodb has parsed a page) in outcome order, as the
clocks-by-outcome index returns them: tickets of 1 to 3 clocks, 8 departments, 60 agents, 3 levels,
outcomes spread over one month. Everything after the query is the function's own code: mapping to
SLA log rows, filters, the compliance and summary accumulators, the distinct-ticket counter, the
external merge sort (when sorted), the CSV encoding in 1 MiB chunks and the summary page. The sink
consumes the chunks as S3's managed transfer would (reads each once, hashes it, keeps nothing), so
the measured memory is the report's, not a buffered upload's.

Each (size, variant) runs IN A FRESH PROCESS, so the kernel's peak RSS (``ru_maxrss``) is that run's:

- ``rows/s``: records / CPU time (``time.process_time``) of the build, generation included (the
  generator alone is timed too and shown as ``gen s``: the share a real query's parsing replaces);
- ``peak MiB``: peak RSS; ``base MiB``: RSS after imports and configuration; ``Δ MiB`` = peak − base:
  what building the report added. Flat means Δ does not grow with the row count;
- ``tmp MiB``: the most the sort's run files held on disk (Lambda's ephemeral storage).

Variants: ``plain`` (outcome order, no groups), ``grouped`` (compliance by level, department and
metric), ``sorted`` (``-overdue``: the external merge sort, 50,000-row chunks, as deployed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "plain": {},
    "grouped": {"group_by": ("level", "department", "metric")},
    "sorted": {"sort": ("-overdue",)},
}
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CONFIG_DOC = {
    "calendars": {
        "paris": {"timezone": "Europe/Paris", "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}},
        "always": {"timezone": "UTC", "hours": "24x7"},
    },
    "levels": {
        "urgent": {"calendar": "always",
                   "targets": {"first_response": {"within": "1h"}, "resolution": {"within": "8h"}}},
        "standard": {"calendar": "paris",
                     "targets": {"first_response": {"within": "8h"}, "resolution": {"within": "40h"}}},
        "vip": {"calendar": "paris",
                "targets": {"first_response": {"within": "2h"}, "next_response": {"within": "4h"}}},
    },
    "rules": [{"name": "all", "set_level": "standard"}],
}  # fmt: skip


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def records(n: int, seed: int = 7) -> Iterator[object]:
    """`n` clock records in outcome order over October 2026 (the port's form)."""
    from slaclock.engine.clocks import ClockStatus
    from slaclock.engine.config import Metric
    from slaclock.ports import ClockSnapshot

    rng = random.Random(seed)
    departments = ["billing", "sales", "support", "returns", "tech", "onboarding", "legal", "partners"]
    agents = [f"agent{i:02d}@example.com" for i in range(60)]
    levels = [("urgent", "always", "UTC", 3600.0), ("standard", "paris", "Europe/Paris", 28800.0),
              ("vip", "paris", "Europe/Paris", 7200.0)]  # fmt: skip
    metrics = [Metric.FIRST_RESPONSE, Metric.RESOLUTION, Metric.NEXT_RESPONSE]
    span = (END - START) / n
    ticket, left, fields = 100_000, 0, ("", "", "")
    recorded = END + timedelta(hours=1)
    for i in range(n):
        if left == 0:
            ticket += 1
            left = rng.randint(1, 3)
            fields = (
                f"customer{rng.randrange(50_000)}@client.test",
                rng.choice(departments),
                rng.choice(agents),
            )
        left -= 1
        level, calendar, zone, target = rng.choice(levels)
        outcome = START + span * i
        met = rng.random() < 0.87
        business = target * (rng.random() * 0.95 if met else 1.0 + rng.random())
        started = outcome - timedelta(seconds=business * 1.5)
        due = started + timedelta(seconds=target * 1.4) if met else outcome
        stopped = (
            outcome
            if met
            else (None if rng.random() < 0.3 else outcome + timedelta(minutes=rng.randrange(600)))
        )
        yield ClockSnapshot(
            ticket_id=str(ticket), requester=fields[0], department=fields[1], agent=fields[2], level=level,
            metric=metrics[(3 - left) % 3], cycle=1, started_at=started, due_at=due, stopped_at=stopped,
            status=ClockStatus.MET if met else ClockStatus.MISSED, business_seconds=round(business, 3),
            remaining_seconds=round(target - business, 3), target_seconds=target, calendar=calendar,
            timezone=zone, decided_at=outcome, recorded_at=recorded,
        )  # fmt: skip


class GeneratedClockRecords:
    """`ClockSnapshotStore` whose query is the generator above (same contract: outcome order, lazy)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def query(self, start: datetime, end: datetime) -> Iterator[object]:
        return (r for r in records(self.n) if start <= r.decided_at < end)  # type: ignore[attr-defined]

    def running(self, start: datetime | None = None, end: datetime | None = None) -> Iterator[object]:
        return iter(())


class DigestSink:
    """Reads every chunk once, as the managed transfer would, hashes it and keeps nothing."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.chunks: dict[str, int] = {}

    def put(self, key: str, body: Iterable[bytes], content_type: str) -> None:
        digest, size, count = hashlib.sha256(), 0, 0
        for chunk in body:
            digest.update(chunk)
            size += len(chunk)
            count += 1
        self.sizes[key.rsplit("/", 1)[1]] = size
        self.chunks[key.rsplit("/", 1)[1]] = count

    def link(self, key: str, expires_in_seconds: int) -> str:
        return f"https://example.test/{key}"


class DiskWatch(threading.Thread):
    """Samples the size of the sort's run files every 50 ms; `peak` is the most seen (bytes)."""

    def __init__(self, directory: str) -> None:
        super().__init__(daemon=True)
        self.directory = directory
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            total = 0
            for name in os.listdir(self.directory):
                try:
                    total += os.path.getsize(os.path.join(self.directory, name))
                except FileNotFoundError:
                    pass
            self.peak = max(self.peak, total)


def child(n: int, variant: str) -> dict[str, object]:
    """One measured run (called in a fresh process)."""
    from slaclock.engine.config import load_config
    from slaclock.services.report import ReportPorts, ReportSpec, build_report, custom_period

    from tests.fakes import FakeMailer, StaticConfig
    from tests.fakes.reports import FakeReportJobs, FakeReportQueue

    config = load_config(CONFIG_DOC)
    t0 = time.process_time()
    for _ in records(min(n, 100_000)):
        pass
    gen_s = (time.process_time() - t0) * (n / min(n, 100_000))
    with tempfile.TemporaryDirectory(prefix="slaclock-bench-") as tmp:
        sink = DigestSink()
        clocks = GeneratedClockRecords(n)
        ports = ReportPorts(
            config=StaticConfig(config), clocks=clocks, sink=sink, mailer=FakeMailer(),  # type: ignore[arg-type]
            jobs=FakeReportJobs(), queue=FakeReportQueue(), tmp_dir=tmp,
        )  # fmt: skip
        period = custom_period(START, END, "UTC")
        spec = ReportSpec(report_id="bench", title="bench", period=period, **VARIANTS[variant])  # type: ignore[arg-type]
        base = _rss_now_mb()
        watch = DiskWatch(tmp)
        watch.start()
        wall, cpu = time.perf_counter(), time.process_time()
        figures = build_report(ports, spec, config, END)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        watch.done.set()
        watch.join()
    assert figures["rows"] == n, figures
    return {
        "n": n, "variant": variant, "cpu_s": cpu, "wall_s": wall, "gen_s": gen_s, "base_mb": base,
        "peak_mb": _rss_peak_mb(), "tmp_mb": watch.peak / 2**20, "log_mb": sink.sizes["sla_log.csv"] / 2**20,
        "chunks": sink.chunks["sla_log.csv"], "tickets": figures["tickets"],
        "compliance_rows": figures["compliance_rows"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated record counts")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"any of {', '.join(VARIANTS)}")
    parser.add_argument("--child", nargs=2, metavar=("N", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1])))
        return
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(
        f"{'records':>9} {'variant':>8} {'rows/s':>9} {'cpu s':>7} {'gen s':>6} {'wall s':>7} "
        f"{'base MiB':>8} {'peak MiB':>8} {'Δ MiB':>6} {'tmp MiB':>7} {'log MiB':>7} {'tickets':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        for variant in args.variants.split(","):
            run = subprocess.run([sys.executable, __file__, "--child", str(size), variant], env=env,
                                 capture_output=True, text=True, check=False)  # fmt: skip
            if run.returncode != 0:
                print(
                    f"{size:>9,} {variant:>8} failed (exit {run.returncode}):\n{run.stderr[-2000:]}",
                    flush=True,
                )
                continue
            r = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{r['n']:>9,} {r['variant']:>8} {r['n'] / r['cpu_s']:>9,.0f} {r['cpu_s']:>7.1f} "
                  f"{r['gen_s']:>6.1f} {r['wall_s']:>7.1f} {r['base_mb']:>8.1f} {r['peak_mb']:>8.1f} "
                  f"{r['peak_mb'] - r['base_mb']:>6.1f} {r['tmp_mb']:>7.1f} {r['log_mb']:>7.1f} "
                  f"{r['tickets']:>8,}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
