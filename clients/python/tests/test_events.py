"""verify_event: a body signed with the secret passes; a changed body, another secret, a stale or
future time, or a malformed header is refused."""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess

import pytest

from post_office_client import InvalidSignature, verify_event

from .sidecar import REPO_ROOT

SECRET = "whsec-0123456789abcdef"
BODY = json.dumps({"id": 7, "type": "email.sent", "email_id": "0190c1d2-0000-7000-8000-000000000001", "status": "sent"},
                  separators=(",", ":")).encode()
NOW = 1_800_000_000


def header(t: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={t}, v1={hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


def test_a_signed_body_is_verified_and_parsed() -> None:
    assert verify_event(BODY, header(NOW), SECRET, now=NOW)["type"] == "email.sent"
    assert verify_event(BODY.decode(), header(NOW - 299), SECRET, now=NOW)["id"] == 7
    assert verify_event(bytearray(BODY), header(NOW + 299), SECRET, now=NOW)["status"] == "sent"


def test_any_one_of_several_v1_values_is_enough() -> None:
    rotated = f"{header(NOW, secret='old-secret-0123456789')}, v1={header(NOW).split('v1=')[1]}"
    assert verify_event(BODY, rotated, SECRET, now=NOW)["id"] == 7


@pytest.mark.parametrize(("body", "value", "message"), [
    (BODY.replace(b"sent", b"failed"), header(NOW), "does not match"),
    (BODY, header(NOW, secret="another-secret-0123456"), "does not match"),
    (BODY, header(NOW)[:-2], "does not match"),
    (BODY, None, "missing or not"),
    (BODY, "v1=abc", "missing or not"),
    (BODY, f"t={NOW}", "missing or not"),
    (BODY, f"t=soon, v1={'0' * 64}", "missing or not"),
])
def test_a_changed_body_another_secret_or_a_bad_header_is_refused(body: bytes, value: str | None, message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        verify_event(body, value, SECRET, now=NOW)


def test_a_time_outside_the_tolerance_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="more than 300 s"):
        verify_event(BODY, header(NOW - 301), SECRET, now=NOW)
    with pytest.raises(InvalidSignature, match="more than 60 s"):
        verify_event(BODY, header(NOW + 61), SECRET, tolerance=60, now=NOW)
    assert verify_event(BODY, header(NOW - 86_400), SECRET, tolerance=0, now=NOW)["id"] == 7


def test_the_sidecar_signs_what_the_verifier_accepts() -> None:
    # The header the sidecar's own code (src/app-events/signature.ts) makes for this body.
    node = shutil.which("node")
    assert node is not None, "node: not on PATH"
    script = ("import { signatureHeader } from './src/app-events/signature.ts';"
              "process.stdout.write(signatureHeader(process.argv[1], process.argv[2], Number(process.argv[3])));")
    value = subprocess.run([node, "--input-type=module", "-e", script, SECRET, BODY.decode(), str(NOW)], cwd=REPO_ROOT,
                           check=True, capture_output=True, text=True).stdout
    assert value.startswith(f"t={NOW}, v1=")
    assert verify_event(BODY, value, SECRET, now=NOW + 10)["email_id"].startswith("0190")
