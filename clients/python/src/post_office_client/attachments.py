"""Turns files, bytes and MIME parts into the API's attachments: base64 ``content``, ``filename``,
``content_type`` and, for inline images, ``content_id`` (referenced as ``cid:<id>`` in the HTML)."""
from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Mapping
from email.message import Message
from typing import Any


def attachment(filename: str, content: bytes | str, content_type: str | None = None,
               content_id: str | None = None) -> dict[str, Any]:
    """One API attachment; ``str`` content is sent as UTF-8, the type is guessed from the name when not given."""
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if content_type is None:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if isinstance(content, str) and content_type.startswith("text/"):
            content_type += "; charset=utf-8"
    result: dict[str, Any] = {
        "filename": filename,
        "content": base64.b64encode(data).decode("ascii"),
        "content_type": content_type,
    }
    if content_id:
        result["content_id"] = bare_content_id(content_id)
    return result


def bare_content_id(value: str) -> str:
    """``<logo@example>`` → ``logo@example``: the API takes the id without angle brackets."""
    value = str(value).strip()
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


def from_mime_part(part: Message, where: str) -> dict[str, Any]:
    """An attachment given as a MIME part (MIMEImage, MIMEApplication, MIMEText, message/rfc822, …)."""
    if part.get_content_maintype() == "multipart":
        raise ValueError(f"{where}: a multipart attachment cannot be sent; attach its parts one by one")
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        data = (inner[0] if isinstance(inner, list) else inner).as_bytes()
    else:
        data = part.get_payload(decode=True) or b""
    content_type = part.get_content_type()
    charset = part.get_param("charset")
    if charset and part.get_content_maintype() == "text":
        content_type += f"; charset={charset}"
    content_id = part.get("Content-ID")
    filename = part.get_filename() or _name_for(content_id, content_type)
    return attachment(filename, data, content_type, content_id)


def from_file(value: Any, where: str) -> tuple[bytes | str, str | None]:
    """Bytes and a file name from a path, bytes, or a file-like object (open file, Django File/ContentFile)."""
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as handle:
            return handle.read(), os.path.basename(os.fspath(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None
    if hasattr(value, "read"):
        if hasattr(value, "seek"):
            try:
                value.seek(0)
            except (OSError, ValueError):
                pass
        data = value.read()
        name = getattr(value, "name", None)
        return data, os.path.basename(name) if isinstance(name, str) and name else None
    raise ValueError(f"{where}: expected a file path, bytes or a file-like object, got {type(value).__name__}")


def from_post_office(attachments: Mapping[str, Any]) -> list[dict[str, Any]]:
    """django-post_office's ``attachments``: name → path, file-like, bytes, or
    ``{"file": …, "mimetype": "image/png", "headers": {"Content-ID": "<logo>"}}``."""
    result = []
    for name, value in attachments.items():
        where = f"attachments[{name!r}]"
        mimetype = content_id = None
        if isinstance(value, Mapping):
            unknown = set(value) - {"file", "mimetype", "headers"}
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}; use file, mimetype, headers")
            headers = dict(value.get("headers") or {})
            content_id = _pop_header(headers, "Content-ID")
            if headers:
                raise ValueError(f"{where}.headers: only Content-ID is supported, got {sorted(headers)}")
            mimetype = value.get("mimetype")
            value = value.get("file")
        data, _ = from_file(value, where)
        result.append(attachment(str(name), data, mimetype, content_id))
    return result


def _pop_header(headers: dict[str, Any], name: str) -> str | None:
    for key in list(headers):
        if key.lower() == name.lower():
            return str(headers.pop(key))
    return None


def _name_for(content_id: str | None, content_type: str) -> str:
    stem = bare_content_id(content_id).split("@")[0] if content_id else "attachment"
    return stem + (mimetypes.guess_extension(content_type) or "")
