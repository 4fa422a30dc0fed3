"""Where the client's settings come from: arguments, then Django settings, then the environment."""
from __future__ import annotations

import os

DEFAULT_URL = "http://127.0.0.1:8587"
DEFAULT_TIMEOUT = 10.0


def django_setting(name: str) -> object | None:
    """A Django setting, or None when Django is not installed or not configured."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    # Without a settings module nor settings.configure(), reading a setting would raise.
    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return None
    try:
        return getattr(settings, name, None)
    except ImproperlyConfigured:
        return None


def setting(name: str) -> str | None:
    """``name`` from Django settings, else from the environment; empty means unset."""
    value = django_setting(name)
    if value is None or value == "":
        value = os.environ.get(name) or None
    return None if value is None else str(value)


def resolve_url(url: str | None) -> str:
    value = url or setting("POST_OFFICE_URL") or DEFAULT_URL
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"POST_OFFICE_URL: must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


def resolve_token(token: str | None) -> str | None:
    return token or setting("POST_OFFICE_API_TOKEN")


def resolve_timeout(timeout: float | None) -> float:
    raw = timeout if timeout is not None else setting("POST_OFFICE_TIMEOUT")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"POST_OFFICE_TIMEOUT: must be a positive number of seconds, got {raw!r}")
    return value
