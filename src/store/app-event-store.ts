// The SQL of events to the application (docs/events.md): the fragment that writes an email's
// status change into app_events inside the statement that makes the change (so an event is never
// lost and never invented), and the sender's claim, delivery and retry of those rows.
//
// Order per email: a row is claimed only while no older row of its email is left, and a row
// leaves the table only once the application answered 2xx, so one email's events go out one at
// a time in id order, whichever sidecars send them. Ids of one email grow in commit order: every
// writer first locks the email's row (UPDATE emails), and the INSERT draws its id after that.
import type pg from 'pg';

/** SQL expressions (over the rows of a CTE) that make one email-status event. */
export interface EmailEventColumns {
  emailId: string;
  /** email.sent, email.failed, …: an SQL expression of type text. */
  type: string;
  status: string;
  backend: string;
  attempt: string;
  code: string;
  message: string;
  providerMessageId: string;
}

/** A time as the payload carries it: ISO 8601 in UTC with milliseconds, like toISOString(). */
export const eventTimeSql = (time: string) => `to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The email status a completion or rescue wrote → the event's type. */
export function eventTypeSql(status: string): string {
  return `CASE ${status} WHEN 'sent' THEN 'email.sent' WHEN 'failed' THEN 'email.failed' WHEN 'expired' THEN 'email.expired'
    WHEN 'cancelled' THEN 'email.cancelled' WHEN 'queued' THEN 'email.retrying' END`;
}

/**
 * `name AS (INSERT INTO app_events … SELECT … FROM source)`, a CTE to append to the statement that
 * changes the status (the payload's id is the row's id, added when it is sent).
 */
export function emailEventCte(name: string, source: string, columns: EmailEventColumns): string {
  return `${name} AS (
         INSERT INTO app_events (email_id, payload)
         SELECT ${columns.emailId}, jsonb_build_object('type', ${columns.type}, 'email_id', ${columns.emailId}, 'at', ${eventTimeSql('now()')},
           'status', ${columns.status}, 'backend', ${columns.backend}, 'attempt', ${columns.attempt}, 'code', ${columns.code},
           'message', ${columns.message}, 'provider_message_id', ${columns.providerMessageId})
         FROM ${source}
       )`;
}

/** One claimed event: its row id, the payload as stored and the number of failed attempts so far. */
export interface ClaimedEvent {
  id: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export class AppEventStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Deletes the events the application took (`delivered`: it answered 2xx, whoever holds their
   * lease now) and claims up to `limit` due ones under a lease held by `owner`, in one statement:
   * per email only the oldest row left, and only when no lease on it is live. An empty table
   * answers from the index alone.
   */
  async claim(owner: string, limit: number, leaseSeconds: number, delivered: readonly string[] = []): Promise<ClaimedEvent[]> {
    const result = await this.pool.query<ClaimedEvent>(
      `WITH gone AS (
         DELETE FROM app_events WHERE id = ANY($4::bigint[])
       ), next AS (
         SELECT a.id FROM app_events a
         WHERE a.next_at <= now() AND (a.locked_until IS NULL OR a.locked_until < now()) AND a.id <> ALL($4::bigint[])
           -- The statement still sees the rows it deletes: those do not hold their email back.
           AND NOT EXISTS (SELECT 1 FROM app_events older WHERE older.email_id = a.email_id AND older.id < a.id
                           AND older.id <> ALL($4::bigint[]))
         ORDER BY a.next_at, a.id
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE app_events e SET locked_by = $1, locked_until = now() + make_interval(secs => $3)
       FROM next WHERE e.id = next.id
       RETURNING e.id, e.payload, e.attempts`,
      [owner, limit, leaseSeconds, delivered],
    );
    return result.rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** The application took these events (2xx): they are done. */
  async delivered(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.pool.query('DELETE FROM app_events WHERE id = ANY($1::bigint[])', [ids]);
  }

  /**
   * The application did not take the event: due again in `retryInSeconds`, or deleted when it is
   * older than `maxAgeDays` (0: kept for ever). True when it was dropped.
   */
  async failed(owner: string, id: string, error: string, retryInSeconds: number, maxAgeDays: number): Promise<boolean> {
    const result = await this.pool.query<{ dropped: boolean }>(
      `WITH dropped AS (
         DELETE FROM app_events WHERE id = $2 AND locked_by = $1 AND $5 > 0 AND created_at < now() - make_interval(days => $5)
         RETURNING id
       ), retried AS (
         UPDATE app_events SET attempts = attempts + 1, last_error = $3, next_at = now() + make_interval(secs => $4),
           locked_by = NULL, locked_until = NULL
         WHERE id = $2 AND locked_by = $1 AND NOT EXISTS (SELECT 1 FROM dropped)
       )
       SELECT EXISTS (SELECT 1 FROM dropped) AS dropped`,
      [owner, id, error.slice(0, 1000), retryInSeconds, maxAgeDays],
    );
    return result.rows[0]?.dropped === true;
  }

  /** Gives back every lease `owner` holds (on stop), so another sidecar sends those events at once. */
  async release(owner: string): Promise<number> {
    const result = await this.pool.query('UPDATE app_events SET locked_by = NULL, locked_until = NULL WHERE locked_by = $1', [owner]);
    return result.rowCount ?? 0;
  }

  /** Events not yet taken by the application, for the pending gauge. */
  async pending(): Promise<number> {
    const result = await this.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM app_events');
    return result.rows[0]?.count ?? 0;
  }
}
