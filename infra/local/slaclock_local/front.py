"""The local stack's HTTP front: API Gateway's HTTP API on loopback, in front of the real handlers.

Each request that matches a route of the template (``HttpApi`` events: ``POST /webhooks/{source}``, and
whatever later functions add) becomes the SAME event an HTTP API sends with payload format 2.0
(version, routeKey, rawPath, rawQueryString, cookies, lower-cased headers, queryStringParameters,
requestContext with http.method/path/sourceIp, pathParameters, body, isBase64Encoded) and invokes the
function synchronously; the handler's answer (statusCode, headers, cookies, body, isBase64Encoded, or
any other JSON value as a 200) becomes the HTTP response. Like the service: no route -> 404
``{"message":"Not Found"}``, a handler error -> 500 ``{"message":"Internal Server Error"}``, a body over
10 MB -> 413. A body is passed as text when it is UTF-8 and its content type is textual, else base64.

Routes with IAM authorization (every ``/admin`` route, the reports API) are refused with 403
``{"message":"Forbidden"}`` unless the request is SigV4-signed with the local stack's credentials
(`slaclock_local.sigv4`: botocore's own signer re-run over the request), as API Gateway refuses an
unsigned request; a signed one gets ``requestContext.authorizer.iam`` as API Gateway adds it.

A browser cannot sign with SigV4, so the board (``GET /admin/board`` and the read routes its page
calls) is opened through ``/_local/board?token=<session token>``: the stack makes a random token at
start (`LocalFront.session_token`, printed by the demo and ``local up``), and that URL answers with a
cookie ``slaclock_local_session=<token>`` (HttpOnly, SameSite=Strict, Path=/admin) and a redirect to
the board. A request to an IAM route carrying that cookie is let through as the principal
``arn:aws:iam::<account>:user/local-board`` for GET and HEAD only (the board only reads; a cookie can
never change the configuration). A wrong or missing token is 403. In AWS there is no such door: the
routes take SigV4 (or the JWT authorizer's bearer token).

Paths under ``/_local/`` are the local stack's own endpoints (e-mails, tickets, clock); they do not
exist in AWS. Listens on 127.0.0.1 only; one connection per request (HTTP/1.0), so stopping joins
every request thread.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from slaclock_local.functions import FunctionRunner, Route

__all__ = ["LocalFront", "LocalResponse", "build_http_api_event", "match_route"]

log = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024
"""An HTTP API's payload limit (10 MB)."""
LOCAL_PREFIX = "/_local/"
SESSION_PATH = "/_local/board"
SESSION_COOKIE = "slaclock_local_session"
_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|.*\+json|xml|.*\+xml|x-www-form-urlencoded|javascript))", re.I
)


@dataclass(frozen=True, slots=True)
class LocalResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] | None = None

    @classmethod
    def json(cls, status: int, doc: Any) -> LocalResponse:
        return cls(status, json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")


LocalApi = Callable[[str, str, Mapping[str, str], bytes], LocalResponse]
"""(method, path, query, body) -> response, for paths under /_local/."""


def _route_regex(path: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                out.append(f"(?P<{name[:-1]}>.+)")
            else:
                out.append(f"(?P<{name}>[^/]+)")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for (method, path), most specific first (fewer parameters, then exact method), and its
    path parameters; ``$default`` last."""
    ranked = sorted(
        (r for r in routes if r.path != "$default"),
        key=lambda r: (r.path.count("{"), r.method == "ANY", -len(r.path)),
    )
    for route in ranked:
        if route.method not in (method, "ANY"):
            continue
        m = _route_regex(route.path).match(path)
        if m:
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
    default = next((r for r in routes if r.path == "$default"), None)
    return (default, {}) if default else None


def build_http_api_event(
    route: Route,
    params: Mapping[str, str],
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    api_id: str,
    account_id: str,
    now: datetime,
    user: str = "local",
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for one request (`user`: the IAM user name
    the authorizer context names on an IAM route)."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    host = merged.get("host", "127.0.0.1")
    instant = now.astimezone(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": route.route_key,
            "stage": "$default",
            "time": instant.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(instant.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if route.iam_auth:
        # What API Gateway adds after verifying a SigV4 signature (not verified locally).
        event["requestContext"]["authorizer"] = {
            "iam": {
                "accessKey": "LOCAL",
                "accountId": account_id,
                "callerId": "LOCAL",
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{account_id}:user/{user}",
                "userId": "LOCAL",
            }
        }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = dict(params)
    if body:
        content_type = merged.get("content-type", "application/json")
        try:
            text = body.decode("utf-8")
            textual = bool(_TEXT_TYPES.match(content_type)) or not content_type
        except UnicodeDecodeError:
            textual = False
        if textual:
            event["body"] = text
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event


def _http_response(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """(status, headers, cookies, body) of a handler's answer, as an HTTP API reads payload 2.0."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(k)] = ",".join(str(v) for v in values)
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        return int(result["statusCode"]), headers, [str(c) for c in result.get("cookies") or []], body
    return 200, {"Content-Type": "application/json"}, [], json.dumps(result).encode("utf-8")


@dataclass
class RequestRecord:
    """One request the front served (for `local up`'s console and the demo)."""

    method: str
    path: str
    status: int
    function: str | None
    duration_ms: float


class LocalFront:
    """Serves the routes on 127.0.0.1:`port` (0: a free port) until `stop`."""

    def __init__(
        self,
        runner: FunctionRunner,
        routes: list[Route],
        *,
        api_id: str,
        account_id: str,
        now: Callable[[], datetime],
        local_api: LocalApi | None = None,
        port: int = 0,
        on_request: Callable[[RequestRecord], None] | None = None,
        iam: tuple[str, str] | None = None,
        session_token: str | None = None,
    ) -> None:
        """`iam`: (access key, region) whose SigV4 signatures the IAM routes accept; None accepts none.
        `session_token`: the board's session token (see the module docstring); None: no session."""
        self.iam = iam
        self.session_token = session_token
        self.runner = runner
        self.routes = routes
        self.api_id = api_id
        self.account_id = account_id
        self.now = now
        self.local_api = local_api
        self.on_request = on_request
        front = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "slaclock-local"
            timeout = 60  # a silent client cannot hold a request thread (and the shutdown) forever

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
                pass  # requests are reported through on_request

            def _serve(self) -> None:
                try:
                    front._serve(self)
                except (ConnectionError, TimeoutError):
                    pass  # the client went away
                except Exception:  # noqa: BLE001 - a broken request must not kill the front
                    log.exception("local front: %s %s failed", self.command, self.path)
                    with contextlib.suppress(OSError):
                        front._send(self, 500, {"Content-Type": "application/json"}, [],
                                    b'{"message":"Internal Server Error"}')  # fmt: skip

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = False  # server_close() joins the request threads
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slaclock-local-front", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    # ------------------------------------------------------------------------------------ serving

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        started = time.perf_counter()
        method = h.command.upper()
        split = urlsplit(h.path)
        path = split.path or "/"
        function: str | None = None
        raw_length = (h.headers.get("Content-Length") or "0").strip()
        if not (raw_length.isascii() and raw_length.isdigit()):
            # The body's end is unknown: answer and close the connection rather than guess.
            h.close_connection = True
            self._send(
                h, 400, {"Content-Type": "application/json", "Connection": "close"}, [],
                b'{"message":"Bad Request: Content-Length must be a whole number of bytes"}',
            )  # fmt: skip
            self._report(method, path, 400, None, started)
            return
        length = int(raw_length)
        if length > MAX_BODY:
            self._send(
                h, 413, {"Content-Type": "application/json"}, [], b'{"message":"Request Entity Too Large"}'
            )
            self._report(method, path, 413, None, started)
            return
        body = h.rfile.read(length) if length else b""
        if path == SESSION_PATH:
            status, headers = self._open_session(split.query)
            self._send(h, status, headers, [], b"" if status == 303 else b'{"message":"Forbidden"}')
            self._report(method, path, status, None, started)
            return
        if path.startswith(LOCAL_PREFIX) and self.local_api is not None:
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            answer = self.local_api(method, path, query, body)
            headers = {"Content-Type": answer.content_type, **(answer.headers or {})}
            self._send(h, answer.status, headers, [], answer.body)
            self._report(method, path, answer.status, None, started)
            return
        matched = match_route(self.routes, method, path)
        if matched is None:
            self._send(h, 404, {"Content-Type": "application/json"}, [], b'{"message":"Not Found"}')
            self._report(method, path, 404, None, started)
            return
        route, params = matched
        function = route.function
        user = "local"
        if route.iam_auth and not self._signed(h, method, body):
            if not self._in_session(h, method):
                self._send(h, 403, {"Content-Type": "application/json"}, [], b'{"message":"Forbidden"}')
                self._report(method, path, 403, None, started)
                return
            user = "local-board"
        event = build_http_api_event(
            route, params, method=method, raw_path=path, raw_query=split.query,
            headers=[(k, v) for k, v in h.headers.items() if k.lower() != "cookie" or user == "local"],
            body=body, source_ip=h.client_address[0], api_id=self.api_id, account_id=self.account_id,
            now=self.now(), user=user,
        )  # fmt: skip
        invocation = self.runner.invoke(function, event)
        cookies: list[str]
        if invocation.error is not None:
            status, headers, cookies, payload = (
                500,
                {"Content-Type": "application/json"},
                [],
                (b'{"message":"Internal Server Error"}'),
            )
        else:
            status, headers, cookies, payload = _http_response(invocation.result)
        self._send(h, status, headers, cookies, payload)
        self._report(method, path, status, function, started)

    @property
    def board_url(self) -> str:
        """The URL that opens the board in a browser (sets the session cookie, then redirects)."""
        return f"{self.url}{SESSION_PATH}?token={self.session_token}"

    def _open_session(self, query: str) -> tuple[int, dict[str, str]]:
        given = dict(parse_qsl(query)).get("token", "")
        if not self.session_token or not hmac.compare_digest(given.encode(), self.session_token.encode()):
            return 403, {"Content-Type": "application/json"}
        cookie = f"{SESSION_COOKIE}={self.session_token}; HttpOnly; SameSite=Strict; Path=/admin"
        return 303, {"Location": "/admin/board", "Set-Cookie": cookie, "Cache-Control": "no-store"}

    def _in_session(self, h: BaseHTTPRequestHandler, method: str) -> bool:
        """A read (GET/HEAD) carrying the board's session cookie."""
        if not self.session_token or method not in ("GET", "HEAD"):
            return False
        jar = SimpleCookie()
        try:
            jar.load(h.headers.get("Cookie") or "")
        except CookieError:
            return False
        morsel = jar.get(SESSION_COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.session_token.encode())

    def _signed(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> bool:
        from slaclock_local.sigv4 import verify

        if self.iam is None:
            return False
        access_key, region = self.iam
        url = f"http://{h.headers.get('Host', '127.0.0.1')}{h.path}"
        return verify(method, url, body, dict(h.headers.items()), access_key=access_key, region=region)

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], cookies: list[str], body: bytes
    ) -> None:
        h.send_response(status)
        lowered = {k.lower() for k in headers}
        for name, value in headers.items():
            h.send_header(name, value)
        for cookie in cookies:
            h.send_header("Set-Cookie", cookie)
        if "content-length" not in lowered:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _report(self, method: str, path: str, status: int, function: str | None, started: float) -> None:
        if self.on_request is not None:
            self.on_request(
                RequestRecord(method, path, status, function, (time.perf_counter() - started) * 1000)
            )
