"""`wiring.reset_connections` (what the local stack calls between two runs in one process) drops EVERY
cached model bound to the table, so no store keeps talking to the previous endpoint."""

from __future__ import annotations

import importlib
import pkgutil
from functools import _lru_cache_wrapper

import slaclock.adapters
from slaclock.runtime.wiring import reset_connections


def _model_caches() -> dict[str, _lru_cache_wrapper]:
    found = {}
    for info in pkgutil.walk_packages(slaclock.adapters.__path__, "slaclock.adapters."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, _lru_cache_wrapper)
                and value.__module__ == info.name
                and (name.endswith("_models") or name.endswith("_model"))
            ):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_cached_table_model_is_forgotten():
    caches = _model_caches()
    assert {
        "slaclock.adapters.action_ledger.action_model",
        "slaclock.adapters.breach_tally.tally_model",
    } <= set(caches)
    for cache in caches.values():
        cache("a-table", "eu-west-1", "http://127.0.0.1:1")
    reset_connections()
    assert {name: c.cache_info().currsize for name, c in caches.items()} == dict.fromkeys(caches, 0)
