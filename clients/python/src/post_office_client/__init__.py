"""Python and Django client for the Post Office mail-queue sidecar."""
from __future__ import annotations

__version__ = "0.1.0"

from .client import Client, PartialBatchError, QueuedEmail  # noqa: E402
from .events import InvalidSignature, verify_event  # noqa: E402
from .errors import (  # noqa: E402
    ConnectionFailed,
    IdempotencyKeyReused,
    InvalidRequest,
    InvalidState,
    NotFound,
    PostOfficeError,
    ServerError,
    Timeout,
    TooLarge,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "Client", "QueuedEmail", "PartialBatchError", "PostOfficeError", "InvalidRequest", "Unauthorized", "NotFound",
    "InvalidState", "TooLarge", "IdempotencyKeyReused", "ServerError", "Unavailable", "ConnectionFailed", "Timeout",
    "verify_event", "InvalidSignature",
]
