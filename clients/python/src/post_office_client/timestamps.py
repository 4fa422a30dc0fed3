"""Datetimes as the API's RFC 3339 strings."""
from __future__ import annotations

from datetime import date, datetime, time

from .settings import django_setting


def rfc3339(value: datetime | date | str, field: str) -> str:
    """An aware datetime as is; a naive one in Django's current time zone (or the machine's); a date at midnight."""
    if isinstance(value, str):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ValueError(f"{field}: expected a datetime or an RFC 3339 string, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = _aware(value)
    return value.isoformat()


def _aware(value: datetime) -> datetime:
    if django_setting("USE_TZ") is not None:
        from django.utils import timezone

        return timezone.make_aware(value)
    return value.astimezone()
