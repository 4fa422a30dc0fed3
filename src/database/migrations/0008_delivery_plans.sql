-- Two choices of rows that delivery makes on every claim and every completion, as functions so
-- that they can be planned with sorts, bitmap and sequential scans off: PostgreSQL must then
-- find the rows by the index that fits and stop at the ones it takes, whatever its statistics
-- say. They are usually wrong when it matters: taken while few emails were queued or
-- in flight (an idle queue, or a history of sent ones; autovacuum analyzes again only after a
-- tenth of the table has changed), they make a burst look like a handful of rows. The claim then
-- read and sorted every queued email of the burst on each call, and a completion read every
-- email the whole fleet had in flight. A function with settings of its own is never inlined, so
-- they apply to its query alone; ROWS 10 (not the default 1,000) lets the statement that calls
-- it find each returned row by its key rather than hash the whole table. Used by
-- src/store/lease-store.ts.

-- The next `how_many` due emails, highest priority first, locked for the claim: one ordered
-- range of the claim index per priority.
CREATE FUNCTION post_office_due_emails(how_many integer, lowest_priority integer) RETURNS SETOF uuid
  LANGUAGE sql VOLATILE ROWS 10
  SET enable_sort = off
  SET enable_bitmapscan = off
  SET enable_seqscan = off
AS $$
  SELECT q.id FROM generate_series(0, lowest_priority) p, LATERAL (
    SELECT id FROM emails
    WHERE status = 'queued' AND priority = p AND run_at <= now()
    ORDER BY run_at, id
    LIMIT how_many
    FOR UPDATE SKIP LOCKED
  ) q
  LIMIT how_many
$$;

-- Those of `ids` still leased by `owner` at the attempt given beside each, locked for the write
-- that ends the lease: each looked up by its key, one at a time.
CREATE FUNCTION post_office_still_leased(owner text, ids uuid[], attempts integer[]) RETURNS SETOF uuid
  LANGUAGE sql VOLATILE ROWS 10
  SET enable_bitmapscan = off
  SET enable_seqscan = off
AS $$
  SELECT e.id FROM unnest(ids, attempts) AS r(id, attempt), LATERAL (
    SELECT id FROM emails
    WHERE id = r.id AND status = 'sending' AND locked_by = owner AND attempts = r.attempt
    FOR UPDATE
  ) e
$$;
