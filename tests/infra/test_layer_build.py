"""The built layer is the tested layer: layers/slaclock/Makefile's build (what `sam build` runs), zipped
as `sam package` zips it and extracted as Lambda extracts it (every file dated 1980), imported by a
python3.12 with only the function's folder, the layer and the standard library on sys.path.

Needs a CPython 3.12 (the runtime's version: $SLACLOCK_PYTHON312, python3.12 on the PATH or pyenv's) and
PyPI for the layer's wheels (pip's cache makes a second run fast)."""

from __future__ import annotations

import ast
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from slaclock_local import layer as shipped

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "slaclock" / "requirements.txt"
PYTHON312 = shipped.find_python312()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PYTHON312 is None and not os.environ.get("CI"),
        reason="no CPython 3.12 here (set SLACLOCK_PYTHON312): the layer is built for python3.12",
    ),
]

DEV_ONLY_MODULES = {"moto", "slaclock_local", "pytest", "hypothesis", "requests"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert PYTHON312, "CI must have a CPython 3.12 to build the layer"
    return shipped.build_layer(tmp_path_factory.mktemp("layer") / "artifacts", python=PYTHON312)


@pytest.fixture(scope="module")
def opt(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged zip extracted as Lambda extracts it: /opt (its python/ is the layer's site)."""
    work = tmp_path_factory.mktemp("packaged")
    zipped = shipped.package_zip(built.parent, work / "layer.zip")
    return shipped.extract_as_lambda(zipped, work / "opt")


@pytest.fixture(scope="module")
def task_roots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Each function's folder as sam build copies it (/var/task), without local bytecode."""
    base = tmp_path_factory.mktemp("task")
    roots = {}
    for folder in (ROOT / "functions").iterdir():
        if (folder / "handler.py").is_file():
            roots[folder.name] = base / folder.name
            shutil.copytree(folder, roots[folder.name], ignore=shutil.ignore_patterns("__pycache__"))
    yield roots


def _pins() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_the_build_installs_exactly_the_pinned_requirements(built):
    installed = {}
    for dist in built.glob("*.dist-info"):
        name, version = dist.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert installed == _pins()


def test_the_layer_holds_the_runtime_package_only(built):
    package = built / "slaclock"
    top = {p.name for p in package.iterdir() if p.name != "__pycache__"}
    assert {"engine", "helpdesk", "services", "adapters", "runtime", "ports.py"} <= top
    # the local stack, the demo, the sample generator (dev only) and the operator CLI stay out
    assert top.isdisjoint({"local", "demo.py", "sample.py", "cli.py", "commands", "history"}), sorted(top)
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_bytes(), str(source))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] not in DEV_ONLY_MODULES, (
                    f"{source.relative_to(built)} imports {name}"
                )


def test_every_module_ships_unchecked_hash_bytecode_for_python312(built):
    sources = [p for p in built.rglob("*.py") if p.parent.name != "__pycache__"]
    assert len(sources) > 1000  # the dependencies too, not only slaclock
    missing, checked = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not pyc.is_file():
            missing.append(str(source.relative_to(built)))
            continue
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")  # PEP 552: bit 0 hash-based, bit 1 checked
        if flags != 0b01:
            checked.append(str(source.relative_to(built)))
    assert missing == []
    assert checked == []


def test_the_packaged_layer_lands_dated_1980(opt):
    dates = {os.stat(p).st_mtime for p in (opt / "python" / "slaclock").rglob("*.py")}
    assert max(dates) < 315_619_200  # before 1980-01-03: sam package's zip entries carry no date


@pytest.mark.parametrize("tracing", ["Disabled", "Active"])
def test_every_handler_imports_from_the_shipped_layer_alone(opt, task_roots, tracing):
    """With the template's environment for that Tracing parameter, each handler's cold start succeeds,
    compiles nothing of the layer (the shipped bytecode is used although every file is dated 1980),
    and loads X-Ray only when tracing is on."""
    functions = shipped.function_environments({"Tracing": tracing})
    assert {Path(code).name for code, _ in functions.values()} <= set(task_roots)
    assert len(functions) >= 4
    for logical, (code, env) in functions.items():
        task = task_roots[Path(code).name]
        full_env = {
            **shipped.lambda_environment(f"slaclock-{logical}", task_root=task, tracing=tracing == "Active"),
            **env,
        }
        result = shipped.cold_import(PYTHON312 or "", opt / "python", task, ["handler"], full_env)
        layer_compiled = [p for p in result.compiled if p.startswith(str(opt))]
        assert layer_compiled == [], f"{logical} compiled {len(layer_compiled)} layer modules at cold start"
        assert ("aws_xray_sdk" in result.modules) is (tracing == "Active"), logical
        assert not result.modules & DEV_ONLY_MODULES, logical
