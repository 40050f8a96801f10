"""The table's key layout, instants as sortable strings, and TTL values (the package docstring has
the item map)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from slaclock.engine.clocks import Notice
from slaclock.engine.config import Metric

TICKET = "T#"
STATE = "STATE"
EVENT = "E#"
CLOCK = "C#"
NOTICE = "N#"
DUE_INDEX = "due-checks"
OUTCOME_INDEX = "clocks-by-outcome"
OPEN_INDEX = "open-clocks"
OPEN_PART = "open"
DUE_SHARDS = 4
RUNNING = "running"
#: State JSON longer than this is stored zlib-compressed (keeps a typical ticket item under 1 KiB).
COMPRESS_OVER = 512
#: DynamoDB's limit of items in one TransactWriteItems.
MAX_TRANSACTION_ITEMS = 100
#: Cancellation reasons of a TransactWriteItems that mean "try again later" (the AWS API reference,
#: TransactWriteItems > TransactionCanceledException): the whole transaction wrote nothing.
TRANSIENT_CANCELLATIONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_key(t: datetime) -> str:
    """Fixed-width ISO 8601 UTC (microseconds always present): string order == time order."""
    if t.tzinfo is None:
        raise ValueError(f"{t.isoformat()} is naive: pass an aware datetime")
    return t.astimezone(UTC).strftime(_KEY_FORMAT)


def parse_instant_key(text: str) -> datetime:
    return datetime.strptime(text, _KEY_FORMAT).replace(tzinfo=UTC)


def expires_at(t: datetime, retention: timedelta | None) -> int | None:
    """The TTL value (whole epoch seconds, DynamoDB's TTL format) of an item that lives `retention`
    after `t`; None (no TTL attribute: never expires) without a retention."""
    return None if retention is None else int((t + retention).timestamp())


def opt_key(t: datetime | None) -> str | None:
    return None if t is None else instant_key(t)


def opt_instant(text: str | None) -> datetime | None:
    return None if text is None else parse_instant_key(text)


def ticket_pk(ticket_id: str) -> str:
    return TICKET + ticket_id


def due_shard(ticket_id: str) -> str:
    """The due-checks partition of a ticket: stable, ``due#0`` .. ``due#3``."""
    digest = hashlib.sha256(ticket_id.encode("utf-8", "surrogatepass")).digest()
    return f"due#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS}"


def clock_sk(metric: Metric | str, cycle: int) -> str:
    return f"{CLOCK}{metric}#{cycle:05d}"


def clock_of_sk(sk: str) -> tuple[str, int]:
    """The (metric, cycle) of a clock record's sort key (`clock_sk`)."""
    metric, _, cycle = sk[len(CLOCK) :].rpartition("#")
    return metric, int(cycle)


def notice_sk(notice: Notice) -> str:
    return f"{NOTICE}{str(notice.metric)}#{notice.cycle}#{notice.step.key}"
