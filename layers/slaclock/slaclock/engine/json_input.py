"""JSON text from outside, decoded one way on every surface: webhook and admin API bodies,
configuration files, event files and helpdesk exports.

`loads` is the standard library's decoder (RFC 8259) with what no sender needs refused, as a
`JsonLimitError` naming it:

- ``NaN``, ``Infinity`` and ``-Infinity``: not JSON (the standard library accepts them);
- numbers beyond a double's range (``1e999``, which would become ``inf``);
- integers of more than `MAX_INTEGER_DIGITS` digits (Python refuses those of more than 4,300 digits
  with a message about its own settings, and converts the others in quadratic time);
- arrays and objects nested deeper than `MAX_JSON_DEPTH`. The C decoder recurses once per level, so
  a text nested thousands deep raises `RecursionError` while it is decoded: that is caught and
  reported the same way, and the depth of what does decode is checked without recursion.

Lone UTF-16 surrogates (``"\\ud800"``) are valid JSON and are kept: an id or a field that holds one is
refused where the value is checked. `JsonLimitError` is a `json.JSONDecodeError` (so a `ValueError`):
whatever already handles a syntax error handles a refusal too; a caller that shows positions tells
the two apart with ``isinstance``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from slaclock.engine.limits import MAX_INTEGER_DIGITS, MAX_JSON_DEPTH


class JsonLimitError(json.JSONDecodeError):
    """A JSON text slaclock refuses although it may parse (see the module docstring); `msg` says why.
    Its position is the start of the text: the decoder does not report where a literal was."""

    def __init__(self, message: str, doc: str = "", pos: int = 0) -> None:  # pickles as its base does
        super().__init__(message, doc, pos)
        self.args = (message,)

    def __str__(self) -> str:
        return self.msg


class _Refused(Exception):  # noqa: N818 - internal: raised inside the decoder's hooks, never escapes
    pass


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON: numbers must be finite")


def _integer(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        raise _Refused(f"an integer of {digits} digits (at most {MAX_INTEGER_DIGITS})")
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal[:20] + ("..." if len(literal) > 20 else "")
        raise _Refused(f"the number {shown} is out of range")
    return value


TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels"


def loads(
    text: str | bytes,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The document of JSON `text` (bytes are decoded as UTF-8: a `UnicodeDecodeError` otherwise).
    Raises `json.JSONDecodeError` for a syntax error and `JsonLimitError` for a refusal."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    try:
        doc = json.loads(
            text, parse_constant=_constant, parse_int=_integer, parse_float=_float,
            object_pairs_hook=object_pairs_hook,
        )  # fmt: skip
    except _Refused as e:
        raise JsonLimitError(str(e)) from None  # not the text: an error must not hold a 1 MiB body
    except RecursionError:  # the C decoder recurses per level: far deeper than MAX_JSON_DEPTH
        raise JsonLimitError(TOO_DEEP) from None
    if nested_deeper(doc, MAX_JSON_DEPTH):
        raise JsonLimitError(TOO_DEEP)
    return doc


def nested_deeper(doc: Any, limit: int) -> bool:
    """Whether the lists and dicts of the tree `doc` (as JSON decodes: nothing shared) nest deeper
    than `limit` levels, the document itself being level 1. Iterative, over the containers only: its
    cost is the number of values, whatever the depth. (A document with shared parts, as YAML aliases
    make, is measured by `shared_document_problem`.)"""
    if doc.__class__ is not dict and doc.__class__ is not list:
        return False
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if node.__class__ is dict else node:
            if child.__class__ is dict or child.__class__ is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def shared_document_problem(doc: Any, max_depth: int, max_values: int) -> str | None:
    """What is wrong with a document whose lists and dicts may be shared or contain themselves (YAML
    anchors and aliases), None if nothing: nesting deeper than `max_depth` levels (`nested_deeper`'s
    count; a container inside itself nests infinitely deep), or more than `max_values` values once
    every alias is read as a copy of what it names, as every reader of the document will (a "billion
    laughs" text of a few lines names a billion values). Each distinct container is measured once, so
    the cost is that of the text, not of its expansion."""
    if doc.__class__ is not dict and doc.__class__ is not list:
        return None
    measured: dict[int, tuple[int, int]] = {}  # id -> (levels from it down, values in it, itself included)
    opened: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        children = node.values() if node.__class__ is dict else node
        inner = [c for c in children if c.__class__ is dict or c.__class__ is list]
        if closing:
            height, values = 1, 1 + len(children) - len(inner)  # itself and its scalars
            for c in inner:
                h, v = measured[id(c)]
                height, values = max(height, h + 1), values + v
            if height > max_depth:
                return TOO_DEEP if max_depth == MAX_JSON_DEPTH else f"nested deeper than {max_depth} levels"
            if values > max_values:
                return f"more than {max_values:,} values once its aliases are expanded"
            measured[key] = (height, values)
            continue
        if key in measured:
            continue  # shared, and measured already
        if key in opened:
            return TOO_DEEP  # inside itself
        opened.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in inner if id(c) not in measured)
    return None


__all__ = ["JsonLimitError", "TOO_DEEP", "loads", "nested_deeper", "shared_document_problem"]
