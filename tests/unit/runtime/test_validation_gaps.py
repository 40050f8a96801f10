"""`validate`, `config push` and the functions refuse what would otherwise fail at run time, and warn
about what is legal but wrong; `replay` shows the same warnings. (All three read a configuration
through `slaclock.adapters.config_file.load_config_text`, so testing it and the commands covers them.)"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
import yaml
from slaclock.adapters import config_file
from slaclock.cli import main
from slaclock.engine.errors import ConfigError
from slaclock.engine.policy import compile_policy
from slaclock.helpdesk._common import STATUS

from tests.fakes.world import CONFIG_DOC, T0, World, minutes

MAPPING = {"ticket_id": "ticket.number", "type": "event.kind", "at": "event.occurred_at"}


def with_source(mapping: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"]["mapped"] = {
        "provider": "generic",
        "secret": {"ssm_parameter": "/slaclock/mapped"},
        "mapping": mapping,
    }
    return doc


def validate_document(doc: dict[str, Any]) -> Any:
    """What `validate`, `config push` and the functions do with a document (JSON text, parsed)."""
    return config_file.load_config_text(json.dumps(doc), "json")


def errors_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        validate_document(doc)
    return list(caught.value.errors)


# ------------------------------------------------------------------------------ generic mappings


def test_a_good_mapping_loads():
    assert validate_document(with_source(MAPPING)).sources["mapped"].mapping == MAPPING


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"type": "event.[kind"}, "sources.mapped.mapping.type", "not a valid JMESPath expression"),
        ({"ticket.colour": "x"}, "sources.mapped.mapping.ticket.colour", "unknown mapping key"),
        ({"ticket_id": None}, "sources.mapped.mapping.ticket_id", "required"),
    ],
)
def test_a_mapping_that_would_refuse_every_delivery_is_refused(change, path, words):
    mapping = {k: v for k, v in {**MAPPING, **change}.items() if v is not None}
    errors = errors_of(with_source(mapping))
    assert [p for p, _ in errors] == [path]
    assert words in errors[0][1]


def test_mapping_errors_are_listed_with_the_engines_own():
    doc = with_source({**MAPPING, "at": "event.("})
    doc["levels"]["standard"]["calendar"] = "nowhere"
    paths = [p for p, _ in errors_of(doc)]
    assert "levels.standard.calendar" in paths and "sources.mapped.mapping.at" in paths


def test_an_empty_expression_is_reported_once():
    errors = errors_of(with_source({**MAPPING, "at": ""}))
    assert [p for p, _ in errors] == ["sources.mapped.mapping.at"]


def test_validate_and_config_push_read_through_the_same_check(tmp_path, capsys):
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(with_source({**MAPPING, "type": "event.[kind"})))
    assert main(["validate", "--config", str(path)]) == 1
    assert "sources.mapped.mapping.type: not a valid JMESPath expression" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        config_file.load_config_text(path.read_text(), "json")  # what config push and the functions call


# --------------------------------------------------------------------------- pause_when_status


def with_pause(*statuses: str, status_map: dict[str, str] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["levels"]["standard"]["targets"]["resolution"]["pause_when_status"] = list(statuses)
    if status_map:
        doc["sources"]["custom"]["options"] = {"status_map": status_map}
    return doc


def test_the_status_vocabulary_is_the_one_providers_normalise_to():
    from slaclock.engine.config import STATUSES

    assert set(STATUS.values()) == set(STATUSES)


def test_a_pause_status_outside_the_vocabulary_is_refused_with_a_suggestion():
    errors = errors_of(with_pause("pending", "onhold"))
    assert [p for p, _ in errors] == ["levels.standard.targets.resolution.pause_when_status[1]"]
    assert "did you mean 'on_hold'" in errors[0][1] and "status_map" in errors[0][1]


def test_a_status_a_source_maps_to_may_pause_a_clock():
    config = validate_document(with_pause("legal_review", status_map={"Awaiting Legal": "legal_review"}))
    pause = config.levels["standard"].targets
    assert "legal_review" in next(t.pause_when_status for t in pause.values() if t.pause_when_status)


def test_pause_statuses_ignore_case_like_rule_conditions():
    """`Pending` in the configuration pauses a ticket whose status arrives as `PENDING`."""
    w = World(with_pause("Pending"))
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.ingest(w.event("updated", at=T0 + timedelta(hours=1), status="PENDING"))
    w.ingest(w.event("updated", at=T0 + timedelta(hours=3), status="Open"))
    from slaclock.engine.clocks import evaluate

    view = evaluate(compile_policy(w.config), w.state(), T0 + timedelta(hours=5))
    resolution = next(c for c in view.clocks if c.metric.value == "resolution")
    assert resolution.business_seconds == pytest.approx(3 * 3600)  # 5 h less the 2 h pending


# ------------------------------------------------------------------------ time-zone abbreviations


def with_zone(zone: str) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["calendars"]["always"]["timezone"] = zone
    return doc


def test_a_valid_abbreviation_zone_warns_with_the_iana_name():
    config = validate_document(with_zone("EST"))
    ((path, message),) = [w for w in config.warnings if "timezone" in w[0]]
    assert path == "calendars.always.timezone"
    assert "'America/New_York'" in message and "abbreviation" in message


def test_an_invalid_abbreviation_is_an_error_that_names_the_zone_to_use():
    errors = errors_of(with_zone("PST"))
    assert errors[0][0] == "calendars.always.timezone" and "'America/Los_Angeles'" in errors[0][1]


def test_a_place_zone_does_not_warn():
    assert validate_document(with_zone("America/New_York")).warnings == ()


def test_a_sources_timezone_option_is_checked_like_a_calendars():
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"]["custom"]["options"] = {"timezone": "Mars/Olympus"}
    assert [p for p, _ in errors_of(doc)] == ["sources.custom.options.timezone"]
    doc["sources"]["custom"]["options"] = {"timezone": "CET"}
    config = validate_document(doc)
    assert [p for p, _ in config.warnings] == ["sources.custom.options.timezone"]


def test_every_suggested_zone_exists():
    from zoneinfo import ZoneInfo

    from slaclock.engine.config import ZONE_ABBREVIATIONS

    for zone in ZONE_ABBREVIATIONS.values():
        ZoneInfo(zone)


def test_replay_shows_the_warnings_validate_shows(tmp_path, capsys):
    config = tmp_path / "sla.yaml"
    config.write_text(yaml.safe_dump(with_zone("EST")))
    assert main(["validate", "--config", str(config)]) == 0
    validate_err = capsys.readouterr().err
    warnings = [line for line in validate_err.splitlines() if line.startswith("warning:")]
    assert warnings and "America/New_York" in warnings[0]

    events = tmp_path / "events.jsonl"
    event = {"id": "e1", "ticket_id": "1", "type": "created", "at": "2026-01-05T08:00:00Z",
             "ticket": {"status": "open"}}  # fmt: skip
    events.write_text(json.dumps(event) + "\n")
    code = main(["replay", "--config", str(config), "--events", str(events), "--out", str(tmp_path / "o")])
    assert code == 0
    replay_err = capsys.readouterr().err
    assert [line for line in replay_err.splitlines() if line.startswith("warning:")] == warnings
