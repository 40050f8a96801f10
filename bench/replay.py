"""Replay benchmark: `slaclock replay` on generated files of 10k, 100k (and 1M) tickets.

    .venv/bin/python bench/replay.py                             # streamed command, 10k and 100k tickets
    .venv/bin/python bench/replay.py --sizes 10000,100000,1000000  # and 1M (~5M events, a few GB of disk)
    .venv/bin/python bench/replay.py --in-memory --sizes 2000 --profile

By default, for each size it writes a seeded events file, then runs the `slaclock replay` command itself
(the streamed path, `commands._stream`) in a fresh process with 1 worker and with 2, and the
parse-and-sort floor (`floor_once`), and prints one row: peak RSS of the largest process, events/s on
one worker, the 2-worker speed-up (wall time), the ratio to the floor, and whether the 1- and 2-worker
outputs are identical.

With ``--in-memory`` it measures the in-memory pieces instead (the path of a JSON array input and of
``--sort``), as follows. For each size it writes a seeded events file (slaclock_local.sample,
examples/sla.yaml's vocabulary) into a temporary directory, then replays it IN A FRESH PROCESS
through the command's own code path (`slaclock.commands.replay`: read + parse the JSON Lines,
`Replay`, `write_reports` writing sla_log.csv, compliance.csv grouped by level and metric, and
summary.html), and prints one row:

- events/s: events read / CPU time of read + replay + write (``time.process_time``: the process is
  single-threaded, so this is one core; the wall time is shown too, it suffers when the machine is busy).
  Each size is replayed ``--repeat`` times (default 3), each time in a fresh process, and the row shows
  the run with the least CPU time: on a shared machine the other runs measure the neighbours too (their
  events/s are listed under the table);
- memory: the process's peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), its RSS
  after imports and configuration (baseline) and right after the events were read (held), all from
  the kernel — not tracemalloc, which would slow the run several times. ``B/event`` is
  (peak − baseline) / events; ``write Δ`` is peak − held: what replaying and writing every row added
  on top of the events held. A streaming writer keeps it small however many rows are written.

Then the smallest size runs once more under tracemalloc (Python allocations, exact but slow, not
timed): the memory the events hold once read, and the peak while replaying and writing every row.
``--profile`` runs it once more under cProfile and prints where the time goes, by function and module.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "sla.yaml"
GOAL = 50_000


def _rss_now_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def replay_once(events_path: Path, out_dir: Path) -> dict[str, float]:
    """One replay through the command's pieces, timed. Runs in the child process."""
    from slaclock.adapters.config_file import load_config_file
    from slaclock.commands.replay import Progress, ReadStats, read_events
    from slaclock.engine.replay import Replay, write_reports

    config = load_config_file(CONFIG)
    baseline = _rss_now_mb()
    progress = Progress(sys.stderr, enabled=False)
    read = ReadStats()
    t0, c0 = time.perf_counter(), time.process_time()
    events = read_events(events_path, strict=False, report=lambda m: None, progress=progress, stats=read)
    c1 = time.process_time()
    held = _rss_now_mb()
    gc.freeze()  # as the command does once the events are read
    run = Replay(config, events, None)
    del events
    out_dir.mkdir(parents=True, exist_ok=True)
    with (
        (out_dir / "sla_log.csv").open("w", encoding="utf-8", newline="") as log,
        (out_dir / "compliance.csv").open("w", encoding="utf-8", newline="") as comp,
        (out_dir / "summary.html").open("w", encoding="utf-8", newline="") as page,
    ):
        stats = write_reports(
            config,
            run,
            sla_log=log,
            compliance=comp,
            summary=page,
            group_by=("level", "metric"),
            stats=run.stats,
        )
    t2, c2 = time.perf_counter(), time.process_time()
    return {
        "events": read.events,
        "tickets": stats.tickets,
        "rows": stats.clocks,
        "compliance_rows": stats.compliance_rows,
        "read_s": c1 - c0,
        "replay_write_s": c2 - c1,
        "total_s": c2 - c0,
        "wall_s": t2 - t0,
        "baseline_mb": baseline,
        "held_mb": held,
        "peak_mb": _rss_peak_mb(),
    }


def traced_once(events_path: Path) -> dict[str, float]:
    """The same replay under tracemalloc (slow, not timed): Python memory held by the events once read,
    and the peak while replaying and writing every report (to /dev/null). Runs in the child process."""
    import tracemalloc

    from slaclock.adapters.config_file import load_config_file
    from slaclock.commands.replay import Progress, ReadStats, read_events
    from slaclock.engine.replay import Replay, write_reports

    config = load_config_file(CONFIG)
    tracemalloc.start()
    progress = Progress(sys.stderr, enabled=False)
    events = read_events(
        events_path, strict=False, report=lambda m: None, progress=progress, stats=ReadStats()
    )
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    run = Replay(config, events, None)
    del events
    with open(os.devnull, "w", newline="") as log, open(os.devnull, "w", newline="") as comp:
        with open(os.devnull, "w") as page:
            stats = write_reports(
                config,
                run,
                sla_log=log,
                compliance=comp,
                summary=page,
                group_by=("level", "metric"),
                stats=run.stats,
            )
    peak = tracemalloc.get_traced_memory()[1]
    return {"events": stats.events, "rows": stats.clocks, "held": held, "peak": peak}


def _child(events_path: Path, out_dir: Path, mode: str = "--child") -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, mode, str(events_path), str(out_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def _generate(n_tickets: int, path: Path) -> tuple[int, float]:
    from slaclock_local.sample import generate_events, write_jsonl

    t0 = time.perf_counter()
    with path.open("w", encoding="utf-8") as f:
        count = write_jsonl(generate_events(n_tickets, seed=2026), f)
    return count, time.perf_counter() - t0


def _profile(events_path: Path, out_dir: Path, top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    replay_once(events_path, out_dir)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    print(stream.getvalue())
    by_module: dict[str, float] = {}
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = _module_of(filename)
        by_module[key] = by_module.get(key, 0.0) + tottime
        total += tottime
    print("Own time by module (cProfile tottime):")
    for key, seconds in sorted(by_module.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds:7.3f} s  {100 * seconds / total:5.1f}%  {key}")


def _module_of(filename: str) -> str:
    if "slaclock" in filename:
        return "slaclock/" + filename.split("slaclock/slaclock/", 1)[-1]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (json/csv/datetime C code, ...)"
    return Path(filename).name


def command_once(events_path: Path, out_dir: Path, workers: int) -> dict[str, float]:
    """`slaclock replay` itself (the streamed path), in this (fresh) process: wall and CPU time, peak
    RSS of the largest process (this one, or a worker: `RUSAGE_CHILDREN` counts the waited-for
    workers). Runs in the child process."""
    from slaclock.cli import main as cli

    t0 = time.perf_counter()
    code = cli(
        ["replay", "--config", str(CONFIG), "--events", str(events_path), "--out", str(out_dir),
         "--group-by", "level,metric", "--workers", str(workers), "--quiet"]
    )  # fmt: skip
    wall = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"slaclock replay exited {code}")
    return {
        "wall_s": wall,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
    }


def floor_once(events_path: Path) -> dict[str, float]:
    """The parse-and-sort floor: every line parsed by orjson into an `Event` (`parse_event`, one core)
    and the (ticket, instant, id) keys sorted — what any replay must at least do, without replaying
    anything. The events are not held (only their keys). It does not use the command's reader, so the
    floor stays the same whatever the reader does. Runs in the child process."""
    import orjson
    from slaclock.engine.events import parse_event

    keys: list[tuple[str, object, str]] = []
    add = keys.append
    loads = orjson.loads
    gc.disable()
    c0 = time.process_time()
    with events_path.open("rb") as f:
        for line in f:
            e = parse_event(loads(line))
            add((e.ticket_id, e.at, e.id))
    keys.sort()
    cpu = time.process_time() - c0
    return {"events": len(keys), "cpu_s": cpu}


def _measure(mode: str, *argv: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, mode, *argv], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def _streamed(sizes: list[int], work: Path, repeat: int) -> None:
    """The table of the streamed command: one row per size."""
    from slaclock.commands._stream import default_workers

    print(
        f"python {sys.version.split()[0]} on {os.uname().machine}, {default_workers()} cores, "
        f"config {CONFIG.relative_to(ROOT)}; `slaclock replay --group-by level,metric` in a fresh process"
    )
    header = (
        f"{'tickets':>9} {'events':>10} {'1w wall s':>9} {'1w CPU s':>8} {'events/s':>9} {'peak MiB':>8}"
        f" {'2w wall s':>9} {'2w peak':>7} {'speed-up':>8} {'floor s':>7} {'x floor':>7} {'same':>4}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        path = work / f"events-{n}.jsonl"
        events, _ = _generate(n, path)
        one, two = (
            min(
                (
                    _measure("--command-child", str(path), str(work / f"out-{n}-{w}"), w)
                    for _ in range(repeat)
                ),
                key=lambda r: r["wall_s"],
            )
            for w in ("1", "2")
        )
        floor = min((_measure("--floor-child", str(path)) for _ in range(repeat)), key=lambda r: r["cpu_s"])
        same = all(
            (work / f"out-{n}-1" / name).read_bytes() == (work / f"out-{n}-2" / name).read_bytes()
            for name in ("sla_log.csv", "compliance.csv", "summary.html")
        )
        print(
            f"{n:>9,} {events:>10,} {one['wall_s']:>9.2f} {one['cpu_s']:>8.2f} {events / one['cpu_s']:>9,.0f}"
            f" {one['peak_mb']:>8.0f} {two['wall_s']:>9.2f} {two['peak_mb']:>7.0f}"
            f" {one['wall_s'] / two['wall_s']:>7.2f}x {floor['cpu_s']:>7.2f}"
            f" {one['cpu_s'] / floor['cpu_s']:>6.2f}x"
            f" {'yes' if same else 'NO':>4}",
            flush=True,
        )
        for suffix in ("1", "2"):
            shutil.rmtree(work / f"out-{n}-{suffix}", ignore_errors=True)
        path.unlink()
    print(
        "events/s = events / CPU s with 1 worker; peak = largest process's RSS; speed-up = 1-worker wall"
        " / 2-worker wall; x floor = 1-worker CPU / parse-and-sort CPU; same = 1- and 2-worker outputs"
        " identical"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="slaclock replay benchmark")
    p.add_argument("--sizes", default="10000,100000", help="tickets per file, comma-separated (add 1000000)")
    p.add_argument(
        "--in-memory", action="store_true", help="the in-memory pieces (JSON arrays, --sort) instead"
    )
    p.add_argument("--profile", action="store_true", help="cProfile the smallest size (with --in-memory)")
    p.add_argument("--keep", metavar="DIR", help="keep the generated files and reports in DIR")
    p.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run of the smallest size")
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per measure, best shown (default 3 in-memory, 1 streamed)",
    )
    p.add_argument("--child", nargs=2, metavar=("EVENTS", "OUT"), help=argparse.SUPPRESS)
    p.add_argument("--traced-child", nargs=2, metavar=("EVENTS", "OUT"), help=argparse.SUPPRESS)
    p.add_argument("--command-child", nargs=3, metavar=("EVENTS", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    p.add_argument("--floor-child", metavar="EVENTS", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(replay_once(Path(args.child[0]), Path(args.child[1]))))
        return 0
    if args.traced_child:
        print(json.dumps(traced_once(Path(args.traced_child[0]))))
        return 0
    if args.command_child:
        events, out, workers = args.command_child
        print(json.dumps(command_once(Path(events), Path(out), int(workers))))
        return 0
    if args.floor_child:
        print(json.dumps(floor_once(Path(args.floor_child))))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="slaclock-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.in_memory:
            repeat = max(1, args.repeat or 3)
            _run(sizes, work, profile=args.profile, trace=not args.no_trace, repeat=repeat)
        else:
            _streamed(sizes, work, max(1, args.repeat or 1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _run(sizes: list[int], work: Path, *, profile: bool, trace: bool, repeat: int = 1) -> None:
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, config {CONFIG.relative_to(ROOT)}")
    columns = [  # (title, width, value of a result row)
        ("tickets", 8, lambda r: f"{r['tickets']:,.0f}"),
        ("events", 8, lambda r: f"{r['events']:,.0f}"),
        ("read s", 7, lambda r: f"{r['read_s']:.2f}"),
        ("replay+write s", 14, lambda r: f"{r['replay_write_s']:.2f}"),
        ("CPU s", 7, lambda r: f"{r['total_s']:.2f}"),
        ("wall s", 7, lambda r: f"{r['wall_s']:.2f}"),
        ("events/s", 9, lambda r: f"{r['events'] / r['total_s']:,.0f}"),
        ("peak MB", 8, lambda r: f"{r['peak_mb']:.0f}"),
        ("base MB", 8, lambda r: f"{r['baseline_mb']:.0f}"),
        ("held MB", 8, lambda r: f"{r['held_mb']:.0f}"),
        ("write Δ MB", 10, lambda r: f"{r['peak_mb'] - r['held_mb']:.0f}"),
        ("B/event", 8, lambda r: f"{(r['peak_mb'] - r['baseline_mb']) * 2**20 / max(r['events'], 1):,.0f}"),
        ("rows", 8, lambda r: f"{r['rows']:,.0f}"),
    ]
    header = " ".join(f"{title:>{width}}" for title, width, _ in columns)
    print(header)
    print("-" * len(header))
    results = []
    rates: dict[int, list[float]] = {}
    for n in sizes:
        path = work / f"events-{n}.jsonl"
        _generate(n, path)
        runs = [_child(path, work / f"out-{n}") for _ in range(repeat)]
        r = min(runs, key=lambda run: run["total_s"])
        rates[n] = [run["events"] / run["total_s"] for run in runs]
        results.append(r)
        print(" ".join(f"{value(r):>{width}}" for _, width, value in columns), flush=True)
    if repeat > 1:
        for n in sizes:
            listed = ", ".join(f"{rate:,.0f}" for rate in rates[n])
            print(f"  {n:,} tickets, events/s of the {repeat} runs: {listed} (best shown)")
    worst = min(r["events"] / r["total_s"] for r in results)
    verdict = "met" if worst >= GOAL else "MISSED"
    print(f"goal >= {GOAL:,} events/s on one core: {verdict} (slowest size: {worst:,.0f} events/s)")
    smallest = min(sizes)
    if trace:
        t = _child(work / f"events-{smallest}.jsonl", work / "out-traced", "--traced-child")
        mib = 2**20
        print(
            f"tracemalloc, {smallest:,} tickets: events held {t['held'] / mib:.1f} MiB "
            f"({t['held'] / t['events']:,.0f} B/event); peak while replaying and writing "
            f"{t['rows']:,.0f} rows {t['peak'] / mib:.1f} MiB "
            f"(+{(t['peak'] - t['held']) / mib:.1f} MiB over the events held)"
        )
    if profile:
        print(f"\ncProfile, {smallest:,} tickets:")
        _profile(work / f"events-{smallest}.jsonl", work / "out-profile")


if __name__ == "__main__":
    sys.exit(main())
