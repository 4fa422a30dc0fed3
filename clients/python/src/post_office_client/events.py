"""Verifying an event the sidecar POSTed to ``POST_OFFICE_EVENTS_URL`` (see the repository's
docs/events.md). The ``Post-Office-Signature`` header is ``t=<unix seconds>, v1=<hex HMAC-SHA256
of "<t>.<body>">``; check it on the raw body, before parsing it."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

DEFAULT_TOLERANCE = 300

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class InvalidSignature(ValueError):
    """The request did not come from a sidecar holding the secret, or came too late (a replay)."""


def verify_event(body: bytes | str, header: str | None, secret: str, tolerance: float = DEFAULT_TOLERANCE,
                 now: float | None = None) -> dict[str, Any]:
    """Returns the parsed event when ``header`` signs ``body`` with ``secret``; raises InvalidSignature.

    ``tolerance`` is how many seconds the header's time may be from now (0 turns the check off).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    timestamp: str | None = None
    signatures: list[str] = []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and timestamp is None:
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise InvalidSignature('the Post-Office-Signature header is missing or not "t=<seconds>, v1=<hex>"')
    current = time.time() if now is None else now
    if tolerance > 0 and abs(current - int(timestamp)) > tolerance:
        raise InvalidSignature(f"the signature's time is more than {tolerance:g} s from now (a replay, or a clock off)")
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    # Several v1 values let a secret be rotated: any one that matches is enough.
    if not any(_HEX64.match(given) and hmac.compare_digest(given.lower(), expected) for given in signatures):
        raise InvalidSignature("the signature does not match the body and the secret")
    event: dict[str, Any] = json.loads(raw)
    return event
