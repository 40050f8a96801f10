"""The summary page's rendering rules (`slaclock.engine.summary_page`) and the report page's period."""

import re
from datetime import UTC, datetime, timedelta

from slaclock.engine.reports import COMPLIANCE_COLUMNS, SlaLogRow, compliance_record
from slaclock.engine.summary import SummaryAccumulator
from slaclock.engine.summary_page import business_time, local_instant, render_summary
from slaclock.services.report import Period
from slaclock.services.report.email import human_period

T0 = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # a Monday


def clock(ticket_id, status, *, day=0, remaining=3600.0, stopped_after=timedelta(hours=3)):
    start = T0 + timedelta(days=day)
    due = start + timedelta(hours=2)
    stopped = None if status == "running" else start + stopped_after
    return SlaLogRow(
        ticket_id=ticket_id, requester="r@client.test", department="billing", agent="eva@example.com",
        level="standard", metric="first_response", cycle=1, started_at=start, due_at=due,
        stopped_at=stopped, status=status, business_seconds=7200.0 - remaining,
        remaining_seconds=remaining, timezone="Europe/Paris",
        decided_at=stopped if status == "met" else due if status == "missed" else None,
    )  # fmt: skip


def page(rows, **kw):
    acc = SummaryAccumulator()
    for r in rows:
        acc.add(r)
    return acc, render_summary(acc, **kw)


def test_a_zero_percent_day_draws_a_visible_bar_with_its_figure_and_volume():
    _, html = page([clock("1", "met", remaining=600.0), clock("2", "missed", day=1, remaining=-900.0)])
    bars = dict(
        re.findall(r'height="([\d.]+)" fill="[^"]+" data-date="([\d-]+)"', html)[i][::-1] for i in (0, 1)
    )
    assert float(bars["2026-11-10"]) >= 3.0  # 0 %: a red stub, not nothing
    assert 'data-date="2026-11-10" data-compliance="0.00"' in html
    assert ">0%</text>" in html and ">100%</text>" in html
    assert html.count(">n=1</text>") == 2  # each day's volume is printed under its bar


def test_status_is_told_in_words_not_only_in_colour():
    _, html = page([clock("1", "met", remaining=600.0), clock("2", "missed", remaining=-900.0)])
    assert "50.00% <small>off target</small>" in html
    _, good = page([clock("1", "met", remaining=600.0)])
    assert "<small>on target</small>" in good


def test_business_durations_are_hours_never_days():
    assert business_time(73 * 86400 + 2 * 3600) == "1754h 00m"
    assert business_time(-750) == "12m 30s"
    _, html = page([clock("1", "missed", remaining=-(30 * 3600 + 60))])
    assert "30h 01m" in html and "Overdue, business time" in html and "Overdue, calendar time" in html
    assert not re.search(
        r"\d+d \d+h</td><td class='n t'>", html.split("Overdue, calendar")[1].split("</td><td>")[0]
    )


def test_calendar_time_overdue_counts_wall_clock_time_past_due():
    # due 10:00 UTC, stopped 3 days later: 3 calendar days minus 2 hours past due
    _, html = page([clock("1", "missed", remaining=-3600.0, stopped_after=timedelta(days=3))])
    assert "<td class='n t'>2d 22h</td>" in html


def test_instants_in_the_calendar_zone_or_utc_on_request():
    assert local_instant(T0, "Europe/Paris") == "2026-11-09 09:00 CET"
    assert local_instant(T0, "Europe/Paris", utc=True) == "2026-11-09 08:00 UTC"
    _, local = page([clock("1", "missed", remaining=-60.0)])
    _, utc = page([clock("1", "missed", remaining=-60.0)], utc=True)
    assert "2026-11-09 11:00 CET" in local and "Due (level's time zone)" in local
    assert "2026-11-09 10:00 UTC" in utc and "Due (UTC)" in utc


def test_each_day_carries_compliance_csv_figures_and_shows_liveagent_times():
    acc, html = page(
        [
            clock("1", "met", remaining=600.0),
            clock("2", "met", remaining=1800.0),
            clock("3", "missed", remaining=-5.5),
        ]
    )
    (day,) = acc.daily()
    for name, value in zip(COMPLIANCE_COLUMNS, compliance_record(day), strict=True):
        assert f'data-{name}="{value}"' in html
    # met avg / min / max in business time: 7200-1200 avg = 6000 s -> 1h 40m; min 5400 s; max 6600 s
    assert "<td class='n t'>1h 40m</td><td class='n t'>1h 30m</td><td class='n t'>1h 50m</td>" in html


def test_human_period():
    def period(start, end, tz="Europe/Paris"):
        return Period(start=start, end=end, timezone=tz, kind="custom", label="x")

    # 9 November 00:00 Paris to 14 November 00:00 Paris: the 9th to the 13th
    assert human_period(
        period(datetime(2026, 11, 8, 23, tzinfo=UTC), datetime(2026, 11, 13, 23, tzinfo=UTC))
    ) == ("9–13 November 2026")
    assert human_period(
        period(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC), "UTC")
    ) == ("19 November 2026")
    assert human_period(
        period(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC), "UTC")
    ) == ("30 November – 4 December 2026")
    assert human_period(
        period(datetime(2026, 12, 30, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC), "UTC")
    ) == ("30 December 2026 – 3 January 2027")
