"""The report's bounded-memory helpers: the external merge sort gives exactly the engine's in-memory
order, and the distinct-ticket counter is exact; both clean up their temporary files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slaclock.engine.reports import SORT_KEYS, ReportError, SlaLogRow, sort_sla_log
from slaclock.services.report.sort import DistinctCounter, external_sort, sort_key

T0 = datetime(2026, 11, 19, tzinfo=UTC)

instants = st.integers(min_value=0, max_value=6).map(lambda h: T0 + timedelta(hours=h))
texts = st.sampled_from(["", "ana", "Ana", "bob", "=x", "zoé"])


@st.composite
def rows(draw: st.DrawFn) -> SlaLogRow:
    stopped = draw(st.none() | instants)
    return SlaLogRow(
        ticket_id=draw(st.sampled_from(["7", "10", "999", "1000", "a-1", "B2"])),
        requester=draw(texts),
        department=draw(texts),
        agent=draw(texts),
        level=draw(st.sampled_from(["standard", "urgent"])),
        metric=draw(st.sampled_from(["first_response", "next_response", "resolution"])),
        cycle=draw(st.integers(1, 3)),
        started_at=draw(instants),
        due_at=draw(st.none() | instants),
        stopped_at=stopped,
        status=draw(st.sampled_from(["met", "missed", "open"])),
        business_seconds=draw(st.sampled_from([0.0, 60.0, 90.5])),
        remaining_seconds=draw(st.sampled_from([-60.0, 0.0, 30.25, 60.0])),
    )


specs = st.lists(st.sampled_from(SORT_KEYS), min_size=1, max_size=3, unique=True).flatmap(
    lambda keys: st.tuples(*[st.sampled_from([k, "-" + k]) for k in keys])
)


@settings(max_examples=100, deadline=None)
@given(data=st.lists(rows(), max_size=40), by=specs, chunk=st.integers(1, 7))
def test_the_external_sort_gives_the_engines_order(data, by, chunk, tmp_path_factory):
    directory = tmp_path_factory.mktemp("runs")
    with external_sort(iter(data), by, chunk_rows=chunk, directory=str(directory)) as ordered:
        got = list(ordered)
    assert got == sort_sla_log(data, by)
    assert os.listdir(directory) == []


def test_runs_are_spilled_and_removed_even_when_the_merge_is_abandoned(tmp_path):
    data = [
        SlaLogRow(str(i), "", "", "", "standard", "first_response", 1, T0, T0, None, "open", 0.0, float(i))
        for i in range(10)
    ]
    with external_sort(data, "-remaining", chunk_rows=3, directory=str(tmp_path)) as ordered:
        assert len(os.listdir(tmp_path)) == 4  # 3 + 3 + 3 + 1
        assert next(ordered).ticket_id == "9"
    assert os.listdir(tmp_path) == []


def test_an_unknown_sort_key_is_refused():
    with pytest.raises(ReportError):
        sort_key("size")


def test_distinct_tickets_are_counted_exactly_across_spilled_runs(tmp_path):
    with DistinctCounter(chunk=7, directory=str(tmp_path)) as counter:
        for i in range(1000):
            counter.add(f"T-{i % 313}")
        assert counter.count() == 313
        assert os.listdir(tmp_path)  # it did spill
    assert os.listdir(tmp_path) == []
    small = DistinctCounter()
    for t in ["a", "b", "a"]:
        small.add(t)
    assert small.count() == 2
