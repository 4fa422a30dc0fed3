"""The plain Client against the real sidecar: every call, idempotency and the typed errors."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from post_office_client import (
    Client, IdempotencyKeyReused, InvalidRequest, InvalidState, NotFound, PartialBatchError, QueuedEmail, Unauthorized,
)

from .conftest import SENDER, wait_for_status
from .servers import MockPostmark

LOGO = bytes(range(256)) * 4


def test_enqueue_reaches_the_provider_with_its_attachment(client: Client, postmark: MockPostmark) -> None:
    queued = client.enqueue({
        "from": SENDER, "to": ["Bob <bob@example.com>"], "subject": "Your order", "text": "Thanks",
        "html": '<p>Thanks <img src="cid:logo"></p>', "backend": "postmark", "headers": {"X-Order": "1234"},
        "attachments": [{"filename": "logo.png", "content": base64.b64encode(LOGO).decode(),
                         "content_type": "image/png", "content_id": "logo"}],
    })
    assert queued.status == "queued" and not queued.replayed

    body = postmark.wait_for(lambda b: b.get("Subject") == "Your order")
    assert body["To"] == "Bob <bob@example.com>"
    assert body["Headers"] == [{"Name": "X-Order", "Value": "1234"}]
    [attachment] = body["Attachments"]
    assert base64.b64decode(attachment["Content"]) == LOGO
    assert (attachment["Name"], attachment["ContentType"]) == ("logo.png", "image/png")
    assert attachment["ContentID"] == "cid:logo"

    sent = wait_for_status(client, queued.id, "sent")
    assert sent["attempts"] == 1
    assert [entry["status"] for entry in sent["logs"]][-1] == "sent"


def test_a_retried_call_with_the_same_key_is_not_stored_twice(client: Client) -> None:
    email = {"from": SENDER, "to": "carol@example.com", "subject": "Once", "text": "only once"}
    key = str(uuid.uuid4())
    first = client.enqueue(email, idempotency_key=key)
    again = client.enqueue(email, idempotency_key=key)
    assert again.id == first.id and again.replayed

    with pytest.raises(IdempotencyKeyReused) as reused:
        client.enqueue({**email, "subject": "Different"}, idempotency_key=key)
    assert (reused.value.status, reused.value.code) == (422, "IDEMPOTENCY_KEY_REUSED")

    # Without a key each call generates its own: two calls, two emails.
    assert client.enqueue(email).id != client.enqueue(email).id


def test_errors_carry_the_api_code(client: Client, sidecar) -> None:
    with pytest.raises(InvalidRequest) as invalid:
        client.enqueue({"from": SENDER, "to": ["ok@example.com", "bob@"], "subject": "x", "text": "x"})
    assert invalid.value.code == "INVALID_ADDRESS"
    assert invalid.value.message.startswith("to[1]")
    assert str(invalid.value).startswith("400 INVALID_ADDRESS: to[1]")

    with pytest.raises(NotFound) as missing:
        client.get(str(uuid.uuid4()))
    assert missing.value.code == "NOT_FOUND"

    with pytest.raises(Unauthorized) as unauthorized:
        Client(url=sidecar.api_url, token="wrong-token-wrong-token").get(str(uuid.uuid4()))
    assert (unauthorized.value.status, unauthorized.value.code) == (401, "UNAUTHORIZED")


def test_cancel_requeue_and_list(client: Client) -> None:
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    queued = client.enqueue({"from": SENDER, "to": "dave@example.com", "subject": "Later", "text": "x",
                             "scheduled_at": tomorrow.isoformat()})
    email = client.get(queued.id)
    assert email["status"] == "queued"
    assert datetime.fromisoformat(email["scheduled_at"].replace("Z", "+00:00")) == tomorrow

    assert client.cancel(queued.id) == QueuedEmail(queued.id, "cancelled")
    with pytest.raises(InvalidState) as conflict:
        client.cancel(queued.id)
    assert (conflict.value.status, conflict.value.code) == (409, "INVALID_STATE")

    cancelled = [e["id"] for e in client.iter_emails(status="cancelled", page_size=1)]
    assert queued.id in cancelled
    page = client.list_emails(status="cancelled", limit=1)
    assert len(page["emails"]) == 1

    assert client.requeue(queued.id).status == "queued"
    client.cancel(queued.id)


def test_batch_answers_in_request_order(client: Client) -> None:
    emails = [{"from": SENDER, "to": f"batch{i}@example.com", "subject": f"Batch {i}", "text": "x"} for i in range(3)]
    queued = client.enqueue_batch(emails)
    assert [client.get(q.id)["to"] for q in queued] == [[f"batch{i}@example.com"] for i in range(3)]
    with pytest.raises(ValueError, match="emails: a batch holds 1 to 1000 emails, got 0"):
        client.enqueue_batch([])


def test_enqueue_many_reports_what_earlier_chunks_queued(client: Client) -> None:
    # Scheduled far ahead, so the 1000 stored ones wait instead of being written to the outbox.
    later = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    emails = [{"from": SENDER, "to": f"chunk{i}@example.com", "subject": "Chunked", "text": "x", "scheduled_at": later}
              for i in range(1000)]
    emails.append({**emails[0], "to": "bob@"})
    with pytest.raises(PartialBatchError) as partial:
        client.enqueue_many(emails)
    assert partial.value.code == "INVALID_ADDRESS"
    assert str(partial.value) == ("400 INVALID_ADDRESS: emails[0].to[0]: 'bob@' is not a valid address "
                                  "(in the batch starting at email 1000; the emails before it were queued)")
    assert len(partial.value.accepted) == 1000
    assert client.get(partial.value.accepted[-1].id)["to"] == ["chunk999@example.com"]


def test_templates(client: Client) -> None:
    name = f"client-{uuid.uuid4().hex[:8]}"
    created = client.put_template(name, {"subject": "Hi {{ user }}", "html": "<p>Hello {{ user }}</p>",
                                         "example_context": {"user": "Ada"}})
    assert created["name"] == name
    client.put_template(name, {"subject": "Hallo {{ user }}", "text": "Hallo {{ user }}"}, language="de")
    assert client.get_template(name, language="de")["subject"] == "Hallo {{ user }}"
    listed = {t["name"]: t for t in client.list_templates()}
    assert sorted(listed[name]["languages"]) == ["", "de"]
    assert client.preview_template(name)["subject"] == "Hi Ada"
    assert client.preview_template(name, language="de", context={"user": "Bob"})["text"] == "Hallo Bob"

    client.delete_template(name, language="de")
    with pytest.raises(NotFound):
        client.get_template(name, language="de")
