"""One HTTP exchange with the sidecar over urllib, retried when it is briefly unavailable.

Retried: 503 (database unreachable, sidecar draining), waiting the ``Retry-After`` seconds; and
connections refused or reset before an answer (the app container may start before the sidecar
listens). Not retried: timeouts (the caller's time budget is spent) and every other status.
Enqueues carry an idempotency key, so a retry can never store an email twice.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple

from . import __version__
from .errors import ConnectionFailed, Timeout, error_for

# Longest wait for one Retry-After, so a misbehaving proxy cannot park the caller for hours.
MAX_RETRY_AFTER_SECONDS = 60.0


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: Any


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, (at - datetime.now(timezone.utc)).total_seconds())


class Transport:
    def __init__(self, url: str, token: str | None, timeout: float, max_retries: int) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries: must be 0 or more, got {max_retries}")
        self.url = url
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        # No proxies: the sidecar is on loopback, and an HTTP_PROXY meant for the internet must
        # not carry the app's mail (and API token) elsewhere.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method: str, path: str, *, body: Any = None, query: Mapping[str, Any] | None = None,
                idempotency_key: str | None = None) -> Response:
        """Sends the request and returns its response (the body as decoded JSON); raises PostOfficeError."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json", "User-Agent": f"post-office-client-python/{__version__}"}
        # Serialized once: a retry sends the very same bytes, as idempotency requires.
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        while True:
            wait = self._backoff(attempt)
            try:
                return self._exchange(urllib.request.Request(url, data=data, headers=headers, method=method))
            except urllib.error.HTTPError as response:
                with response:
                    answer = _decode(response.read())
                error = error_for(response.code, answer, retry_after_seconds(response.headers.get("Retry-After")))
                if response.code != 503 or attempt >= self.max_retries:
                    raise error from None
                if error.retry_after is not None:
                    wait = min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
            except urllib.error.URLError as failure:
                if isinstance(failure.reason, TimeoutError):
                    raise Timeout(f"{method} {path}: no answer within {self.timeout} s", code="TIMEOUT") from None
                if attempt >= self.max_retries:
                    raise ConnectionFailed(f"{method} {path}: cannot reach {self.url}: {failure.reason}",
                                           code="CONNECTION_FAILED") from None
            except TimeoutError:
                raise Timeout(f"{method} {path}: no answer within {self.timeout} s", code="TIMEOUT") from None
            # http.client.HTTPException: the server closed the connection mid-answer.
            except (ConnectionError, http.client.HTTPException) as failure:
                if attempt >= self.max_retries:
                    raise ConnectionFailed(f"{method} {path}: connection to {self.url} failed: {failure!r}",
                                           code="CONNECTION_FAILED") from None
            time.sleep(wait)
            attempt += 1

    def _exchange(self, request: urllib.request.Request) -> Response:
        with self._opener.open(request, timeout=self.timeout) as response:
            return Response(response.status, response.headers, _decode(response.read()))

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(0.5 * 2 ** attempt, 5.0)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
