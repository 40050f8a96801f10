"""The HTML summary page: self-contained, escaped, built from bounded aggregates."""

import re
from datetime import UTC, datetime, timedelta

from slaclock.engine.reports import SlaLogRow
from slaclock.engine.summary import SummaryAccumulator, human_seconds, render_summary

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def row(
    ticket_id,
    status,
    *,
    level="standard",
    department="billing",
    agent="eva@example.com",
    requester="ann@client.test",
    stopped=T0 + timedelta(hours=1),
    remaining=3600.0,
):
    due = T0 + timedelta(hours=2)
    return SlaLogRow(
        ticket_id=ticket_id, requester=requester, department=department, agent=agent, level=level,
        metric="first_response", cycle=1, started_at=T0, due_at=due, stopped_at=stopped, status=status,
        business_seconds=7200.0 - remaining, remaining_seconds=remaining, timezone="Europe/Paris",
        decided_at=stopped if status == "met" else due if status == "missed" else None,
    )  # fmt: skip


EVIL = '<script>alert("x")</script>&<img src=x onerror=1>'


def _page(rows, **kw):
    acc = SummaryAccumulator(top_n=kw.pop("top_n", 20))
    for r in rows:
        acc.add(r)
    acc.note_ticket()
    return acc, render_summary(acc, **kw)


def test_page_is_self_contained():
    rows = [row(str(i), "met" if i % 4 else "missed", stopped=T0 + timedelta(days=i % 9)) for i in range(40)]
    _, page = _page(rows, title="SLA replay", now=T0 + timedelta(days=10))
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)  # no network asset of any kind
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page
    assert "<style>" in page and "<svg" in page
    assert page.count("<rect") == 9  # one bar per day with a decided clock


def test_ticket_values_and_titles_are_escaped():
    rows = [
        row("<i>t-1</i>", "missed", requester=EVIL, department=EVIL, agent=EVIL, stopped=None, remaining=-60),
    ]
    _, page = _page(rows, title=EVIL, subtitle=EVIL)
    assert "<script>" not in page and "<img" not in page and "<i>t-1</i>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=1&gt;" in page
    assert "&lt;i&gt;t-1&lt;/i&gt;" in page


def test_headline_numbers_breakdowns_and_longest_overdue():
    rows = [
        row("1", "met", level="urgent", department="billing"),
        row("2", "missed", level="urgent", department="billing", stopped=None, remaining=-7200),
        row("3", "missed", level="standard", department="sales", remaining=-60),
        row("4", "open", level="standard", department="sales", stopped=None),
        row("5", "paused", level="standard", department="sales", stopped=None),
    ]
    acc, page = _page(rows)
    assert (acc.total.met, acc.total.missed, acc.running, acc.paused, acc.running_missed) == (1, 2, 3, 1, 1)
    assert acc.by_level["urgent"].compliance_pct == 50.0
    assert acc.by_department["sales"].missed == 1
    assert [r.ticket_id for r in acc.longest_overdue()] == ["2", "3"]
    assert "33.33%" in page  # 1 met of 3 decided
    assert "Breaches by level" in page and "Breaches by department" in page
    assert "2h 00m" in page  # ticket 2 is 2 h overdue


def test_top_overdue_is_bounded_and_independent_of_arrival_order():
    rows = [row(str(i), "missed", remaining=-float(i % 50), stopped=None) for i in range(1000)]
    a = SummaryAccumulator(top_n=5)
    b = SummaryAccumulator(top_n=5)
    for r in rows:
        a.add(r)
    for r in reversed(rows):
        b.add(r)
    assert len(a._overdue) == 5  # the heap never holds more than top_n rows
    assert [r.ticket_id for r in a.longest_overdue()] == [r.ticket_id for r in b.longest_overdue()]
    assert [r.remaining_seconds for r in a.longest_overdue()] == [-49.0] * 5
    assert a.days.size == 1  # one day


def test_empty_report_renders():
    _, page = _page([])
    assert "No clock was decided" in page and "No clock missed its target" in page


def test_human_seconds():
    assert human_seconds(45) == "45s"
    assert human_seconds(750) == "12m 30s"
    assert human_seconds(4 * 3600 + 300) == "4h 05m"
    assert human_seconds(2 * 86400 + 3 * 3600) == "2d 3h"
