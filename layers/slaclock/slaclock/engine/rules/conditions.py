"""Rule conditions: what a rule's `when` means and its compilation to one closure.

Predicate semantics (`{field, op, value}` over the ticket's fields as of the event):

- Reading a field: ``custom.<name>`` reads ``fields["custom"][name]`` (everything after ``custom.``
  is the key, dots included). A field that is absent or ``null`` is *missing*.
- Missing fields: every positive operator is false on a missing field; the negative ones (`is_not`,
  `not_in`, `not_contains`) are exactly ``not`` of their positive and so are true; ``exists`` is false
  (and ``exists: false`` true). An empty string or empty list counts as missing for `exists` only.
- Text comparison (`is`, `in`, `contains`, `starts_with`) ignores case (Unicode casefold): helpdesks
  spell tags and priorities differently (``URGENT``, ``Urgent``). Numbers and booleans compare by their
  text form, so ``1`` equals ``"1"`` and ``true`` equals ``"True"``. `matches` is a regular expression
  searched anywhere in the text (anchor it with ``^...$``) and IS case-sensitive unless it says
  ``(?i)``.
- List fields (`tags`): `is`, `in`, `contains`, `starts_with` and `matches` are true when ANY element
  satisfies them (so ``tags contains URGENT`` is element membership, while ``requester contains
  example.com`` on a string is a substring test); the negatives are true when NO element does.
- `gt` / `lt`: numbers (a numeric string such as ``"3"`` is read as a number) or ISO 8601 instants
  with an offset (an instant without one never compares). Anything else compares false.
- `older_than` / `newer_than` compare a date field with `at`, the instant of the EVENT being evaluated
  (never the wall clock), in real elapsed time (not business time): ``older_than: 2h`` is
  ``at - field > 2h``, ``newer_than: 2h`` is ``at - field < 2h``; at exactly 2 h neither holds.

Speed: each condition becomes one closure (`compile_condition`), regexes are compiled then, and
nothing is parsed per call except date field values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slaclock.engine.config import AllOf, AnyOf, Condition, Not, Predicate
from slaclock.engine.durations import parse_duration

Test = Callable[[Mapping[str, Any], datetime], bool]
"""A compiled condition: ``test(fields, at) -> bool``."""

_NEGATIVE = {"is_not": "is", "not_in": "in", "not_contains": "contains"}


def matches(cond: Condition | None, fields: Mapping[str, Any], at: datetime) -> bool:
    """Whether `cond` holds for a ticket with `fields`, evaluated at the aware instant `at`.

    None (a rule without `when`) matches everything. This compiles `cond` on each call; hot paths use
    the `Rule.matcher` that `load_config` compiled once.
    """
    if cond is None:
        return True
    return _compile(cond)(fields, at)


def compile_condition(cond: Condition) -> Test:
    """Turn a condition tree into one closure ``test(fields, at) -> bool`` (see module docstring)."""
    return _compile(cond)


def _compile(cond: Condition) -> Test:
    if isinstance(cond, Predicate):
        return _compile_predicate(cond)
    if isinstance(cond, Not):
        inner = _compile(cond.item)
        return lambda fields, at: not inner(fields, at)
    tests = tuple(_compile(c) for c in cond.items)
    if len(tests) == 1:
        return tests[0]
    if isinstance(cond, AllOf):
        return _all_of(tests)
    if isinstance(cond, AnyOf):
        return _any_of(tests)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - the union above is exhaustive


def _all_of(tests: tuple[Test, ...]) -> Test:
    # Two or three tests (the common case) are chained with `and` in one closure, no loop.
    if len(tests) == 2:
        first, second = tests
        return lambda fields, at: first(fields, at) and second(fields, at)
    if len(tests) == 3:
        first, second, third = tests
        return lambda fields, at: first(fields, at) and second(fields, at) and third(fields, at)

    def all_of(fields: Mapping[str, Any], at: datetime) -> bool:
        for test in tests:
            if not test(fields, at):
                return False
        return True

    return all_of


def _any_of(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda fields, at: first(fields, at) or second(fields, at)
    if len(tests) == 3:
        first, second, third = tests
        return lambda fields, at: first(fields, at) or second(fields, at) or third(fields, at)

    def any_of(fields: Mapping[str, Any], at: datetime) -> bool:
        for test in tests:
            if test(fields, at):
                return True
        return False

    return any_of


# -- predicates ----------------------------------------------------------------------------------------


def _compile_predicate(p: Predicate) -> Test:
    read = _reader(p.field)
    if p.op == "exists":
        expected = p.value is not False

        def exists(fields: Mapping[str, Any], at: datetime) -> bool:
            v = read(fields)
            present = v is not None and v != "" and v != []
            return present is expected

        return exists
    positive = _compile_positive(p.op if p.op not in _NEGATIVE else _NEGATIVE[p.op], p.value)
    if not p.field.startswith("custom."):
        fast = _text_predicate(p.field, p.op, p.value, positive)
        if fast is not None:
            return fast
    if p.op in _NEGATIVE:

        def negative(fields: Mapping[str, Any], at: datetime) -> bool:
            v = read(fields)
            return v is None or not positive(v, at)

        return negative

    def predicate(fields: Mapping[str, Any], at: datetime) -> bool:
        v = read(fields)
        return v is not None and positive(v, at)

    return predicate


def _text_predicate(  # noqa: C901 - one closure per operator, written out for speed
    name: str, op: str, value: Any, positive: Callable[[Any, datetime], bool]
) -> Test | None:
    """`is`, `in`, `contains` and their negatives on a top-level field, with the common cases written
    out in one closure (a plain string value; a plain list for `contains`): the same results as the
    general form, which handles every other value. None for other operators and values."""
    if op in ("is", "is_not") and isinstance(value, str):
        want = value.casefold()
        if op == "is":

            def is_(fields: Mapping[str, Any], at: datetime) -> bool:
                v = fields.get(name)
                if v.__class__ is str:
                    return v.casefold() == want
                return v is not None and positive(v, at)

            return is_

        def is_not(fields: Mapping[str, Any], at: datetime) -> bool:
            v = fields.get(name)
            if v.__class__ is str:
                return v.casefold() != want
            return v is None or not positive(v, at)

        return is_not
    if op in ("in", "not_in") and all(isinstance(x, str) for x in value):
        wanted = frozenset(x.casefold() for x in value)
        if op == "in":

            def in_(fields: Mapping[str, Any], at: datetime) -> bool:
                v = fields.get(name)
                if v.__class__ is str:
                    return v.casefold() in wanted
                return v is not None and positive(v, at)

            return in_

        def not_in(fields: Mapping[str, Any], at: datetime) -> bool:
            v = fields.get(name)
            if v.__class__ is str:
                return v.casefold() not in wanted
            return v is None or not positive(v, at)

        return not_in
    if op in ("contains", "not_contains") and isinstance(value, str):
        part = value.casefold()

        def contains(fields: Mapping[str, Any], at: datetime) -> bool:
            v = fields.get(name)
            if v.__class__ is list:  # element membership
                for x in v:
                    if (x.casefold() if x.__class__ is str else _text(x)) == part:
                        return True
                return False
            if v.__class__ is str:  # substring
                return part in v.casefold()
            return v is not None and positive(v, at)

        if op == "contains":
            return contains
        return lambda fields, at: not contains(fields, at)
    return None


def _reader(name: str) -> Callable[[Mapping[str, Any]], Any]:
    if name.startswith("custom."):
        key = name[len("custom.") :]

        def read_custom(fields: Mapping[str, Any]) -> Any:
            custom = fields.get("custom")
            return custom.get(key) if custom.__class__ is dict or isinstance(custom, Mapping) else None

        return read_custom
    return lambda fields: fields.get(name)


def _compile_positive(op: str, value: Any) -> Callable[[Any, datetime], bool]:
    """The test of a positive operator on a PRESENT (non-None) field value `v`."""
    if op == "is":
        want = _text(value)
        return _on_elements(lambda x: (x.casefold() if isinstance(x, str) else _text(x)) == want)
    if op == "in":
        wanted = frozenset(_text(x) for x in value)
        return _on_elements(lambda x: (x.casefold() if isinstance(x, str) else _text(x)) in wanted)
    if op == "contains":
        return _compile_contains(_text(value))
    if op == "starts_with":
        prefix = _text(value) or ""
        return _on_elements(lambda x: (t := _text(x)) is not None and t.startswith(prefix))
    if op == "matches":
        search = (value if isinstance(value, re.Pattern) else re.compile(value)).search
        return _on_elements(lambda x: (t := _raw_text(x)) is not None and search(t) is not None)
    if op in ("gt", "lt"):
        return _compile_comparison(op, value)
    if op in ("older_than", "newer_than"):
        limit = value if isinstance(value, timedelta) else parse_duration(value)
        if op == "older_than":
            return lambda v, at: (t := _instant(v)) is not None and at - t > limit
        return lambda v, at: (t := _instant(v)) is not None and at - t < limit
    raise ValueError(f"unknown operator {op!r}")


def _compile_contains(part: str | None) -> Callable[[Any, datetime], bool]:
    """Element membership on a list field, substring on a text (or number) field."""

    def contains(v: Any, at: datetime) -> bool:
        if part is None:
            return False
        if isinstance(v, list | tuple):
            for x in v:
                if _text(x) == part:
                    return True
            return False
        text = _text(v)
        return text is not None and part in text

    return contains


def _on_elements(test: Callable[[Any], bool]) -> Callable[[Any, datetime], bool]:
    """Apply a scalar test to a value, or to each element of a list value (true if any holds)."""

    def on_elements(v: Any, at: datetime) -> bool:
        if isinstance(v, list | tuple):
            for x in v:
                if test(x):
                    return True
            return False
        return test(v)

    return on_elements


def _compile_comparison(op: str, value: Any) -> Callable[[Any, datetime], bool]:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        bound = value
        if op == "gt":
            return lambda v, at: (t := _instant(v)) is not None and t > bound
        return lambda v, at: (t := _instant(v)) is not None and t < bound
    number = float(value)
    if op == "gt":
        return lambda v, at: (n := _number(v)) is not None and n > number
    return lambda v, at: (n := _number(v)) is not None and n < number


def _text(v: Any) -> str | None:
    """Comparison form of a scalar: casefolded text; numbers and booleans as text; else None."""
    if isinstance(v, str):
        return v.casefold()
    raw = _raw_text(v)
    return raw.casefold() if raw is not None else None


def _raw_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return None


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _instant(v: Any) -> datetime | None:
    """An aware instant from a datetime or an ISO 8601 string with offset; None otherwise."""
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            return None
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v
    return None


__all__ = ["Test", "compile_condition", "matches"]
