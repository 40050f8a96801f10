"""Move tests/unit/test_*.py into one folder per layer (tests/unit/<layer>/), with `git mv`.

    python tests/layout_unit_tests.py            # moves, prints what it did
    python tests/layout_unit_tests.py --check    # lists files that no rule places (exit 1 if any)

A test goes by what it drives: `engine` (the pure engine: calendars, config, rules, clocks, replay,
reports), `helpdesk` (providers' payloads and signatures, history exports, outgoing connectors),
`services` (the use cases over fakes), `runtime` (the edges: settings, HTTP mapping, the CLI and its
commands, the local stack, the docs). `LAYER` lists each file; a file it does not know is placed by
its name's prefix (`PREFIXES`), else reported. The only edits besides the moves follow from them: a
path computed from ``__file__`` (``Path(__file__).parents[N]``) gains one level, since each file sits
one folder deeper, and every tracked text file that names a moved test (``tests/unit/test_x.py``, or
the module ``tests.unit.test_x`` a test imports from) names its new place. Basenames stay unique
across tests/ (there are no ``__init__.py``). Re-run it after merging branches that add files to
tests/unit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parent / "unit"
LAYERS = ("engine", "helpdesk", "services", "runtime")

LAYER = {
    "engine": [
        "actions", "calendar", "calendar_properties", "clock_properties", "clock_walk", "clocks", "config",
        "durations", "engine_differentials", "engine_purity", "replay", "reports", "reports_engine",
        "reports_summary", "rules", "sample", "scheduling", "summary_page_render", "timeline",
        "responses", "time_split", "ticket_links",
    ],
    "helpdesk": [
        "chat_messages", "connector_echo", "connector_http", "connectors", "helpdesk_auth",
        "helpdesk_generic", "helpdesk_parse", "helpdesk_provider_specifics", "helpdesk_types",
        "history_import", "hostile_input_parts", "action_runner",
    ],
    "services": [
        "clock_snapshots", "notice_recipients", "report_equals_replay_use_cases", "report_links",
        "report_service", "report_service_schedule", "report_service_sort", "services_check",
        "services_ingest", "services_notify", "services_owed_race", "services_sweep",
        "breach_threshold", "report_columns_request",
    ],
    "runtime": [
        "admin_openapi", "cli_conventions", "cli_edges", "cli_local", "config_file", "diff_command",
        "docs_stand_alone", "local_stack_parts", "read_events_differential", "replay_command",
        "replay_stream", "runtime_edges", "settings", "validation_gaps", "diff_notices_page",
    ],
}  # fmt: skip
PREFIXES = {
    "engine": ("calendar", "clock", "config", "rules", "reports", "replay", "engine"),
    "helpdesk": ("helpdesk", "connector", "history"),
    "services": ("services", "report_service", "notice"),
    "runtime": ("cli", "runtime", "settings", "admin", "local"),
}
_FILE_PARENTS = re.compile(r"(__file__\)(?:\.resolve\(\))?\.parents\[)(\d+)(\])")


def layer_of(stem: str) -> str | None:
    name = stem.removeprefix("test_")
    for layer, names in LAYER.items():
        if name in names:
            return layer
    for layer, prefixes in PREFIXES.items():
        if name.startswith(prefixes):
            return layer
    return None


def main() -> int:
    loose = sorted(UNIT.glob("test_*.py"))
    unplaced = [p.name for p in loose if layer_of(p.stem) is None]
    if "--check" in sys.argv or unplaced:
        for name in unplaced:
            print(f"no layer for {name}: add it to LAYER", file=sys.stderr)
        return 1 if unplaced else 0
    moved: dict[str, str] = {}
    for path in loose:
        layer = layer_of(path.stem)
        assert layer is not None
        target = UNIT / layer / path.name
        target.parent.mkdir(exist_ok=True)
        subprocess.run(["git", "mv", str(path), str(target)], check=True)
        text = target.read_text(encoding="utf-8")
        deeper = _FILE_PARENTS.sub(lambda m: f"{m[1]}{int(m[2]) + 1}{m[3]}", text)
        if deeper != text:
            target.write_text(deeper, encoding="utf-8")
        print(f"{path.relative_to(UNIT.parent)} -> {target.relative_to(UNIT.parent)}")
        moved[path.stem] = layer
    if moved:
        rename_references(moved)
    return 0


def rename_references(moved: dict[str, str]) -> None:
    """Point every tracked text file's mentions of a moved test at its new place."""
    names = "|".join(sorted(moved, key=len, reverse=True))
    pattern = re.compile(rf"tests([/.])unit\1({names})\b")
    root = UNIT.parents[1]
    listed = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True)
    for rel in listed.stdout.splitlines():
        path = root / rel
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = pattern.sub(lambda m: f"tests{m[1]}unit{m[1]}{moved[m[2]]}{m[1]}{m[2]}", text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"references updated: {rel}")


if __name__ == "__main__":
    raise SystemExit(main())
