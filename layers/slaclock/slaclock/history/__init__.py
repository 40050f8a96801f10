"""A helpdesk's own history export -> canonical events (what `slaclock replay --events` reads).

One module per export format (`zendesk`: ticket audits; `jira`: issues with their changelog and
comments; `helpscout`: conversations with their threads; `freshdesk`: tickets with their
conversations; `intercom`: conversations with their parts). Each turns an export record into the very
document the provider's live webhook would have sent for each change, and hands it to that provider's
`parse` (`slaclock.helpdesk.<provider>`): the field mapping, the vocabulary tables and the source's
`options` are the webhook's own, so an imported history and live webhooks agree on every field (and,
where the provider's ids allow, on event ids).

A file holds one API response page (``{"audits": [...]}``), a JSON array of records, one record, or
JSON Lines of any of these (one page per line, as an export script appends them). `records` yields
each record with its position in the file (``line 3``, ``audits[17]``, ``line 3 audits[17]``).
A record that cannot be read raises `RecordError`; the command reports it with the file and position.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

from slaclock.engine import json_input
from slaclock.engine.config import Source
from slaclock.engine.events import Event


class RecordError(ValueError):
    """One export record cannot be turned into events (the message says why)."""


class HistoryFormat(Protocol):
    """A provider's export format. Implementations keep only what later records of the same ticket
    need (a Zendesk ticket's requester, for instance), never the events themselves."""

    provider: str
    record_keys: tuple[str, ...]
    """The keys of an API response page that hold the records (``("audits",)``; dotted for nested
    ones: ``"_embedded.conversations"``)."""

    def page(self, doc: Mapping[str, Any]) -> None:
        """Learn what a response page sideloads next to its records (Zendesk's ``users``)."""
        ...

    def events(self, record: Any, source: Source) -> list[Event]:
        """The canonical events of one record, in order. Raises `RecordError`."""
        ...


_REGISTRY: dict[str, tuple[str, str]] = {
    "zendesk": ("slaclock.history.zendesk", "ZendeskAudits"),
    "jira": ("slaclock.history.jira", "JiraIssues"),
    "helpscout": ("slaclock.history.helpscout", "HelpScoutConversations"),
    "freshdesk": ("slaclock.history.freshdesk", "FreshdeskTickets"),
    "intercom": ("slaclock.history.intercom", "IntercomConversations"),
}

FORMAT_NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""The providers `slaclock import` reads."""


def history_format(provider: str) -> HistoryFormat:
    """A fresh reader for `provider`'s export (its per-ticket memory starts empty).

    Raises `ValueError` naming the providers that can be imported."""
    if provider not in _REGISTRY:
        raise ValueError(f"cannot import {provider!r} history (importable: {', '.join(FORMAT_NAMES)})")
    module_name, class_name = _REGISTRY[provider]
    made: HistoryFormat = getattr(importlib.import_module(module_name), class_name)()
    return made


def records(handle: IO[bytes], fmt: HistoryFormat) -> Iterator[tuple[str, Any]]:
    """(position, record) for every record of an export file (see the module docstring).

    The file is read as JSON Lines when its first non-blank line is a JSON document by itself and
    more follows, else as one JSON document. A line that is not JSON is yielded as a `RecordError`
    in place of its record (so the caller reports it and goes on); a file that is not JSON at all
    raises `RecordError`."""
    first: bytes | None = None
    first_number = 0
    for number, raw in enumerate(handle, 1):
        if raw.strip(b" \t\r\n\xef\xbb\xbf"):
            first, first_number = raw, number
            break
    if first is None:
        return
    try:
        first_doc = _loads(first)
    except RecordError:
        rest = first + handle.read()  # one JSON document over several lines
        yield from _page(_loads(rest, whole=True), fmt, "")
        return
    yield from _page(first_doc, fmt, f"line {first_number}")
    for number, raw in enumerate(handle, first_number + 1):
        if not raw.strip():
            continue
        try:
            doc = _loads(raw)
        except RecordError as e:
            yield f"line {number}", e
            continue
        yield from _page(doc, fmt, f"line {number}")


def _loads(raw: bytes, *, whole: bool = False) -> Any:
    """One JSON document (`engine.json_input.loads`, the decoder of the live webhooks, with their
    limits); a syntax error names its column within the line (and its line, for a `whole` file)."""
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        raise RecordError("not UTF-8 text") from None
    if not whole:
        text = text.rstrip("\r\n")  # an error at the end of the line is placed on it, not after it
    try:
        return json_input.loads(text)
    except json_input.JsonLimitError as e:
        raise RecordError(e.msg) from None
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}" if whole else f"column {e.pos + 1}"
        raise RecordError(f"not valid JSON ({e.msg} at {where})") from None


def _page(doc: Any, fmt: HistoryFormat, where: str) -> Iterator[tuple[str, Any]]:
    prefix = f"{where} " if where else ""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield f"{prefix}[{i}]", item
        return
    if isinstance(doc, Mapping):
        for key in fmt.record_keys:
            items = _dig(doc, key)
            if isinstance(items, list):
                fmt.page(doc)
                for i, item in enumerate(items):
                    yield f"{prefix}{key}[{i}]", item
                return
    yield where or "document", doc  # one record on its own (the reader says if it is not one)


def _dig(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def read_file(
    path: Path, fmt: HistoryFormat, source: Source
) -> Iterator[tuple[str, list[Event] | RecordError]]:
    """(position, events or the error) for every record of `path` (``-``: standard input, read whole
    first). `OSError` if it cannot be read."""
    opened = io.BytesIO(sys.stdin.buffer.read()) if str(path) == "-" else path.open("rb")
    with opened as handle:
        for where, record in records(handle, fmt):
            if isinstance(record, RecordError):
                yield where, record
                continue
            try:
                yield where, fmt.events(record, source)
            except RecordError as e:
                yield where, e


__all__ = ["FORMAT_NAMES", "HistoryFormat", "RecordError", "history_format", "read_file", "records"]
