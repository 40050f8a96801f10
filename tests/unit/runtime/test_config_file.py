"""Configuration files (slaclock.adapters.config_file) and the `slaclock validate` command."""

import json
import pathlib
from datetime import UTC, datetime, timedelta

import pytest
from slaclock.adapters.config_file import (
    ConfigFileError,
    load_config_file,
    load_config_text,
    parse_json,
    parse_yaml,
)
from slaclock.cli import main
from slaclock.engine.config import Metric, Predicate
from slaclock.engine.errors import ConfigError
from slaclock.engine.rules import choose_level

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "config"


# -- YAML reading --------


def test_yaml_scalars_follow_yaml_1_2_so_yaml_and_json_agree():
    doc = parse_yaml(
        "country: NO\nflag: on\nanswer: yes\nreal: true\nfalse_: False\nfrom: 13:00\ndate: 2026-12-24\n"
        "zip: 0123\nn: 42\nneg: -7\nx: 1.5\ne: 1e3\nnull_: ~\nversion: 1.2.3\n"
    )
    assert doc == {
        "country": "NO",
        "flag": "on",
        "answer": "yes",
        "real": True,
        "false_": False,
        "from": "13:00",
        "date": "2026-12-24",
        "zip": "0123",
        "n": 42,
        "neg": -7,
        "x": 1.5,
        "e": 1000.0,
        "null_": None,
        "version": "1.2.3",
    }


def test_yaml_durations_and_shares_are_strings():
    assert parse_yaml("{within: 1h30m, warn_at: 50%, iso: PT8H, s: 90s}") == {
        "within": "1h30m",
        "warn_at": "50%",
        "iso": "PT8H",
        "s": "90s",
    }


def test_yaml_anchors_and_merge_keys_work():
    doc = parse_yaml("base: &b {within: 8h, warn_at: 50%}\nother:\n  <<: *b\n  warn_at: 75%\n")
    assert doc["other"] == {"within": "8h", "warn_at": "75%"}


def test_a_repeated_yaml_key_is_an_error_with_lines():
    text = "levels:\n  urgent: {calendar: a}\n  standard: {calendar: a}\n  urgent: {calendar: b}\n"
    with pytest.raises(ConfigError) as err:
        parse_yaml(text)
    assert err.value.errors == [("line 4", "duplicate key 'urgent' (first at line 2)")]


def test_a_yaml_syntax_error_names_the_line():
    with pytest.raises(ConfigError) as err:
        load_config_file(FIXTURES / "syntax-error.yaml")
    [(where, message)] = err.value.errors
    assert where == "line 3, column 7"
    assert message.startswith("YAML syntax error: ")


def test_json_syntax_error_and_duplicates():
    with pytest.raises(ConfigError) as err:
        parse_json('{"a": 1,\n "b": }')
    assert err.value.errors == [("line 2, column 7", "JSON syntax error: Expecting value")]
    with pytest.raises(ConfigError) as err:
        parse_json('{"a": 1, "a": 2}')
    assert err.value.errors == [("", "duplicate key 'a'")]


def test_load_config_text_in_both_formats_gives_the_same_configuration():
    doc = json.loads((FIXTURES / "minimal.json").read_text())
    from_json = load_config_text(json.dumps(doc), "json")
    from_yaml = load_config_text(json.dumps(doc), "yaml")  # JSON is YAML
    assert from_json == from_yaml
    with pytest.raises(ValueError, match="unknown configuration format"):
        load_config_text("{}", "toml")


# -- fixtures --------


def test_the_design_example_loads():
    cfg = load_config_file(FIXTURES / "design-example.yaml")
    assert set(cfg.calendars) == {"paris-office", "always"}
    assert set(cfg.levels) == {"urgent", "standard"}
    assert [r.name for r in cfg.rules] == ["Urgent tag", "VIP customers, high priority", "Everyone else"]
    assert cfg.levels["urgent"].targets[Metric.NEXT_RESPONSE].warn_before == timedelta(minutes=10)
    assert cfg.levels["urgent"].escalations[2].webhook == "https://hooks.example.com/sla"
    assert cfg.sources["custom"].mapping["ticket_id"] == "ticket.id"
    assert cfg.rules[0].when.items == (Predicate("tags", "contains", "URGENT"),)
    # The example's second rule does not stop, so the catch-all always replaces its level: a warning; and its
    # two sources have no ticket_prefix, so their ticket ids could collide: one warning per source
    assert [path for path, _ in cfg.warnings] == [
        "rules[1]",
        "sources.zendesk-main.ticket_prefix",
        "sources.custom.ticket_prefix",
    ]


def test_the_full_fixture_loads_without_warnings():
    cfg = load_config_file(FIXTURES / "full.yaml")
    assert cfg.warnings == ()
    assert cfg.levels["standard"].targets[Metric.RESOLUTION].within == timedelta(
        hours=40
    )  # via a YAML anchor
    assert cfg.calendars["oslo"].to_dict()["holidays"]["country"] == "NO"
    assert len(cfg.reports) == 2


def test_the_many_mistakes_fixture_reports_each_marked_line():
    with pytest.raises(ConfigError) as err:
        load_config_file(FIXTURES / "many-mistakes.yaml")
    paths = [path for path, _ in err.value.errors]
    assert paths == [
        "calendars.broken.timezone",
        "levels.urgent.calendar",
        "levels.urgent.targets.first_response.within",
        "levels.urgent.targets.next_response.warn_before",
        "levels.urgent.targets.resolution.warn_at",
        "levels.urgent.notify.breach[0]",
        "levels.urgent.notify.breach[1]",
        "levels.standard.taregts",
        "levels.standard.targets",
        "rules[0].when.all[1].op",
        "rules[1].when.field",
        "rules[1].when.value",
        "rules[2].when.value",
        "rules[2].set_level",
        "rules",
        "sources.zendesk-main.secret",
    ]
    marked = (FIXTURES / "many-mistakes.yaml").read_text().count("# <-")
    assert marked == 13  # 16 errors: three lines hold two mistakes each, and `rules` lacks a catch-all


def test_missing_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(ConfigFileError, match="cannot read .*nope.yaml: No such file or directory"):
        load_config_file(tmp_path / "nope.yaml")
    (tmp_path / "sla.toml").write_text("x = 1")
    with pytest.raises(ConfigFileError, match="unknown file type '.toml'"):
        load_config_file(tmp_path / "sla.toml")
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigFileError, match="is not UTF-8 text"):
        load_config_file(tmp_path / "latin1.yaml")
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config_file(tmp_path)  # a directory


def test_a_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "sla.json"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "minimal.json").read_bytes())
    assert set(load_config_file(path).levels) == {"standard"}


# -- slaclock validate --------


def test_validate_ok(capsys):
    assert main(["validate", "--config", str(FIXTURES / "full.yaml")]) == 0
    out, err = capsys.readouterr()
    assert out == "OK: 3 calendars, 3 levels, 5 rules, 3 sources\n"
    assert err == ""


def test_validate_ok_with_singular_counts_from_json(capsys):
    assert main(["validate", "--config", str(FIXTURES / "minimal.json")]) == 0
    assert capsys.readouterr().out == "OK: 1 calendar, 1 level, 1 rule, 0 sources\n"


def test_validate_ok_prints_warnings_to_stderr(capsys):
    assert main(["validate", "--config", str(FIXTURES / "design-example.yaml")]) == 0
    out, err = capsys.readouterr()
    assert out == "OK: 2 calendars, 2 levels, 3 rules, 2 sources\n"
    lines = err.splitlines()
    assert lines[0].startswith("warning: rules[1]: 'VIP customers, high priority' sets a level that rules[2]")
    assert lines[1].startswith("warning: sources.zendesk-main.ticket_prefix: not set, the same as custom: ")
    assert lines[2].startswith("warning: sources.custom.ticket_prefix: not set, the same as zendesk-main: ")
    assert len(lines) == 3


def test_validate_lists_every_error_one_per_line_and_exits_1(capsys):
    path = FIXTURES / "many-mistakes.yaml"
    assert main(["validate", "--config", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"{path}: invalid configuration (16 errors)"
    assert len(lines) == 17
    assert "levels.urgent.targets.first_response.within: '1 hour' is not a duration" in lines
    assert "rules[2].set_level: unknown level 'gold' (levels: standard, urgent)" in lines
    assert lines[10].startswith("rules[0].when.all[1].op: unknown operator 'equals' (is, is_not, in, ")


def test_validate_a_yaml_syntax_error(capsys):
    assert main(["validate", "--config", str(FIXTURES / "syntax-error.yaml")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("syntax-error.yaml: invalid configuration (1 error)")
    assert err[1].startswith("line 3, column 7: YAML syntax error:")


def test_validate_a_missing_file_is_one_clear_line_without_traceback(capsys, tmp_path):
    missing = tmp_path / "sla.yaml"
    assert main(["validate", "--config", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"slaclock validate: cannot read {missing}: No such file or directory\n"


def test_validate_without_config_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validate"])
    assert exit_.value.code == 2
    assert "--config" in capsys.readouterr().err


def test_the_example_in_the_configuration_reference_loads_without_warnings():
    doc = (FIXTURES.parents[2] / "docs" / "configuration.md").read_text()
    example = doc.split("## A complete example\n\n```yaml\n", 1)[1].split("```", 1)[0]
    cfg = load_config_text(example, "yaml")
    assert cfg.warnings == ()
    vip_urgent = {"customer_group": "VIP", "priority": "high", "tags": ["urgent"]}
    assert choose_level(cfg, vip_urgent, datetime(2026, 1, 5, tzinfo=UTC)) == (
        "urgent",
        ("Everyone else", "VIP customers, high priority", "Urgent tag"),
    )
