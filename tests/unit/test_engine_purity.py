"""The engine is pure (STYLE: a pure engine, enforced).

`slaclock.engine` may import only the standard library, `holidays` (and `tzdata` through zoneinfo), and
itself: never boto3, botocore, pynamodb, powertools, pydantic, yaml, or the edges of slaclock. And it never
reads the clock: `now` is always a parameter.
"""

import ast
import pathlib
import sys

import pytest
import slaclock.engine

ALLOWED_THIRD_PARTY = {"holidays"}
CLOCK_READS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _engine_files() -> list[pathlib.Path]:
    root = pathlib.Path(slaclock.engine.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 5, "engine package not found"
    return files


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden_imports(tree: ast.AST) -> set[str]:
    bad = set()
    for name in _imports(tree):
        top = name.split(".")[0]
        if name == "slaclock.engine" or name.startswith("slaclock.engine."):
            continue
        if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
            continue
        bad.add(name)
    return bad


def _clock_reads(tree: ast.AST) -> set[str]:
    """Calls like datetime.now(), date.today(), time.time(): reading the wall clock."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.func.attr in CLOCK_READS and owner_name in {"datetime", "date", "time"}:
                found.add(f"{owner_name}.{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.name)
def test_engine_module_imports_only_stdlib_holidays_and_the_engine(path):
    assert not _forbidden_imports(ast.parse(path.read_text(), str(path)))


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.name)
def test_engine_module_never_reads_the_clock(path):
    assert not _clock_reads(ast.parse(path.read_text(), str(path)))


def test_the_checks_catch_what_they_forbid():
    tree = ast.parse(
        "import boto3\nfrom botocore.config import Config\nimport yaml\nfrom slaclock.adapters import s3\n"
        "import json, holidays\nfrom slaclock.engine.events import Event\n"
        "x = datetime.now(UTC)\ny = date.today()\nz = time.time()\nw = t.replace(hour=1)\n"
    )
    assert _forbidden_imports(tree) == {"boto3", "botocore.config", "yaml", "slaclock.adapters"}
    assert _clock_reads(tree) == {"datetime.now()", "date.today()", "time.time()"}
