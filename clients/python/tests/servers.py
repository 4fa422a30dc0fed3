"""Loopback HTTP servers for the tests: a mock of Postmark's /email, and a recording proxy in front
of the sidecar that can answer the first requests itself (a 503, say) before forwarding."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class MockPostmark(_Server):
    """Records every JSON body POSTed to /email and accepts it, as Postmark does."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        super().__init__(_PostmarkHandler)

    def record(self, body: dict[str, Any]) -> None:
        with self._changed:
            self.bodies.append(body)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """The first recorded body that matches, waiting for it to arrive."""
        with self._changed:
            found: list[dict[str, Any]] = []

            def match() -> bool:
                found[:] = [body for body in self.bodies if predicate(body)]
                return bool(found)

            if not self._changed.wait_for(match, timeout):
                raise AssertionError(f"no matching email reached the mock provider within {timeout} s")
            return found[0]


class _PostmarkHandler(_Quiet):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self._body())
        self.server.owner.record(body)  # type: ignore[attr-defined]
        self._reply(200, json.dumps({"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4())}).encode())


class RecordingProxy(_Server):
    """Forwards to ``target``; records each request; ``canned`` replies answer the first ones instead."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.requests: list[dict[str, Any]] = []
        self.canned: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        super().__init__(_ProxyHandler)


class _ProxyHandler(_Quiet):
    def _forward(self) -> None:
        proxy: RecordingProxy = self.server.owner  # type: ignore[attr-defined]
        body = self._body()
        with proxy.lock:
            proxy.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                   "body": json.loads(body) if body else None})
            canned = proxy.canned.pop(0) if proxy.canned else None
        if canned is not None:
            status, headers, payload = canned
            self._reply(status, json.dumps(payload).encode(), headers)
            return
        forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        request = urllib.request.Request(proxy.target + self.path, data=body or None, headers=forwarded,
                                         method=self.command)
        try:
            with proxy.opener.open(request, timeout=30) as response:
                status, headers, payload = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, payload = error.code, dict(error.headers), error.read()
        keep = {k: v for k, v in headers.items() if k.lower() in ("content-type", "idempotent-replayed", "retry-after")}
        self._reply(status, payload, keep)

    do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 - http.server's naming
