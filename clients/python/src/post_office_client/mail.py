"""django-post_office's ``mail.send`` and ``mail.send_many``, sending through the sidecar.

Same argument names, so migrating is changing ``from post_office import mail`` to
``from post_office_client import mail``. Differences: templates are the sidecar's stored (Liquid)
templates, named by ``template``; ``context`` needs a template; ``log_level`` and ``commit`` do not
exist (every attempt is logged, every email is stored); both functions return what was queued.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from .attachments import from_post_office
from .client import Client, QueuedEmail
from .settings import django_setting
from .timestamps import rfc3339

# django-post_office's PRIORITY values: low=0, medium=1, high=2, now=3.
_priorities = {0: "low", 1: "medium", 2: "high", 3: "now"}

_default_client: Client | None = None
_default_client_lock = threading.Lock()


def default_client() -> Client:
    """One shared Client built from the settings, created on first use."""
    global _default_client
    with _default_client_lock:
        if _default_client is None:
            _default_client = Client()
        return _default_client


def send(recipients: str | Sequence[str] | None = None, sender: str | None = None, template: Any = None,
         context: Mapping[str, Any] | None = None, subject: str = "", message: str = "", html_message: str = "",
         scheduled_time: datetime | date | str | None = None, expires_at: datetime | date | str | None = None,
         headers: Mapping[str, str] | None = None, priority: str | int | None = None,
         attachments: Mapping[str, Any] | None = None, render_on_delivery: bool = False,
         cc: str | Sequence[str] | None = None, bcc: str | Sequence[str] | None = None, language: str = "",
         backend: str = "", *, reply_to: str | Sequence[str] | None = None, tags: Sequence[str] | None = None,
         metadata: Mapping[str, str] | None = None, idempotency_key: str | None = None,
         client: Client | None = None) -> QueuedEmail:
    """Queues one email; returns its id and status. ``priority="now"`` is dispatched at once."""
    email = build_email(recipients, sender, template, context, subject, message, html_message, scheduled_time,
                        expires_at, headers, priority, attachments, render_on_delivery, cc, bcc, language, backend,
                        reply_to=reply_to, tags=tags, metadata=metadata)
    return (client or default_client()).enqueue(email, idempotency_key=idempotency_key)


def send_many(kwargs_list: Iterable[Mapping[str, Any]], *, client: Client | None = None) -> list[QueuedEmail]:
    """Many ``send`` calls' arguments, queued through the batch endpoint (1000 per request), in order."""
    emails = [build_email(**kwargs) for kwargs in kwargs_list]
    if not emails:
        return []
    return (client or default_client()).enqueue_many(emails)


def build_email(recipients: str | Sequence[str] | None = None, sender: str | None = None, template: Any = None,
                context: Mapping[str, Any] | None = None, subject: str = "", message: str = "",
                html_message: str = "", scheduled_time: datetime | date | str | None = None,
                expires_at: datetime | date | str | None = None, headers: Mapping[str, str] | None = None,
                priority: str | int | None = None, attachments: Mapping[str, Any] | None = None,
                render_on_delivery: bool = False, cc: str | Sequence[str] | None = None,
                bcc: str | Sequence[str] | None = None, language: str = "", backend: str = "", *,
                reply_to: str | Sequence[str] | None = None, tags: Sequence[str] | None = None,
                metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The API's JSON email for ``send``'s arguments."""
    email: dict[str, Any] = {}
    sender = sender or django_setting("DEFAULT_FROM_EMAIL")
    if sender:
        email["from"] = str(sender)
    for field, value in (("to", recipients), ("cc", cc), ("bcc", bcc), ("reply_to", reply_to)):
        addresses = _addresses(value, "recipients" if field == "to" else field)
        if addresses:
            email[field] = addresses
    if template:
        for name, value in (("subject", subject), ("message", message), ("html_message", html_message)):
            if value:
                raise ValueError(f'{name}: cannot be given with "template"; the template gives it')
        email["template"] = str(getattr(template, "name", template))
        language = language or getattr(template, "language", "") or ""
        if language:
            email["language"] = language
        if context:
            email["context"] = dict(context)
        if render_on_delivery:
            email["render_on_delivery"] = True
    else:
        if context:
            raise ValueError('context: only used with "template" (the sidecar renders stored templates)')
        if render_on_delivery:
            raise ValueError('render_on_delivery: only used with "template"')
        email["subject"] = str(subject)
        if message or not html_message:
            email["text"] = str(message)
        if html_message:
            email["html"] = str(html_message)
    if headers:
        email["headers"] = {str(k): str(v) for k, v in headers.items()}
    if attachments:
        email["attachments"] = from_post_office(attachments)
    if priority is not None:
        email["priority"] = _priority(priority)
    if scheduled_time is not None:
        email["scheduled_at"] = rfc3339(scheduled_time, "scheduled_time")
    if expires_at is not None:
        email["expires_at"] = rfc3339(expires_at, "expires_at")
    if backend:
        email["backend"] = backend
    if tags:
        email["tags"] = list(tags)
    if metadata:
        email["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    return email


def _addresses(value: str | Sequence[str] | None, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{field}: expected an address or a list of addresses, got {type(value).__name__}")
    return [str(address) for address in value]


def _priority(value: str | int) -> str:
    # django-post_office's PRIORITY enum members are ints (PRIORITY.high == 2); names are strings.
    if isinstance(value, int) and not isinstance(value, bool) and value in _priorities:
        return _priorities[value]
    if isinstance(value, str) and value in _priorities.values():
        return value
    raise ValueError(f"priority: must be one of now, high, medium, low (or 3, 2, 1, 0), got {value!r}")
