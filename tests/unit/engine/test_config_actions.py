"""Actions in the configuration: every notice step and the met step carry ``actions:``, validated by
`slaclock.engine.actions.validate_actions` from the loader, every error listed with its path."""

import copy
from typing import Any

import pytest
from slaclock.engine.action_plan import step_actions
from slaclock.engine.actions import CAPABILITIES, Action
from slaclock.engine.config import load_config
from slaclock.engine.errors import ConfigError
from slaclock.engine.policy import StepKind, compile_policy

from tests.fakes.world import CONFIG_DOC

ZENDESK = {
    "provider": "zendesk",
    "secret": {"ssm_parameter": "/slaclock/zendesk"},
    "api": {"url": "https://acme.zendesk.com", "secret": {"secrets_manager": "slaclock/test/zendesk-api"}},
}


def doc_with(level_actions: Any = None, rung_actions: Any = None, sources: Any = None) -> dict[str, Any]:
    doc = copy.deepcopy(CONFIG_DOC)
    doc["sources"] = sources if sources is not None else {"zd": ZENDESK}
    level = doc["levels"]["standard"]
    if level_actions is not None:
        level["actions"] = level_actions
    if rung_actions is not None:
        level["escalations"] = [{"at": "60%", "actions": rung_actions}]
    return doc


def errors_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        load_config(doc)
    return exc.value.errors


def test_actions_of_every_step_reach_the_compiled_ladder() -> None:
    slack = {"kind": "slack", "webhook_secret": "slaclock/test/slack"}
    config = load_config(
        doc_with(
            {"warning": [slack], "breach": [{"kind": "add_tags", "tags": ["sla-breached"]}], "met": [slack]},
            [{"kind": "unassign"}, {"kind": "reply", "templates": {"en": "We are on it ({ticket})."}}],
        )
    )
    goal = compile_policy(config).goal("standard", next(iter(config.levels["standard"].targets)))
    assert goal is not None
    by_kind = {(r.kind, r.index): r.actions for r in goal.rungs}
    assert by_kind[(StepKind.WARNING, 0)] == (Action("slack", {"webhook_secret": "slaclock/test/slack"}),)
    assert by_kind[(StepKind.BREACH, 0)] == (Action("add_tags", {"tags": ["sla-breached"]}),)
    assert [a.kind for a in by_kind[(StepKind.ESCALATION, 0)]] == ["unassign", "reply"]
    assert goal.met == (Action("slack", {"webhook_secret": "slaclock/test/slack"}),)
    assert config.sources["zd"].api_url == "https://acme.zendesk.com"
    assert config.sources["zd"].api_secret == "slaclock/test/zendesk-api"


def test_an_escalation_rung_with_only_actions_is_a_step() -> None:
    config = load_config(doc_with(rung_actions=[{"kind": "unassign"}]))
    (rung,) = config.levels["standard"].escalations
    assert rung.notify == () and rung.actions == (Action("unassign", {}),)


def test_every_error_is_listed_with_its_path() -> None:
    errors = errors_of(
        doc_with(
            {
                "warning": [{"kind": "fax"}],
                "breach": [{"kind": "internal_note", "text": "late by {lateness}"}],
                "later": [],
            },
            [{"kind": "set_priority", "priority": "asap"}],
        )
    )
    assert "unknown kind 'fax'" in dict(errors)["levels.standard.actions.warning[0].kind"]
    assert "unknown variable {lateness}" in dict(errors)["levels.standard.actions.breach[0].text"]
    assert "levels.standard.actions.later" in dict(errors)
    assert (
        "must be one of low, normal, high, urgent"
        in dict(errors)["levels.standard.escalations[0].actions[0].priority"]
    )


def test_a_write_back_on_a_source_that_cannot_do_it_is_refused() -> None:
    api = {"url": "https://acme.ladesk.com", "secret": {"secrets_manager": "slaclock/test/la"}}
    liveagent = {"provider": "liveagent", "secret": {"ssm_parameter": "/slaclock/la"}, "api": api}
    no_api = {"provider": "zendesk", "secret": {"ssm_parameter": "/slaclock/zd2"}}
    errors = errors_of(
        doc_with(rung_actions=[{"kind": "unassign"}], sources={"la": liveagent, "zd2": no_api})
    )
    path = "levels.standard.escalations[0].actions[0]"
    assert (path, "source 'la' (liveagent) cannot unassign") in errors
    assert (path, "source 'zd2' (zendesk without api) cannot unassign") in errors
    assert "unassign" not in CAPABILITIES["liveagent"]


def test_a_generic_source_cannot_write_back_and_takes_no_api() -> None:
    generic = {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"},
               "api": {"url": "ftp://x", "secret": {"secrets_manager": "a"}}}  # fmt: skip
    errors = dict(errors_of(doc_with(sources={"custom": generic})))
    assert "no API" in errors["sources.custom.api"]
    assert "https://" in errors["sources.custom.api.url"]


def test_step_actions_of_a_notice_follow_its_rung() -> None:
    from slaclock.engine.clocks import Notice, Step
    from slaclock.engine.config import Metric

    from tests.fakes.world import T0

    config = load_config(doc_with({"breach": [{"kind": "eventbridge"}]}, [{"kind": "unassign"}]))
    policy = compile_policy(config)
    rung = Notice("1", Metric.FIRST_RESPONSE, 1, "standard", Step(StepKind.ESCALATION, T0, (), 0), T0)
    breach = Notice("1", Metric.FIRST_RESPONSE, 1, "standard", Step(StepKind.BREACH, T0, ()), T0)
    warning = Notice("1", Metric.FIRST_RESPONSE, 1, "standard", Step(StepKind.WARNING, T0, ()), T0)
    assert [a.kind for a in step_actions(policy, rung)] == ["unassign"]
    assert [a.kind for a in step_actions(policy, breach)] == ["eventbridge"]
    assert step_actions(policy, warning) == ()


def test_a_write_back_names_the_sources_it_acts_on() -> None:
    generic = {"provider": "generic", "secret": {"ssm_parameter": "/slaclock/custom"}}
    sources = {"zd": ZENDESK, "custom": generic}
    errors = errors_of(doc_with(rung_actions=[{"kind": "unassign"}], sources=sources))
    assert (
        "levels.standard.escalations[0].actions[0]",
        "source 'custom' (generic without api) cannot unassign",
    ) in errors
    config = load_config(doc_with(rung_actions=[{"kind": "unassign", "sources": ["zd"]}], sources=sources))
    assert config.levels["standard"].escalations[0].actions[0].params == {"sources": ["zd"]}
    errors = errors_of(
        doc_with(rung_actions=[{"kind": "unassign", "sources": ["zd", "nope"]}], sources=sources)
    )
    assert errors == [
        (
            "levels.standard.escalations[0].actions[0].sources[1]",
            "unknown source 'nope' (sources: custom, zd)",
        )
    ]
    errors = errors_of(doc_with(rung_actions=[{"kind": "slack", "webhook_secret": "x", "sources": ["zd"]}]))
    assert errors[0][0] == "levels.standard.escalations[0].actions[0].sources"
