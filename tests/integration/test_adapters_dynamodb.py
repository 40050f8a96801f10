"""The DynamoDB adapters against moto, on the table created from template.yaml."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from slaclock.adapters.dynamodb import (
    DUE_INDEX,
    DynamoClockSnapshots,
    DynamoEventStore,
    DynamoNoticeLedger,
    DynamoTicketStore,
    due_shard,
    instant_key,
    parse_instant_key,
)
from slaclock.engine.clocks import Clock, ClockStatus, Notice, Step, StepKind, TicketState
from slaclock.engine.config import Metric
from slaclock.engine.events import Event, EventType
from slaclock.ports import ClaimOutcome, ClockSnapshot, ConflictError, ServiceUnavailable
from slaclock.services.snapshots import clock_snapshots

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 15, 45, tzinfo=UTC)


def event(
    ticket_id: str, event_id: str, minutes: float, type_: EventType = EventType.UPDATED, **fields: Any
) -> Event:
    return Event(
        id=event_id, ticket_id=ticket_id, type=type_, at=T0 + timedelta(minutes=minutes), ticket=fields
    )


def state(ticket_id: str, *, seen: int = 1, **fields: Any) -> TicketState:
    return TicketState(
        ticket_id=ticket_id,
        last_key=(T0, "e1"),
        fields={"status": "open", "requester": "bob@client.test", "department": "billing",
                "assignee": "ana@example.com", **fields},
        seen_ids=frozenset(f"evt-{i:06d}" for i in range(seen)),
        created_at=T0,
        level="urgent",
    )  # fmt: skip


def clock(ticket_id: str, metric: Metric = Metric.FIRST_RESPONSE, cycle: int = 0, *,
          status: ClockStatus = ClockStatus.OPEN, due: datetime | None = None,
          stopped: datetime | None = None, calendar: str = "paris-office") -> ClockSnapshot:  # fmt: skip
    """A clock as the use cases hand it to `save`: record-ready, with `state(ticket_id)`'s fields and
    its calendar's zone."""
    due = due or T0 + timedelta(hours=1)
    c = Clock(
        ticket_id=ticket_id, metric=metric, cycle=cycle, level="urgent", calendar=calendar, started_at=T0,
        due_at=due, stopped_at=stopped, status=status, target_seconds=3600.0, business_seconds=600.0,
        remaining_seconds=3000.0,
    )  # fmt: skip
    return clock_snapshots(POLICY, state(ticket_id).fields, [c], T0)[0]


#: What `clock_snapshots` reads of a compiled configuration: the calendars' zones.
POLICY: Any = SimpleNamespace(
    config=SimpleNamespace(calendars={"paris-office": SimpleNamespace(timezone="Europe/Paris")})
)


@pytest.fixture
def events(aws):
    return DynamoEventStore(aws.table)


@pytest.fixture
def tickets(aws):
    return DynamoTicketStore(aws.table)


@pytest.fixture
def records(aws):
    return DynamoClockSnapshots(aws.table)


@pytest.fixture
def ledger(aws):
    return DynamoNoticeLedger(aws.table)


def raw_item(aws, pk: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        aws.client("dynamodb")
        .get_item(TableName=aws.table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
        .get("Item")
    )
    return item


# ------------------------------------------------------------------------------------------- events


def test_an_event_is_stored_once_and_a_repeated_id_is_refused_whatever_it_carries(events):
    first = event("4711", "evt-1", 0, EventType.CREATED, status="open")
    assert events.put_if_new(first) is True
    assert events.put_if_new(first) is False
    assert events.put_if_new(event("4711", "evt-1", 5, EventType.SOLVED, status="solved")) is False
    assert events.ticket_events("4711") == [first]


def test_a_tickets_events_come_back_in_at_then_id_order_and_only_its_own(events):
    stored = [
        event("4711", "b", 10),
        event("4711", "a", 10),
        event("4711", "z", 0, EventType.CREATED),
        event("4712", "a", 1),
        event("47", "c", 2),  # a ticket id that is a prefix of another must not leak into it
    ]
    for e in stored:
        assert events.put_if_new(e)
    assert [e.id for e in events.ticket_events("4711")] == ["z", "a", "b"]
    assert [e.id for e in events.ticket_events("47")] == ["c"]


def test_unusual_ticket_and_event_ids_round_trip(events):
    weird = event("Ticket #1/é—😀", "id with spaces#and#hashes", 0, tags=["URGENT"], custom={"plan": "gold"})
    assert events.put_if_new(weird)
    assert events.ticket_events("Ticket #1/é—😀") == [weird]


# ------------------------------------------------------------------------------------------ tickets


def test_a_new_ticket_is_saved_with_version_1_and_read_back_equal(tickets):
    s = state("4711")
    armed = datetime(2026, 11, 20, 16, 15, tzinfo=UTC)
    retry = datetime(2026, 11, 20, 16, 20, tzinfo=UTC)
    assert tickets.save(s, expected_version=None, next_check_at=armed, clocks=[], retry_at=retry) == 1
    stored = tickets.get("4711")
    assert stored is not None
    assert stored.state.to_dict() == s.to_dict()
    assert (stored.version, stored.next_check_at, stored.retry_at) == (1, armed, retry)
    assert tickets.get("4712") is None


def test_the_notified_keys_are_stored_with_the_ticket_and_empty_is_fine(tickets):
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[])
    assert tickets.get("4711").notified == frozenset()
    keys = {"4711#first_response#0#warning", "4711#first_response#0#breach"}
    tickets.save(state("4711"), expected_version=1, next_check_at=None, clocks=[], notified=keys)
    assert tickets.get("4711").notified == frozenset(keys)
    tickets.save(state("4711"), expected_version=2, next_check_at=None, clocks=[], notified=())
    assert tickets.get("4711").notified == frozenset()


def test_optimistic_locking_refuses_a_stale_or_duplicate_writer(tickets):
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[])
    with pytest.raises(ConflictError):
        tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[])
    assert (
        tickets.save(state("4711", status="pending"), expected_version=1, next_check_at=None, clocks=[]) == 2
    )
    with pytest.raises(ConflictError):  # a writer that read version 1 lost the race
        tickets.save(state("4711", status="solved"), expected_version=1, next_check_at=None, clocks=[])
    stored = tickets.get("4711")
    assert stored.version == 2
    assert stored.state.fields["status"] == "pending"


def test_a_large_state_is_stored_compressed_and_round_trips(aws, tickets):
    big = state("4711", seen=400)
    tickets.save(big, expected_version=None, next_check_at=None, clocks=[])
    item = raw_item(aws, "T#4711", "STATE")
    assert "state_z" in item and "state" not in item
    assert len(item["state_z"]["B"]) < len(str(big.to_dict())) / 2
    assert tickets.get("4711").state.to_dict() == big.to_dict()


def test_clock_records_are_written_with_the_state_and_not_at_all_when_the_state_loses(aws, tickets, records):
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[clock("4711")])
    assert raw_item(aws, "T#4711", "C#first_response#00000") is not None
    met = clock("4711", status=ClockStatus.MET, stopped=T0 + timedelta(minutes=20))
    with pytest.raises(ConflictError):
        tickets.save(state("4711"), expected_version=7, next_check_at=None, clocks=[met])
    rows = list(records.running())
    assert [(r.metric, r.status) for r in rows] == [(Metric.FIRST_RESPONSE, ClockStatus.OPEN)]


def test_a_clock_record_carries_the_sla_log_fields(tickets, records):
    stop = T0 + timedelta(minutes=20)
    tickets.save(state("4711"), expected_version=None, next_check_at=None,
                 clocks=[clock("4711", status=ClockStatus.MET, stopped=stop)])  # fmt: skip
    (row,) = records.query(T0, T0 + timedelta(days=1))
    assert (row.ticket_id, row.requester, row.department, row.agent) == (
        "4711", "bob@client.test", "billing", "ana@example.com",
    )  # fmt: skip
    assert (row.level, row.metric, row.cycle, row.status) == (
        "urgent",
        Metric.FIRST_RESPONSE,
        0,
        ClockStatus.MET,
    )
    assert (row.started_at, row.due_at, row.stopped_at, row.decided_at) == (
        T0,
        T0 + timedelta(hours=1),
        stop,
        stop,
    )
    assert (row.business_seconds, row.remaining_seconds, row.target_seconds) == (600.0, 3000.0, 3600.0)
    assert (row.calendar, row.timezone) == ("paris-office", "Europe/Paris")


def test_many_changed_clocks_are_split_into_transactions_of_at_most_100_items(
    aws, tickets, records, api_calls
):
    many = [clock("4711", Metric.NEXT_RESPONSE, n, status=ClockStatus.MET, stopped=T0 + timedelta(minutes=n))
            for n in range(101)]  # fmt: skip
    keys = [("next_response", n) for n in range(101)]
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=many, records=keys)
    assert api_calls.count(("dynamodb", "TransactWriteItems")) == 2
    assert len(list(records.query(T0, T0 + timedelta(days=1)))) == 101
    assert tickets.get("4711").records == set(keys)  # the second transaction listed the last two


def test_a_save_that_dies_between_its_transactions_leaves_a_true_list_of_records(
    tickets, records, monkeypatch
):
    many = [clock("4711", Metric.NEXT_RESPONSE, n, status=ClockStatus.MET, stopped=T0 + timedelta(minutes=n))
            for n in range(101)]  # fmt: skip
    keys = [("next_response", n) for n in range(101)]
    original, calls = tickets._transact, []

    def dies_after_the_first(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the Lambda died")
        original(*args, **kwargs)

    monkeypatch.setattr(tickets, "_transact", dies_after_the_first)
    with pytest.raises(RuntimeError):
        tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=many, records=keys)

    # the first 99 records are written and listed; the two of the lost transaction are not listed, so
    # the next save writes them (`services.snapshots.missing_clocks`)
    assert tickets.get("4711").records == set(keys[:99])
    assert len(list(records.query(T0, T0 + timedelta(days=1)))) == 99
    monkeypatch.setattr(tickets, "_transact", original)
    tickets.save(state("4711"), expected_version=1, next_check_at=None, clocks=many[99:], records=keys)
    assert tickets.get("4711").records == set(keys)
    assert len(list(records.query(T0, T0 + timedelta(days=1)))) == 101


def test_removed_clock_records_are_deleted_in_the_saves_transaction_and_the_list_is_kept(
    aws, tickets, records, api_calls
):
    nr = clock("4711", Metric.NEXT_RESPONSE, 1)
    first = tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[clock("4711"), nr],
                         records=[("first_response", 0), ("next_response", 1)])  # fmt: skip
    assert tickets.get("4711").records == {("first_response", 0), ("next_response", 1)}
    api_calls.clear()

    tickets.save(state("4711"), expected_version=first, next_check_at=None, clocks=[],
                 removed=[("next_response", 1)], records=[("first_response", 0)])  # fmt: skip

    assert api_calls.count(("dynamodb", "TransactWriteItems")) == 1  # the state and the deletion together
    assert raw_item(aws, "T#4711", "C#next_response#00001") is None
    assert [r.metric for r in records.running()] == [Metric.FIRST_RESPONSE]
    assert tickets.get("4711").records == {("first_response", 0)}


def test_an_empty_list_of_records_is_stored_as_such(aws, tickets, api_calls):
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[], records=[])
    api_calls.clear()
    assert tickets.get("4711").records == frozenset()
    assert api_calls.count(("dynamodb", "Query")) == 0  # known: no query of the records


def test_a_ticket_saved_without_its_records_list_reads_them_from_the_records(aws, tickets, api_calls):
    # as an item saved before the list existed: the records are there, the list is not
    agreement = clock("4711", Metric.RESOLUTION, 1)
    agreement = replace(agreement, metric="ownership_time@group_ola")
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[clock("4711"), agreement])
    tickets.save(state("4712"), expected_version=None, next_check_at=None, clocks=[clock("4712")])
    assert "records" not in raw_item(aws, "T#4711", "STATE")
    api_calls.clear()

    assert tickets.get("4711").records == {("first_response", 0), ("ownership_time@group_ola", 1)}
    assert api_calls.count(("dynamodb", "Query")) == 1


# ------------------------------------------------------------------------------- the sweeper's index


def test_due_before_lists_exactly_the_tickets_armed_at_or_before_the_instant_oldest_first(tickets):
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    armed = {f"t{n}": now + timedelta(minutes=n - 10) for n in range(20)}  # t0..t10 are due (t10 exactly now)
    for ticket_id, at in armed.items():
        tickets.save(state(ticket_id), expected_version=None, next_check_at=at, clocks=[])
    tickets.save(state("never-armed"), expected_version=None, next_check_at=None, clocks=[])
    tickets.save(
        state("t3"), expected_version=1, next_check_at=now + timedelta(hours=1), clocks=[]
    )  # moved later
    tickets.save(state("t4"), expected_version=1, next_check_at=None, clocks=[])  # disarmed
    due = list(tickets.due_before(now))
    assert due == [f"t{n}" for n in range(11) if n not in (3, 4)]


def test_due_before_queries_the_index_page_by_page_and_never_scans(aws, tickets, api_calls):
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    ids = [f"ticket-{n}" for n in range(24)]
    for n, ticket_id in enumerate(ids):
        tickets.save(
            state(ticket_id), expected_version=None, next_check_at=now - timedelta(minutes=n), clocks=[]
        )
    api_calls.clear()
    due = list(tickets.due_before(now, page_size=2))
    assert sorted(due) == sorted(ids)
    assert [c for c in api_calls if c[1] == "Scan"] == []
    queries = [c for c in api_calls if c == ("dynamodb", "Query")]
    assert len(queries) >= len(ids) / 2  # paginated: 2 keys per page
    assert len({due_shard(t) for t in ids}) > 1  # the ids really spread over several shards


def test_due_before_is_lazy(aws, tickets, api_calls):
    now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    for n in range(30):
        tickets.save(
            state(f"x{n}"), expected_version=None, next_check_at=now - timedelta(minutes=n), clocks=[]
        )
    api_calls.clear()
    first = next(iter(tickets.due_before(now, page_size=2)))
    assert first == "x29"  # the oldest
    assert api_calls.count(("dynamodb", "Query")) <= 4  # one page per shard, not the whole index


def test_the_due_index_is_the_one_the_template_defines(aws):
    table = aws.client("dynamodb").describe_table(TableName=aws.table)["Table"]
    (index,) = [g for g in table["GlobalSecondaryIndexes"] if g["IndexName"] == DUE_INDEX]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["due_shard", "next_check_at"]


# ------------------------------------------------------------------------------------- clock records


def test_clock_records_are_queried_by_outcome_range_across_days_in_outcome_order(tickets, records):
    day = datetime(2026, 11, 20, tzinfo=UTC)
    plan = {  # ticket -> (status, outcome instant)
        "a": (ClockStatus.MET, day + timedelta(hours=23, minutes=59)),
        "b": (ClockStatus.MISSED, day + timedelta(days=1, hours=1)),
        "c": (ClockStatus.MET, day + timedelta(days=2, hours=12)),
        "d": (ClockStatus.MET, day - timedelta(minutes=1)),  # before the range
        "e": (ClockStatus.MET, day + timedelta(days=3)),  # exactly the end: excluded (half-open)
    }
    for ticket_id, (status, at) in plan.items():
        c = (clock(ticket_id, status=status, due=at, stopped=None) if status is ClockStatus.MISSED
             else clock(ticket_id, status=status, stopped=at, due=at + timedelta(hours=1)))  # fmt: skip
        tickets.save(state(ticket_id), expected_version=None, next_check_at=None, clocks=[c])
    tickets.save(state("f"), expected_version=None, next_check_at=None, clocks=[clock("f")])  # running
    cancelled = clock("g", status=ClockStatus.CANCELLED, stopped=day + timedelta(hours=2))
    tickets.save(state("g"), expected_version=None, next_check_at=None, clocks=[cancelled])
    rows = list(records.query(day, day + timedelta(days=3)))
    assert [r.ticket_id for r in rows] == ["a", "b", "c"]
    assert [r.decided_at for r in rows] == [plan[t][1] for t in "abc"]
    assert [r.ticket_id for r in records.running()] == ["f"]


def test_a_clock_record_moves_from_running_to_its_outcome_day_when_it_is_decided(tickets, records):
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[clock("4711")])
    assert [r.ticket_id for r in records.running()] == ["4711"]
    stop = T0 + timedelta(minutes=30)
    tickets.save(state("4711"), expected_version=1, next_check_at=None,
                 clocks=[clock("4711", status=ClockStatus.MET, stopped=stop)])  # fmt: skip
    assert list(records.running()) == []
    assert [r.stopped_at for r in records.query(T0, T0 + timedelta(hours=1))] == [stop]


def test_a_report_range_streams_page_by_page(aws, tickets, records, api_calls):
    for n in range(12):
        stop = T0 + timedelta(minutes=n)
        tickets.save(state(f"r{n}"), expected_version=None, next_check_at=None,
                     clocks=[clock(f"r{n}", status=ClockStatus.MET, stopped=stop)])  # fmt: skip
    api_calls.clear()
    rows = records.query(T0, T0 + timedelta(hours=1), page_size=3)
    assert next(rows).ticket_id == "r0"
    assert api_calls.count(("dynamodb", "Query")) == 1
    assert len(list(rows)) == 11
    assert api_calls.count(("dynamodb", "Query")) >= 4
    assert ("dynamodb", "Scan") not in api_calls


# ------------------------------------------------------------------------------------- notice ledger


def notice(ticket_id: str = "4711", kind: StepKind = StepKind.WARNING) -> Notice:
    step = Step(kind=kind, at=T0 + timedelta(minutes=30), recipients=("assignee",))
    return Notice(ticket_id=ticket_id, metric=Metric.FIRST_RESPONSE, cycle=0, level="urgent", step=step,
                  due_at=T0 + timedelta(hours=1))  # fmt: skip


def test_a_notice_is_claimed_once_then_held_then_sent_for_good(ledger):
    lease = timedelta(minutes=2)
    n = notice()
    assert ledger.claim(n, now=T0, lease=lease) is ClaimOutcome.CLAIMED
    assert ledger.claim(n, now=T0 + timedelta(seconds=30), lease=lease) is ClaimOutcome.HELD
    ledger.mark_sent(n, now=T0 + timedelta(seconds=40))
    assert ledger.claim(n, now=T0 + timedelta(seconds=50), lease=lease) is ClaimOutcome.SENT
    assert ledger.claim(n, now=T0 + timedelta(days=9), lease=lease) is ClaimOutcome.SENT
    assert ledger.status(n)["attempts"] == 1


def test_a_claim_whose_sender_died_is_claimed_again_once_its_lease_ends(ledger):
    lease = timedelta(minutes=2)
    n = notice()
    assert ledger.claim(n, now=T0, lease=lease) is ClaimOutcome.CLAIMED
    # ...the sender dies (or SES fails) before mark_sent...
    assert ledger.claim(n, now=T0 + lease - timedelta(microseconds=1), lease=lease) is ClaimOutcome.HELD
    assert ledger.claim(n, now=T0 + lease, lease=lease) is ClaimOutcome.CLAIMED
    assert ledger.status(n)["attempts"] == 2
    ledger.mark_sent(n, now=T0 + lease + timedelta(seconds=1))
    assert ledger.status(n)["status"] == "sent"


def test_racing_checks_get_exactly_one_claim(aws):
    lease = timedelta(minutes=2)
    checks = [DynamoNoticeLedger(aws.table) for _ in range(5)]
    outcomes = [c.claim(notice(), now=T0, lease=lease) for c in checks]
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1


def test_notices_are_distinct_per_step_and_ticket(ledger):
    lease = timedelta(minutes=2)
    for n in (notice("1"), notice("1", StepKind.BREACH), notice("2")):
        assert ledger.claim(n, now=T0, lease=lease) is ClaimOutcome.CLAIMED


# ------------------------------------------------------------------------------------------- errors


def _throttle(monkeypatch, operation: str) -> None:
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def failing(self, name, params):
        if name == operation:
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, name)
        return original(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", failing)


def test_throttling_that_survives_the_retries_is_service_unavailable(
    aws, events, tickets, ledger, monkeypatch
):
    tickets.save(state("4711"), expected_version=None, next_check_at=T0, clocks=[])
    _throttle(monkeypatch, "PutItem")
    with pytest.raises(ServiceUnavailable, match="dynamodb"):
        events.put_if_new(event("4711", "e", 0))
    with pytest.raises(ServiceUnavailable):
        tickets.save(state("4711"), expected_version=1, next_check_at=None, clocks=[])
    _throttle(monkeypatch, "Query")
    with pytest.raises(ServiceUnavailable):
        list(tickets.due_before(T0))
    _throttle(monkeypatch, "UpdateItem")
    with pytest.raises(ServiceUnavailable):
        ledger.claim(notice(), now=T0, lease=timedelta(minutes=1))


def test_instant_keys_sort_as_time_and_round_trip():
    instants = [T0, T0 + timedelta(microseconds=1), T0 + timedelta(seconds=1), T0.replace(year=2027)]
    keys = [instant_key(t) for t in instants]
    assert keys == sorted(keys)
    assert [parse_instant_key(k) for k in keys] == instants
    with pytest.raises(ValueError, match="naive"):
        instant_key(datetime(2026, 1, 1))  # noqa: DTZ001


def test_a_clock_counting_at_its_due_instant_is_indexed_on_its_due_day_with_its_evaluation_instant(
    tickets, records
):
    """The check that fires exactly at a due instant sees the clock still `open` (remaining 0): its
    record goes on its due day anyway (its breach is owed), with `as_of` and `counting` so a report
    can tell it missed from the next microsecond on."""
    due = T0 + timedelta(hours=1)
    at_due = replace(clock("4711", due=due), as_of=due, counting=True)
    paused = replace(clock("4712", due=due), as_of=due, counting=False, status=ClockStatus.PAUSED)
    tickets.save(state("4711"), expected_version=None, next_check_at=None, clocks=[at_due])
    tickets.save(state("4712"), expected_version=None, next_check_at=None, clocks=[paused])
    [row] = records.query(due, due + timedelta(minutes=1))
    assert (row.ticket_id, row.status, row.as_of, row.counting) == ("4711", ClockStatus.OPEN, due, True)
    assert [(r.ticket_id, r.counting) for r in records.running()] == [("4712", False)]


def test_running_records_are_read_by_their_due_range(tickets, records):
    for n, hours in enumerate((1, 2, 3)):
        c = replace(clock(f"t{n}", due=T0 + timedelta(hours=hours)), as_of=T0, counting=True)
        tickets.save(state(f"t{n}"), expected_version=None, next_check_at=None, clocks=[c])
    assert [r.ticket_id for r in records.running(T0 + timedelta(hours=2), T0 + timedelta(hours=3))] == ["t1"]
    assert [r.ticket_id for r in records.running()] == ["t0", "t1", "t2"]
    assert [r.as_of for r in records.running()] == [T0] * 3
