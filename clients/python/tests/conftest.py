"""One real sidecar for the session: the default backend is the outbox (each email an .eml file, for
byte-level checks), the "postmark" backend is a mock Postmark on loopback (for its JSON)."""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from post_office_client import Client

from .servers import MockPostmark, RecordingProxy
from .sidecar import Sidecar

TOKEN = "python-client-test-token"
SENDER = "Shop <shop@example.com>"


@pytest.fixture(scope="session")
def postmark() -> Iterator[MockPostmark]:
    server = MockPostmark()
    yield server
    server.close()


@pytest.fixture(scope="session")
def sidecar(postmark: MockPostmark) -> Iterator[Sidecar]:
    # Directly under the system temp folder: run as root, the embedded PostgreSQL runs as another
    # user that must reach its data folder, which pytest's private (0700) tmp_path tree forbids.
    data_dir = Path(tempfile.mkdtemp(prefix="post-office-python-client-"))
    backends = {"default": {"provider": "outbox"},
                "postmark": {"provider": "postmark", "server_token": "test-server-token", "base_url": postmark.url}}
    process = Sidecar(data_dir, {
        "POST_OFFICE_BACKENDS": json.dumps(backends),
        "POST_OFFICE_API_TOKEN": TOKEN,
        "POST_OFFICE_RETENTION_DAYS": "0",
    })
    _configure_django(process.api_url)
    yield process
    code = process.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    assert code == 0, "sidecar did not stop cleanly:\n" + "\n".join(process.log[-40:])


def _configure_django(api_url: str) -> None:
    from django.conf import settings

    import django

    settings.configure(
        EMAIL_BACKEND="post_office_client.django.EmailBackend",
        POST_OFFICE_URL=api_url,
        POST_OFFICE_API_TOKEN=TOKEN,
        DEFAULT_FROM_EMAIL=SENDER,
        USE_TZ=True,
        TIME_ZONE="Europe/Berlin",
    )
    django.setup()


@pytest.fixture(scope="session")
def client(sidecar: Sidecar) -> Client:
    return Client(url=sidecar.api_url, token=TOKEN)


@pytest.fixture
def proxy(sidecar: Sidecar) -> Iterator[RecordingProxy]:
    server = RecordingProxy(sidecar.api_url)
    yield server
    server.close()


def wait_for_status(client: Client, email_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    """Polls GET /v1/emails/:id (the API has no push) until the email reaches ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        email = client.get(email_id)
        if email["status"] == status:
            return email
        if time.monotonic() > deadline:
            raise AssertionError(f"email {email_id} is {email['status']}, not {status}, after {timeout} s: "
                                 f"{email['logs']}")
        time.sleep(0.05)


def read_eml(sidecar: Sidecar, email_id: str) -> EmailMessage:
    """The .eml the outbox wrote for a sent email."""
    path: Path = sidecar.outbox / f"{email_id}.eml"
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())  # type: ignore[return-value]
