"""`slaclock import PROVIDER FILE... [--config FILE] [--source NAME] [--out FILE|-] [--strict]`

Turns a helpdesk's own history export (see `slaclock.history`: Zendesk ticket audits, Jira issues
with changelog and comments, Help Scout conversations with threads, Freshdesk tickets with
conversations, Intercom conversations with parts) into canonical events, one JSON
document per line: the input of ``slaclock replay --events``. `--out` defaults to ``-`` (standard
output); a file is written as ``FILE.part`` and renamed once complete, so a failed import leaves no
half file behind.

The source's `options` and `ticket_prefix` come from the configuration: ``--config sla.yaml`` with
``--source NAME`` (or the one source of that provider in it). Without ``--config``, the provider's
defaults apply (no options, no prefix).

A record that cannot be read is reported on stderr as ``FILE: POSITION: why`` (the first 20; then
only counted) and skipped; with ``--strict`` the first one stops the import (exit 1; an ``--out`` file
is not created, while standard output may already have received the events before it).

Exit status: 0 done (even with skipped records: they are counted in the summary on stderr); 1 a file
cannot be read or written, the configuration is invalid or names no such source, or a malformed
record with ``--strict``; 2 an unknown provider.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from slaclock.engine.config import Source
from slaclock.engine.errors import SlaclockError, ValidationError
from slaclock.engine.events import Event
from slaclock.history import FORMAT_NAMES, RecordError, history_format, read_file

MAX_REPORTED = 20
"""Malformed records printed one by one; beyond that they are only counted."""


class _FatalError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args, sys.stdout, sys.stderr)
    except _FatalError as e:
        sys.stderr.write(f"slaclock import: {e}\n")
        return e.code
    except SlaclockError as e:  # an invalid configuration: every error, one per line
        sys.stderr.write(f"slaclock import: {e}\n")
        return 1


def _source(args: argparse.Namespace) -> Source:
    provider: str = args.provider
    if not args.config:
        if args.source:
            raise _FatalError("--source needs --config (the file that defines the source)")
        return Source(name=provider, provider=provider)
    from slaclock.adapters.config_file import load_config_file

    config = load_config_file(args.config)
    if args.source:
        source = config.sources.get(args.source)
        if source is None:
            known = ", ".join(sorted(config.sources)) or "none"
            raise _FatalError(f"{args.config} defines no source {args.source!r} (sources: {known})")
        if source.provider != provider:
            raise _FatalError(f"source {args.source!r} is a {source.provider} source, not {provider}")
        return source
    matching = [s for s in config.sources.values() if s.provider == provider]
    if len(matching) != 1:
        names = ", ".join(s.name for s in matching)
        why = f"several {provider} sources ({names})" if matching else f"no {provider} source"
        raise _FatalError(f"{args.config} has {why}: name one with --source")
    return matching[0]


@contextmanager
def _output(target: str, out: TextIO) -> Iterator[TextIO]:
    if target == "-":
        yield out
        out.flush()
        return
    final = Path(target)
    part = final.with_name(final.name + ".part")
    try:
        handle = part.open("w", encoding="utf-8", newline="\n")
    except OSError as e:
        raise _FatalError(f"cannot write {target!r}: {e.strerror or e}") from None
    try:
        with handle:
            yield handle
        part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _importable(
    result: list[Event] | RecordError, source: Source, now: datetime
) -> tuple[Sequence[Event], str | None]:
    """A record's events with the source's ``ticket_prefix``, or why the record is malformed: it is
    not one the format reads, or its events break what a live delivery may store
    (`services.ingest.event_problems`: id lengths, lone surrogates, field types and size, an instant
    more than a day after `now`), which the webhook would answer 400 and so never hold."""
    from slaclock.services.ingest import event_problems, with_ticket_prefix

    if isinstance(result, RecordError):
        return (), str(result)
    prefixed = list(with_ticket_prefix(result, source.ticket_prefix))
    problems = event_problems(prefixed, now)
    if problems:
        return (), "; ".join(f"{at}: {text}" for at, text in problems)
    return prefixed, None


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        fmt = history_format(args.provider)
    except ValueError as e:
        raise _FatalError(str(e), code=2) from None
    source = _source(args)
    started = datetime.now(UTC)  # "now" of the live checks: no event may be dated a day after it

    records = events = malformed = 0
    tickets: set[str] = set()

    def skip(message: str) -> None:
        nonlocal malformed
        if args.strict:
            raise _FatalError(message + " (--strict: stopping)")
        malformed += 1
        if malformed <= MAX_REPORTED:
            err.write(f"slaclock import: skipped {message}\n")

    with _output(args.out, out) as sink:
        for name in args.files:
            path = Path(name)
            try:
                for where, result in read_file(path, fmt, source):
                    records += 1
                    prefixed, problem = _importable(result, source, started)
                    if problem is not None:
                        skip(f"{path}: {where}: {problem}")
                        continue
                    for event in prefixed:
                        sink.write(json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")))
                        sink.write("\n")
                        events += 1
                        tickets.add(event.ticket_id)
            except RecordError as e:  # the file as a whole is not JSON
                skip(f"{path}: {e}")
            except OSError as e:
                raise _FatalError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
            except ValidationError as e:  # e.g. options.timezone is not a time zone
                raise _FatalError(f"{path}: {'; '.join(e.messages())}") from None
    if malformed > MAX_REPORTED:
        err.write(
            f"slaclock import: skipped {malformed - MAX_REPORTED} more malformed records (not listed)\n"
        )
    if not args.quiet:
        skipped = f", {malformed:,} malformed skipped" if malformed else ""
        err.write(
            f"Imported {_plural(events, 'event')} for {_plural(len(tickets), 'ticket')} from"
            f" {_plural(records, args.provider + ' record')}{skipped} (source {source.name})\n"
        )
    return 0


__all__ = ["FORMAT_NAMES", "run"]
