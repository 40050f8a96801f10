"""Composition root of ``functions/admin``: its settings and ports, built ONCE per container.
`reset()` forgets everything (tests change the environment between cases)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from slaclock.runtime import clock as runtime_clock
from slaclock.runtime.settings import TableSettings

if TYPE_CHECKING:  # imported where the ports are built (cold-start budget)
    from slaclock.services.admin import ConfigPorts
    from slaclock.services.admin_board import BoardPorts


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
    from slaclock.services.admin import ConfigPorts

    s = admin_settings()
    store = S3ConfigStore(bucket=s.config_bucket, key=s.config_key, recheck_seconds=0)
    return ConfigPorts(history=S3ConfigHistory(store), audit=DynamoAuditLog(s.table))


@cache
def board_ports() -> BoardPorts:
    """The stored clocks, events, notices and actions the read routes (clocks, compliance, timeline, dry-run)
    use, and the configuration in force (re-read when S3 says it changed)."""
    from slaclock.adapters.action_ledger import DynamoActionLedger
    from slaclock.adapters.config_store import S3ConfigStore
    from slaclock.adapters.dynamodb import DynamoClockSnapshots, DynamoEventStore, DynamoNoticeLedger
    from slaclock.services.admin_board import BoardPorts

    s = admin_settings()
    return BoardPorts(
        config=S3ConfigStore(bucket=s.config_bucket, key=s.config_key, recheck_seconds=0),
        clocks=DynamoClockSnapshots(s.table),
        events=DynamoEventStore(s.table),
        notices=DynamoNoticeLedger(s.table),
        actions=DynamoActionLedger(s.table),
    )


def clock() -> datetime:
    """Now (aware UTC): the one place the admin function reads the clock (tests replace it)."""
    return runtime_clock.now()


def reset() -> None:
    admin_settings.cache_clear()
    config_ports.cache_clear()
    board_ports.cache_clear()
