"""The board on the LOCAL STACK in a real headless Chromium: the page functions/admin serves at
``GET /admin/board``, calling the admin routes of the same stack (``/admin/clocks``, ``/admin/compliance/
today``, ``/admin/tickets/{id}/timeline``), which read what the webhook path stored.

The stack runs with its virtual clock stopped at `AT`. Its tables are loaded with generated tickets
(`slaclock_local.sample.generate_events`, seed 16) through the real ingest use case and the stack's own
composition root (events stored, tickets folded, clock records written as a webhook writes them), so
the board reads real records. The browser opens the board through the stack's session link
(`LocalStack.board_url`: a local read-only session cookie, the stand-in for SigV4 or a JWT; see
`slaclock_local.front`); the test reads the same routes SigV4-signed and compares what the page shows
with what the API answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests
from slaclock.engine.events import parse_event
from slaclock.engine.policy import compile_policy
from slaclock_local.sigv4 import sign_headers
from slaclock_local.stack import ACCESS_KEY, LocalStack

pytestmark = pytest.mark.e2e

AT = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # a Wednesday afternoon (UTC)
TICKETS = 80


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    from slaclock.runtime import wiring
    from slaclock.services.ingest import ingest_events
    from slaclock_local.sample import generate_events

    with LocalStack(start_at=AT, paused=True, poll_seconds=0.1) as running:
        events = [parse_event(d) for d in generate_events(TICKETS, seed=16, start=AT - timedelta(days=2))]
        policy = compile_policy(running.config)
        ingest_events(wiring.webhook_ports(), policy, [e for e in events if e.at <= AT], AT)
        yield running


class Api:
    """The admin routes of the stack, SigV4-signed as an AWS SDK caller signs them."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only, never through a proxy

    def _sign(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        request.headers.update(
            sign_headers(str(request.method), str(request.url), raw, dict(request.headers),
                         access_key=ACCESS_KEY, region=self.stack.region)
        )  # fmt: skip
        return request

    def get(self, route: str, *, signed: bool = True, **kw: Any) -> requests.Response:
        url = f"{self.stack.front_url}/admin/{route}"
        return self.session.get(url, timeout=60, auth=self._sign if signed else None, **kw)


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Api:
    return Api(stack)


def _wait(driver: Any, css: str, count: int | None = None, timeout: float = 20) -> list[Any]:
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


def test_the_board_shows_the_at_risk_clocks_the_api_returns_and_draws_a_timeline(chromium, stack, api):
    answer = api.get("clocks?state=at_risk")
    assert answer.status_code == 200, answer.text
    clocks = answer.json()["clocks"]
    assert len(clocks) >= 3, "the generated tickets should leave several clocks at risk at AT"
    chromium.get(stack.board_url)
    assert chromium.current_url == f"{stack.front_url}/admin/board"  # the session link redirected
    assert chromium.title == "slaclock board"
    items = _wait(chromium, "#clocks button.clock", len(clocks))
    assert [b.get_attribute("data-ticket") for b in items] == [c["ticket_id"] for c in clocks]
    for button, clock in zip(items, clocks, strict=True):
        assert f"#{clock['ticket_id']}" in button.text
        assert clock["level"] in button.text

    compliance = api.get("compliance/today").json()
    rows = _wait(chromium, "#compliance-rows tr", max(1, len(compliance["rows"])))
    if compliance["rows"]:
        cells = rows[0].find_elements("css selector", "td")
        first = compliance["rows"][0]
        assert [c.text.split("\n")[0] for c in cells[2:5]] == [
            str(first[k]) for k in ("met", "missed", "open")
        ]

    items[0].click()
    doc = api.get(f"tickets/{quote(clocks[0]['ticket_id'], safe='')}/timeline").json()
    bars = _wait(chromium, "#timeline-body .clockrow", len(doc["clocks"]))
    assert (
        chromium.find_element("id", "timeline-title").text == f"Timeline of ticket #{clocks[0]['ticket_id']}"
    )
    for bar, clock in zip(bars, doc["clocks"], strict=True):
        kinds = [s.get_attribute("data-kind") for s in bar.find_elements("css selector", ".bar .seg")]
        assert kinds == [i["kind"] for i in clock["intervals"]]
    assert sum(len(c["intervals"]) for c in doc["clocks"]) >= 1


def test_without_the_session_or_a_signature_the_board_is_refused(stack, api):
    assert api.get("board", signed=False).status_code == 403
    assert api.get("clocks", signed=False).status_code == 403
    wrong = api.session.get(f"{stack.front_url}/_local/board?token=wrong", timeout=30, allow_redirects=False)
    assert wrong.status_code == 403 and "set-cookie" not in {k.lower() for k in wrong.headers}


def test_the_session_cookie_reads_but_never_writes(stack, api):
    opened = api.session.get(stack.board_url, timeout=30, allow_redirects=False)
    assert opened.status_code == 303 and opened.headers["Location"] == "/admin/board"
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    jar = requests.Session()
    jar.trust_env = False
    jar.cookies.update(opened.cookies)
    assert jar.get(f"{stack.front_url}/admin/clocks", timeout=30).status_code == 200
    current = api.get("config").json()
    put = jar.put(f"{stack.front_url}/admin/config", json=current["document"], timeout=30,
                  headers={"If-Match": current["etag"]})  # fmt: skip
    assert put.status_code == 403
    assert api.get("config").json()["etag"] == current["etag"]  # nothing stored
