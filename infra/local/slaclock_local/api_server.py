"""A provider API on loopback (connector tests, the fault tests and `make demo`): stdlib `http.server`
in a thread, on 127.0.0.1 only.

Each caller scripts the answers (`answer(...)`, default 200 with `{}`) and reads back every request the
server received (method, path, headers, parsed body), to compare with the shape the provider's
documentation gives. `delay` makes the server slow, for timeout tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.raw.decode("ascii"))


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)
    """Sent as JSON; bytes are sent as they are (a broken or hostile answer)."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str | None = None
    """Only for a request whose path contains this (None: any request)."""


class ApiServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        self.default = Answer()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                server.received.append(
                    Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                )
                ans = server._next(self.path)
                if ans.delay:
                    time.sleep(ans.delay)
                payload = ans.body if isinstance(ans.body, bytes) else b""
                if ans.body is not None and not isinstance(ans.body, bytes):
                    payload = json.dumps(ans.body).encode()
                try:
                    self.send_response(ans.status)
                    for key, value in ans.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815 (http.server's names)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def answer(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def _next(self, path: str) -> Answer:
        with self._lock:
            for i, ans in enumerate(self._script):
                if ans.path is None or ans.path in path:
                    return self._script.pop(i)
        return self.default

    def clear(self) -> None:
        """Forget the scripted answers not used yet."""
        with self._lock:
            self._script.clear()

    def __enter__(self) -> ApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def serve() -> Iterator[ApiServer]:
    """Body of a pytest fixture: ``server = pytest.fixture(serve)``."""
    with ApiServer() as server:
        yield server
