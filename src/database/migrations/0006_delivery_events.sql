-- What happened after the provider said yes (docs/webhooks.md), and which backend sent each attempt.

-- Failover (docs/providers.md "Failover"): the backend that made the latest attempt, and each logged attempt's.
ALTER TABLE emails ADD COLUMN sent_via text;
ALTER TABLE email_logs ADD COLUMN backend text;
-- Provider webhooks find their email by the message id the provider gave at send time.
CREATE INDEX emails_provider_message_idx ON emails (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- One row per recipient whose status moved past what the email's own status says (a delivery
-- event arrived, or suppression dropped it). Recipients without a row are "queued" or "sent"
-- with their email, so an enqueue writes nothing here.
CREATE TABLE email_recipients (
  email_id uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
  address  text NOT NULL, -- bare and lower-case
  status   text NOT NULL CHECK (status IN ('delivered', 'deferred', 'bounced', 'complained', 'rejected', 'suppressed')),
  at       timestamptz NOT NULL,
  code     text,
  message  text,
  PRIMARY KEY (email_id, address)
);
CREATE INDEX email_recipients_status_idx ON email_recipients (status, email_id);

-- Every verified webhook event, once: (backend, event_key) makes a replay change nothing.
-- email_id is null for an event whose message no email matches; those are kept for a while
-- (retention) and counted, not an error.
CREATE TABLE delivery_events (
  id                  bigserial PRIMARY KEY,
  backend             text NOT NULL,
  event_key           text NOT NULL,
  email_id            uuid REFERENCES emails (id) ON DELETE CASCADE,
  provider_message_id text,
  recipient           text,
  event               text NOT NULL,
  bounce              text, -- hard or soft, for bounced
  at                  timestamptz NOT NULL,
  code                text,
  message             text,
  received_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (backend, event_key)
);
CREATE INDEX delivery_events_email_idx ON delivery_events (email_id, id);
CREATE INDEX delivery_events_unmatched_idx ON delivery_events (received_at) WHERE email_id IS NULL;

-- Addresses never to send to again until an operator removes them.
CREATE TABLE suppressions (
  address    text PRIMARY KEY, -- bare and lower-case
  reason     text NOT NULL CHECK (reason IN ('bounced', 'complained', 'unsubscribed', 'manual')),
  backend    text,
  detail     text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Events for the application (POST_OFFICE_EVENTS_URL), kept until it answers 2xx; sent in id
-- order per email. No foreign key: an undelivered event outlives its email's retention.
CREATE TABLE app_events (
  id           bigserial PRIMARY KEY,
  email_id     uuid NOT NULL,
  payload      jsonb NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  next_at      timestamptz NOT NULL DEFAULT now(),
  locked_by    text,
  locked_until timestamptz,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_events_email_idx ON app_events (email_id, id);
CREATE INDEX app_events_due_idx ON app_events (next_at, id);
