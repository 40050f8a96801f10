"""sweep with in-memory fakes: lost and throttled schedules, pending retries, bounded work."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes.world import T0, World, minutes


def test_a_deleted_schedule_is_caught_by_the_next_sweep():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    del w.scheduler.schedules["4711"]  # someone deleted it, or it was lost

    assert w.sweep(T0 + minutes(29)).checked == ()  # not due yet: nothing done
    result = w.sweep(T0 + minutes(33))  # the 5-minute sweep after 10:30

    (check,) = result.checked
    assert [n.step.kind.value for n in check.sent] == ["warning"]
    assert len(w.mailer.sent) == 1
    assert w.scheduler.schedules == {"4711": T0 + minutes(60)}  # re-armed


def test_a_throttled_scheduler_at_ingest_is_caught_by_the_sweeper():
    w = World()
    w.scheduler.fail_next = 1
    (outcome,) = w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    assert outcome.schedule == "failed" and w.scheduler.schedules == {}
    w.sweep(T0 + minutes(35))
    assert len(w.mailer.sent) == 1 and w.scheduler.schedules["4711"] == T0 + minutes(60)


def test_a_claimed_but_unsent_notice_whose_schedule_is_lost_is_retried_by_the_sweeper():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.mailer.fail_next = 1
    w.fire()
    del w.scheduler.schedules["4711"]
    assert w.sweep(T0 + minutes(35)).checked == ()  # the retry is due at 10:36
    (check,) = w.sweep(T0 + minutes(40)).checked
    assert len(check.sent) == 1 and len(w.mailer.sent) == 1 and w.ledger.unsent() == []


def test_a_ticket_whose_schedule_fired_normally_is_not_swept():
    w = World()
    w.ingest(w.event("created", at=T0), now=T0 + minutes(1))
    w.fire()
    assert w.sweep(T0 + minutes(35)).checked == ()


def test_work_is_bounded_and_the_rest_stays_due_oldest_first():
    w = World()
    for n in range(5):
        w.ingest(
            w.event("created", at=T0 + minutes(n), ticket_id=f"t{n}"),
            now=T0 + minutes(n) + timedelta(seconds=1),
        )
    w.scheduler.schedules.clear()

    first = w.sweep(T0 + minutes(40), max_tickets=2)
    assert [c.ticket_id for c in first.checked] == ["t0", "t1"] and first.truncated
    second = w.sweep(T0 + minutes(40), max_tickets=10)
    assert [c.ticket_id for c in second.checked] == ["t2", "t3", "t4"] and not second.truncated
    assert len(w.mailer.sent) == 5


def test_running_out_of_time_stops_the_sweep():
    w = World()
    for n in range(3):
        w.ingest(w.event("created", at=T0, ticket_id=f"t{n}"), now=T0 + minutes(1))
    calls = iter([False, True])
    result = w.sweep(T0 + minutes(40), out_of_time=lambda: next(calls))
    assert len(result.checked) == 1 and result.truncated


def test_one_broken_ticket_does_not_stop_the_others():
    w = World()
    for n in range(2):
        w.ingest(
            w.event("created", at=T0 + minutes(n), ticket_id=f"t{n}"),
            now=T0 + minutes(n) + timedelta(seconds=1),
        )
    real_get = w.tickets.get

    def broken(ticket_id: str):
        if ticket_id == "t0":
            raise RuntimeError("corrupt item")
        return real_get(ticket_id)

    w.tickets.get = broken  # type: ignore[method-assign]
    result = w.sweep(T0 + minutes(40))
    assert result.failed == ("t0",) and [c.ticket_id for c in result.checked] == ["t1"]
