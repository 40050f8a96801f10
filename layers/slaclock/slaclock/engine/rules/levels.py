"""The rule walk: which SLA level applies to a ticket, decided on every event.

Walk (`choose_level`): rules are tried in order. Every rule whose condition matches APPLIES: its
`set_level`, if any, replaces the level chosen so far (so the last applied rule wins), and if it has
``stop: true`` the walk ends there. A rule without `when` matches every ticket. `load_config` refuses
rules that could leave a ticket without a level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slaclock.engine.config import Config, Rule
from slaclock.engine.rules.conditions import compile_condition


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


__all__ = ["Walk", "choose_level", "compile_walk", "deciding_rule"]
