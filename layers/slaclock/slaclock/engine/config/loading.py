"""`load_config`: a parsed configuration document, validated as a whole, to a `Config`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from slaclock.engine.config.metrics import _Metrics
from slaclock.engine.config.model import CUSTOMER, Agreement, Config, Responses
from slaclock.engine.config.shapes import (
    _AGREEMENT_KEYS,
    _NAME,
    _TOP_KEYS,
    _join,
    _kind,
    _mapped_statuses,
    _source_providers,
)
from slaclock.engine.config.sources import _Sources
from slaclock.engine.errors import ConfigError


def load_config(doc: Any) -> Config:
    """Validate a parsed configuration document as a whole and return the typed `Config`.

    `doc` is what a YAML or JSON parser returns (a mapping). Every section is checked and EVERY problem
    is collected; if there is any, `ConfigError` is raised with all of them as ``(path, message)``
    pairs, e.g. ``("rules[2].set_level", "unknown level 'gold' (levels: standard, urgent)")``: first the
    top level, then section by section (calendars, leads, levels, rules, sources, reports), in document
    order within each. Nothing is half-loaded. Top-level keys starting with ``x-`` are ignored (a place
    for YAML anchors). `Config.document` keeps a deep copy of `doc`; `Config.warnings` lists what is
    legal but probably unintended.

    The rules must give every ticket a level: `_Loader.check_rule_coverage` says exactly what is
    required. See docs/configuration.md for the whole reference.
    """
    loader = _Loader()
    config = loader.load(doc)
    if loader.errors or config is None:
        raise ConfigError(loader.errors)
    return config


class _Loader(_Metrics, _Sources):
    """The whole loader: each section is read by its own part (levels, conditions, sources)."""

    # -- the document ----------------------------------------------------------------------------------

    def load(self, doc: Any) -> Config | None:
        if not isinstance(doc, Mapping):
            self.err(
                "", f"the configuration must be a mapping with calendars, levels and rules, not {_kind(doc)}"
            )
            return None
        self.check_keys(doc, "", _TOP_KEYS)
        for key in ("calendars", "levels", "rules"):
            if doc.get(key) is None:
                self.err(key, "required")
        calendars = self.calendars(doc.get("calendars"))
        leads = self.leads(doc.get("leads"))
        self.statuses |= _mapped_statuses(doc.get("sources"))
        self.source_providers = _source_providers(doc.get("sources"))
        if isinstance(doc.get("levels"), Mapping):  # known before rules are read; `levels()` checks them
            self.level_names = {n for n in doc["levels"] if isinstance(n, str) and n.strip()}
            self.levels_readable = True
        metrics = self.metrics(doc.get("metrics"))
        levels = self.levels(doc.get("levels"))
        rules = self.rules(doc.get("rules"))
        agreements = self.agreements(doc.get("agreements"), levels)
        sources = self.sources(doc.get("sources"))
        reports = self.reports(doc.get("reports"))
        given = doc.get("responses")
        responses = None if given is None else self.responses(given, "responses")
        if self.errors:
            return None
        return Config(
            calendars=calendars,
            levels=levels,
            rules=rules,
            sources=sources,
            leads=leads,
            reports=reports,
            document=copy.deepcopy(dict(doc)),
            warnings=tuple(self.warnings),
            responses=responses or Responses(),
            metrics=metrics,
            agreements=agreements,
        )

    def agreements(self, value: Any, customer: Mapping[str, Any]) -> dict[str, Agreement]:
        """The ``agreements`` section: each agreement's levels (named uniquely across the whole
        configuration) and its rules (which need not give every ticket a level). Afterwards
        `level_names` holds every agreement's levels, for the report filters."""
        if value is None:
            return {}
        out: dict[str, Agreement] = {}
        owner = dict.fromkeys(self.level_names, CUSTOMER)
        customer_names = self.level_names
        for name, item in self.named(value, "agreements", "agreements"):
            path = _join("agreements", name)
            if name == CUSTOMER or not _NAME.match(name):
                self.err(
                    path,
                    "an agreement's name is lower case letters, digits and _, starting with a letter, "
                    f"not {CUSTOMER!r} (the top-level levels and rules are that one)",
                )
                continue
            d = self.mapping(item, path, "an agreement: {levels, rules, description}")
            if d is None:
                continue
            before = len(self.errors)
            self.check_keys(d, path, _AGREEMENT_KEYS)
            for key in ("levels", "rules"):
                if d.get(key) is None:
                    self.err(f"{path}.{key}", "required")
            given = d.get("levels")
            self.level_names = {n for n in given if isinstance(n, str) and n.strip()} if isinstance(
                given, Mapping
            ) else set()  # fmt: skip
            levels = self.levels(given, f"{path}.levels")
            for level in levels:
                if level in owner:
                    self.err(f"{path}.levels.{level}", f"the level {level!r} is also {owner[level]}'s: level "
                             "names are unique across agreements (a clock names its level)")  # fmt: skip
                else:
                    owner[level] = name
            rules = self.rules(d.get("rules"), f"{path}.rules", cover=False)
            description = d.get("description", "")
            if not isinstance(description, str):
                self.err(f"{path}.description", f"must be a string, not {_kind(description)}")
            if len(self.errors) == before:
                out[name] = Agreement(name=name, levels=levels, rules=rules)
        self.level_names = customer_names | {n for n in owner if n not in customer}
        self.agreement_names = {CUSTOMER, *out}
        return out

    def leads(self, value: Any) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        self.leads_readable = isinstance(value, Mapping)
        out: dict[str, tuple[str, ...]] = {}
        for name, addresses in self.named(value, "leads", "leads"):
            self.lead_names.add(name)
            checked = self.emails(addresses, f"leads.{name}", allow_empty=False)
            if checked is not None:
                out[name] = checked
        return out
