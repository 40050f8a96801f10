"""The docs, examples and docstrings explain themselves: none cites a design document the project does
not ship (``DESIGN §3``), and configuration.md promises no admin API the stack does not have."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SKIP = {".venv", ".git", "node_modules", ".aws-sam", "out"}


def _files():
    for path in ROOT.rglob("*"):
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".toml"} and not SKIP & set(
            path.relative_to(ROOT).parts
        ):
            yield path


def test_no_file_cites_a_design_document_the_project_does_not_have():
    assert not (ROOT / "DESIGN.md").exists()
    cites = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _files()
        if p.name != Path(__file__).name
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if re.search(r"\bDESIGN\b", line)
    ]
    assert cites == []


def test_configuration_md_promises_no_admin_api():
    text = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    has_admin = (ROOT / "functions/admin").exists()
    assert has_admin or "admin API" not in text
