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


def _fmt(micros):
    """Seconds as the CSVs write them (``slaclock.engine.reports.format_seconds``), from microseconds."""
    whole, frac = divmod(abs(micros), 1_000_000)
    sign = "-" if micros < 0 else ""
    return f"{sign}{whole}" if not frac else f"{sign}{whole}.{frac:06d}".rstrip("0")


def _micros(text):
    whole, _, frac = text.lstrip("-").partition(".")
    value = int(whole) * 1_000_000 + int((frac + "000000")[:6])
    return -value if text.startswith("-") else value


def test_agent_table_equals_the_sla_log(chromium, run):
    """Each agent's row: decided clocks of the SLA log (met, and missed even while running) counted
    from sla_log.csv independently of the engine; averages exact, rounded half to even."""
    log = _csv(run / "sla_log.csv")
    expected = {}
    for r in log:
        if r["status"] not in ("met", "missed"):
            continue
        side = expected.setdefault(r["agent"], {"met": [], "missed": []})[r["status"]]
        side.append(_micros(r["business_seconds"]))
    _open(chromium, run / "summary.html", 1280, 900, False)
    shown = chromium.execute_script(
        "return [...document.querySelectorAll('table.agents tbody tr')].map(tr => "
        "({data: {...tr.dataset}, cells: [...tr.cells].map(td => td.innerText)}))"
    )
    assert len(shown) == len(expected) > 1
    for row in shown:
        data, cells = row["data"], row["cells"]
        values = expected[data["agent"]]
        met, missed = len(values["met"]), len(values["missed"])
        assert (data["met"], data["missed"]) == (str(met), str(missed))
        assert [int(c) for c in cells[1:4]] == [met + missed, met, missed]
        assert cells[4].split("%")[0] == data["compliance_pct"]
        assert abs(float(data["compliance_pct"]) - 100 * met / (met + missed)) <= 0.005
        for side in ("met", "missed"):
            got = values[side]
            if not got:
                assert data[f"{side}_avg_seconds"] == data[f"{side}_max_seconds"] == ""
                continue
            q, rem = divmod(sum(got), len(got))
            q += 2 * rem > len(got) or (2 * rem == len(got) and q % 2)
            assert data[f"{side}_avg_seconds"] == _fmt(q)
            assert data[f"{side}_max_seconds"] == _fmt(max(got))
            assert data[f"{side}_min_seconds"] == _fmt(min(got))
    unassigned = [r for r in shown if r["data"]["agent"] == ""]
    assert all(r["cells"][0] == "(unassigned)" for r in unassigned)


def test_agent_table_equals_compliance_by_agent(tmp_path, run):
    """The page's agents against compliance.csv of the same replay grouped by agent, summed over days."""
    subprocess.run(
        [sys.executable, "-m", "slaclock.cli", "replay", "--config", "examples/sla.yaml",
         "--events", "examples/events.jsonl", "--out", str(tmp_path), "--quiet", "--workers", "1",
         "--group-by", "agent"],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    sums = {}
    for r in _csv(tmp_path / "compliance.csv"):
        s = sums.setdefault(r["agent"].removeprefix("'"), [0, 0])
        s[0] += int(r["met"])
        s[1] += int(r["missed"])
    import re

    page = (run / "summary.html").read_text()
    rows = re.findall(r'data-agent="([^"]*)" data-met="(\d+)" data-missed="(\d+)"', page)
    assert {a: [int(m), int(x)] for a, m, x in rows} == sums
