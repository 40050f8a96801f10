"""The summary page `slaclock replay` writes, in a real headless Chromium at 1280 px and 390 px: no
horizontal scroll, and every figure on the page equals the CSVs replay wrote for the same run."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay")
    subprocess.run(
        [sys.executable, "-m", "slaclock.cli", "replay", "--config", "examples/sla.yaml",
         "--events", "examples/events.jsonl", "--out", str(out), "--quiet", "--workers", "1"],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return out


def _csv(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _open(driver, page, width, height, mobile):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.get(page.as_uri())


@pytest.mark.parametrize("name", WIDTHS)
def test_no_horizontal_scroll(chromium, run, name):
    width, height, mobile = WIDTHS[name]
    _open(chromium, run / "summary.html", width, height, mobile)
    inner, scroll = chromium.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner == width
    assert scroll <= inner
    shots = os.environ.get("SLACLOCK_SCREENSHOTS")
    if (
        shots
    ):  # docs/summary-<name>.png: `SLACLOCK_SCREENSHOTS=docs pytest tests/browser/test_summary_page.py`
        full = chromium.execute_script("return document.documentElement.scrollHeight")
        chromium.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": full, "deviceScaleFactor": 1, "mobile": mobile},
        )
        chromium.save_screenshot(str(Path(shots) / f"summary-{name}.png"))


def test_every_figure_equals_the_csvs(chromium, run):
    days = _csv(run / "compliance.csv")
    log = _csv(run / "sla_log.csv")
    assert days and log
    _open(chromium, run / "summary.html", 1280, 900, False)
    page_days = chromium.execute_script(
        "return [...document.querySelectorAll('table.days tbody tr')].map(tr => "
        "({data: {...tr.dataset}, cells: [...tr.cells].map(td => td.innerText)}))"
    )
    assert [d["data"] for d in page_days] == days  # every compliance.csv row, every column, as written
    for day, shown in zip(days, page_days, strict=True):
        decided, met, missed, compliance = shown["cells"][1:5]
        assert (int(met), int(missed)) == (int(day["met"]), int(day["missed"]))
        assert int(decided) == int(day["met"]) + int(day["missed"])
        assert compliance.split("%")[0] == day["compliance_pct"]
    bars = chromium.execute_script(
        "return [...document.querySelectorAll('svg rect[data-date]')].map(r => [r.dataset.date, "
        "r.dataset.compliance, r.getBBox().height])"
    )
    assert [(d, c) for d, c, _ in bars] == [(d["date"], d["compliance_pct"]) for d in days]
    assert all(h >= 3 for _, _, h in bars)  # a 0 % day is visible too

    cards = chromium.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('.card')].map(c => "
        "[c.querySelector('span').innerText.toLowerCase(), c.querySelector('b').innerText]))"
    )
    met = sum(int(d["met"]) for d in days)
    missed = sum(int(d["missed"]) for d in days)
    assert (int(cards["met"]), int(cards["missed"])) == (met, missed)
    assert int(cards["clocks"]) == len(log)
    assert int(cards["tickets"]) >= len({r["ticket_id"] for r in log})  # a ticket may have no clock
    running = [r for r in log if not r["stopped_at"]]
    overdue_now = [r for r in running if r["status"] == "missed"]
    assert (int(cards["overdue now"]), int(cards["running"])) == (
        len(overdue_now),
        len(running) - len(overdue_now),
    )
    assert (
        cards["compliance"] == f"{100 * met / (met + missed):.2f}%"
        or abs(float(cards["compliance"].rstrip("%")) - 100 * met / (met + missed)) <= 0.005
    )

    overdue = chromium.execute_script(
        "return [...document.querySelectorAll('tr[data-ticket]')].map(tr => ({...tr.dataset}))"
    )
    by_key = {(r["ticket_id"], r["metric"], r["cycle"]): r for r in log}
    assert overdue
    for shown in overdue:
        row = by_key[(shown["ticket"], shown["metric"], shown["cycle"])]
        assert shown["remaining_seconds"] == row["remaining_seconds"]
        assert shown["due_at"] == row["due_at"]
