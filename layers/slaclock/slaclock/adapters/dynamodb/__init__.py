"""DynamoDB adapters (pynamodb): events, ticket state, SLA clock records, the notice ledger.

ONE table (template.yaml `SlaTable`), one item collection per ticket; docs/architecture.md has the
diagram and the reasoning. Keys (``<tid>`` is the ticket id as given, any Unicode):

    item            pk          sk                          GSI keys (sparse)
    ticket state    T#<tid>     STATE                       due-checks: due_shard=due#<0..3>, next_check_at
    event           T#<tid>     E#<event id>                -
    clock record    T#<tid>     C#<metric>#<cycle:05d>      clocks-by-outcome: outcome_day, outcome_at
                                                            open-clocks: open_part=open, open_due
    notice          T#<tid>     N#<metric>#<cycle>#<step>   -
    sweep lease     SWEEP#<n>   LEASE                       -   (one per due-checks shard)

- Events are append-only and idempotent: put with ``attribute_not_exists(pk)``; the key holds the
  event id only, so a redelivery with the same id is refused whatever else it carries. A ticket's
  events come back with one Query on ``begins_with(sk, "E#")`` and are sorted by (`at`, `id`) here.
- The ticket state is versioned: `save` puts it with ``attribute_not_exists(pk)`` (new ticket) or
  ``version = :expected``; a failed condition raises `ConflictError`. The state JSON is
  zlib-compressed above 512 bytes (`state_z`), which keeps a typical ticket item under 1 KiB, i.e. 1 WCU
  per save and 1 RCU per strongly consistent read.
- Changed clock records are written in the SAME TransactWriteItems as the state (all or nothing, and
  only by the writer whose version condition held). A save with no changed clock is a plain PutItem.
- The sweeper's "armed check instant <= now" is a Query per shard of the sparse `due-checks` index
  (KEYS_ONLY), merged in time order: never a Scan. Four shards spread the index's writes.
- Clock records carry the SLA-log fields; a decided clock (met: at its stop; missed: at its due
  instant) is indexed under its outcome's UTC day, so a report reads a date range with one Query per
  day. Clocks not yet decided sit in the ``running`` partition; cancelled ones leave the index.
- Open clocks (not stopped, not cancelled, with a due instant) are also indexed in the sparse
  `open-clocks` index (``open_part = "open"``, ``open_due`` = the due instant as of the save), which the
  admin API's at-risk list reads by due instant (`DynamoClockSnapshots.open_clocks`); a stopped clock's
  save drops the two attributes, so it leaves the index.
- Notices: `claim` is one conditional UpdateItem (a lease); see `DynamoNoticeLedger`.
- Lifetime (the table's TTL attribute ``expires_at``, epoch seconds; `retention` of each adapter,
  template parameter ``RetentionDays``): an event expires `retention` after it was stored, a clock
  record `retention` after its outcome was decided (a cancelled one after it was recorded; a running
  one never), a notice `retention` after it was sent (a claimed, unsent one never). The ticket state
  never expires. ``retention=None``: nothing expires.
- Sweep leases: which sweeper invocation drains which due shard; one conditional PutItem
  (`DynamoSweepLeases`).

Instants are stored as fixed-width ISO 8601 UTC strings (``2026-11-20T15:45:00.000000Z``) so that
string order is time order. No pynamodb item ever leaves this package: everything is mapped to engine
or port types.

One module per store: `keys` (key layout, instants, TTL), `models` (the pynamodb models and the
error mapping every store shares), `events`, `tickets` (ticket state; it writes the clock records in
the state's transaction), `clock_records` (the SLA-log rows reports read), `notices` (the notice
ledger), `leases` (sweep leases), `report_jobs` (report jobs and their queue). Every public name of
the stores is importable from this package.
"""

from __future__ import annotations

from slaclock.adapters.dynamodb.clock_records import DynamoClockSnapshots, outcome_keys
from slaclock.adapters.dynamodb.events import DynamoEventStore
from slaclock.adapters.dynamodb.keys import (
    CLOCK,
    COMPRESS_OVER,
    DUE_INDEX,
    DUE_SHARDS,
    EVENT,
    MAX_TRANSACTION_ITEMS,
    NOTICE,
    OUTCOME_INDEX,
    RUNNING,
    STATE,
    TICKET,
    TRANSIENT_CANCELLATIONS,
    clock_sk,
    due_shard,
    expires_at,
    instant_key,
    notice_sk,
    parse_instant_key,
    ticket_pk,
)
from slaclock.adapters.dynamodb.leases import DynamoSweepLeases
from slaclock.adapters.dynamodb.models import (
    TableModels,
    failed_condition,
    model_meta,
    put_new,
    reraise,
    table_models,
)
from slaclock.adapters.dynamodb.notices import DynamoNoticeLedger
from slaclock.adapters.dynamodb.tickets import DynamoTicketStore


def forget_tables() -> None:
    """Drop every table binding (model classes and their connections) built so far: the next store
    binds anew, reading the current endpoint (the local stack between two runs; Lambda never calls it)."""
    from slaclock.adapters.dynamodb.report_jobs import job_model

    table_models.cache_clear()
    job_model.cache_clear()


__all__ = [
    "CLOCK",
    "COMPRESS_OVER",
    "DUE_INDEX",
    "DUE_SHARDS",
    "EVENT",
    "MAX_TRANSACTION_ITEMS",
    "NOTICE",
    "OUTCOME_INDEX",
    "RUNNING",
    "STATE",
    "TICKET",
    "TRANSIENT_CANCELLATIONS",
    "DynamoClockSnapshots",
    "DynamoEventStore",
    "DynamoNoticeLedger",
    "DynamoSweepLeases",
    "DynamoTicketStore",
    "TableModels",
    "outcome_keys",
    "clock_sk",
    "due_shard",
    "expires_at",
    "forget_tables",
    "failed_condition",
    "instant_key",
    "model_meta",
    "notice_sk",
    "parse_instant_key",
    "put_new",
    "reraise",
    "table_models",
    "ticket_pk",
]
