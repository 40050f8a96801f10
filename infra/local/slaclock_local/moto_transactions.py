"""TransactWriteItems on the local stack in time proportional to the transaction, not to the table.

moto backs a table up before a transaction by deep-copying the whole ``Table`` (once per item of the
transaction that names it) and puts the copy back if the transaction is cancelled. Every ingest writes
in a transaction, so on the local stack a webhook costs time proportional to everything stored so far:
a few hundred tickets take tens of minutes. DynamoDB itself promises only that a cancelled transaction
leaves every item it names as it was, and that is all this backup needs to keep: ``install()`` wraps
moto's own ``transact_write_items`` (its checks, writes and errors are unchanged), snapshots just the
items the transaction names, and on any failure puts exactly those items back. The whole-table copy is
skipped only inside that wrapper, on the thread running it (moto's server answers on several threads).

tests/integration/test_moto_transactions.py shows a cancelled transaction still changes nothing.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_state = threading.local()
_installed = False


class _CopyModule:
    """Stands in for the ``copy`` module inside moto.dynamodb.models: the same, except that a whole
    ``Table`` is not copied while this thread runs a transaction (its items are snapshotted instead)."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, obj: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_state, "active", False) and isinstance(obj, self._table_type):
            return obj
        return copy.deepcopy(obj, memo)


def _named_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash value, range value, a copy of the stored item or None) for each item named."""
    out = []
    for entry in transact_items:
        if len(entry) != 1:
            continue  # moto refuses it before writing anything
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        try:
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:  # noqa: BLE001, S112 - a malformed key: moto's own validation answers it
            continue
        stored = table.get_item(hash_value, range_value)
        out.append((table, hash_value, range_value, copy.deepcopy(stored)))
    return out


def _restore(snapshot: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, item in reversed(snapshot):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item


def install() -> None:
    """Idempotent; affects this process's moto (the local stack's server runs in-process)."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    models.copy = _CopyModule(Table)  # type: ignore[attr-defined,assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshot = _named_items(self, transact_items) if len(transact_items) <= 100 else []
        _state.active = True
        try:
            original(self, transact_items)
        except BaseException:
            _restore(snapshot)
            raise
        finally:
            _state.active = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True
