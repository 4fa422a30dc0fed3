"""A Django email backend that hands every message to the sidecar.

``EMAIL_BACKEND = "post_office_client.django.EmailBackend"``; the sidecar's address and token come
from the ``POST_OFFICE_URL``, ``POST_OFFICE_API_TOKEN`` and ``POST_OFFICE_TIMEOUT`` settings (or
environment variables), or from ``get_connection(url=…, token=…, timeout=…)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from .client import MAX_BATCH, Client
from .django_message import message_to_email


class EmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, *, url: str | None = None, token: str | None = None,
                 timeout: float | None = None, client: Client | None = None, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.client = client or Client(url=url, token=token, timeout=timeout)

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        """Queues the messages (one request for one, batches of 1000 for more); returns how many were accepted.

        Messages without recipients are skipped, as in Django's own backends. Each accepted
        message gets a ``post_office`` attribute: the QueuedEmail (id, status) the sidecar answered.
        With ``fail_silently`` an error stops sending and the count so far is returned.
        """
        messages = [message for message in email_messages or [] if message.recipients()]
        accepted = 0
        try:
            if len(messages) == 1:
                messages[0].post_office = self.client.enqueue(message_to_email(messages[0]))
                return 1
            for start in range(0, len(messages), MAX_BATCH):
                chunk = messages[start:start + MAX_BATCH]
                queued = self.client.enqueue_batch([message_to_email(m) for m in chunk])
                for message, answer in zip(chunk, queued, strict=True):
                    message.post_office = answer
                accepted += len(chunk)
        except Exception:
            if not self.fail_silently:
                raise
        return accepted
