"""Retries on 503 with Retry-After, refused connections, the timeout, and the settings."""
from __future__ import annotations

import socket
import time

import pytest

from post_office_client import Client, ConnectionFailed, Timeout, Unavailable
from post_office_client.settings import resolve_timeout
from post_office_client.transport import retry_after_seconds

from .conftest import SENDER, TOKEN
from .servers import RecordingProxy

EMAIL = {"from": SENDER, "to": "erin@example.com", "subject": "Retried", "text": "x"}
DRAINING = {"statusCode": 503, "code": "SHUTTING_DOWN", "message": "server: shutting down, try again shortly"}


def test_a_503_is_retried_after_retry_after_with_the_same_idempotency_key(proxy: RecordingProxy) -> None:
    proxy.canned.append((503, {"Retry-After": "1"}, DRAINING))
    started = time.monotonic()
    queued = Client(url=proxy.url, token=TOKEN).enqueue(EMAIL)
    waited = time.monotonic() - started

    assert queued.status == "queued"
    first, second = proxy.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["body"] == second["body"] == EMAIL
    assert waited >= 1.0  # it waited as long as Retry-After asked, not its own shorter backoff


def test_a_503_that_lasts_raises_unavailable_with_the_code(proxy: RecordingProxy) -> None:
    proxy.canned.extend([(503, {"Retry-After": "0"}, DRAINING)] * 2)
    with pytest.raises(Unavailable) as unavailable:
        Client(url=proxy.url, token=TOKEN, max_retries=1).enqueue(EMAIL)
    assert (unavailable.value.status, unavailable.value.code) == (503, "SHUTTING_DOWN")
    assert unavailable.value.retry_after == 0
    assert len(proxy.requests) == 2


def test_a_refused_connection_raises_connection_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailed) as failed:
        Client(url=f"http://127.0.0.1:{port}", max_retries=1).get("x")
    assert failed.value.code == "CONNECTION_FAILED" and failed.value.status is None
    assert f"127.0.0.1:{port}" in str(failed.value)


def test_no_answer_within_the_timeout_raises_timeout() -> None:
    # A socket that listens but never accepts: the connection completes, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(Timeout) as timed_out:
            Client(url=f"http://127.0.0.1:{port}", timeout=0.2).enqueue(EMAIL)
    assert timed_out.value.code == "TIMEOUT"
    assert "0.2 s" in str(timed_out.value)


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("3") == 3
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_the_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POST_OFFICE_TIMEOUT", "2.5")
    assert resolve_timeout(None) == 2.5
    assert resolve_timeout(4) == 4
    monkeypatch.setenv("POST_OFFICE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="POST_OFFICE_TIMEOUT: must be a positive number of seconds, got 'soon'"):
        resolve_timeout(None)


def test_a_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="POST_OFFICE_URL: must start with http:// or https://"):
        Client(url="127.0.0.1:8587")
