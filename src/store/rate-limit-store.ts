// The SQL of fleet-wide rate limits (table backend_rate_limits, one row per backend). Every
// sidecar on the database reserves send slots from the same row under its row lock, so the
// slots handed out across the fleet never overlap and a day's count is never exceeded.
// Times come from the database's clock and go back as offsets or database timestamps, so
// sidecars whose clocks disagree still agree on the slots.
import type pg from 'pg';

export interface SlotRequest {
  backend: string;
  /** How many slots are wanted. */
  count: number;
  /** Seconds between two slots; 0 when there is no per-second limit (every slot is "now"). */
  intervalSeconds: number;
  /** At most this many slots per UTC day; null when there is no per-day limit. */
  perDay: number | null;
  /** Slots are given out no further ahead than this. */
  horizonSeconds: number;
}

export interface SlotGrant {
  /** Slots given out: `granted` of them, `intervalSeconds` apart, the first `firstSlotMs` from now. */
  granted: number;
  firstSlotMs: number;
  /** The first slot, as ms since the epoch on the database's clock (for tests and logs). */
  firstSlotAt: number;
  /** The UTC day (YYYY-MM-DD) the slots were counted against, for refunds. */
  day: string;
  /** True when the day's allowance is used up: the rest must wait for `nextDay`. */
  dayFull: boolean;
  nextDay: Date;
  /** Where the line of emails told to come back later ends: the next one queues from here. */
  lineStart: Date;
}

// One statement: lock the backend's row, work out the grant from the row as it is now, write
// the new state. The first CTE's FOR UPDATE waits for any other sidecar's reservation and then
// reads the row it left, so concurrent reservations are serialised, never interleaved.
const RESERVE_SQL = `
  WITH cur AS (
    SELECT next_slot, queued_until, day, day_used, clock_timestamp() AS now
    FROM backend_rate_limits WHERE backend = $1
    FOR UPDATE
  ), base AS (
    SELECT cur.*,
      greatest(next_slot, now) AS start,
      (now AT TIME ZONE 'UTC')::date AS today,
      CASE WHEN day = (now AT TIME ZONE 'UTC')::date THEN day_used ELSE 0 END AS used_today,
      -- A slot that went unused means nobody is really waiting in line (the emails told to come
      -- back were cancelled, or sent already), so the line starts afresh.
      CASE WHEN next_slot < now THEN now ELSE queued_until END AS line_end
    FROM cur
  ), plan AS (
    SELECT base.*, least(
      $2::int,
      -- slots start, start + interval, ... that fall before now + horizon
      CASE WHEN $3::float8 = 0 THEN $2::int
           ELSE greatest(0, ceil(extract(epoch FROM now + make_interval(secs => $5::float8) - start)::float8 / $3::float8))::int END,
      CASE WHEN $4::int IS NULL THEN $2::int ELSE greatest(0, $4::int - used_today) END
    ) AS granted
    FROM base
  ), outcome AS (
    SELECT plan.*,
      start + make_interval(secs => granted * $3::float8) AS slot_after,
      ($4::int IS NOT NULL AND used_today + granted >= $4::int) AS day_full
    FROM plan
  )
  UPDATE backend_rate_limits r SET
    next_slot = o.slot_after,
    -- Emails that got no slot only because the horizon is full take places at the end of the line.
    queued_until = CASE WHEN o.day_full OR o.granted = $2::int THEN o.line_end
                        ELSE greatest(o.slot_after, o.line_end) + make_interval(secs => ($2::int - o.granted) * $3::float8) END,
    day = o.today,
    day_used = o.used_today + o.granted,
    updated_at = o.now
  FROM outcome o
  WHERE r.backend = $1
  RETURNING o.granted,
    extract(epoch FROM o.start - o.now)::float8 * 1000 AS first_slot_ms,
    extract(epoch FROM o.start)::float8 * 1000 AS first_slot_at,
    o.today::text AS day,
    o.day_full,
    ((o.today + 1)::timestamp AT TIME ZONE 'UTC') AS next_day,
    greatest(o.slot_after, o.line_end) AS line_start`;

export class RateLimitStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Reserves up to `count` send slots for a backend, atomically across every sidecar. */
  async reserve(request: SlotRequest): Promise<SlotGrant> {
    const params = [request.backend, request.count, request.intervalSeconds, request.perDay, request.horizonSeconds];
    for (;;) {
      const result = await this.pool.query<{
        granted: number; first_slot_ms: number; first_slot_at: number; day: string;
        day_full: boolean; next_day: Date; line_start: Date;
      }>(RESERVE_SQL, params);
      const row = result.rows[0];
      if (row !== undefined) {
        return {
          granted: row.granted,
          firstSlotMs: row.first_slot_ms,
          firstSlotAt: row.first_slot_at,
          day: row.day,
          dayFull: row.day_full,
          nextDay: row.next_day,
          lineStart: row.line_start,
        };
      }
      // The backend's first reservation ever (on this database): create its row, then reserve.
      await this.pool.query(
        `INSERT INTO backend_rate_limits (backend, next_slot, queued_until, day, day_used)
         VALUES ($1, now(), now(), (now() AT TIME ZONE 'UTC')::date, 0)
         ON CONFLICT (backend) DO NOTHING`,
        [request.backend],
      );
    }
  }

  /** Gives back day allowance that was reserved but not used (the email was not sent). */
  async refund(backend: string, day: string, count: number): Promise<void> {
    if (count <= 0) return;
    await this.pool.query(
      'UPDATE backend_rate_limits SET day_used = greatest(0, day_used - $3) WHERE backend = $1 AND day = $2::date',
      [backend, day, count],
    );
  }
}
