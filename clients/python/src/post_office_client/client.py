"""The plain client: every call of the sidecar's API (see the repository README, "API" and "Templates")."""
from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PostOfficeError
from .settings import resolve_timeout, resolve_token, resolve_url
from .transport import Response, Transport

# The batch endpoint's limit (POST /v1/emails/batch takes 1–1000 emails).
MAX_BATCH = 1000


@dataclass(frozen=True)
class QueuedEmail:
    """What an enqueue answers: the email's id and status (``replayed``: an idempotent retry)."""

    id: str
    status: str
    replayed: bool = False


class PartialBatchError(PostOfficeError):
    """A chunk of ``enqueue_many`` failed; ``accepted`` holds the emails the earlier chunks queued."""

    def __init__(self, cause: PostOfficeError, accepted: list[QueuedEmail]) -> None:
        # The API numbers emails within their batch; this batch started after the accepted ones.
        super().__init__(f"{cause.message} (in the batch starting at email {len(accepted)}; the emails before it "
                         "were queued)", code=cause.code, status=cause.status, retry_after=cause.retry_after)
        self.accepted = accepted


class Client:
    """A client for one sidecar.

    ``url``, ``token`` and ``timeout`` default to the ``POST_OFFICE_URL``, ``POST_OFFICE_API_TOKEN``
    and ``POST_OFFICE_TIMEOUT`` Django settings or environment variables. 503s and refused
    connections are retried ``max_retries`` times. Safe to share between threads.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None,
                 max_retries: int = 3) -> None:
        self._transport = Transport(resolve_url(url), resolve_token(token), resolve_timeout(timeout), max_retries)

    @property
    def url(self) -> str:
        return self._transport.url

    # Emails

    def enqueue(self, email: Mapping[str, Any], *, idempotency_key: str | None = None) -> QueuedEmail:
        """``POST /v1/emails``: stores one email; the key (generated unless given) makes retries safe."""
        key = idempotency_key or str(uuid.uuid4())
        response = self._transport.request("POST", "/v1/emails", body=dict(email), idempotency_key=key)
        return QueuedEmail(response.body["id"], response.body["status"], _replayed(response))

    def enqueue_batch(self, emails: Sequence[Mapping[str, Any]], *,
                      idempotency_key: str | None = None) -> list[QueuedEmail]:
        """``POST /v1/emails/batch``: 1–1000 emails, all stored or none, answered in order."""
        if not 1 <= len(emails) <= MAX_BATCH:
            raise ValueError(f"emails: a batch holds 1 to {MAX_BATCH} emails, got {len(emails)}")
        key = idempotency_key or str(uuid.uuid4())
        response = self._transport.request("POST", "/v1/emails/batch", body={"emails": [dict(e) for e in emails]},
                                           idempotency_key=key)
        return [QueuedEmail(item["id"], item["status"], _replayed(response)) for item in response.body["emails"]]

    def enqueue_many(self, emails: Sequence[Mapping[str, Any]]) -> list[QueuedEmail]:
        """Any number of emails, in batches of 1000 (each its own transaction and idempotency key)."""
        accepted: list[QueuedEmail] = []
        for start in range(0, len(emails), MAX_BATCH):
            try:
                accepted.extend(self.enqueue_batch(emails[start:start + MAX_BATCH]))
            except PostOfficeError as error:
                if not accepted:
                    raise
                raise PartialBatchError(error, accepted) from error
        return accepted

    def get(self, email_id: str) -> dict[str, Any]:
        """``GET /v1/emails/:id``: the email, its status, attempts and log."""
        return self._transport.request("GET", f"/v1/emails/{_segment(email_id)}").body

    def list_emails(self, *, status: str | None = None, limit: int | None = None,
                    cursor: str | None = None) -> dict[str, Any]:
        """``GET /v1/emails``: one page, newest first: ``{"emails": [...], "next_cursor": ...}``."""
        query = {"status": status, "limit": limit, "cursor": cursor}
        return self._transport.request("GET", "/v1/emails", query=query).body

    def iter_emails(self, *, status: str | None = None, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every email (of a status), newest first, following the cursor page by page."""
        cursor = None
        while True:
            page = self.list_emails(status=status, limit=page_size, cursor=cursor)
            yield from page["emails"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def cancel(self, email_id: str) -> QueuedEmail:
        """``POST /v1/emails/:id/cancel``: only a queued email; otherwise InvalidState."""
        body = self._transport.request("POST", f"/v1/emails/{_segment(email_id)}/cancel").body
        return QueuedEmail(body["id"], body["status"])

    def requeue(self, email_id: str) -> QueuedEmail:
        """``POST /v1/emails/:id/requeue``: a failed, expired or cancelled email, with a fresh attempt budget."""
        body = self._transport.request("POST", f"/v1/emails/{_segment(email_id)}/requeue").body
        return QueuedEmail(body["id"], body["status"])

    # Templates

    def put_template(self, name: str, template: Mapping[str, Any], *, language: str | None = None) -> dict[str, Any]:
        """``PUT /v1/templates/:name``: creates or replaces the template in one language."""
        return self._transport.request("PUT", f"/v1/templates/{_segment(name)}", body=dict(template),
                                       query={"language": language}).body

    def get_template(self, name: str, *, language: str | None = None) -> dict[str, Any]:
        return self._transport.request("GET", f"/v1/templates/{_segment(name)}", query={"language": language}).body

    def delete_template(self, name: str, *, language: str | None = None) -> None:
        self._transport.request("DELETE", f"/v1/templates/{_segment(name)}", query={"language": language})

    def list_templates(self) -> list[dict[str, Any]]:
        return self._transport.request("GET", "/v1/templates").body["templates"]

    def preview_template(self, name: str, *, language: str | None = None,
                         context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Renders the template as an email would be, with ``context`` or its ``example_context``."""
        body: dict[str, Any] = {}
        if language is not None:
            body["language"] = language
        if context is not None:
            body["context"] = dict(context)
        return self._transport.request("POST", f"/v1/templates/{_segment(name)}/preview", body=body).body


def _replayed(response: Response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")
