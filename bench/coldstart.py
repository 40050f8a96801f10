"""Cold start as shipped: each handler's import from the packaged layer vs ``import boto3`` from the
same folder, in one run.

    .venv/bin/python bench/coldstart.py                    # builds the layer, 5 rounds
    .venv/bin/python bench/coldstart.py --rounds 9 --tracing --layer-zip out/layer.zip

What it measures (the same artefact tests/infra/test_layer_build.py checks, `slaclock_local.layer`):

1. the layer built by layers/slaclock/Makefile (what ``sam build`` runs; for this machine's platform so
   that it imports here), zipped as ``sam package`` zips it (entries without a date) and extracted as
   Lambda extracts it: every file dated 1980-01-01, as under /opt;
2. each function's folder copied without local bytecode (/var/task);
3. per round, in fresh python3.12 processes (``-I -S -B``: only the function's folder, the layer and the
   standard library on sys.path, nothing written, as /opt is read-only), with the function's
   environment from template.yaml (Tracing=Disabled unless ``--tracing``) and Lambda's own
   variables: ``import boto3``, then ``import handler`` of every function. The time is the import's
   CPU time inside the process (``time.process_time``; interpreter start-up excluded, the same for
   both): on a shared machine, wall time mostly measures the neighbours (the median wall time is shown
   too). Each ratio is taken within a round, then the median over rounds is shown (the goal's figure),
   and best handler time / best boto3 time;
4. ``no .pyc``: the same layer with every ``__pycache__`` removed (what shipped before the Makefile
   compiled bytecode; a timestamp-checked .pyc dated by the build is stale on a 1980 file, the same).

Goal: every handler's import at most 1.5x ``import boto3``, as shipped.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from slaclock_local import layer as shipped

GOAL = 1.5


def _task_roots(work: Path, functions: dict[str, tuple[Path, dict[str, str]]]) -> dict[str, Path]:
    roots = {}
    for logical, (code, _) in functions.items():
        roots[logical] = work / "task" / Path(code).name
        shutil.copytree(code, roots[logical], ignore=shutil.ignore_patterns("__pycache__"))
    return roots


def _round(python: str, site: Path, functions: dict, roots: dict, tracing: bool) -> dict[str, float]:
    times = {}
    any_root = next(iter(roots.values()))
    base_env = shipped.lambda_environment("slaclock-bench", task_root=any_root, tracing=tracing)
    boto3 = shipped.cold_import(python, site, any_root, ["boto3"], base_env)
    times["boto3"], times["boto3 wall"] = boto3.cpu_seconds, boto3.seconds
    for logical, (_, env) in functions.items():
        full = {
            **shipped.lambda_environment(f"slaclock-{logical}", task_root=roots[logical], tracing=tracing)
        }
        full |= env
        result = shipped.cold_import(python, site, roots[logical], ["handler"], full)
        times[logical], times[f"{logical} wall"] = result.cpu_seconds, result.seconds
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tracing", action="store_true", help="Tracing=Active (X-Ray SDK imported)")
    p.add_argument("--no-baseline", action="store_true", help="skip the 'no .pyc' columns")
    p.add_argument("--layer-zip", type=Path, help="also keep the packaged layer zip here")
    args = p.parse_args(argv)
    python = shipped.find_python312()
    if python is None:
        print("bench/coldstart.py needs a CPython 3.12 (set SLACLOCK_PYTHON312)", file=sys.stderr)
        return 2
    tracing = "Active" if args.tracing else "Disabled"
    with tempfile.TemporaryDirectory(prefix="slaclock-coldstart-") as tmp:
        work = Path(tmp)
        print(f"building the layer with {python} ...", file=sys.stderr, flush=True)
        built = shipped.build_layer(work / "artifacts", python=python)
        zipped = shipped.package_zip(built.parent, work / "layer.zip")
        if args.layer_zip:
            shutil.copyfile(zipped, args.layer_zip)
        opt = shipped.extract_as_lambda(zipped, work / "opt")
        variants = {"shipped": opt / "python"}
        if not args.no_baseline:
            bare = work / "opt-no-pyc"
            shutil.copytree(opt, bare, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
            variants["no .pyc"] = bare / "python"
        functions = shipped.function_environments({"Tracing": "Active" if args.tracing else "Disabled"})
        roots = _task_roots(work, functions)
        rounds: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for i in range(args.rounds):
            for name, site in variants.items():
                rounds[name].append(_round(python, site, functions, roots, args.tracing))
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        size_mib = zipped.stat().st_size / 2**20
    _print(rounds, functions, tracing, size_mib)
    shipped_ratios = [statistics.median(r[f] / r["boto3"] for r in rounds["shipped"]) for f in functions]
    return 0 if max(shipped_ratios) <= GOAL else 1


def _print(rounds: dict[str, list[dict[str, float]]], functions: dict, tracing: str, size_mib: float) -> None:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[name])

    def ratio(name: str, key: str) -> float:
        return statistics.median(r[key] / r["boto3"] for r in rounds[name])

    n = len(rounds["shipped"])
    print(f"\nTracing={tracing}, {n} rounds, packaged layer {size_mib:.1f} MiB zipped")
    boto3, boto3_wall = med("shipped", "boto3") * 1000, med("shipped", "boto3 wall") * 1000
    print(f"import boto3 from the layer: {boto3:.0f} ms CPU, {boto3_wall:.0f} ms wall (medians)", end="")
    if "no .pyc" in rounds:
        print(f"; {med('no .pyc', 'boto3') * 1000:.0f} ms CPU without .pyc")
    else:
        print()
    head = "| handler | import CPU ms | wall ms | import / boto3 (median of rounds) | best / best | goal |"
    sep = "| --- | ---: | ---: | ---: | ---: | ---: |"
    if "no .pyc" in rounds:
        head += " no .pyc: CPU ms | no .pyc: / boto3 | .pyc saves |"
        sep += " ---: | ---: | ---: |"
    print(head)
    print(sep)
    for logical in functions:
        r, ms = ratio("shipped", logical), med("shipped", logical)
        best = min(x[logical] for x in rounds["shipped"]) / min(x["boto3"] for x in rounds["shipped"])
        verdict = "met" if r <= GOAL else "MISSED"
        wall = med("shipped", f"{logical} wall")
        line = f"| {logical} | {ms * 1000:.0f} | {wall * 1000:.0f} | {r:.2f}x | {best:.2f}x"
        line += f" | ≤ {GOAL}x {verdict} |"
        if "no .pyc" in rounds:
            bare = med("no .pyc", logical)
            line += f" {bare * 1000:.0f} | {ratio('no .pyc', logical):.2f}x | {bare / ms:.1f}x |"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
