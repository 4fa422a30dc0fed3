-- Fleet-wide rate limits: one row per rate-limited backend, shared by every sidecar on this
-- database. Sends are paced into slots `interval` apart (GCRA: next_slot is the earliest time
-- the next slot may be given out), and counted per UTC day. src/store/rate-limit-store.ts
-- reserves slots under the row lock, so concurrent sidecars never hand out the same slot.

CREATE TABLE backend_rate_limits (
  backend      text PRIMARY KEY,
  next_slot    timestamptz NOT NULL,  -- the next free send slot; slots before it are given out
  queued_until timestamptz NOT NULL,  -- emails sent back to wait have been told to return until here
  day          date NOT NULL,         -- the UTC day day_used counts
  day_used     integer NOT NULL CHECK (day_used >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
