"""Rule matching (DESIGN §3): which SLA level applies to a ticket, decided on every event.

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

Speed: `load_config` compiles each rule's condition once into a closure (`Rule.matcher`); regexes are
compiled then, and nothing is parsed per call except date field values. `choose_level` runs the whole
walk of a configuration as one function generated on first use (the same tests in the same order,
without a call per condition; checked against the rule-by-rule walk by property tests). `rule_inputs`
tells what the walk reads, so that the clocks engine can reuse a decision while a ticket's events
change nothing the rules read.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slaclock.engine.config import AllOf, AnyOf, Condition, Config, Not, Predicate
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

    Speed: the walk of a configuration is compiled once into one function (`_walker`): the same
    tests, in the same order, without a function call per condition.
    """
    walk = _walker(config)
    if walk is not None:
        return walk(fields, at)
    return _walk_rules(config, fields, at)


def deciding_rule(config: Config, applied: tuple[str, ...]) -> str | None:
    """The rule that chose the level among `applied` (as `choose_level` returns them): the LAST applied
    rule that sets a level (the walk lets each setting rule replace the level chosen so far). None when
    no applied rule sets one. A rule name unknown to `config` is ignored."""
    setting = {rule.name for rule in config.rules if rule.set_level is not None}
    for name in reversed(applied):
        if name in setting:
            return name
    return None


def _walk_rules(
    config: Config, fields: Mapping[str, Any], at: datetime
) -> tuple[str | None, tuple[str, ...]]:
    """`choose_level` as the rules' compiled conditions say, one rule after the other."""
    level: str | None = None
    applied: list[str] = []
    for rule in config.rules:
        if rule.when is not None:
            test = rule.matcher or compile_condition(rule.when)
            if not test(fields, at):
                continue
        applied.append(rule.name)
        if rule.set_level is not None:
            level = rule.set_level
        if rule.stop:
            break
    return level, tuple(applied)


Walk = Callable[[Mapping[str, Any], datetime], tuple[str | None, tuple[str, ...]]]


def _walker(config: Config) -> Walk | None:
    """`_walk_rules` of `config` as one generated function, built once per configuration object and
    cached; None when a rule's `matcher` is not the compiled form of its `when` (then the rules are
    walked one by one) or a condition does not compile."""
    cached = _WALKERS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    try:
        walk = _generate_walk(config)
    except (ValueError, TypeError, re.error):  # a hand-built rule that does not compile
        walk = None
    if len(_WALKERS) >= 64:
        _WALKERS.clear()
    _WALKERS[id(config)] = (config, walk)  # holds the config: its id cannot be reused meanwhile
    return walk


_WALKERS: dict[int, tuple[Config, Walk | None]] = {}


class _WalkSource:
    """Builds the source of a walk function. Every value from the configuration (field names, texts,
    rule and level names, compiled tests) is a name bound in the function's namespace, never source
    text. Each condition becomes one expression: `all`/`any`/`not` as ``and``/``or``/``not``, and the
    common predicates written out exactly as `_text_predicate` / `_compile_predicate` compute them (a
    string value inline, anything else through the same compiled test); other predicates call their
    compiled test."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "_Mapping": Mapping,
            "_fold_elements": _fold_elements,
            "_text": _text,
            "_SCALARS": frozenset({bool, int, float}),
        }
        self.prelude: list[str] = []
        self.locals: dict[tuple[str, str], str] = {}  # (kind, field) -> local variable

    def const(self, value: Any) -> str:
        name = f"k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def value_of(self, field: str) -> str:
        """A local holding the field's value as `_reader(field)` reads it (read once per walk)."""
        local = self.locals.get(("value", field))
        if local is None:
            local = self.locals["value", field] = f"v{len(self.locals)}"
            if field.startswith("custom."):
                custom = self.custom()
                key = self.const(field[len("custom.") :])
                self.prelude.append(f"{local} = None if {custom} is None else {custom}.get({key})")
            else:
                self.prelude.append(f"{local} = get({self.const(field)})")
        return local

    def custom(self) -> str:
        local = self.locals.get(("custom", ""))
        if local is None:
            local = self.locals["custom", ""] = f"v{len(self.locals)}"
            self.prelude.append(f"{local} = get({self.const('custom')})")
            self.prelude.append(
                f"{local} = {local} if {local}.__class__ is dict or isinstance({local}, _Mapping) else None"
            )
        return local

    def folded(self, field: str) -> str:
        """A local holding the field's value casefolded when it is a plain `str`, else None."""
        local = self.locals.get(("folded", field))
        if local is None:
            value = self.value_of(field)
            local = self.locals["folded", field] = f"v{len(self.locals)}"
            self.prelude.append(f"{local} = {value}.casefold() if {value}.__class__ is str else None")
        return local

    def elements_of(self, field: str) -> str:
        """A local holding the `_text` forms of the field's elements when its value is a list."""
        local = self.locals.get(("elements", field))
        if local is None:
            value = self.value_of(field)
            local = self.locals["elements", field] = f"v{len(self.locals)}"
            self.prelude.append(f"{local} = _fold_elements({value}) if {value}.__class__ is list else None")
        return local

    def condition(self, cond: Condition) -> str:
        if isinstance(cond, Predicate):
            return self.predicate(cond)
        if isinstance(cond, Not):
            return f"(not {self.condition(cond.item)})"
        parts = [self.condition(c) for c in cond.items]
        if len(parts) == 1:
            return parts[0]
        return "(" + (" and " if isinstance(cond, AllOf) else " or ").join(parts) + ")"

    def predicate(self, p: Predicate) -> str:  # noqa: C901 - one case per operator
        op, value = p.op, p.value
        if op == "exists":
            v = self.value_of(p.field)
            return f'(({v} is not None and {v} != "" and {v} != []) is {self.const(value is not False)})'
        negative = op in _NEGATIVE
        base = _NEGATIVE.get(op, op)
        if base in ("gt", "lt") and not isinstance(value, str | datetime):
            # A number (a loaded configuration's gt/lt value is a number or an aware datetime): an int
            # or float field compares as `_number` reads it; anything else through the compiled test.
            v = self.value_of(p.field)
            bound = self.const(float(value))
            test = f"float({v}) {'>' if base == 'gt' else '<'} {bound}"
            other = f"{self.const(_compile_predicate(p))}(fields, at)"
            return f"({test} if {v}.__class__ is int or {v}.__class__ is float else {other})"
        inline = (
            base == "is"
            or (base == "contains" and isinstance(value, str))
            or (base == "in" and all(isinstance(x, str) for x in value))
            or (base in ("starts_with", "matches") and not negative)
        )
        if not inline:
            return f"{self.const(_compile_predicate(p))}(fields, at)"
        pos = self.const(_compile_positive(base, value))
        v = self.value_of(p.field)
        f = self.folded(p.field)
        if negative:
            other = f"({v} is None or not {pos}({v}, at))"
        else:
            other = f"({v} is not None and {pos}({v}, at))"
        if base == "is":  # `(x.casefold() if isinstance(x, str) else _text(x)) == want`, value or elements
            want = self.const(_text(value))
            if negative:
                test = f"{f} != {want}"
                other = f"(_text({v}) != {want} if {v}.__class__ in _SCALARS else {other})"
            else:
                test = f"{f} == {want}"
                other = f"(_text({v}) == {want} if {v}.__class__ in _SCALARS else {other})"
        elif base == "in":
            wanted = self.const(frozenset(x.casefold() for x in value))
            test = f"{f} {'not in' if negative else 'in'} {wanted}"
        elif base == "starts_with":
            test = f"{f}.startswith({self.const(_text(value) or '')})"
        elif base == "matches":
            search = (value if isinstance(value, re.Pattern) else re.compile(value)).search
            test = f"{self.const(search)}({v}) is not None"
        else:  # contains
            part = self.const(value.casefold())
            elements = self.elements_of(p.field)
            found = (
                f"({part} in {elements} if {elements} is not None"
                f" else ({part} in {f} if {f} is not None else {pos}({v}, at)))"
            )
            if negative:  # `v is None or not positive(v, at)`
                return f"({v} is None or not {found})"
            return f"({v} is not None and {found})"
        return f"({test} if {f} is not None else {other})"


def _fold_elements(values: list[Any]) -> frozenset[str | None]:
    """The comparison forms (`_text`) of a list's elements, for `contains` on a list field."""
    try:
        return frozenset(map(str.casefold, values))  # every element a str (the common case)
    except TypeError:
        return frozenset(x.casefold() if isinstance(x, str) else _text(x) for x in values)


def _generate_walk(config: Config) -> Walk | None:
    source = _WalkSource()
    body: list[str] = []
    for rule in config.rules:
        if rule.matcher is not None and rule.when is not None:
            compiled = _COMPILED.get(rule.matcher)
            if compiled is None or (compiled is not rule.when and compiled != rule.when):
                return None
        indent = "    "
        if rule.when is not None:
            body.append(f"    if {source.condition(rule.when)}:")
            indent = "        "
        body.append(f"{indent}applied.append({source.const(rule.name)})")
        if rule.set_level is not None:
            body.append(f"{indent}level = {source.const(rule.set_level)}")
        if rule.stop:
            body.append(f"{indent}return level, tuple(applied)")
    lines = [
        "def walk(fields, at):",
        "    get = fields.get",
        *(f"    {line}" for line in source.prelude),
        "    level = None",
        "    applied = []",
        *body,
        "    return level, tuple(applied)",
    ]
    exec(compile("\n".join(lines), "<slaclock rules walk>", "exec"), source.namespace)  # noqa: S102
    walk: Walk = source.namespace["walk"]
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


def rule_inputs(config: Config) -> RuleInputs | None:
    """The `RuleInputs` of `config`, built once per configuration object and cached.

    None when the decision cannot be keyed: a hand-built rule whose `matcher` is not the compiled form
    of its own `when` (it could read anything), or a condition that does not compile.
    """
    cached = _RULE_INPUTS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    try:
        inputs = _build_inputs(config)
    except (ValueError, TypeError, re.error):  # a hand-built rule that does not compile: walk it every time
        inputs = None
    if len(_RULE_INPUTS) >= 64:
        _RULE_INPUTS.clear()
    _RULE_INPUTS[id(config)] = (config, inputs)  # holds the config: its id cannot be reused meanwhile
    return inputs


_RULE_INPUTS: dict[int, tuple[Config, RuleInputs | None]] = {}
_TIMED_OPS = frozenset({"older_than", "newer_than"})


def _build_inputs(config: Config) -> RuleInputs | None:
    names: list[str] = []  # top-level fields read, in first-use order
    custom: list[str] = []  # keys of the `custom.<key>` fields read
    timed: list[Test] = []  # the predicates that read `at`
    for rule in config.rules:
        if rule.when is None:
            continue
        if rule.matcher is not None:
            source = _COMPILED.get(rule.matcher)
            if source is None or (source is not rule.when and source != rule.when):
                return None
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
    test = _compile(cond)
    _COMPILED[test] = cond
    return test


# Which condition each closure `compile_condition` returned was compiled from: `rule_inputs` trusts a
# rule's `matcher` only when it is the compiled form of the rule's own `when`.
_COMPILED: weakref.WeakKeyDictionary[Test, Condition] = weakref.WeakKeyDictionary()


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


__all__ = ["DecisionKey", "RuleInputs", "Test", "choose_level", "compile_condition", "matches", "rule_inputs"]
