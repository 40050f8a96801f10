"""Action definitions of a notice step (pure: no I/O). The configuration loader validates every
step's ``actions:`` with `validate_actions`; the check service runs them (`slaclock.services.check`).

An action is a mapping with a ``kind`` and that kind's parameters:

    kind           parameters
    email          to: [address, ...]
    webhook        url: https://..., secret: <SSM / Secrets Manager name> (signs the body)
    eventbridge    detail_type: text (optional, default "slaclock.notice")
    slack          webhook_secret: <secret name holding the incoming-webhook URL>
    teams          webhook_secret: <secret name holding the workflow-webhook URL>
    add_tags       tags: [tag, ...]
    set_priority   priority: low | normal | high | urgent
    set_field      field: <provider's field id or name>, value: text | number | bool
    internal_note  text: template
    unassign       (none)
    reply          templates: {language: template} or {channel: {language: template}}

Every write-back also takes ``sources: [name, ...]``: it then acts on the tickets of those sources only
(and only their providers must be able to do it); without it, on every source's tickets.

A template is text with ``{variable}`` placeholders from `TEMPLATE_VARIABLES`; ``{{`` and ``}}`` are
literal braces. Write-backs (add_tags ... reply) act through the ticket's own helpdesk, so each must
be one every source's provider can do: `CAPABILITIES` is that table, kept here as plain data (the
connectors, `slaclock.connectors`, declare their actions from it, so the engine stays free of their
HTTP code and there is one table).
"""

from __future__ import annotations

import json
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "email",
    "webhook",
    "eventbridge",
    "slack",
    "teams",
    "add_tags",
    "set_priority",
    "set_field",
    "internal_note",
    "unassign",
    "reply",
)
WRITE_BACK_KINDS = frozenset({"add_tags", "set_priority", "set_field", "internal_note", "unassign", "reply"})
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("email", "chat", "web", "messaging", "phone", "api")
STEPS = ("warning", "breach", "met")
"""Named steps of a level's ``actions:`` (each escalation rung carries its own list)."""

CAPABILITIES: Mapping[str, frozenset[str]] = {
    "zendesk": WRITE_BACK_KINDS,
    "freshdesk": WRITE_BACK_KINDS,
    "jira": WRITE_BACK_KINDS,
    "helpscout": WRITE_BACK_KINDS - {"set_priority"},
    "intercom": WRITE_BACK_KINDS - {"set_priority"},
    "liveagent": frozenset({"set_field"}),
    "generic": frozenset(),
}
"""provider -> the write-backs its connector can do (a generic source has no API to write to)."""

TEMPLATE_VARIABLES = frozenset({"ticket", "ticket_url", "level", "metric", "step", "due", "late", "calendar"})

_PARAMS: dict[str, dict[str, bool]] = {  # kind -> {parameter: required}
    "email": {"to": True},
    "webhook": {"url": True, "secret": True},
    "eventbridge": {"detail_type": False},
    "slack": {"webhook_secret": True},
    "teams": {"webhook_secret": True},
    "add_tags": {"tags": True},
    "set_priority": {"priority": True},
    "set_field": {"field": True, "value": True},
    "internal_note": {"text": True},
    "unassign": {},
    "reply": {"templates": True},
}


@dataclass(frozen=True)
class Action:
    """One validated action: `kind` and its parameters (as written, already checked)."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:  # params are plain JSON data: hashed by their canonical text
        return hash((self.kind, json.dumps(self.params, sort_keys=True, default=str)))

    @property
    def is_write_back(self) -> bool:
        return self.kind in WRITE_BACK_KINDS


def template_variables(template: str) -> list[str]:
    """The placeholders of `template`, in order; raises ValueError for unbalanced braces."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` with its placeholders filled (a validated template names known variables only)."""
    return template.format_map({name: values[name] for name in template_variables(template)})


def reply_template(action: Action, language: str, channel: str, default_language: str = "en") -> str | None:
    """The reply template for a ticket's language and channel: the ticket's language first (the
    channel's own set, then the plain per-language set), then the `default_language` the same way."""
    templates = action.params["templates"]
    per_channel = templates.get(channel)
    tables = [per_channel, templates] if isinstance(per_channel, Mapping) else [templates]
    for lang in (language, default_language):
        for table in tables:
            text = table.get(lang)
            if isinstance(text, str):
                return text
    return None


class _Check:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def err(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def template(self, path: str, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            self.err(path, "must be non-empty text")
            return
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as err:
            self.err(path, f"invalid template: {err}")
            return
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in TEMPLATE_VARIABLES:
                self.err(
                    path, f"unknown variable {{{name}}} (known: {', '.join(sorted(TEMPLATE_VARIABLES))})"
                )
            elif spec or conversion:
                self.err(path, f"{{{name}}} takes no format or conversion")

    def text_list(self, path: str, value: Any) -> None:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            self.err(path, "must be a non-empty list of non-empty text")

    def secret(self, path: str, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            self.err(path, "must name a secret (an SSM parameter path or a Secrets Manager name)")

    def reply_templates(self, path: str, value: Any) -> None:
        if not isinstance(value, Mapping) or not value:
            self.err(path, "must map languages (or channels, then languages) to templates")
            return
        for key, inner in value.items():
            if isinstance(inner, Mapping):
                if key not in CHANNELS:
                    self.err(f"{path}.{key}", f"unknown channel {key!r} ({', '.join(CHANNELS)})")
                if not inner:
                    self.err(f"{path}.{key}", "must map languages to templates")
                for lang, text in inner.items():
                    self.template(f"{path}.{key}.{lang}", text)
            else:
                self.template(f"{path}.{key}", inner)


def validate_actions(
    doc: Any, providers_by_source: Mapping[str, str], *, capabilities: Mapping[str, Collection[str]]
) -> list[tuple[str, str]]:
    """Every problem of an action list, as (path, message); an empty list means valid.

    `providers_by_source` maps each source whose tickets the step can act on to its provider;
    `capabilities` maps a provider to the write-backs its connector can do (missing: none)."""
    check = _Check()
    if not isinstance(doc, list):
        return [("actions", "must be a list of actions")]
    for i, action in enumerate(doc):
        path = f"actions[{i}]"
        if not isinstance(action, Mapping):
            check.err(path, "must be a mapping with a kind")
            continue
        kind = action.get("kind")
        if kind not in _PARAMS:
            check.err(f"{path}.kind", f"unknown kind {kind!r} ({', '.join(KINDS)})")
            continue
        allowed = _PARAMS[kind]
        for key in action:
            if key == "sources" and kind in WRITE_BACK_KINDS:
                continue
            if key != "kind" and key not in allowed:
                check.err(f"{path}.{key}", f"not a parameter of {kind} ({', '.join(allowed) or 'none'})")
        for key, required in allowed.items():
            if required and key not in action:
                check.err(f"{path}.{key}", f"required for {kind}")
        _check_params(check, path, kind, action)
        if kind in WRITE_BACK_KINDS:
            targets = _write_back_sources(check, path, action, providers_by_source)
            for source, provider in sorted(targets.items()):
                if kind not in capabilities.get(provider, ()):
                    check.err(path, f"source {source!r} ({provider}) cannot {kind}")
    return check.errors


def _write_back_sources(
    check: _Check, path: str, action: Mapping[str, Any], providers_by_source: Mapping[str, str]
) -> Mapping[str, str]:
    """The sources a write-back acts on: its ``sources`` list (each must exist), else every source."""
    if "sources" not in action:
        return providers_by_source
    names = action["sources"]
    check.text_list(f"{path}.sources", names)
    if not isinstance(names, list):
        return {}
    for i, name in enumerate(names):
        if isinstance(name, str) and name not in providers_by_source:
            known = ", ".join(sorted(providers_by_source)) or "none defined"
            check.err(f"{path}.sources[{i}]", f"unknown source {name!r} (sources: {known})")
    return {n: providers_by_source[n] for n in names if isinstance(n, str) and n in providers_by_source}


def _check_params(check: _Check, path: str, kind: str, action: Mapping[str, Any]) -> None:
    if kind == "email" and "to" in action:
        check.text_list(f"{path}.to", action["to"])
        if isinstance(action["to"], list) and not all("@" in str(a) for a in action["to"]):
            check.err(f"{path}.to", "each recipient must be an e-mail address")
    elif kind == "webhook":
        _check_webhook(check, path, action)
    elif kind == "eventbridge" and "detail_type" in action:
        if not isinstance(action["detail_type"], str) or not action["detail_type"].strip():
            check.err(f"{path}.detail_type", "must be non-empty text")
    elif kind in ("slack", "teams") and "webhook_secret" in action:
        check.secret(f"{path}.webhook_secret", action["webhook_secret"])
    elif kind == "add_tags" and "tags" in action:
        check.text_list(f"{path}.tags", action["tags"])
    elif kind == "set_priority" and "priority" in action and action["priority"] not in PRIORITIES:
        check.err(f"{path}.priority", f"must be one of {', '.join(PRIORITIES)}")
    elif kind == "set_field":
        _check_set_field(check, path, action)
    elif kind == "internal_note" and "text" in action:
        check.template(f"{path}.text", action["text"])
    elif kind == "reply" and "templates" in action:
        check.reply_templates(f"{path}.templates", action["templates"])


def _check_webhook(check: _Check, path: str, action: Mapping[str, Any]) -> None:
    if "url" in action and not (isinstance(action["url"], str) and action["url"].startswith("https://")):
        check.err(f"{path}.url", "must be an https:// URL")
    if "secret" in action:
        check.secret(f"{path}.secret", action["secret"])


def _check_set_field(check: _Check, path: str, action: Mapping[str, Any]) -> None:
    if "field" in action and (not isinstance(action["field"], str) or not action["field"].strip()):
        check.err(f"{path}.field", "must be the field's id or name, as text")
    if "value" in action and (action["value"] is None or isinstance(action["value"], (list, dict))):
        check.err(f"{path}.value", "must be text, a number or true/false")


def parse_actions(
    doc: Any, providers_by_source: Mapping[str, str], *, capabilities: Mapping[str, Collection[str]]
) -> tuple[Action, ...]:
    """The validated actions; raises `ConfigError` listing every problem (nothing half-accepted)."""
    from slaclock.engine.errors import ConfigError

    errors = validate_actions(doc, providers_by_source, capabilities=capabilities)
    if errors:
        raise ConfigError(errors)
    return tuple(Action(a["kind"], {k: v for k, v in a.items() if k != "kind"}) for a in doc)
