"""Composition root of ``functions/admin``: its settings and ports, built ONCE per container.
`reset()` forgets everything (tests change the environment between cases)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.settings import TableSettings
from slaclock.services.admin import ConfigPorts


class AdminSettings(TableSettings):
    """Environment of ``functions/admin`` (``SLACLOCK_*``), validated at cold start."""


@cache
def admin_settings() -> AdminSettings:
    return AdminSettings()  # type: ignore[call-arg]  # values come from the environment


@cache
def config_ports() -> ConfigPorts:
    from slaclock.adapters.admin_audit import DynamoAuditLog
    from slaclock.adapters.config_store import S3ConfigStore
    from slaclock.adapters.config_versions import S3ConfigHistory

    s = admin_settings()
    store = S3ConfigStore(bucket=s.config_bucket, key=s.config_key, recheck_seconds=0)
    return ConfigPorts(history=S3ConfigHistory(store), audit=DynamoAuditLog(s.table))


def clock() -> datetime:
    """Now (aware UTC): the one place the admin function reads the clock (tests replace it)."""
    return runtime_clock.now()


def reset() -> None:
    admin_settings.cache_clear()
    config_ports.cache_clear()
