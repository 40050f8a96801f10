"""`slaclock local up|emails` live in the development package slaclock_local (infra/local): the CLI
finds them there, and says how to install it when it is absent instead of a traceback."""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder
from pathlib import Path

import pytest
from slaclock import cli


class _NotInstalled(MetaPathFinder):
    """slaclock_local as on a machine that installed slaclock alone (pip install slaclock)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "slaclock_local":
            raise ModuleNotFoundError(f"No module named {name!r}", name="slaclock_local")
        return None


@pytest.fixture
def without_local_stack(monkeypatch):
    for name in [m for m in sys.modules if m.split(".")[0] == "slaclock_local"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NotInstalled(), *sys.meta_path])


@pytest.mark.parametrize("argv", [["local", "up", "--port", "1"], ["local", "emails", "--port", "1"]])
def test_local_commands_without_the_dev_package_exit_2_with_how_to_install(without_local_stack, argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "local embedded stack is not installed" in err and "pip install -e infra/local" in err
    assert "Traceback" not in err


def test_local_emails_runs_from_the_dev_package(capsys):
    # no stack on port 1: the command itself (slaclock_local.local_emails) answers, exit 1
    assert cli.main(["local", "emails", "--port", "1"]) == 1
    assert "no local stack answers on 127.0.0.1:1" in capsys.readouterr().err


def test_the_slaclock_package_no_longer_holds_the_local_stack():
    import slaclock

    package = Path(slaclock.__file__).parent
    # (a leftover local/__pycache__ of an older checkout is untracked and holds no source)
    assert list((package / "local").glob("*.py")) == []
    assert not (package / "demo.py").exists() and not (package / "sample.py").exists()
