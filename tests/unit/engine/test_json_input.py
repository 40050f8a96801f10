"""`engine.json_input`: the one JSON decoder of every surface (webhook and admin API bodies,
configuration files, event files, helpdesk exports). Each expectation is written out by hand; the
surfaces that use it are tested where they answer (tests/unit/helpdesk/test_hostile_input_parts.py,
tests/integration/test_admin_config.py, tests/unit/runtime/test_hostile_files.py)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time

import pytest
from slaclock.adapters.config_file import parse_json, parse_yaml
from slaclock.engine.errors import ConfigError
from slaclock.engine.json_input import JsonLimitError, loads, nested_deeper, shared_document_problem
from slaclock.engine.limits import MAX_JSON_DEPTH


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": NaN}', "NaN is not JSON: numbers must be finite"),
        ("[-Infinity]", "-Infinity is not JSON: numbers must be finite"),
        ('{"a": 1e999}', "the number 1e999 is out of range"),
        ('{"a": ' + "7" * 5000 + "}", "an integer of 5000 digits (at most 38)"),
        ("[-" + "1" * 39 + "]", "an integer of 39 digits (at most 38)"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),  # RecursionError inside json
        ("[" * 65 + "]" * 65, "nested deeper than 64 levels"),
        ('{"a": ' * 65 + "1" + "}" * 65, "nested deeper than 64 levels"),
    ],
)
def test_what_the_standard_library_lets_through_or_crashes_on_is_refused_by_name(text, message):
    with pytest.raises(JsonLimitError) as exc:
        loads(text)
    assert str(exc.value) == exc.value.msg == message
    assert isinstance(exc.value, json.JSONDecodeError) and isinstance(exc.value, ValueError)


def test_the_limits_themselves_are_accepted_and_surrogates_are_kept():
    assert loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) == json.loads("[" * 64 + "]" * 64)
    assert loads("[" + "9" * 38 + "]") == [int("9" * 38)]
    assert loads(b'{"id": "\\ud800", "n": -1.5e308}') == {"id": "\ud800", "n": -1.5e308}


def test_a_syntax_error_is_the_standard_one_with_its_position():
    with pytest.raises(json.JSONDecodeError) as exc:
        loads("[1,2")
    assert not isinstance(exc.value, JsonLimitError)
    assert (exc.value.msg, exc.value.lineno, exc.value.colno) == ("Expecting ',' delimiter", 1, 5)


def test_a_refusal_crosses_a_process_boundary():
    """Worker processes hand exceptions back pickled."""
    with pytest.raises(JsonLimitError) as exc:
        loads("[NaN]")
    again = pickle.loads(pickle.dumps(exc.value))
    assert type(again) is JsonLimitError and str(again) == "NaN is not JSON: numbers must be finite"


def test_depth_of_trees_and_of_shared_documents():
    assert not nested_deeper([[[]]], 3) and nested_deeper([[[]]], 2)
    assert not nested_deeper({"a": [1, {"b": 2}]}, 3) and nested_deeper({"a": [1, {"b": []}]}, 3)
    assert nested_deeper("text", 0) is False and shared_document_problem(7, 0, 0) is None
    laughs: list = [1] * 10
    for _ in range(9):  # ten lists of ten, nine times: 10^10 leaves, ten distinct lists
        laughs = [laughs] * 10
    started = time.process_time()
    assert shared_document_problem(laughs, 10, 10**11) is None
    assert shared_document_problem(laughs, 9, 10**11) == "nested deeper than 9 levels"
    # 10^10 leaves and 1 + 10 + ... + 10^9 lists
    assert shared_document_problem(laughs, 64, 11_111_111_111) is None
    assert shared_document_problem(laughs, 64, 11_111_111_110) == (
        "more than 11,111,111,110 values once its aliases are expanded"
    )
    assert time.process_time() - started < 0.5
    itself: list = []
    itself.append(itself)
    assert shared_document_problem(itself, 64, 10) == "nested deeper than 64 levels"
    shared = [1]
    assert shared_document_problem({"a": shared, "b": [shared]}, 3, 100) is None
    assert shared_document_problem({"a": shared, "b": [shared]}, 2, 100) is not None  # the deeper path
    # the dict, "a"'s list and its 1, "b"'s list, the shared list in it and its 1: six values
    assert shared_document_problem({"a": shared, "b": [shared]}, 3, 6) is None
    assert shared_document_problem({"a": shared, "b": [shared]}, 3, 5) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"calendars": ' + "[" * 100_000 + "]" * 100_000 + "}", "refused: nested deeper than 64 levels"),
        ('{"levels": ' + "9" * 5000 + "}", "refused: an integer of 5000 digits (at most 38)"),
        ('{"levels": NaN}', "refused: NaN is not JSON: numbers must be finite"),
    ],
)
def test_a_json_configuration_is_refused_with_the_same_words(text, message):
    with pytest.raises(ConfigError) as exc:
        parse_json(text)
    assert exc.value.messages() == [message]


YAML_CASES = {
    "flow nested 100k deep (crashed libyaml)": "a: " + "[" * 100_000 + "]" * 100_000,
    "flow nested 65 deep": "a: " + "[" * 65 + "]" * 65,
    "block nested 65 deep": "".join(" " * i + f"k{i}:\n" for i in range(65)) + " " * 65 + "v: 1\n",
    "aliases chained 200 deep": "\n".join(
        ["x-0: &a0 [1]", *(f"x-{i}: &a{i} [*a{i - 1}]" for i in range(1, 200))]
    ),
    "a list inside itself": "x-a: &a [*a]",
}


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_a_yaml_configuration_nested_too_deep_is_refused_not_a_crash(name):
    """In a child process: a libyaml stack overflow kills the process instead of raising."""
    code = (
        "import sys; from slaclock.adapters.config_file import parse_yaml\n"
        "from slaclock.engine.errors import ConfigError\n"
        "try:\n    parse_yaml(sys.stdin.read())\nexcept ConfigError as e:\n    print(e.messages())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], input=YAML_CASES[name], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.strip() == "['refused: nested deeper than 64 levels']"


def test_a_yaml_alias_bomb_is_refused_at_once():
    """Eight lines of aliases naming 10^8 rule conditions: reading them as copies (as the rule
    compiler does) took longer than any caller waits; the expansion is counted, not performed."""
    lines = [
        "x-p: &p {field: priority, op: is, value: high}",
        "x-a: &a {all: [" + ", ".join(["*p"] * 10) + "]}",
    ]
    lines += [
        f"x-{i}: &l{i} {{all: [{', '.join([f'*l{i - 1}' if i > 1 else '*a'] * 10)}]}}" for i in range(1, 8)
    ]
    lines += ["rules: [{name: bomb, when: *l7, set_level: s}]"]
    started = time.process_time()
    with pytest.raises(ConfigError) as exc:
        parse_yaml("\n".join(lines))
    assert exc.value.messages() == ["refused: more than 1,000,000 values once its aliases are expanded"]
    assert time.process_time() - started < 1


def test_yaml_refuses_long_integers_where_they_are_and_keeps_aliases_that_share():
    with pytest.raises(ConfigError) as exc:
        parse_yaml("levels:\n  a: " + "9" * 5000 + "\n")
    assert exc.value.messages() == [
        "line 2, column 6: YAML syntax error: an integer of 5000 digits (at most 38)"
    ]
    # aliases that share, within the limit: x-4 alone names 10^5 ones (and 11,111 lists)
    shared = ["x-0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    shared += [f"x-{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 5)]
    started = time.process_time()
    doc = parse_yaml("\n".join(shared))
    assert time.process_time() - started < 0.5
    assert len(doc) == 5 and doc["x-4"][9][9][9][9] == [1] * 10 and doc["x-4"][0] is doc["x-3"]
    assert parse_yaml("a: [1, -2, +3, 1_000]") == {"a": [1, -2, 3, "1_000"]}
