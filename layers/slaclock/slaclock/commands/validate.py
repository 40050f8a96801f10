"""`slaclock validate --config FILE`: check a configuration file without deploying it.

Valid: prints ``OK: 2 calendars, 2 levels, 3 rules, 2 sources`` to stdout (and any warnings, prefixed
``warning:``, to stderr) and returns 0. Invalid, unreadable or missing: prints ``FILE: invalid
configuration (N errors)`` then every error, one ``path: message`` per line, to stderr, and returns 1.
``--config -`` reads standard input (YAML, or JSON, which YAML reads too).
A file that cannot be read (missing, not UTF-8, unknown extension) gets one line, ``slaclock validate:
cannot read FILE: No such file or directory``, and 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from slaclock.adapters.config_file import ConfigFileError, load_config_file, load_config_text
from slaclock.engine.config import Config
from slaclock.engine.errors import ConfigError


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def print_warnings(config: Config, stream: TextIO) -> None:
    """Every warning of `config`, one ``warning: path: message`` line each (validate and replay)."""
    for path, message in config.warnings:
        stream.write(f"warning: {path}: {message}\n" if path else f"warning: {message}\n")
    stream.flush()


def run(args: argparse.Namespace) -> int:
    try:
        if args.config == "-":  # standard input: YAML (a JSON document is YAML too)
            config = load_config_text(sys.stdin.read(), "yaml")
        else:
            config = load_config_file(args.config)
    except ConfigFileError as e:
        print(f"slaclock validate: {e.messages()[0]}", file=sys.stderr)
        return 1
    except ConfigError as e:
        print(f"{args.config}: {e.what} ({_count(len(e.errors), 'error')})", file=sys.stderr)
        for line in e.messages():
            print(line, file=sys.stderr)
        return 1
    print_warnings(config, sys.stderr)
    counts = [
        _count(len(config.calendars), "calendar"),
        _count(len(config.levels), "level"),
        _count(len(config.rules), "rule"),
        _count(len(config.sources), "source"),
    ]
    print("OK: " + ", ".join(counts))
    return 0
