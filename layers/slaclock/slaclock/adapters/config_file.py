"""Reading a configuration file (YAML or JSON) into a validated `Config`.

Parsing stays out of the pure engine: this module turns text into a plain document (mappings, lists,
strings, numbers, booleans, null) and hands it to `slaclock.engine.config.load_config`.

YAML is read with YAML 1.2 scalar rules, so that a YAML file yields the same document as its JSON
twin (the admin API stores JSON):

- only ``true``/``false`` are booleans: ``NO`` (Norway), ``on``, ``yes`` stay strings;
- times and dates stay strings: ``13:00`` is not the sexagesimal number 780, ``2026-12-24`` is not a
  date object;
- only plain decimal numbers are numbers (``0123`` stays a string).

A key repeated in the same mapping is an error (PyYAML would silently keep the last one), and so is a
syntax error; both are reported as a `ConfigError` with the line number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from slaclock.engine import json_input
from slaclock.engine.config import Config, load_config
from slaclock.engine.errors import ConfigError, ValidationError
from slaclock.engine.limits import MAX_DOCUMENT_VALUES, MAX_INTEGER_DIGITS, MAX_JSON_DEPTH

_DROPPED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class ConfigFileError(ConfigError):
    """The configuration file could not be read at all (missing, unreadable, not UTF-8, unknown type)."""

    def __init__(self, message: str) -> None:
        ValidationError.__init__(self, [("", message)], "cannot read the configuration")


def _config_loader(base: Any) -> Any:
    """A safe loader on `base` with YAML 1.2 core-schema scalars and duplicate-key detection."""

    class Loader(base):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates: list[tuple[str, str]] = []

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.duplicates.append(
                        (f"line {line}", f"duplicate key {key!r} (first at line {seen[key]})")
                    )
                else:
                    seen[key] = line
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
    )
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )
    Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    return Loader


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    """An integer scalar, refused (with its position) beyond `MAX_INTEGER_DIGITS` digits, as JSON's are."""
    text = str(loader.construct_scalar(node)).replace("_", "")
    digits = len(text.lstrip("+-"))
    if digits > MAX_INTEGER_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits} digits (at most {MAX_INTEGER_DIGITS})", node.start_mark
        )
    return int(text, 10) if text.lstrip("+-").isdigit() else loader.construct_yaml_int(node)


# libyaml's parser when PyYAML was built with it (the pinned wheels are): about 6x faster to parse.
_ConfigLoader: Any = _config_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
# PyYAML's own parser, for a text that could nest deep enough to crash libyaml (see `parse_yaml`).
_PythonConfigLoader: Any = _config_loader(yaml.SafeLoader)

_C_SAFE_BRACKETS = 5_000
_C_SAFE_LENGTH = 8_000_000
"""libyaml's composer recurses in C once per level of nesting and overflows the process's stack
somewhere between 20,000 levels (which load) and 100,000 (which crash the process: measured with the
pinned PyYAML). A text with fewer than `_C_SAFE_BRACKETS` opening brackets nests at most that deep in
flow style, and one shorter than `_C_SAFE_LENGTH` characters at most about 4,000 levels in block style
(level n is indented by n more characters than level 1): such a text is read with libyaml, any other
with PyYAML's parser, whose recursion raises `RecursionError` instead of crashing."""


def parse_yaml(text: str) -> Any:
    """The document in YAML `text` (see the module docstring for the scalar rules). Raises ConfigError."""
    c_safe = len(text) < _C_SAFE_LENGTH and text.count("[") + text.count("{") < _C_SAFE_BRACKETS
    loader = (_ConfigLoader if c_safe else _PythonConfigLoader)(text)
    try:
        doc = loader.get_single_data()
    except RecursionError:
        raise ConfigError([("", f"refused: {json_input.TOO_DEEP}")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([(where, f"YAML syntax error: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise ConfigError([("", f"YAML syntax error: {e}")]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(loader.duplicates)
    problem = json_input.shared_document_problem(doc, MAX_JSON_DEPTH, MAX_DOCUMENT_VALUES)
    if problem is not None:  # the depth of its JSON twin; and no alias bomb
        raise ConfigError([("", f"refused: {problem}")])
    return doc


def parse_json(text: str) -> Any:
    """The document in JSON `text`; a syntax error or a repeated key raises ConfigError."""
    duplicates: list[tuple[str, str]] = []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(("", f"duplicate key {key!r}"))
            out[key] = value
        return out

    try:
        doc = json_input.loads(text, object_pairs_hook=no_duplicates)
    except json_input.JsonLimitError as e:
        raise ConfigError([("", f"refused: {e.msg}")]) from None
    except json.JSONDecodeError as e:
        raise ConfigError([(f"line {e.lineno}, column {e.colno}", f"JSON syntax error: {e.msg}")]) from None
    if duplicates:
        raise ConfigError(duplicates)
    return doc


def load_config_text(text: str, fmt: str = "yaml") -> Config:
    """Parse `text` as ``"yaml"`` or ``"json"`` and validate it (`validate_document`). Raises
    ConfigError."""
    if fmt == "yaml":
        return validate_document(parse_yaml(text))
    if fmt == "json":
        return validate_document(parse_json(text))
    raise ValueError(f"unknown configuration format {fmt!r} (yaml, json)")


def validate_document(doc: Any) -> Config:
    """`load_config`, plus what the pure engine cannot check: each `generic` source's `mapping` is
    compiled as the webhook will compile it (JMESPath syntax, known keys, required keys), so a mapping
    that would refuse every delivery is refused here, by `validate` and `config push`, instead.
    Raises ConfigError with every problem of both."""
    mapping_errors = _mapping_errors(doc)
    try:
        config = load_config(doc)
    except ConfigError as err:
        if not mapping_errors:
            raise
        known = set(err.errors)
        raise ConfigError([*err.errors, *(e for e in mapping_errors if e not in known)]) from None
    if mapping_errors:
        raise ConfigError(mapping_errors)
    return config


def _mapping_errors(doc: Any) -> list[tuple[str, str]]:
    sources = doc.get("sources") if isinstance(doc, dict) else None
    if not isinstance(sources, dict):
        return []
    mapped = [
        (name, source["mapping"])
        for name, source in sources.items()
        if isinstance(source, dict)
        and source.get("provider") == "generic"
        and isinstance(source.get("mapping"), dict)
    ]
    if not mapped:
        return []
    from slaclock.helpdesk.generic import validate_mapping  # jmespath: only for a mapped source

    errors: list[tuple[str, str]] = []
    for name, mapping in mapped:
        for path, message in validate_mapping(mapping):
            if message.startswith("must be a JMESPath expression"):
                continue  # not a non-empty string: the engine's own check said so already
            errors.append((f"sources.{name}.{path}", message))
    return errors


def load_config_file(path: str | Path) -> Config:
    """Read, parse (by extension: .yaml/.yml or .json) and validate a configuration file.

    Every failure is a ConfigError, so a command has one thing to catch; a file that cannot be read at
    all (missing, unreadable, not UTF-8, unknown extension) is its subclass `ConfigFileError`, e.g.
    ``cannot read sla.yaml: No such file or directory``.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        fmt = "yaml"
    elif suffix == ".json":
        fmt = "json"
    else:
        raise ConfigFileError(f"{p}: unknown file type {suffix or '(none)'!r} (use .yaml, .yml or .json)")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise ConfigFileError(f"cannot read {p}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigFileError(f"{p} is not UTF-8 text (byte {e.start})") from None
    return load_config_text(text, fmt)
