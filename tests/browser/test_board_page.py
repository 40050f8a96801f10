"""The board page (`slaclock.board.board_html`, served at ``GET /admin/board``) in a real headless Chromium.

The page calls the admin API with URLs relative to itself. Until the admin function serves them, a
loopback server (`http.server`) answers those routes, as the admin API contract shapes them, from real
`build_timeline` documents of the example tickets (examples/events.jsonl under examples/sla.yaml, each
level's warning and breach given a Slack message and an EventBridge event as actions), replayed at an
instant in the middle of the data, plus one ticket whose fields are hostile HTML.
The at-risk list's instants are moved by (wall clock - replay instant), as if the replay ran now, so
the countdowns count to instants around the real clock the browser reads.

Point the test at another server (the local stack's ``/admin``) with ``SLACLOCK_BOARD_URL=http://
127.0.0.1:PORT/admin/board``: the assertions read the API through the same relative routes.
``SLACLOCK_SCREENSHOTS=1`` saves docs/board-390.png and docs/board-1920.png (the README's pictures).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from slaclock.board import board_html
from slaclock.engine.config import load_config
from slaclock.engine.events import format_instant, parse_event
from slaclock.engine.policy import compile_policy
from slaclock.engine.timeline import build_timeline

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
AT_RISK_LIMIT = 8


def _fixture_api() -> dict[str, Any]:
    """The documents the loopback server answers: timelines, the at-risk list, today's compliance."""
    doc = yaml.safe_load((ROOT / "examples" / "sla.yaml").read_text())
    steps = [{"kind": "slack", "webhook_secret": "slaclock/test/slack"}, {"kind": "eventbridge"}]
    for level in doc["levels"].values():
        level["actions"] = {"warning": steps, "breach": steps}
    config = load_config(doc)
    policy = compile_policy(config)
    by_ticket: dict[str, list[Any]] = {}
    for line in (ROOT / "examples" / "events.jsonl").read_text().splitlines():
        event = parse_event(json.loads(line))
        by_ticket.setdefault(event.ticket_id, []).append(event)
    instants = sorted(e.at for events in by_ticket.values() for e in events)
    now = instants[len(instants) // 2]
    hostile_id = "9999<b>x</b>"
    first = by_ticket[min(by_ticket)][0]
    by_ticket[hostile_id] = [
        parse_event(
            {
                "id": "hostile-1", "ticket_id": hostile_id, "type": "created", "at": format_instant(now),
                "ticket": {"status": "open", "department": HOSTILE, "priority": "urgent", "tags": [HOSTILE],
                           "custom": dict(first.ticket.get("custom") or {})},
            }
        )
    ]  # fmt: skip
    fields = {tid: _fields(events, now) for tid, events in by_ticket.items()}
    timelines = {tid: build_timeline(policy, ev, now) for tid, ev in by_ticket.items() if ev[0].at <= now}
    shift = datetime.now(UTC) - now
    at_risk = []
    compliance: Counter[tuple[str, str | None, str]] = Counter()
    for tid, doc in timelines.items():
        for clock in doc["clocks"]:
            department = fields[tid].get("department")
            level = config.levels[clock["level"]]
            decided = clock["stopped_at"] if clock["status"] == "met" else clock["due_at"]
            if clock["status"] in ("met", "missed") and clock["stopped_at"]:
                if decided[:10] == now.date().isoformat():  # decided today (UTC)
                    compliance[(clock["level"], department, clock["status"])] += 1
            elif clock["status"] in ("open", "paused", "missed") and clock["due_at"]:
                compliance[(clock["level"], department, "open")] += 1
                if (
                    abs(datetime.fromisoformat(clock["due_at"]) - now) > timedelta(hours=12)
                    and tid != hostile_id
                ):
                    continue  # at risk: due (or overdue) within 12 hours of now
                within = level.targets[_metric(clock["metric"])].within.total_seconds()  # type: ignore[union-attr]
                due = datetime.fromisoformat(clock["due_at"]) + shift
                at_risk.append(
                    {
                        "ticket_id": tid, "source": "zendesk", "metric": clock["metric"],
                        "level": clock["level"], "department": department, "group": None,
                        "status": clock["status"],
                        "due_at": format_instant(due.replace(microsecond=0)),
                        "remaining_seconds": within - clock["business_seconds"],
                        "time_zone": config.calendars[level.calendar].timezone,
                    }
                )  # fmt: skip
    at_risk.sort(key=lambda c: c["due_at"])
    hostile = [c for c in at_risk if c["ticket_id"] == hostile_id]
    shown = [c for c in at_risk if c["ticket_id"] != hostile_id][: AT_RISK_LIMIT - 1] + hostile[:1]
    shown.sort(key=lambda c: c["due_at"])
    rows = []
    for level, department in sorted({(k[0], k[1]) for k in compliance}, key=lambda k: (k[0], k[1] or "")):
        met, missed = compliance[(level, department, "met")], compliance[(level, department, "missed")]
        rows.append(
            {
                "level": level, "department": department, "met": met, "missed": missed,
                "open": compliance[(level, department, "open")],
                "compliance_pct": round(100 * met / (met + missed), 1) if met + missed else None,
            }
        )  # fmt: skip
    return {
        "timelines": timelines,
        "clocks": {"clocks": shown, "next_cursor": None},
        "compliance": {"date": now.date().isoformat(), "time_zone": "UTC", "rows": rows},
    }


def _metric(name: str) -> Any:
    from slaclock.engine.config import Metric

    return Metric(name)


def _fields(events: list[Any], now: datetime) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        if e.at <= now:
            merged.update(e.ticket)
    return merged


@pytest.fixture(scope="module")
def board_url() -> Iterator[str]:
    if os.environ.get("SLACLOCK_BOARD_URL"):
        yield os.environ["SLACLOCK_BOARD_URL"]
        return
    docs = _fixture_api()
    page = board_html().encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = urlsplit(self.path).path
            if path == "/admin/board":
                return self._send(200, page, "text/html; charset=utf-8")
            if path == "/admin/clocks":
                return self._json(200, docs["clocks"])
            if path == "/admin/compliance/today":
                return self._json(200, docs["compliance"])
            prefix, suffix = "/admin/tickets/", "/timeline"
            if path.startswith(prefix) and path.endswith(suffix):
                doc = docs["timelines"].get(unquote(path[len(prefix) : -len(suffix)]))
                if doc is not None:
                    return self._json(200, doc)
            return self._json(404, {"message": "Not Found"})

        def _json(self, status: int, body: Any) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, data: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/admin/board"
    server.shutdown()
    server.server_close()


def _get(board_url: str, route: str) -> Any:
    with urllib.request.urlopen(urljoin(board_url, route), timeout=10) as r:  # noqa: S310 - loopback
        return json.load(r)


def _wait(driver: Any, css: str, count: int | None = None, timeout: float = 10) -> list[Any]:
    end = time.monotonic() + timeout
    while True:
        found = driver.find_elements("css selector", css)
        if (found and count is None) or (count is not None and len(found) == count):
            return list(found)
        if time.monotonic() > end:
            raise AssertionError(
                f"{css}: {len(found)} elements, expected {count if count is not None else '>0'}"
            )
        time.sleep(0.05)


def _width(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _overflow(driver: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return int(
        driver.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def test_the_board_lists_at_risk_clocks_counts_down_and_draws_a_timeline(chromium, board_url):
    api = _get(board_url, "clocks?state=at_risk")["clocks"]
    assert len(api) >= 3
    expected = [c["ticket_id"] for c in sorted(api, key=lambda c: c["due_at"])]
    chromium.get(board_url)
    assert chromium.title == "slaclock board"
    items = _wait(chromium, "#clocks button.clock", len(api))
    assert [b.get_attribute("data-ticket") for b in items] == expected  # ordered by time to breach
    for button, clock in zip(items, sorted(api, key=lambda c: c["due_at"]), strict=True):
        text = button.text
        assert f"#{clock['ticket_id']} · {clock['metric'].replace('_', ' ')}" in text  # in words
        assert any(word in text for word in ("OPEN", "PAUSED", "OVERDUE"))  # status in words, not colour

    ticking = next(i for i, c in enumerate(sorted(api, key=lambda c: c["due_at"])) if c["status"] != "paused")
    first = items[ticking].find_element("css selector", ".countdown").text
    time.sleep(1.6)
    assert items[ticking].find_element("css selector", ".countdown").text != first  # live countdown

    rows = _wait(chromium, "#compliance-rows tr")
    compliance = _get(board_url, "compliance/today")["rows"]
    assert len(rows) == max(1, len(compliance))
    if compliance:
        cells = rows[0].find_elements("css selector", "td")
        assert [c.text.split("\n")[0] for c in cells[2:5]] == [
            str(compliance[0][k]) for k in ("met", "missed", "open")
        ]

    chosen = expected[0]
    items[0].click()
    doc = _get(board_url, f"tickets/{urllib.request.quote(chosen, safe='')}/timeline")
    bars = _wait(chromium, "#timeline-body .clockrow", len(doc["clocks"]))
    assert chromium.find_element("id", "timeline-title").text == f"Timeline of ticket #{chosen}"
    for bar, clock in zip(bars, doc["clocks"], strict=True):
        segments = bar.find_elements("css selector", ".bar .seg")
        assert [s.get_attribute("data-kind") for s in segments] == [i["kind"] for i in clock["intervals"]]
    assert sum(len(c["intervals"]) for c in doc["clocks"]) >= 2


def test_the_timeline_lists_each_action_and_marks_it_on_its_clocks_bar_in_words(chromium, board_url):
    api = _get(board_url, "clocks?state=at_risk")["clocks"]
    routes = {
        c["ticket_id"]: f"tickets/{urllib.request.quote(c['ticket_id'], safe='')}/timeline" for c in api
    }
    docs = {t: _get(board_url, route) for t, route in routes.items()}
    chosen = next((t for t, d in docs.items() if d.get("actions")), None)
    if chosen is None and os.environ.get("SLACLOCK_BOARD_URL"):
        pytest.skip("no at-risk ticket of the API at SLACLOCK_BOARD_URL owes an action")
    assert chosen is not None  # the fixture's levels owe actions on their warnings and breaches
    doc = docs[chosen]
    chromium.get(board_url)
    _wait(chromium, "#clocks button.clock", len(api))
    chromium.find_element("css selector", f"button[data-ticket='{chosen}']").click()
    bars = _wait(chromium, "#timeline-body .clockrow", len(doc["clocks"]))
    listed = _wait(chromium, "#timeline-body ul[aria-label='Actions'] li", len(doc["actions"]))
    for li, action in zip(listed, doc["actions"], strict=True):
        assert action["kind"] in li.text and action["step"] in li.text
        assert f"of {action['metric'].replace('_', ' ')}" in li.text
    for bar, clock in zip(bars, doc["clocks"], strict=True):
        mine = [a for a in doc["actions"] if a["metric"] == clock["metric"]]
        marks = bar.find_elements("css selector", ".marks .mark")
        assert len(marks) == len({a["at"] for a in mine})  # one marker per instant
        # each marker names its actions' kinds in text (colour is never the only sign)
        assert Counter(k for m in marks for k in m.text.split(", ")) == Counter(a["kind"] for a in mine)


def test_metrics_are_named_in_words_with_their_agreement(chromium, board_url):
    """Clock ids as the API gives them (``<metric>@<agreement>`` for another agreement's clock) are
    shown as words: every underscore a space, the agreement in brackets."""
    chromium.get(board_url)
    names = chromium.execute_script(
        "return ['first_response', 'ownership_time@group_sla', 'billing_time_eu@ola_tier_2'].map(metricName)"
    )
    assert names == ["first response", "ownership time (group_sla)", "billing time eu (ola_tier_2)"]


def test_hostile_ticket_fields_are_shown_as_text(chromium, board_url):
    api = _get(board_url, "clocks?state=at_risk")["clocks"]
    hostile = [c for c in api if c["department"] and "<script>" in c["department"]]
    if not hostile:
        pytest.skip("the API at SLACLOCK_BOARD_URL holds no ticket with hostile fields")
    chromium.get(board_url)
    _wait(chromium, "#clocks button.clock", len(api))
    button = chromium.find_element("css selector", f"button[data-ticket='{hostile[0]['ticket_id']}']")
    assert HOSTILE in button.text
    assert f"#{hostile[0]['ticket_id']}" in button.text  # "<b>" shown, not bold
    button.click()
    _wait(chromium, "#timeline-body .clockrow")
    assert chromium.find_element("id", "timeline-title").text.endswith(hostile[0]["ticket_id"])
    assert chromium.execute_script("return window.__pwned === undefined")
    assert not chromium.find_elements("css selector", "#clocks script, #clocks img, #clocks b")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1920, 1080)])
def test_no_horizontal_overflow_on_a_phone_and_a_wall_screen(chromium, board_url, width, height):
    _width(chromium, width, height)
    try:
        chromium.get(board_url)
        items = _wait(chromium, "#clocks button.clock")
        items[0].click()
        _wait(chromium, "#timeline-body .clockrow")
        assert chromium.execute_script("return window.innerWidth") == width
        assert _overflow(chromium) <= 0
        if os.environ.get("SLACLOCK_SCREENSHOTS"):
            chromium.execute_script("window.scrollTo(0, 0)")
            full = int(chromium.execute_script("return document.documentElement.scrollHeight"))
            _width(chromium, width, min(full, 2400))
            chromium.save_screenshot(str(ROOT / "docs" / f"board-{width}.png"))
    finally:
        chromium.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_page_is_one_self_contained_file():
    html = board_html()
    assert "<script src" not in html and "<link" not in html and "@import" not in html  # no build, no CDN
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html
    for route in (
        "clocks?state=at_risk",
        "compliance/today",
        "tickets/${encodeURIComponent(ticketId)}/timeline",
    ):
        assert route in html
