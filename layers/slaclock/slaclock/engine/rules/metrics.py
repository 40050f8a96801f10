"""Metric conditions (`slaclock.engine.config.MetricCondition`) compiled once to closures over a
`Moment`: one event of a ticket, with the fields before and after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slaclock.engine.config import EventTest, MetricAll, MetricAny, MetricCondition, MetricNot, Predicate
from slaclock.engine.rules.conditions import compile_condition


@dataclass(slots=True)
class Moment:
    """One event as metric conditions see it. `answers`: whether it counts as a response under the
    ``responses`` rules; `running`: the metrics with a running clock (before this event's effect on
    the metric under test)."""

    kind: str
    at: datetime
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    reply: Mapping[str, Any] | None
    solved: bool
    was_solved: bool
    answers: bool
    running: frozenset[str]


MetricTest = Callable[[Moment], bool]


def compile_metric_condition(cond: MetricCondition) -> MetricTest:  # noqa: C901
    """One closure ``test(moment) -> bool`` for `cond`."""
    if isinstance(cond, MetricAll):
        tests = tuple(compile_metric_condition(c) for c in cond.items)
        return lambda m: all(t(m) for t in tests)
    if isinstance(cond, MetricAny):
        tests = tuple(compile_metric_condition(c) for c in cond.items)
        return lambda m: any(t(m) for t in tests)
    if isinstance(cond, MetricNot):
        inner = compile_metric_condition(cond.item)
        return lambda m: not inner(m)
    if isinstance(cond, Predicate):
        test = compile_condition(cond)
        return lambda m: test(m.after, m.at)
    return _event_test(cond)


def _text(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _value(fields: Mapping[str, Any], name: str) -> Any:
    if name.startswith("custom."):
        custom = fields.get("custom")
        return _text(custom.get(name[7:])) if isinstance(custom, Mapping) else None
    return _text(fields.get(name))


def _event_test(t: EventTest) -> MetricTest:  # noqa: C901
    value = _text(t.value)
    name = t.field or ""
    if t.test == "event":
        return lambda m: m.kind == value
    if t.test == "answers":
        return lambda m: m.answers is value
    if t.test == "running":
        return lambda m: value in m.running
    if t.test == "changes":
        return lambda m: _value(m.before, name) != _value(m.after, name)
    if name == "solved":
        if t.test == "becomes":
            return lambda m: m.solved is value and m.was_solved is not value
        if t.test == "leaves":
            return lambda m: m.was_solved is value and m.solved is not value
        read: Callable[[Moment], Any] = lambda m: m.solved  # noqa: E731
    elif t.test == "becomes":
        return lambda m: _value(m.after, name) == value and _value(m.before, name) != value
    elif t.test == "leaves":
        return lambda m: _value(m.before, name) == value and _value(m.after, name) != value
    else:  # a reply fact
        fact = name[len("reply.") :]

        def read(m: Moment) -> Any:
            return None if m.reply is None else _text(m.reply.get(fact))

    op = t.op
    if op == "exists":
        return lambda m: (read(m) is not None) is bool(value)
    if op == "in":
        options = tuple(_text(v) for v in t.value)
        return lambda m: read(m) in options
    if op == "is_not":
        return lambda m: read(m) != value
    return lambda m: read(m) == value
