"""The configuration: calendars, SLA levels, ordered rules, sources, leads, reports.

`load_config(doc)` turns a parsed YAML/JSON document (a mapping) into a `Config`, or raises
`ConfigError` listing EVERY problem with its path (e.g. ``levels.urgent.targets.first_response.within:
'1 hour' is not a duration``). Nothing is half-loaded. A `Config` is plain data;
`slaclock.engine.policy.compile_policy` compiles it for the clocks engine.

The parts: `model` (the dataclasses and the rule fields; the closed word lists are
`slaclock.engine.vocabulary`), `loading` (`load_config` and the document's top level), and one part
of the loader per section: `shapes` (errors and the generic shapes), `levels` (calendars, levels,
targets, ladders), `conditions` (rules and their coverage), `sources` (sources and reports).
"""

from slaclock.engine.config.loading import load_config
from slaclock.engine.config.model import (
    AT,
    BOOLEAN_FIELDS,
    CUSTOMER,
    DATE_FIELDS,
    LIST_FIELDS,
    OPERATORS,
    RESPONSE_KINDS,
    RULE_FIELDS,
    Agreement,
    AllOf,
    AnyOf,
    Condition,
    Config,
    Escalation,
    EventTest,
    Metric,
    MetricAll,
    MetricAny,
    MetricCondition,
    MetricDefinition,
    MetricNot,
    Not,
    Predicate,
    ReportSubscription,
    Responses,
    Rule,
    SlaLevel,
    Source,
    Target,
    agreement_of,
    metric_of,
)
from slaclock.engine.config.shapes import ZONE_ABBREVIATIONS, zone_hint
from slaclock.engine.vocabulary import CHANNELS, PROVIDERS, STATUSES  # re-exported: the vocabulary

__all__ = [
    "AT", "BOOLEAN_FIELDS", "CHANNELS", "CUSTOMER", "DATE_FIELDS", "LIST_FIELDS", "OPERATORS", "PROVIDERS",
    "RESPONSE_KINDS", "RULE_FIELDS", "STATUSES", "ZONE_ABBREVIATIONS", "Agreement", "AllOf", "AnyOf",
    "Condition", "Config", "Escalation", "EventTest", "Metric", "MetricAll", "MetricAny", "MetricCondition",
    "MetricDefinition", "MetricNot", "Not", "Predicate", "ReportSubscription", "Responses", "Rule",
    "SlaLevel", "Source", "Target", "agreement_of", "load_config", "metric_of", "zone_hint",
]  # fmt: skip
