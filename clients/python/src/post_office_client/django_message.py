"""A Django ``EmailMessage`` / ``EmailMultiAlternatives`` as the API's JSON email."""
from __future__ import annotations

from email.message import Message
from email.utils import formataddr, getaddresses
from typing import Any

from .attachments import attachment, from_mime_part


def message_to_email(message: Any) -> dict[str, Any]:
    """Addresses, subject, the body and its HTML alternative, extra headers and attachments.

    The ``From`` and ``Reply-To`` extra headers override ``from_email`` and ``reply_to``, as Django
    does; other headers the sidecar builds itself (``To``, ``Message-ID``, …) are refused by the API.
    """
    headers = {str(name): str(value) for name, value in (message.extra_headers or {}).items()}
    sender = _pop(headers, "From") or message.from_email
    reply_to = [str(a) for a in message.reply_to] or _split(_pop(headers, "Reply-To"))
    email: dict[str, Any] = {"from": str(sender)}
    for field, addresses in (("to", message.to), ("cc", message.cc), ("bcc", message.bcc), ("reply_to", reply_to)):
        if addresses:
            email[field] = [str(address) for address in addresses]
    email["subject"] = str(message.subject)
    body = str(message.body or "")
    if message.content_subtype == "html":
        email["html"] = body
    elif body or not getattr(message, "alternatives", None):
        email["text"] = body
    for index, (content, mimetype) in enumerate(getattr(message, "alternatives", None) or []):
        field = {"text/html": "html", "text/plain": "text"}.get(mimetype)
        if field is None or field in email:
            raise ValueError(f"alternatives[{index}]: {mimetype} cannot be sent; one text/html alternative "
                             "(and the body) is what the sidecar takes")
        email[field] = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    if headers:
        email["headers"] = headers
    attachments = [_attachment(item, f"attachments[{index}]") for index, item in enumerate(message.attachments)]
    if attachments:
        email["attachments"] = attachments
    return email


def _attachment(item: Any, where: str) -> dict[str, Any]:
    # MIMEBase (Django's documented way to attach inline images) or a MIMEPart.
    if isinstance(item, Message):
        return from_mime_part(item, where)
    filename, content, mimetype = item
    if content is None:
        raise ValueError(f"{where}: has no content")
    return attachment(filename or "attachment", content, mimetype)


def _pop(headers: dict[str, str], name: str) -> str | None:
    for key in list(headers):
        if key.lower() == name.lower():
            return headers.pop(key)
    return None


def _split(value: str | None) -> list[str]:
    return [formataddr(pair) for pair in getaddresses([value])] if value else []
