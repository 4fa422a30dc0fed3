-- The retention lease (src/store/retention-store.ts): one row saying which sidecar is cleaning
-- up and until when. It replaces a session advisory lock, which a transaction pooler (PgBouncer)
-- cannot keep: the lock and its unlock landed on different server connections. The lease is
-- taken, renewed by every batch and given back in short transactions of their own, and a
-- holder that died loses it when locked_until passes.

CREATE TABLE retention_lease (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  holder       text,
  locked_until timestamptz
);
INSERT INTO retention_lease (id) VALUES (true);
