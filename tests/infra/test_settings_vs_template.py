"""template.yaml gives every function what its settings model needs, and points at the right handler."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from slaclock.runtime.settings import CheckSettings, EnvSettings, SweeperSettings, WebhookSettings
from slaclock_local.resources import StackResources, create_from_template, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTIONS: dict[str, type[EnvSettings]] = {
    "WebhookFunction": WebhookSettings,
    "CheckFunction": CheckSettings,
    "SweeperFunction": SweeperSettings,
}
PREFIX = "SLACLOCK_"


def env_name(field: str) -> str:
    return PREFIX + field.upper()


@pytest.fixture(scope="module")
def stack() -> Iterator[StackResources]:
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1"
    )
    try:
        with mock_aws():
            session = boto3.session.Session(region_name="eu-west-1")
            yield create_from_template(TEMPLATE, session, parameters={"SenderEmail": "sla@example.com"})
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize(("function", "model"), FUNCTIONS.items())
def test_every_required_setting_is_in_the_functions_environment(stack, function, model):
    env = stack.environment(function)
    required = {env_name(name) for name, f in model.model_fields.items() if f.is_required()}
    assert required, "the model declares required settings"
    assert sorted(required - set(env)) == []


@pytest.mark.parametrize(("function", "model"), FUNCTIONS.items())
def test_the_settings_validate_from_the_resolved_environment(stack, function, model, monkeypatch):
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in stack.environment(function).items():
        monkeypatch.setenv(name, value)
    settings = model()
    assert settings.table and settings.check_function_arn.endswith("-check")


@pytest.mark.parametrize(("function", "model"), FUNCTIONS.items())
def test_a_variable_set_on_the_function_itself_is_one_its_settings_read(function, model):
    own = (
        (load_template(TEMPLATE)["Resources"][function].get("Properties") or {}).get("Environment") or {}
    ).get("Variables") or {}
    known = {env_name(name) for name in model.model_fields}
    assert sorted(n for n in own if n.startswith(PREFIX) and n not in known) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_handler_the_template_names_exists(function):
    template = load_template(TEMPLATE)
    props = template["Resources"][function]["Properties"]
    handler = props.get("Handler") or template["Globals"]["Function"]["Handler"]
    module, _, attribute = handler.rpartition(".")
    path = ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py"
    assert path.is_file(), path
    names = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    assert attribute in names


def test_a_notice_lease_outlasts_the_check_and_sweeper_timeouts():
    template = load_template(TEMPLATE)
    default_timeout = template["Globals"]["Function"].get("Timeout", 3)
    lease = CheckSettings.model_fields["notice_lease_seconds"].default
    for function in ("CheckFunction", "SweeperFunction"):
        timeout = template["Resources"][function]["Properties"].get("Timeout", default_timeout)
        assert lease > timeout, f"{function} may run longer than a notice lease ({timeout} s >= {lease} s)"


def test_the_link_function_gets_what_its_settings_need_and_nothing_it_ignores(stack, monkeypatch):
    from slaclock.runtime.link_wiring import LinkSettings

    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in stack.environment("LinkFunction").items():
        monkeypatch.setenv(name, value)
    settings = LinkSettings()
    assert settings.report_link_key_secret == stack.ref("ReportLinkKey")
    assert settings.report_bucket == stack.ref("DataBucket")
    # the report function signs with the very key the link function verifies with
    assert (
        stack.environment("ReportFunction")["SLACLOCK_REPORT_LINK_KEY_SECRET"]
        == settings.report_link_key_secret
    )
    props = load_template(TEMPLATE)["Resources"]["LinkFunction"]["Properties"]
    own = props["Environment"]["Variables"]
    assert sorted(n for n in own if n.startswith(PREFIX) and env_name(n[len(PREFIX):].lower()) not in
                  {env_name(f) for f in LinkSettings.model_fields}) == []  # fmt: skip
    assert (ROOT / props["CodeUri"] / "handler.py").is_file()
