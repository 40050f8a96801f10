"""The page `slaclock diff` writes (diff.html), in a real headless Chromium at 1280 px and 390 px: no
horizontal scroll, and the figures drawn equal compliance_diff.csv and notices_diff.csv of the same run
(examples/sla.yaml against a variant with a 30-minute first response)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.test_summary_page import WIDTHS, _csv, _open  # the same widths and page opener

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("diff")
    new = work / "new.yaml"
    text = (ROOT / "examples" / "sla.yaml").read_text(encoding="utf-8")
    new.write_text(text.replace("within: 1h,", "within: 30m,"), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "slaclock.cli", "diff", "--config", "examples/sla.yaml", "--config", str(new),
         "--events", "examples/events.jsonl", "--out", str(work / "out"), "--quiet"],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return work / "out"


@pytest.mark.parametrize("name", WIDTHS)
def test_no_horizontal_scroll(chromium, run, name):
    width, height, mobile = WIDTHS[name]
    _open(chromium, run / "diff.html", width, height, mobile)
    inner, scroll = chromium.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner == width
    assert scroll <= inner


def test_the_bars_and_cards_show_the_csv_figures(chromium, run):
    _open(chromium, run / "diff.html", 1280, 900, False)
    bars = chromium.execute_script(
        "return [...document.querySelectorAll('rect[data-side]')].map("
        "r => [r.dataset.side, r.dataset.date, r.dataset.compliance, r.getBoundingClientRect().height > 0])"
    )
    rows = _csv(run / "compliance_diff.csv")
    expected = sorted(
        [side, r["date"], r[f"{side}_compliance_pct"], True]
        for r in rows
        for side in ("old", "new")
        if r[f"{side}_compliance_pct"]
    )
    assert sorted(bars) == expected and bars
    cards = chromium.execute_script(
        "return [...document.querySelectorAll('.card')].map(c => [c.querySelector('span').innerText,"
        " c.querySelector('b').innerText])"
    )
    shown = [
        (label.lower(), value)
        for label, value in cards
        if label.lower() in ("warnings", "breaches", "escalations")
    ]
    plural = {"warning": "warnings", "breach": "breaches", "escalation": "escalations"}
    notices = _csv(run / "notices_diff.csv")
    want = [(plural[r["kind"]], f"{int(r[side]):,}") for side in ("old", "new") for r in notices]
    assert shown == want
