"""Django's own mail API through post_office_client.django.EmailBackend, checked in the .eml the
sidecar's outbox writes: what Django was given arrives byte for byte."""
from __future__ import annotations

import os
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from pathlib import Path

import pytest
from django.core import mail

from post_office_client import InvalidRequest

from .conftest import SENDER, read_eml, wait_for_status
from .servers import RecordingProxy

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + os.urandom(2048)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8


def _id_of(client, subject: str) -> str:
    """The id of the newest email with this subject, for messages the test never held (send_mail's)."""
    return next(e["id"] for e in client.iter_emails() if e["subject"] == subject)


def test_attachments_and_an_inline_image_arrive_byte_faithful(sidecar, client, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Grüße\r\nline two\n", encoding="utf-8")
    message = mail.EmailMultiAlternatives(
        subject="Your order №1234", body="Thanks, Bob.\n", from_email=SENDER,
        to=["Bob <bob@example.com>"], cc=["cc@example.com"], bcc=["audit@example.com"],
        reply_to=["Support <support@example.com>"], headers={"X-Order": "1234"},
    )
    message.attach_alternative('<p>Thanks, Bob. <img src="cid:logo@shop"></p>', "text/html")
    message.attach("invoice.pdf", PDF, "application/pdf")
    message.attach_file(str(notes))
    logo = MIMEImage(PNG, "png")
    logo.add_header("Content-ID", "<logo@shop>")
    logo.add_header("Content-Disposition", "inline", filename="logo.png")
    message.attach(logo)
    extra = MIMEApplication(b"\x00\x01binary\xff", "octet-stream")
    extra.add_header("Content-Disposition", "attachment", filename="data.bin")
    message.attach(extra)
    assert message.send() == 1

    email_id = message.post_office.id  # the backend records what the sidecar answered on the message
    wait_for_status(client, email_id, "sent")
    eml = read_eml(sidecar, email_id)
    assert eml["Subject"] == "Your order №1234"
    assert eml["To"] == "Bob <bob@example.com>"
    assert eml["Cc"] == "cc@example.com"
    assert eml["Bcc"] == "audit@example.com"  # the outbox keeps Bcc so the .eml names every recipient
    assert eml["Reply-To"] == "Support <support@example.com>"
    assert eml["X-Order"] == "1234"
    assert eml.get_body(("plain",)).get_content() == "Thanks, Bob.\n"
    assert eml.get_body(("html",)).get_content().strip() == '<p>Thanks, Bob. <img src="cid:logo@shop"></p>'
    parts = {part.get_filename(): part for part in eml.walk() if part.get_filename()}
    assert parts["invoice.pdf"].get_content_type() == "application/pdf"
    assert parts["invoice.pdf"].get_payload(decode=True) == PDF
    assert parts["notes.txt"].get_payload(decode=True) == notes.read_bytes()
    assert parts["data.bin"].get_payload(decode=True) == b"\x00\x01binary\xff"
    assert parts["logo.png"].get_payload(decode=True) == PNG
    assert parts["logo.png"]["Content-ID"] == "<logo@shop>"
    assert parts["logo.png"].get_content_type() == "image/png"


def test_send_mail_and_send_mass_mail(sidecar, client) -> None:
    assert mail.send_mail("Plain send_mail", "Hello", None, ["frank@example.com"]) == 1
    assert mail.send_mass_mail([
        ("Mass one", "one", SENDER, ["m1@example.com"]),
        ("Mass two", "two", SENDER, ["m2@example.com"]),
    ]) == 2
    email_id = _id_of(client, "Plain send_mail")
    eml = read_eml(sidecar, wait_for_status(client, email_id, "sent")["id"])
    assert eml["From"] == SENDER  # DEFAULT_FROM_EMAIL, as Django fills it in
    assert eml.get_content().strip() == "Hello"
    assert len({_id_of(client, "Mass one"), _id_of(client, "Mass two")}) == 2


def test_an_html_body_and_a_message_without_recipients(sidecar, client) -> None:
    message = mail.EmailMessage("HTML only", "<b>bold</b>", SENDER, ["gina@example.com"])
    message.content_subtype = "html"
    nobody = mail.EmailMessage("Nobody", "x", SENDER, [])
    assert mail.get_connection().send_messages([message, nobody]) == 1
    eml = read_eml(sidecar, wait_for_status(client, message.post_office.id, "sent")["id"])
    assert not hasattr(nobody, "post_office")
    assert eml.get_body(("html",)).get_content().strip() == "<b>bold</b>"


def test_fail_silently(sidecar) -> None:
    assert mail.send_mail("Bad", "x", SENDER, ["bob@"], fail_silently=True) == 0
    with pytest.raises(InvalidRequest) as invalid:
        mail.send_mail("Bad", "x", SENDER, ["bob@"])
    assert invalid.value.code == "INVALID_ADDRESS"


def test_an_unsupported_alternative_is_refused(sidecar) -> None:
    message = mail.EmailMultiAlternatives("Calendar", "x", SENDER, ["h@example.com"])
    message.attach_alternative("BEGIN:VCALENDAR", "text/calendar")
    with pytest.raises(ValueError, match=r"alternatives\[0\]: text/calendar cannot be sent"):
        message.send()


def test_many_messages_go_in_batches_of_1000(sidecar, proxy: RecordingProxy) -> None:
    messages = [mail.EmailMessage(f"Bulk {i}", "x", SENDER, [f"bulk{i}@example.com"]) for i in range(1001)]
    connection = mail.get_connection(url=proxy.url)
    assert connection.send_messages(messages) == 1001
    assert [(r["path"], len(r["body"]["emails"])) for r in proxy.requests] == [("/v1/emails/batch", 1000),
                                                                              ("/v1/emails/batch", 1)]
    keys = {r["headers"]["Idempotency-Key"] for r in proxy.requests}
    assert len(keys) == 2
    assert len({m.post_office.id for m in messages}) == 1001
