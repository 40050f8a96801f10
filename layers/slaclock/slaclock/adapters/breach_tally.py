"""`BreachTally` on the table: one item per threshold recipient, ``pk = TALLY#<sha256 of the address>``
(no address in a key), ``sk = BREACHED``, holding the string set of its breached clocks and whether the
current crossing was told. `add` is one UpdateItem ``ADD clocks :c`` returning the new set; `cross` a
conditional ``SET crossed = true`` (only one check wins it); `reset` and `remove` plain updates."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from slaclock.adapters.dynamodb import failed_condition, model_meta, reraise

TALLY = "TALLY#"


def tally_pk(recipient: str) -> str:
    return TALLY + hashlib.sha256(recipient.strip().lower().encode()).hexdigest()


@lru_cache(maxsize=16)
def tally_model(table_name: str, region: str | None = None, host: str | None = None) -> Any:
    class TallyItem(Model):
        Meta = model_meta(table_name, region, host)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        clocks = UnicodeSetAttribute(null=True)
        crossed = BooleanAttribute(null=True)

    return TallyItem


class DynamoBreachTally:
    """Implements `slaclock.ports.BreachTally` (see the module docstring)."""

    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self.model = tally_model(table_name, region, host)

    def _item(self, recipient: str) -> Any:
        return self.model(tally_pk(recipient), "BREACHED")

    def add(self, recipient: str, clock: str) -> frozenset[str]:
        item = self._item(recipient)
        try:
            item.update(actions=[self.model.clocks.add({clock})])
        except UpdateError as err:
            reraise(err, "count breach")
        return frozenset(item.clocks or ())

    def remove(self, recipient: str, clocks: Iterable[str]) -> None:
        gone = set(clocks)
        if not gone:
            return
        try:
            self._item(recipient).update(actions=[self.model.clocks.delete(gone)])
        except UpdateError as err:
            reraise(err, "uncount breaches")

    def cross(self, recipient: str) -> bool:
        m = self.model
        try:
            told = m.crossed == True  # noqa: E712 - a pynamodb condition, not a Python comparison
            self._item(recipient).update(actions=[m.crossed.set(True)], condition=~told)
        except UpdateError as err:
            if failed_condition(err):
                return False
            reraise(err, "mark threshold crossed")
        return True

    def reset(self, recipient: str) -> None:
        try:
            self._item(recipient).update(actions=[self.model.crossed.set(False)])
        except UpdateError as err:
            reraise(err, "reset threshold")
