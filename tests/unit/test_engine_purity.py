"""The engine is pure: it must never import AWS SDKs, powertools, or the adapters (STYLE: a pure engine)."""

import ast
import pathlib

import slaclock.engine

FORBIDDEN = ("boto3", "botocore", "pynamodb", "aws_lambda_powertools", "slaclock.adapters",
             "slaclock.runtime", "slaclock.services", "yaml", "pydantic", "requests")  # fmt: skip


def _imports(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_modules_import_nothing_from_aws_or_the_edges():
    root = pathlib.Path(slaclock.engine.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert files, "engine package not found"
    offenders = {
        f"{f.relative_to(root)} imports {name}"
        for f in files
        for name in _imports(f)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not offenders, sorted(offenders)


def test_the_purity_check_itself_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import boto3\nfrom botocore.config import Config\n")
    assert {"boto3", "botocore.config"} <= _imports(bad)
