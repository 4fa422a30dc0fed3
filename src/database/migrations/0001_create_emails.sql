-- The queue: one row per email, its attempt log, and idempotency keys.

CREATE TABLE emails (
  id                  uuid PRIMARY KEY,           -- UUIDv7: time-ordered, so newest-first lists walk the key
  status              text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'expired')),
  priority            smallint NOT NULL,          -- 0 now, 1 high, 2 medium, 3 low
  backend             text NOT NULL,
  message             jsonb NOT NULL,             -- addresses, subject, bodies, headers, attachments, tags, metadata
  attempts            integer NOT NULL DEFAULT 0, -- calls made to the provider so far
  max_attempts        integer NOT NULL,
  provider_message_id text,
  last_error          text,
  scheduled_at        timestamptz,                -- as the caller asked
  run_at              timestamptz NOT NULL,       -- when the email is next due (schedule or retry)
  expires_at          timestamptz,
  locked_by           text,                       -- the sidecar holding the lease while sending
  locked_until        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz
);

-- Serves the claim: only runnable rows, in claim order.
CREATE INDEX emails_claim_idx ON emails (priority, run_at, id) WHERE status = 'queued';
-- Serves the rescue of leases that expired because their sidecar died.
CREATE INDEX emails_lease_idx ON emails (locked_until) WHERE status = 'sending';
CREATE INDEX emails_status_id_idx ON emails (status, id);

CREATE TABLE email_logs (
  id       bigserial PRIMARY KEY,
  email_id uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
  at       timestamptz NOT NULL DEFAULT now(),
  attempt  integer NOT NULL,
  status   text NOT NULL,
  code     text,
  message  text
);
CREATE INDEX email_logs_email_idx ON email_logs (email_id, id);

CREATE TABLE idempotency_keys (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  email_ids    uuid[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
