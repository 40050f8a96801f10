"""docs/deploying.md works when followed: its starter sla.yaml validates and names the source its smoke
test posts to, the smoke test defines every variable it uses and creates that source's secret, and its
two requests, run against the webhook function on moto with that configuration, are answered 202."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from slaclock.adapters.config_file import load_config_text
from slaclock.runtime import wiring

from tests.events.builders import LambdaContext, webhook_event
from tests.integration._handlers import load_handler, put_config
from tests.integration.conftest import AwsStack

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploying.md"
VAR_USE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
VAR_SET = re.compile(r"(?:^|[\s;])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")


def sections() -> dict[str, str]:
    """The page's text by ``## `` heading ("" for what comes before the first)."""
    out: dict[str, str] = {}
    name = ""
    for line in DOC.read_text().splitlines(keepends=True):
        if line.startswith("## "):
            name = line[3:].strip()
        out[name] = out.get(name, "") + line
    return out


def blocks(text: str, lang: str = "") -> list[str]:
    return [b for tag, b in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M) if tag == lang]


def section(prefix: str) -> str:
    (text,) = [t for name, t in sections().items() if name.startswith(prefix)]
    return text


def starter() -> str:
    (yaml_text,) = blocks(section("5."), "yaml")
    return yaml_text


def smoke_commands() -> list[list[str]]:
    """The smoke test's shell commands, split as the shell would (line continuations joined)."""
    (script,) = blocks(section("8."))
    lines = script.replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if line.strip() and not line.startswith("#")]


def test_the_starter_configuration_validates_and_has_the_smoke_tests_source():
    config = load_config_text(starter())
    source = config.sources["test"]
    assert source.provider == "generic"
    # the starter names the default stack's parameter; the page creates it for "$STACK"
    assert source.secret_ssm_parameter == "/slaclock/slaclock/test"
    (creates,) = [b for b in blocks(section("6.")) if "put-parameter" in b]
    assert '--name "/slaclock/$STACK/test"' in creates and "--type SecureString" in creates


def test_the_smoke_test_defines_every_variable_it_uses():
    opening = "".join(blocks(sections()[""]))
    (script,) = blocks(section("8."))
    defined = set(VAR_SET.findall(opening)) | set(VAR_SET.findall(script))
    used = set(VAR_USE.findall(script))
    assert used, "the smoke test uses no variable?"
    assert used - defined == set()
    # the secret is created in the section before (the same variable), and read back if the shell is new
    (creates,) = [b for b in blocks(section("6.")) if "put-parameter" in b]
    assert "SECRET=" in creates and '--value "$SECRET"' in creates
    assert "get-parameter" in script and "--with-decryption" in script


def _requests() -> list[tuple[str, dict[str, str], bytes]]:
    """(source, headers, body) of each curl in the smoke test, with its variables filled in."""
    values = {"$SECRET": "s3cr3t-from-the-doc", "$NOW": "2026-11-20T09:15:00Z"}
    out = []
    for argv in smoke_commands():
        if argv[0] != "curl":
            continue
        url = next(a for a in argv if a.startswith("$URL/"))
        headers: dict[str, str] = {}
        body = b""
        for flag, value in zip(argv, argv[1:], strict=False):
            for var, val in values.items():
                value = value.replace(var, val)
            if flag == "-H":
                name, _, v = value.partition(":")
                headers[name.strip()] = v.strip()
            elif flag == "-d":
                body = value.encode()
        out.append((url.rsplit("/", 1)[1], headers, body))
    return out


@pytest.mark.integration
def test_the_smoke_test_requests_are_accepted_by_the_webhook(aws: AwsStack):
    put_config(aws, starter())
    aws.client("ssm").put_parameter(
        Name="/slaclock/slaclock/test", Value="s3cr3t-from-the-doc", Type="SecureString"
    )
    wiring.reset()
    webhook = load_handler("webhook")
    answers: list[tuple[int, Any]] = []
    for source, headers, body in _requests():
        json.loads(body)  # the body the page sends is JSON once the shell has spliced $NOW in
        answer = webhook.lambda_handler(webhook_event(source, body, headers), LambdaContext("webhook"))
        answers.append((answer["statusCode"], json.loads(answer["body"])))
    wiring.reset()
    assert answers == [
        (202, {"event_ids": ["smoke-1"], "tickets": ["SMOKE-1"]}),
        (202, {"event_ids": ["smoke-2"], "tickets": ["SMOKE-1"]}),
    ]


def test_the_page_says_what_to_do_about_quotas_before_going_live():
    quotas = section("10.")
    assert "before going live" in quotas.splitlines()[0].lower()
    for service, quota in [("SES", "production access"), ("EventBridge Scheduler", "Number of schedules"),
                           ("Lambda", "Concurrent executions")]:  # fmt: skip
        assert f"**{service}**" in quotas and quota in quotas, service
    assert "Service Quotas" in quotas


def test_every_shell_variable_on_the_page_is_set_before_it_is_used():
    defined: set[str] = set()
    for script in blocks(DOC.read_text()):
        defined |= set(VAR_SET.findall(script))
        assert set(VAR_USE.findall(script)) - defined == set(), script.splitlines()[0]
