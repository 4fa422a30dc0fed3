-- The claim's choice of the next due emails (src/store/lease-store.ts), as a function so that it
-- can be planned with sorts, bitmap scans and sequential scans off: PostgreSQL must then walk
-- the claim index in order and stop after the rows it takes, whatever its statistics say. They
-- are usually wrong when it matters: taken while few emails were queued (an idle queue, or a
-- history of sent ones), they make a burst look like a handful of rows, and the planner read and
-- sorted every queued email of the burst on every claim. A function with settings of its own is
-- never inlined, so they apply to its query alone. ROWS 10 (not the default 1,000) lets the
-- claim that calls it find each returned row by its key rather than hash the whole table.

CREATE FUNCTION post_office_due_emails(how_many integer, lowest_priority integer) RETURNS SETOF uuid
  LANGUAGE sql VOLATILE ROWS 10
  SET enable_sort = off
  SET enable_bitmapscan = off
  SET enable_seqscan = off
AS $$
  -- One ordered range of the claim index per priority, highest first.
  SELECT q.id FROM generate_series(0, lowest_priority) p, LATERAL (
    SELECT id FROM emails
    WHERE status = 'queued' AND priority = p AND run_at <= now()
    ORDER BY run_at, id
    LIMIT how_many
    FOR UPDATE SKIP LOCKED
  ) q
  LIMIT how_many
$$;
