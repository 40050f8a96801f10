"""Calendar benchmark (issue 2, item 5): slaclock's `add` / `elapsed` against businesstimedelta and
pandas' `CustomBusinessHour`, on the same calendar, for 1 h, 40 h and 2000 h of business time.

    .venv/bin/python bench/bench_calendar.py [--repeat 5]

The calendar: Mon–Fri 09:00–17:00 in America/New_York with US public holidays (the `holidays`
package's table for 2026–2029, handed to all three libraries). The start instant is Wednesday
2026-03-04 10:30 New York time; `elapsed` is measured from it to slaclock's `add` result for the same
duration. Each cell is the best of `--repeat` runs of CPU time per call (``time.process_time``, so a
busy machine disturbs it less), with warm caches: slaclock builds its yearly timeline blocks on first
use, which is reported separately as "first call".

pandas has no business-time difference operation, so its `elapsed` column is "n/a" and the elapsed
ratio is taken against businesstimedelta alone. The results of the three libraries are compared and any
disagreement is printed (they can differ legitimately only across DST changes, where pandas counts wall
hours; slaclock counts real elapsed time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import timeit
from collections.abc import Callable
from zoneinfo import ZoneInfo

import businesstimedelta as btd
import holidays
import pandas as pd
import pytz
from slaclock.engine.calendar import BusinessCalendar

NEW_YORK = "America/New_York"
HOURS = (1, 40, 2000)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    timer = timeit.Timer(fn, timer=time.process_time)
    number, _ = timer.autorange()
    number = max(number, 3)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    us_holidays = sorted(holidays.country_holidays("US", years=range(2026, 2030)))
    start = dt.datetime(2026, 3, 4, 10, 30, tzinfo=ZoneInfo(NEW_YORK))

    t0 = time.perf_counter()
    cal = BusinessCalendar.from_dict(
        {"timezone": NEW_YORK, "hours": {d: ["09:00-17:00"] for d in WEEKDAYS}, "holidays": {"country": "US"}}
    )
    cal.add(start, dt.timedelta(hours=1))
    first_call_ms = (time.perf_counter() - t0) * 1e3

    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=dt.time(9),
                end_time=dt.time(17),
                working_days=[0, 1, 2, 3, 4],
                tz=pytz.timezone(NEW_YORK),
            ),  # fmt: skip
            btd.HolidayRule(us_holidays, tz=pytz.timezone(NEW_YORK)),
        ]
    )
    btd_start = pytz.timezone(NEW_YORK).localize(start.replace(tzinfo=None))
    pd_start = pd.Timestamp(start)

    print(f"slaclock first call (from_dict + build + holidays, cold): {first_call_ms:.1f} ms\n")
    head = (
        f"{'target':>7} | {'slaclock add':>12} {'btd add':>10} {'pandas add':>11} {'ratio':>7} |"
        f" {'slaclock elapsed':>16} {'btd elapsed':>11} {'pandas':>6} {'ratio':>7}"
    )
    print(head)
    print("-" * len(head))
    base: dict[str, float] = {}
    for h in HOURS:
        d = dt.timedelta(hours=h)
        due = cal.add(start, d)
        offset = pd.offsets.CustomBusinessHour(n=h, start="09:00", end="17:00", holidays=us_holidays)
        btd_delta = btd.BusinessTimeDelta(rules, hours=h)

        # Same answers? (printed, not asserted: a benchmark reports)
        answers = {"businesstimedelta": btd_start + btd_delta, "pandas": (pd_start + offset).to_pydatetime()}
        for name, other in answers.items():
            if other != due:
                print(f"  note: {h} h: {name} says {other.isoformat()}, slaclock {due.isoformat()}")
        btd_elapsed = rules.difference(btd_start, due).timedelta
        if btd_elapsed != d:
            print(f"  note: {h} h: businesstimedelta elapsed {btd_elapsed}, slaclock {d}")

        ours_add = per_call_us(lambda d=d: cal.add(start, d), args.repeat)
        btd_add = per_call_us(lambda b=btd_delta: btd_start + b, args.repeat)
        pd_add = per_call_us(lambda o=offset: pd_start + o, args.repeat)
        ours_el = per_call_us(lambda u=due: cal.elapsed(start, u), args.repeat)
        btd_el = per_call_us(lambda u=due: rules.difference(btd_start, u), args.repeat)
        base.setdefault("add", ours_add)
        base.setdefault("elapsed", ours_el)
        print(
            f"{h:>5} h | {ours_add:>10.2f}µs {btd_add:>8.1f}µs {pd_add:>9.1f}µs"
            f" {min(btd_add, pd_add) / ours_add:>6.0f}× |"
            f" {ours_el:>14.2f}µs {btd_el:>9.1f}µs {'n/a':>6} {btd_el / ours_el:>6.0f}×"
        )
        base[f"add {h}"], base[f"elapsed {h}"] = ours_add, ours_el
    last = HOURS[-1]
    print(
        f"\nslaclock {last} h vs 1 h: add {base[f'add {last}'] / base['add']:.2f}×,"
        f" elapsed {base[f'elapsed {last}'] / base['elapsed']:.2f}×"
        "  (ratio = faster of the other two / slaclock)"
    )


if __name__ == "__main__":
    main()
