"""Loading the ordered rules and their conditions, and checking that every ticket gets a level."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slaclock.engine.config.model import (
    BOOLEAN_FIELDS,
    DATE_FIELDS,
    LIST_FIELDS,
    OPERATORS,
    RULE_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    Not,
    Predicate,
    Rule,
)
from slaclock.engine.config.shapes import (
    _CONDITION_SHAPES,
    _PREDICATE_KEYS,
    _RULE_KEYS,
    _is_rule_field,
    _kind,
    _names,
    _Shapes,
)
from slaclock.engine.vocabulary import CHANNELS


class _Rules(_Shapes):
    # -- rules -----------------------------------------------------------------------------------------

    def rules(self, value: Any, where: str = "rules", cover: bool = True) -> tuple[Rule, ...]:
        """The rules of section `where` (``rules``, or an agreement's); `cover`: they must give every
        ticket a level (`check_rule_coverage`); an agreement's need not (a ticket no rule gives one of
        its levels runs none of its clocks)."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err(where, f"must be a list of rules, not {_kind(value)}")
            return ()
        if not value:
            self.err(
                where, "at least one rule is needed (the last one, without 'when', sets the default level)"
            )
            return ()
        out: list[Rule] = []
        seen: dict[str, int] = {}
        shapes: list[tuple[bool, bool, bool, str]] = []  # (has when, sets a level, stops, name)
        for i, item in enumerate(value):
            path = f"{where}[{i}]"
            d = self.mapping(item, path, "a rule: {name, when, set_level, stop}")
            if d is None:
                shapes.append((True, True, False, "?"))  # unknown shape: assume nothing about it
                continue
            before = len(self.errors)
            self.check_keys(d, path, _RULE_KEYS)
            name = d.get("name")
            if not isinstance(name, str) or not name.strip():
                self.err(f"{path}.name", "required: a non-empty string")
                name = path
            elif name in seen:
                self.err(f"{path}.name", f"duplicate rule name {name!r} (also {where}[{seen[name]}])")
            else:
                seen[name] = i
            when = None
            if "when" in d:
                if d["when"] is None:
                    self.err(f"{path}.when", "is empty (remove it to match every ticket)")
                else:
                    when = self.condition(d["when"], f"{path}.when")
            level = d.get("set_level")
            if (
                level is not None
                and self.levels_readable
                and (not isinstance(level, str) or level not in self.level_names)
            ):
                self.err(f"{path}.set_level", f"unknown level {level!r} (levels: {_names(self.level_names)})")
            stop = d.get("stop", False)
            if not isinstance(stop, bool):
                self.err(f"{path}.stop", f"must be true or false, not {stop!r}")
                stop = False
            if level is None and not stop:
                self.err(path, "does nothing: give it set_level, stop: true, or both")
            shapes.append(("when" in d, level is not None, stop, name))
            if len(self.errors) == before:
                out.append(Rule(name=name, when=when, set_level=level, stop=stop))
        self.check_rule_coverage(shapes if cover else None)
        return tuple(out)

    def check_rule_coverage(self, shapes: list[tuple[bool, bool, bool, str]] | None) -> None:
        """Every ticket must end the walk with a level (`shapes` None: not asked, see `rules`).

        Only a rule without `when` is known to match every ticket (conditions are not solved). So the
        rules must contain a *catch-all* that sets a level (no `when`, with `set_level`), and no ticket
        may be stopped before it without a level: a `stop: true` rule without `set_level` placed before
        the first catch-all would leave the tickets it matches with no level. (After it, such a rule is
        fine: it keeps the level set so far.) Rules after a catch-all that stops can never run, which is
        reported too.

        A rule that sets a level without stopping, placed before a catch-all that sets one, never decides
        the level (the catch-all always applies after it): that is a warning, not an error.
        """
        if shapes is None:
            return
        catch_all = next(
            (i for i, (has_when, sets, _, _) in enumerate(shapes) if not has_when and sets), None
        )
        final = next((i for i, (has_when, _, stops, _) in enumerate(shapes) if not has_when and stops), None)
        if final is not None:
            for i in range(final + 1, len(shapes)):
                self.err(f"rules[{i}]", f"unreachable: rules[{final}] ({shapes[final][3]!r}) has no 'when' "
                         "and stops the walk")  # fmt: skip
        if catch_all is None or (final is not None and final < catch_all):
            self.err(
                "rules",
                "no rule sets a level for every ticket: add a last rule without 'when' that sets one "
                "(e.g. {name: Everyone else, set_level: standard})",
            )
            return
        for i in range(catch_all):
            has_when, sets, stops, name = shapes[i]
            if sets and not stops:
                self.warnings.append(
                    (
                        f"rules[{i}]",
                        f"{name!r} sets a level that rules[{catch_all}] ({shapes[catch_all][3]!r}), a later "
                        "rule without 'when', always replaces (the last applied rule wins): add stop: true, "
                        "or move the catch-all first",
                    )
                )
            if stops and not sets:
                self.err(
                    f"rules[{i}]",
                    f"stops the walk without setting a level before the catch-all rules[{catch_all}] "
                    f"({shapes[catch_all][3]!r}): a ticket it matches gets no level; give it set_level "
                    f"or move it after rules[{catch_all}]",
                )

    def condition(self, value: Any, path: str) -> Condition | None:
        if not isinstance(value, Mapping):
            self.err(path, f"a condition is one of {_CONDITION_SHAPES}, not {_kind(value)}")
            return None
        combinators = [k for k in ("all", "any", "not") if k in value]
        predicate_keys = [k for k in _PREDICATE_KEYS if k in value]
        if len(combinators) + bool(predicate_keys) > 1:
            self.err(
                path,
                f"mixes {', '.join(combinators + predicate_keys)}: a condition is one of {_CONDITION_SHAPES}",
            )
            return None
        if not combinators:
            return self.predicate(value, path)
        key = combinators[0]
        self.check_keys(value, path, (key,))
        if key == "not":
            if value["not"] is None:
                self.err(f"{path}.not", "is empty")
                return None
            item = self.condition(value["not"], f"{path}.not")
            return Not(item) if item is not None else None
        items = value[key]
        if not isinstance(items, list) or not items:
            self.err(f"{path}.{key}", "must be a non-empty list of conditions")
            return None
        parsed = [self.condition(c, f"{path}.{key}[{j}]") for j, c in enumerate(items)]
        if any(c is None for c in parsed):
            return None
        conditions = tuple(c for c in parsed if c is not None)
        return AllOf(conditions) if key == "all" else AnyOf(conditions)

    def predicate(self, d: Mapping[str, Any], path: str) -> Predicate | None:
        self.check_keys(d, path, _PREDICATE_KEYS)
        before = len(self.errors)
        name, op = d.get("field"), d.get("op")
        if name is None:
            self.err(f"{path}.field", "required")
        elif not _is_rule_field(name):
            self.err(f"{path}.field", f"unknown field {name!r} ({', '.join(RULE_FIELDS)}, custom.<name>)")
        if op is None:
            self.err(f"{path}.op", f"required: one of {', '.join(OPERATORS)}")
        elif op not in OPERATORS:
            self.err(f"{path}.op", f"unknown operator {op!r} ({', '.join(OPERATORS)})")
        if not isinstance(op, str) or op not in OPERATORS:
            return None
        # The value is checked even under an unknown field, so that its own mistakes are listed too.
        known = name if len(self.errors) == before and isinstance(name, str) else ""
        value = self.predicate_value(known, op, d, path)
        if len(self.errors) != before or not isinstance(name, str):
            return None
        return Predicate(field=name, op=op, value=value)

    def predicate_value(self, name: str, op: str, d: Mapping[str, Any], path: str) -> Any:  # noqa: C901
        """The checked value for `op` on field `name` ("" when the field is unknown: no field checks)."""
        vpath = f"{path}.value"
        value = d.get("value")
        if op == "exists":
            if value is None:
                return True
            if not isinstance(value, bool):
                self.err(vpath, f"exists takes true or false (or no value), not {value!r}")
            return value
        if value is None:
            hint = " (use op: exists to test whether a field is set)" if op in ("is", "is_not") else ""
            self.err(vpath, f"required for {op}{hint}")
            return None
        if op in ("older_than", "newer_than"):
            if name and name not in DATE_FIELDS and not name.startswith("custom."):
                dates = "created_at, updated_at, custom.<name>"
                self.err(f"{path}.op", f"{op} applies to date fields ({dates}), not {name}")
                return None
            return self.duration(value, vpath)
        if op in ("gt", "lt"):
            return self.comparable(name, op, value, vpath)
        if op == "matches":
            if not isinstance(value, str):
                self.err(vpath, f"matches takes a regular expression (a string), not {value!r}")
                return None
            try:
                return re.compile(value)
            except re.error as e:
                self.err(vpath, f"bad regular expression {value!r}: {e}")
                return None
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.err(vpath, f"{op} takes a non-empty list of values, not {value!r}")
                return None
            for i, item in enumerate(value):
                self.scalar(name, item, f"{vpath}[{i}]", op)
            return tuple(value)
        if isinstance(value, list):
            other = {"is": "in", "is_not": "not_in"}.get(op)
            hint = f"use {other} for a list" if other else "combine several with any/all"
            self.err(vpath, f"{op} takes one value; {hint}")
            return None
        if op == "starts_with" and not isinstance(value, str):
            self.err(vpath, f"starts_with takes a string, not {value!r}")
            return None
        self.scalar(name, value, vpath, op)
        return value

    def scalar(self, name: str, value: Any, path: str, op: str) -> None:
        if not isinstance(value, str | int | float | bool):
            self.err(path, f"{op} compares with a string, number or true/false, not {_kind(value)}")
        elif name == "channel" and op in ("is", "is_not", "in", "not_in"):
            if not isinstance(value, str) or value.casefold() not in CHANNELS:
                self.err(path, f"unknown channel {value!r} ({', '.join(CHANNELS)})")
        elif (
            name in BOOLEAN_FIELDS and op in ("is", "is_not", "in", "not_in") and not isinstance(value, bool)
        ):
            self.err(path, f"{name} is true or false, not {value!r}")

    def comparable(self, name: str, op: str, value: Any, path: str) -> float | datetime | None:
        if name in LIST_FIELDS:
            self.err(path.rsplit(".", 1)[0] + ".op", f"{op} compares single values; {name} is a list")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            if name in DATE_FIELDS:
                self.err(path, f"{name} is an instant: compare it with an ISO 8601 instant, e.g. "
                         "'2026-01-01T00:00:00Z' (or use older_than/newer_than)")  # fmt: skip
                return None
            return value
        if isinstance(value, str):
            try:
                t = datetime.fromisoformat(value)
            except ValueError:
                t = None
            if t is not None and t.tzinfo is not None:
                return t.astimezone(UTC)
            if t is not None:
                self.err(path, f"{value!r} has no UTC offset (add 'Z' or '+hh:mm')")
                return None
        self.err(path, f"{op} compares with a number or an ISO 8601 instant, not {value!r}")
        return None
