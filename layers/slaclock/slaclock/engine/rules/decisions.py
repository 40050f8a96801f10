"""What the rule walk reads (`rule_inputs`), so that the clocks engine can reuse a level decision
while a ticket's events change nothing the rules read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slaclock.engine.config import Condition, Not, Predicate, Rule
from slaclock.engine.rules.conditions import Test, _compile_predicate

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


__all__ = ["DecisionKey", "RuleInputs", "rule_inputs"]
