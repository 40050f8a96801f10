"""Rules: which SLA level applies to a ticket.

Walk (`choose_level`): rules are tried in order. Every rule whose condition matches APPLIES: its
`set_level`, if any, replaces the level chosen so far (so the last applied rule wins), and if it has
``stop: true`` the walk ends there. A rule without `when` matches every ticket. `load_config` refuses
rules that could leave a ticket without a level.

The parts: `conditions` (what a `when` means: every operator's semantics, compiled to one closure),
`levels` (the walk: `choose_level`, `compile_walk`, `deciding_rule`), `decisions` (what the walk
reads, `rule_inputs`, so the fold can reuse a decision).

Speed: `slaclock.engine.policy.compile_policy` compiles a configuration's rules once (`compile_walk`):
each condition becomes one closure (`compile_condition`), regexes are compiled then, and nothing is
parsed per call except date field values. `rule_inputs` tells what the walk reads, so that the clocks
engine can reuse a decision while a ticket's events change nothing the rules read.
"""

from slaclock.engine.rules.conditions import Test, compile_condition, matches
from slaclock.engine.rules.decisions import DecisionKey, RuleInputs, rule_inputs
from slaclock.engine.rules.levels import Walk, choose_level, compile_walk, deciding_rule

__all__ = [
    "DecisionKey",
    "RuleInputs",
    "Test",
    "Walk",
    "choose_level",
    "compile_condition",
    "compile_walk",
    "deciding_rule",
    "matches",
    "rule_inputs",
]
