"""The pynamodb models of the SLA table (bound to a table name at run time) and the error mapping
every store shares."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from slaclock.adapters import _aws
from slaclock.adapters.dynamodb.keys import DUE_INDEX, OPEN_INDEX, OUTCOME_INDEX


@dataclass(frozen=True)
class TableModels:
    """The pynamodb model classes bound to one table name (built once per table, per container)."""

    ticket: Any
    event: Any
    clock: Any
    notice: Any
    connection: Connection
    lease: Any


def model_meta(table_name: str, region: str | None, host: str | None, max_retry_attempts: int = 5) -> Any:
    """A new pynamodb ``Meta`` class binding a model to `table_name` (one per model: pynamodb writes
    its defaults into the class it is given)."""
    attrs = {
        "table_name": table_name,
        "region": region,
        "host": host,
        "max_retry_attempts": max_retry_attempts,
    }
    return type("Meta", (), attrs)


@lru_cache(maxsize=16)
def table_models(
    table_name: str, region: str | None = None, host: str | None = None, max_retry_attempts: int = 5
) -> TableModels:
    """Model classes for `table_name` (the name comes from settings at run time, never from code).

    Retries: pynamodb's clients use botocore's ``standard`` retry mode with `max_retry_attempts`."""

    class DueIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = DUE_INDEX
            projection = KeysOnlyProjection()

        due_shard = UnicodeAttribute(hash_key=True)
        next_check_at = UnicodeAttribute(range_key=True)

    class OutcomeIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = OUTCOME_INDEX
            projection = AllProjection()

        outcome_day = UnicodeAttribute(hash_key=True)
        outcome_at = UnicodeAttribute(range_key=True)

    class OpenIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
        class Meta:
            index_name = OPEN_INDEX
            projection = AllProjection()

        open_part = UnicodeAttribute(hash_key=True)
        open_due = UnicodeAttribute(range_key=True)

    class TicketItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        ticket_id = UnicodeAttribute()
        version = NumberAttribute()
        state = UnicodeAttribute(null=True)
        state_z = BinaryAttribute(null=True, legacy_encoding=False)
        next_check_at = UnicodeAttribute(null=True)
        due_shard = UnicodeAttribute(null=True)
        retry_at = UnicodeAttribute(null=True)
        notified = UnicodeSetAttribute(null=True)
        records = ListAttribute(of=UnicodeAttribute, null=True)  # clock record sort keys
        saved_at = UnicodeAttribute()
        due_index = DueIndex()

    class EventItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        event = UnicodeAttribute()
        at = UnicodeAttribute()
        stored_at = UnicodeAttribute()
        expires_at = NumberAttribute(null=True)

    class ClockItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        ticket_id = UnicodeAttribute()
        requester = UnicodeAttribute(null=True)
        department = UnicodeAttribute(null=True)
        agent = UnicodeAttribute(null=True)
        level = UnicodeAttribute()
        metric = UnicodeAttribute()
        cycle = NumberAttribute()
        calendar = UnicodeAttribute()
        time_zone = UnicodeAttribute(null=True)
        started_at = UnicodeAttribute()
        due_at = UnicodeAttribute(null=True)
        stopped_at = UnicodeAttribute(null=True)
        status = UnicodeAttribute()
        target_seconds = NumberAttribute()
        business_seconds = NumberAttribute()
        remaining_seconds = NumberAttribute()
        as_of = UnicodeAttribute(null=True)
        counting = BooleanAttribute(null=True)
        outcome_day = UnicodeAttribute(null=True)
        outcome_at = UnicodeAttribute(null=True)
        ticket_version = NumberAttribute()
        recorded_at = UnicodeAttribute()
        expires_at = NumberAttribute(null=True)
        outcome_index = OutcomeIndex()
        open_part = UnicodeAttribute(null=True)
        open_due = UnicodeAttribute(null=True)
        open_index = OpenIndex()

    class NoticeItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        notice_key = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        claimed_until = UnicodeAttribute(null=True)
        claimed_at = UnicodeAttribute(null=True)
        sent_at = UnicodeAttribute(null=True)
        attempts = NumberAttribute(null=True)
        delivered = UnicodeSetAttribute(null=True)
        expires_at = NumberAttribute(null=True)

    class LeaseItem(Model):
        Meta = model_meta(table_name, region, host, max_retry_attempts)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        holder = UnicodeAttribute()
        leased_until = UnicodeAttribute()

    connection = Connection(region=region, host=host, max_retry_attempts=max_retry_attempts)
    return TableModels(TicketItem, EventItem, ClockItem, NoticeItem, connection, LeaseItem)


def failed_condition(err: PynamoDBException) -> bool:
    """True when a conditional write was refused because its condition did not hold."""
    return err.cause_response_code == "ConditionalCheckFailedException"


def reraise(err: PynamoDBException, operation: str) -> NoReturn:
    """Throttling / service faults after retries -> ServiceUnavailable; anything else propagates."""
    cause = err.cause
    if cause is not None and _aws.is_transient(cause):
        raise _aws.unavailable("dynamodb", operation, cause) from err
    if err.cause_response_code in _aws.TRANSIENT_CODES:
        raise _aws.unavailable("dynamodb", operation, code=err.cause_response_code) from err
    raise err


def put_new(item: Any, operation: str) -> bool:
    """Put `item` unless an item with its key is stored already (one PutItem conditioned on
    ``attribute_not_exists(pk)``): True if written, False if the key was taken (nothing is written,
    whatever the stored item holds)."""
    try:
        item.save(condition=type(item).pk.does_not_exist())
    except PutError as err:
        if failed_condition(err):
            return False
        reraise(err, operation)
    return True
