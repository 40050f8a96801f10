"""Settings come from SLACLOCK_* variables, validated once; every problem is named."""

import pydantic
import pytest
from slaclock.runtime.settings import TableSettings, WebhookSettings


def test_settings_read_the_prefixed_variables_case_insensitively(monkeypatch):
    monkeypatch.setenv("SLACLOCK_TABLE", "tickets")
    monkeypatch.setenv("slaclock_config_bucket", "cfg")
    monkeypatch.setenv("SLACLOCK_CONFIG_RECHECK_SECONDS", "15")
    monkeypatch.setenv("OTHER_TABLE", "ignored")
    s = TableSettings()
    assert (s.table, s.config_bucket, s.config_key, s.config_recheck_seconds) == (
        "tickets", "cfg", "config/sla.yaml", 15.0,
    )  # fmt: skip


def test_keyword_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("SLACLOCK_TABLE", "from-env")
    assert TableSettings(table="given", config_bucket="b").table == "given"


def test_every_missing_or_bad_variable_is_named(monkeypatch):
    for name in ("SLACLOCK_TABLE", "SLACLOCK_CONFIG_BUCKET", "SLACLOCK_SCHEDULE_GROUP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACLOCK_SCHEDULER_ROLE_ARN", "not-an-arn")
    with pytest.raises(pydantic.ValidationError) as err:
        WebhookSettings()
    missing = {e["loc"][0] for e in err.value.errors()}
    assert {"table", "config_bucket", "schedule_group", "scheduler_role_arn"} <= missing


def test_settings_are_frozen(monkeypatch):
    s = TableSettings(table="t", config_bucket="b")
    with pytest.raises(pydantic.ValidationError):
        s.table = "other"
