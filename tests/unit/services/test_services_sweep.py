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


def _overdue(w: World, count: int) -> None:
    """`count` tickets whose first warning (10:30) passed with no schedule left to fire it."""
    for n in range(count):
        w.ingest(w.event("created", at=T0, ticket_id=f"t{n}"), now=T0 + minutes(1))
    w.scheduler.schedules.clear()


def test_a_sweep_drains_everything_overdue_not_a_fixed_number_of_tickets():
    w = World()
    _overdue(w, 450)  # more than the 200 a sweep used to stop at

    result = w.sweep(T0 + minutes(33))

    assert len(result.checked) == 450 and not result.truncated
    assert len(w.mailer.sent) == 450
    assert list(w.tickets.due_before(T0 + minutes(33))) == []


def test_a_backlog_larger_than_one_invocation_fans_out_one_worker_per_partition():
    w = World()
    _overdue(w, 40)
    budget = iter([False] * 10 + [True])  # the scheduled sweep has time for 10 checks
    now = T0 + minutes(33)

    tick = w.run_sweep(now, holder="tick-1", out_of_time=lambda: next(budget))

    assert len(tick.checked) == 10 and tick.truncated
    assert tick.parts == tick.fanned_out == (0, 1, 2, 3)
    assert w.fan_out.started == [(n, "tick-1") for n in range(4)]
    # A scheduled sweep that comes while the workers drain skips their partitions.
    assert w.run_sweep(now + minutes(1), holder="tick-2").busy == (0, 1, 2, 3)
    assert len(w.mailer.sent) == 10

    # The workers (each with a budget of 3 checks) go on, continuing themselves until empty.
    workers = list(w.fan_out.started)
    w.fan_out.started.clear()
    runs = 0
    while workers:
        part, holder = workers.pop(0)
        budget = iter([False] * 3 + [True])
        result = w.run_sweep(now + minutes(2), holder=holder, part=part, out_of_time=lambda b=budget: next(b))
        assert result.parts == (part,) and {w.tickets.part_of(c.ticket_id) for c in result.checked} <= {part}
        workers += w.fan_out.started
        w.fan_out.started.clear()
        runs += 1

    assert runs > 4  # some partition needed a continuation
    keys = [(m.subject.split(",")[0]) for m in w.mailer.sent]
    assert len(keys) == 40 and len(set(keys)) == 40  # every ticket's warning once: none lost, none twice
    assert w.leases.leases == {}  # all released: the next scheduled sweep takes every partition again
    assert w.run_sweep(now + minutes(5), holder="tick-3").parts == (0, 1, 2, 3)


def test_a_worker_that_dies_frees_its_partition_when_its_lease_ends():
    w = World()
    _overdue(w, 8)
    now = T0 + minutes(33)
    first = w.run_sweep(now, holder="tick-1", out_of_time=lambda: True)
    assert first.fanned_out == (0, 1, 2, 3)  # ... and the workers never run

    assert w.run_sweep(now + minutes(5), holder="tick-2").checked == ()
    later = w.run_sweep(now + w.sweep_ports.lease + minutes(1), holder="tick-3")
    assert len(later.checked) == 8 and len(w.mailer.sent) == 8


def test_a_worker_that_cannot_be_started_leaves_its_partition_to_the_next_sweep():
    w = World()
    _overdue(w, 8)
    w.fan_out.down = True
    now = T0 + minutes(33)

    result = w.run_sweep(now, holder="tick-1", out_of_time=lambda: True)

    assert result.truncated and result.fanned_out == () and w.leases.leases == {}
    assert len(w.run_sweep(now + minutes(5), holder="tick-2").checked) == 8
