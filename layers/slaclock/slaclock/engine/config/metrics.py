"""Loading metric definitions: the built-ins (`builtin_metrics`) and a document's ``metrics:``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slaclock.engine.config.builtin_metrics import BUILTIN_METRICS
from slaclock.engine.config.conditions import _Rules
from slaclock.engine.config.levels import _Levels
from slaclock.engine.config.model import (
    EventTest,
    MetricAll,
    MetricAny,
    MetricCondition,
    MetricDefinition,
    MetricNot,
)
from slaclock.engine.config.shapes import _NAME, _join, _kind
from slaclock.engine.events import EventType

METRIC_KEYS = ("start", "stop", "cycles", "resume", "reset", "pause", "description")
_EVENT_KEYS = ("event", "answers", "running", "changes")
_FACT_OPS = ("is", "is_not", "in", "exists")
_SHAPES = (
    "{all: [...]}, {any: [...]}, {not: ...}, {event: <type>}, {answers: true}, {running: <metric>}, "
    "{changes: <field>}, {field, becomes | leaves: <value>}, {field, op, value}"
)


class _Metrics(_Levels, _Rules):
    def metrics(self, value: Any) -> dict[str, MetricDefinition]:
        """Every defined metric: the built-ins, with the document's definitions over them."""
        docs: dict[str, Any] = dict(BUILTIN_METRICS)
        if value is not None:
            d = self.mapping(value, "metrics", "a mapping of metric definitions by name")
            for name, item in (d or {}).items():
                if not isinstance(name, str) or not _NAME.match(name):
                    self.err(
                        _join("metrics", name),
                        "a metric's name is 1-48 of a-z, 0-9 and _, starting with a letter",
                    )
                    continue
                docs[name] = item
        self.metric_names = set(docs)
        self.metric_order = list(docs)
        out: dict[str, MetricDefinition] = {}
        for name, item in docs.items():
            parsed = self.metric(name, item, f"metrics.{name}")
            if parsed is not None:
                out[name] = replace(parsed, builtin=True) if item is BUILTIN_METRICS.get(name) else parsed
        return out

    def metric(self, name: str, value: Any, path: str) -> MetricDefinition | None:
        d = self.mapping(value, path, "a metric: {start, stop, cycles, resume, reset, pause, description}")
        if d is None:
            return None
        before = len(self.errors)
        self.check_keys(d, path, METRIC_KEYS)
        if d.get("start") is None:
            self.err(f"{path}.start", "required: the condition that starts the clock")
        start = None if d.get("start") is None else self.metric_condition(d["start"], f"{path}.start")
        conds = {
            k: self.metric_condition(d[k], f"{path}.{k}") if d.get(k) is not None else None
            for k in ("stop", "resume", "reset")
        }
        cycles = d.get("cycles", False)
        if not isinstance(cycles, bool):
            self.err(f"{path}.cycles", f"must be true or false, not {_kind(cycles)}")
        pause: tuple[str, ...] | None = ()
        if d.get("pause") is not None:
            pause = self.string_list(d["pause"], f"{path}.pause")
            if pause is not None:
                pause = self.pause_statuses(pause, f"{path}.pause")
        description = d.get("description", "")
        if not isinstance(description, str):
            self.err(f"{path}.description", f"must be text, not {_kind(description)}")
        if len(self.errors) != before or start is None or pause is None:
            return None
        return MetricDefinition(
            name=name, start=start, stop=conds["stop"], cycles=bool(cycles), resume=conds["resume"],
            reset=conds["reset"], pause=frozenset(p.casefold() for p in pause), description=str(description),
        )  # fmt: skip

    def metric_condition(self, value: Any, path: str) -> MetricCondition | None:  # noqa: C901
        if not isinstance(value, Mapping):
            self.err(path, f"a metric condition is one of {_SHAPES}, not {_kind(value)}")
            return None
        for key in ("all", "any"):
            if key in value:
                self.check_keys(value, path, (key,))
                items = value[key]
                if not isinstance(items, list) or not items:
                    self.err(f"{path}.{key}", "must be a non-empty list of conditions")
                    return None
                parsed = [self.metric_condition(c, f"{path}.{key}[{j}]") for j, c in enumerate(items)]
                if any(c is None for c in parsed):
                    return None
                conds = tuple(c for c in parsed if c is not None)
                return MetricAll(conds) if key == "all" else MetricAny(conds)
        if "not" in value:
            self.check_keys(value, path, ("not",))
            item = self.metric_condition(value["not"], f"{path}.not")
            return None if item is None else MetricNot(item)
        for key in _EVENT_KEYS:
            if key in value:
                self.check_keys(value, path, (key,))
                return self.event_test(key, value[key], f"{path}.{key}")
        name = value.get("field")
        if "becomes" in value or "leaves" in value:
            test = "becomes" if "becomes" in value else "leaves"
            self.check_keys(value, path, ("field", test))
            if not isinstance(name, str) or not (name == "solved" or self.field_name_ok(name)):
                self.err(f"{path}.field", f"a ticket field or solved, not {name!r}")
                return None
            v = value[test]
            if name == "solved" and not isinstance(v, bool):
                self.err(f"{path}.{test}", "solved becomes or leaves true or false")
                return None
            if isinstance(v, list | dict) or v is None:
                self.err(f"{path}.{test}", f"must be a single value, not {_kind(v)}")
                return None
            return EventTest(test, name, v)
        if isinstance(name, str) and (name == "solved" or name.startswith("reply.")):
            self.check_keys(value, path, ("field", "op", "value"))
            op = value.get("op", "is")
            if op not in _FACT_OPS:
                self.err(f"{path}.op", f"{name} takes one of {', '.join(_FACT_OPS)}, not {op!r}")
                return None
            v = value.get("value")
            if op == "in" and not isinstance(v, list):
                self.err(f"{path}.value", "in takes a list")
                return None
            return EventTest("fact", name, tuple(v) if isinstance(v, list) else v, op)
        if "field" not in value and "op" not in value:
            self.err(path, f"a metric condition is one of {_SHAPES}")
            return None
        return self.predicate(value, path)

    def field_name_ok(self, name: str) -> bool:
        from slaclock.engine.config.shapes import _is_rule_field

        return _is_rule_field(name)

    def event_test(self, key: str, v: Any, path: str) -> EventTest | None:
        if key == "event":
            kinds = [t.value for t in EventType]
            if v not in kinds:
                self.err(path, f"unknown event type {v!r} ({', '.join(kinds)})")
                return None
        elif key == "answers":
            if not isinstance(v, bool):
                self.err(path, "must be true or false")
                return None
        elif key == "running":
            if v not in self.metric_names:
                self.err(path, f"unknown metric {v!r} ({', '.join(self.metric_order)})")
                return None
        elif not isinstance(v, str) or not self.field_name_ok(v):
            self.err(path, f"a ticket field, not {v!r}")
            return None
        return EventTest(key, v if key == "changes" else None, v)
