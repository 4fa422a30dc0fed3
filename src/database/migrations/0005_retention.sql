-- Retention (src/store/retention-store.ts): finished emails older than POST_OFFICE_RETENTION_DAYS
-- and old idempotency keys are deleted in small batches. These indexes let each batch find its
-- rows without scanning the table, so a batch stays short however large the history is. The
-- emails index is partial: queued and sending rows, the hot path, are never in it.

CREATE INDEX emails_retention_idx ON emails (updated_at) WHERE status IN ('sent', 'failed', 'expired', 'cancelled');
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
