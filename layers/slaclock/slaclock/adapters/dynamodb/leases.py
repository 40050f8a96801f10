"""Sweep leases: which sweeper invocation drains which due-checks shard."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from slaclock.adapters.dynamodb.keys import EPOCH, instant_key
from slaclock.adapters.dynamodb.models import failed_condition, reraise, table_models


class DynamoSweepLeases:
    """Implements `slaclock.ports.SweepLeases`: item ``pk=SWEEP#<shard>``, ``sk=LEASE`` with the
    `holder` and `leased_until`. `acquire` is ONE conditional PutItem (no item, a lease ended at or
    before now, or the same holder); `release` sets `leased_until` to the epoch if the holder still
    matches. The items are a handful, outside every index."""

    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self.models = table_models(table_name, region, host)

    def acquire(self, part: int, *, holder: str, now: datetime, until: datetime) -> bool:
        m = self.models.lease
        item = m(f"SWEEP#{part}", "LEASE", holder=holder, leased_until=instant_key(until))
        condition = m.pk.does_not_exist() | (m.leased_until <= instant_key(now)) | (m.holder == holder)
        try:
            item.save(condition=condition)
        except PutError as err:
            if failed_condition(err):
                return False
            reraise(err, "acquire sweep lease")
        return True

    def release(self, part: int, *, holder: str) -> None:
        m = self.models.lease
        item = m(f"SWEEP#{part}", "LEASE")
        try:
            item.update(actions=[m.leased_until.set(instant_key(EPOCH))], condition=m.holder == holder)
        except UpdateError as err:
            if not failed_condition(err):
                reraise(err, "release sweep lease")
