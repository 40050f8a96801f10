"""Rule matching: which SLA level applies to a ticket, decided on every event.

Walk (`choose_level`): rules are tried in order. Every rule whose condition matches APPLIES: its
`set_level`, if any, replaces the level chosen so far (so the last applied rule wins), and if it has
``stop: true`` the walk ends there. A rule without `when` matches every ticket. `load_config` refuses
rules that could leave a ticket without a level.

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

Speed: `slaclock.engine.policy.compile_policy` compiles a configuration's rules once (`compile_walk`):
each condition becomes one closure (`compile_condition`), regexes are compiled then, and nothing is
parsed per call except date field values. `rule_inputs` tells what the walk reads, so that the clocks
engine can reuse a decision while a ticket's events change nothing the rules read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slaclock.engine.config import AllOf, AnyOf, Condition, Config, Not, Predicate, Rule
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


def choose_level(
    config: Config, fields: Mapping[str, Any], at: datetime
) -> tuple[str | None, tuple[str, ...]]:
    """Walk `config.rules` for a ticket with `fields` at the event instant `at`.

    Returns the level of the LAST applied rule that sets one (None only if no applied rule sets a
    level, which a loaded configuration rules out), and the names of every applied (matching) rule, in
    order, including a final `stop` rule without `set_level`.

    This compiles the rules on each call; the engine compiles them once per configuration
    (`slaclock.engine.policy.compile_policy`) and calls the compiled walk.
    """
    return compile_walk(config.rules)(fields, at)


def deciding_rule(config: Config, applied: tuple[str, ...]) -> str | None:
    """The rule that chose the level among `applied` (as `choose_level` returns them): the LAST applied
    rule that sets a level (the walk lets each setting rule replace the level chosen so far). None when
    no applied rule sets one. A rule name unknown to `config` is ignored."""
    setting = {rule.name for rule in config.rules if rule.set_level is not None}
    for name in reversed(applied):
        if name in setting:
            return name
    return None


Walk = Callable[[Mapping[str, Any], datetime], tuple[str | None, tuple[str, ...]]]
"""A compiled rule walk: ``walk(fields, at) -> (level, applied rule names)``."""


def compile_walk(rules: Sequence[Rule]) -> Walk:
    """The walk of `rules` (see `choose_level`) as one closure, each condition compiled once."""
    steps = tuple(
        (None if rule.when is None else compile_condition(rule.when), rule.name, rule.set_level, rule.stop)
        for rule in rules
    )

    def walk(fields: Mapping[str, Any], at: datetime) -> tuple[str | None, tuple[str, ...]]:
        level: str | None = None
        applied: list[str] = []
        for test, name, set_level, stop in steps:
            if test is not None and not test(fields, at):
                continue
            applied.append(name)
            if set_level is not None:
                level = set_level
            if stop:
                break
        return level, tuple(applied)

    return walk


DecisionKey = Callable[[Mapping[str, Any], datetime], tuple[Any, ...]]
"""``key(fields, at)``: see `RuleInputs`."""


@dataclass(frozen=True, slots=True)
class RuleInputs:
    """What the rule walk of one configuration reads, for caching the level decision while a ticket's
    events are folded (most events change no field a rule reads). See `rule_inputs`.

    `key(fields, at)`: equal keys imply equal `choose_level(config, fields, at)` results. It holds, in
    a type-strict form, the value of every field the rules read (``1``, ``1.0`` and ``true``, which
    Python finds equal but the rules tell apart, give different keys; a value of an unexpected type
    equals nothing, so it is never reused), then the outcome at `at` of every `older_than` /
    `newer_than` predicate: the only way `at` enters the walk.

    `fields`: the top-level ticket fields the rules read (``custom`` for any ``custom.<name>``): fields
    outside it never change the decision. `reads_at`: whether a rule has a date test (then the decision
    can change with `at` alone).
    """

    key: DecisionKey
    fields: frozenset[str]
    reads_at: bool


def rule_inputs(rules: Sequence[Rule]) -> RuleInputs:
    """What the walk of `rules` reads (see `RuleInputs`)."""
    names: list[str] = []  # top-level fields read, in first-use order
    custom: list[str] = []  # keys of the `custom.<key>` fields read
    timed: list[Test] = []  # the predicates that read `at`
    for rule in rules:
        if rule.when is None:
            continue
        for p in _predicates(rule.when):
            if p.field.startswith("custom."):
                if p.field[len("custom.") :] not in custom:
                    custom.append(p.field[len("custom.") :])
            elif p.field not in names:
                names.append(p.field)
            if p.op in _TIMED_OPS:
                timed.append(_compile_predicate(p))
    return RuleInputs(
        key=_keyer(tuple(names), tuple(custom), tuple(timed)),
        fields=frozenset(names + (["custom"] if custom else [])),
        reads_at=bool(timed),
    )


_TIMED_OPS = frozenset({"older_than", "newer_than"})


def _predicates(cond: Condition) -> Iterator[Predicate]:
    if isinstance(cond, Predicate):
        yield cond
    elif isinstance(cond, Not):
        yield from _predicates(cond.item)
    else:
        for item in cond.items:
            yield from _predicates(item)


def _keyer(names: tuple[str, ...], custom_keys: tuple[str, ...], tests: tuple[Test, ...]) -> DecisionKey:
    no_custom = [None] * len(custom_keys)  # what `custom.<key>` reads when `custom` is not a mapping

    def key(fields: Mapping[str, Any], at: datetime) -> tuple[Any, ...]:
        get = fields.get
        out = [v if (v := get(n)) is None or v.__class__ is str else _strict(v) for n in names]
        if custom_keys:
            c = get("custom")
            if c.__class__ is dict or isinstance(c, Mapping):
                sub = c.get
                out += [v if (v := sub(k)) is None or v.__class__ is str else _strict(v) for k in custom_keys]
            else:
                out += no_custom
        if tests:
            out += [test(fields, at) for test in tests]
        return tuple(out)

    return key


_SCALARS = frozenset({int, float, bool, datetime, date, timedelta})


def _strict(v: Any) -> Any:
    """A value that equals `_strict(w)` only if the rules cannot tell `v` and `w` apart: strings and
    None as they are, other scalars tagged with their exact class, lists, tuples and dicts element by
    element; anything else a fresh object (equal to nothing: never cached)."""
    cls = v.__class__
    if cls is str or v is None:
        return v
    if cls in _SCALARS:
        return (cls, v)
    if cls is list or cls is tuple:
        return (cls, *[_strict(x) for x in v])
    if cls is dict:
        return (cls, *[(_strict(k), _strict(x)) for k, x in v.items()])
    return object()


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


__all__ = [
    "DecisionKey",
    "RuleInputs",
    "Test",
    "Walk",
    "choose_level",
    "compile_condition",
    "compile_walk",
    "matches",
    "rule_inputs",
]
