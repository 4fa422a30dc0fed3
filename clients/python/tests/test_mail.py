"""post_office_client.mail: django-post_office's mail.send and send_many, against the real sidecar."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile

from post_office_client import mail

from .conftest import SENDER, wait_for_status
from .servers import MockPostmark

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(scope="module")
def welcome(client) -> str:
    name = f"welcome-{uuid.uuid4().hex[:8]}"
    client.put_template(name, {"subject": "Welcome, {{ user.name }}!", "html": "<h1>Hi {{ user.name }}</h1>",
                               "strict_variables": True})
    client.put_template(name, {"subject": "Willkommen, {{ user.name }}!", "text": "Hallo {{ user.name }}"},
                        language="de")
    return name


def test_a_template_with_context_and_priority_now(client, postmark: MockPostmark, welcome: str) -> None:
    queued = mail.send("ada@example.com", "Shop <shop@example.com>", template=welcome,
                       context={"user": {"name": "Ada"}}, priority="now", backend="postmark")
    assert queued.status == "queued"
    body = postmark.wait_for(lambda b: b.get("To") == "ada@example.com")
    assert body["Subject"] == "Welcome, Ada!"
    assert body["HtmlBody"] == "<h1>Hi Ada</h1>"
    sent = wait_for_status(client, queued.id, "sent")
    assert sent["priority"] == "now"


def test_a_translation_rendered_on_delivery(client, postmark: MockPostmark, welcome: str) -> None:
    queued = mail.send(["bert@example.com"], template=welcome, language="de", context={"user": {"name": "Bert"}},
                       render_on_delivery=True, backend="postmark")
    body = postmark.wait_for(lambda b: b.get("To") == "bert@example.com")
    assert (body["Subject"], body["TextBody"]) == ("Willkommen, Bert!", "Hallo Bert")
    assert body["From"] == SENDER  # no sender: Django's DEFAULT_FROM_EMAIL, as django-post_office does
    assert wait_for_status(client, queued.id, "sent")["backend"] == "postmark"


def test_attachments_in_django_post_office_form(postmark: MockPostmark, tmp_path) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\r\n1,2\r\n")
    mail.send(["cleo@example.com"], SENDER, subject="Files", message="see attached",
              html_message='<img src="cid:logo">', backend="postmark", cc=["boss@example.com"],
              headers={"X-Campaign": "spring"},
              attachments={
                  "logo.png": {"file": ContentFile(PNG), "mimetype": "image/png", "headers": {"Content-ID": "<logo>"}},
                  "report.csv": str(report),
                  "raw.bin": ContentFile(b"\x00\xff"),
              })
    body = postmark.wait_for(lambda b: b.get("To") == "cleo@example.com")
    assert (body["Cc"], body["TextBody"], body["Headers"]) == ("boss@example.com", "see attached",
                                                               [{"Name": "X-Campaign", "Value": "spring"}])
    got = {a["Name"]: a for a in body["Attachments"]}
    assert base64.b64decode(got["logo.png"]["Content"]) == PNG
    assert (got["logo.png"]["ContentType"], got["logo.png"]["ContentID"]) == ("image/png", "cid:logo")
    assert base64.b64decode(got["report.csv"]["Content"]) == b"a,b\r\n1,2\r\n"
    assert got["report.csv"]["ContentType"] == "text/csv"
    assert base64.b64decode(got["raw.bin"]["Content"]) == b"\x00\xff"


def test_scheduled_time_and_expires_at(client) -> None:
    # Naive datetimes are in Django's TIME_ZONE (Europe/Berlin in these tests), as Django would store them.
    later = datetime(2030, 1, 15, 9, 0)
    queued = mail.send(["dan@example.com"], SENDER, subject="Later", message="x", scheduled_time=later,
                       expires_at=later + timedelta(days=1), priority=2)
    email = client.get(queued.id)
    assert email["scheduled_at"] == "2030-01-15T08:00:00.000Z"
    assert email["expires_at"] == "2030-01-16T08:00:00.000Z"
    assert email["priority"] == "high"
    client.cancel(queued.id)


def test_send_many_uses_the_batch_endpoint(client, proxy) -> None:
    from post_office_client import Client

    from .conftest import TOKEN

    queued = mail.send_many([
        {"recipients": [f"many{i}@example.com"], "sender": SENDER, "subject": f"Many {i}", "message": "x"}
        for i in range(3)
    ], client=Client(url=proxy.url, token=TOKEN))
    assert [client.get(q.id)["subject"] for q in queued] == ["Many 0", "Many 1", "Many 2"]
    assert [r["path"] for r in proxy.requests] == ["/v1/emails/batch"]
    assert mail.send_many([]) == []


def test_arguments_django_post_office_refuses_are_refused() -> None:
    with pytest.raises(ValueError, match='subject: cannot be given with "template"'):
        mail.build_email(["a@example.com"], template="welcome", subject="Hi")
    with pytest.raises(ValueError, match="priority: must be one of now, high, medium, low"):
        mail.build_email(["a@example.com"], subject="Hi", priority="urgent")
    with pytest.raises(ValueError, match=r"attachments\['x'\].headers: only Content-ID is supported"):
        mail.build_email(["a@example.com"], subject="Hi", attachments={"x": {"file": b"1", "headers": {"X-A": "1"}}})
    with pytest.raises(ValueError, match='context: only used with "template"'):
        mail.build_email(["a@example.com"], subject="Hi {{ x }}", context={"x": 1})
