"""A tiny HTTP client for the local stack's loopback endpoints (the demo, `slaclock local emails`).

It never uses a proxy: a ``http_proxy`` in the environment must not capture requests to 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

__all__ = ["request", "request_json"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
    sign_as: tuple[str, str] | None = None,
) -> tuple[int, bytes]:
    """(status, body) of one request; an HTTP error status is returned, not raised. Raises `OSError`
    (``URLError``) when nothing answers. `sign_as` (access key, region): SigV4-sign it, as a caller
    of an IAM-authorised route must (`slaclock_local.sigv4`)."""
    sent = dict(headers or {})
    if sign_as is not None:
        from slaclock_local.sigv4 import sign_headers

        sent = sign_headers(method, url, body or b"", sent, access_key=sign_as[0], region=sign_as[1])
    req = urllib.request.Request(url, data=body, headers=sent, method=method)  # noqa: S310
    try:
        with _OPENER.open(req, timeout=timeout) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def request_json(
    method: str,
    url: str,
    doc: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
    sign_as: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """Like `request` with a JSON body (if `doc` is not None) and a JSON answer (text if not JSON)."""
    body = None if doc is None else json.dumps(doc).encode("utf-8")
    sent = {"Content-Type": "application/json", **(headers or {})}
    status, raw = request(method, url, body, sent, timeout, sign_as)
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")
