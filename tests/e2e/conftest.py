"""The local embedded stack, started once per module on free loopback ports, driven over HTTP.

    def test_something(stack, http):
        status, answer = http.post_webhook("zendesk-main", body, event=None)   # signed as Zendesk signs
        http.get("/_local/emails")                                            # what a manager reads
        http.get("/admin/config", signed=False)                               # an IAM route, unsigned

Requests are SigV4-signed with the local credentials (as an AWS SDK caller signs): the front refuses
an unsigned request to an IAM-authorised route (/admin, /reports) with 403.

The virtual clock starts stopped at the story's Monday (examples/webhooks/story.yaml) and only moves
when a test fast-forwards it (``POST /_local/clock``), so every instant asserted is exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from slaclock.engine.events import format_instant
from slaclock_local.demo import STORY, load_story
from slaclock_local.helpdesks import signed_headers
from slaclock_local.sigv4 import sign_headers
from slaclock_local.stack import ACCESS_KEY, LocalStack


class Http:
    """A helpdesk's and a manager's view of the running stack: plain HTTP on its front."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.session.trust_env = False  # never through a proxy: everything is on 127.0.0.1

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.stack.front_url}{path}"

    def _sign(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        request.headers.update(
            sign_headers(str(request.method), str(request.url), raw, dict(request.headers),
                         access_key=ACCESS_KEY, region=self.stack.region)
        )  # fmt: skip
        return request

    def get(self, path: str, *, signed: bool = True, **params: Any) -> requests.Response:
        return self.session.get(
            self.url(path), params=params or None, timeout=60, auth=self._sign if signed else None
        )

    def request(self, method: str, path: str, *, signed: bool = True, **kw: Any) -> requests.Response:
        return self.session.request(
            method, self.url(path), timeout=120, auth=self._sign if signed else None, **kw
        )

    def post(self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             json: Any = None, *, signed: bool = True) -> requests.Response:  # fmt: skip
        return self.session.post(
            self.url(path), data=body, headers=headers, json=json, timeout=120,
            auth=self._sign if signed else None,
        )  # fmt: skip

    def post_webhook(
        self, source: str, body: bytes, *, event: str | None = None, secret: str | None = None
    ) -> requests.Response:
        """POST `body` to the source, signed as its helpdesk signs it now (virtual time), with the
        source's secret (or `secret`, to forge one)."""
        info = self.stack.sources[source]
        key = info.secret if secret is None else secret
        headers = signed_headers(info.provider, key or "", body, self.stack.now(), event=event)
        return self.post(f"/webhooks/{source}", body, headers, signed=False)  # a helpdesk signs its own way

    def fast_forward(self, to: datetime) -> dict[str, Any]:
        answer = self.post("/_local/clock", json={"fast_forward_to": format_instant(to)})
        assert answer.status_code == 200, answer.text
        doc: dict[str, Any] = answer.json()
        return doc

    def emails(self, to: str | None = None) -> list[dict[str, Any]]:
        answer = self.get("/_local/emails", **({"to": to} if to else {}))
        assert answer.status_code == 200, answer.text
        emails: list[dict[str, Any]] = answer.json()["emails"]
        return emails

    def ticket(self, ticket_id: str) -> requests.Response:
        return self.get(f"/_local/tickets/{ticket_id}")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    story = load_story(STORY)
    with LocalStack(start_at=story.start, paused=True, poll_seconds=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Http:
    return Http(stack)
