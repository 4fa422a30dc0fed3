"""Typed exceptions. Each carries the API's stable ``code`` (see the repository README, "Error codes")."""
from __future__ import annotations


class PostOfficeError(Exception):
    """An error answered by the sidecar, or a request that never got an answer.

    ``code`` is the API's code (``INVALID_ADDRESS``, ``NOT_FOUND``, …), or ``CONNECTION_FAILED`` /
    ``TIMEOUT`` for the two client-side failures; ``status`` is the HTTP status (``None`` when there
    was no response); ``retry_after`` is the ``Retry-After`` header's seconds, when given.
    """

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = " ".join(str(part) for part in (self.status, self.code) if part is not None)
        return f"{prefix}: {self.message}" if prefix else self.message


class InvalidRequest(PostOfficeError):
    """400: the email or query is invalid; nothing was stored."""


class Unauthorized(PostOfficeError):
    """401: ``POST_OFFICE_API_TOKEN`` is missing or wrong."""


class NotFound(PostOfficeError):
    """404: no such email or template."""


class InvalidState(PostOfficeError):
    """409: the email's status does not allow the change (cancel a sent email, …)."""


class TooLarge(PostOfficeError):
    """413: the request body or the message is larger than the sidecar or the provider accepts."""


class IdempotencyKeyReused(PostOfficeError):
    """422: the idempotency key was already used with a different request body."""


class ServerError(PostOfficeError):
    """500: the sidecar failed; the message says why."""


class Unavailable(PostOfficeError):
    """503: the database is unreachable or the sidecar is shutting down (after the client's retries)."""


class ConnectionFailed(PostOfficeError):
    """The sidecar could not be reached (refused, reset) after the client's retries."""


class Timeout(PostOfficeError):
    """No answer within the client's timeout."""


_by_status: dict[int, type[PostOfficeError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: InvalidState,
    413: TooLarge,
    422: IdempotencyKeyReused,
    500: ServerError,
    503: Unavailable,
}


def error_for(status: int, body: object, retry_after: float | None) -> PostOfficeError:
    """The exception for an error response; a body that is not the API's JSON still names the status."""
    code = message = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
    cls = _by_status.get(status, PostOfficeError)
    return cls(message or f"HTTP {status} without an API error body", code=code, status=status,
               retry_after=retry_after)
