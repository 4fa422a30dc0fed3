// The SQL of retention (migration 0005): deleting finished emails, orphaned attachment blobs and
// old idempotency keys in small batches, under a fleet-wide advisory lock so one sidecar at a
// time does it. Each batch is one statement, so its own short transaction: it locks at most
// `limit` rows, skipping any another transaction holds (a requeue, an enqueue re-referencing a
// blob), and the queue never waits on the cleanup for long. Every cutoff comes from the
// database's clock, so sidecars whose clocks disagree still agree on what is old.
import type pg from 'pg';

/** The statuses retention deletes. `queued` and `sending` are never among them. */
export const FINISHED_STATUSES = ['sent', 'failed', 'expired', 'cancelled'] as const;

// The two-key form of the advisory lock lives in a different key space from the one-key
// migration lock (src/database/migrate.ts), so the two never collide. 0x706f7374 is "post".
const LOCK_KEYS = [0x706f7374, 0x7265] as const; // 0x7265: "re", retention

const FINISHED = `status IN (${FINISHED_STATUSES.map((status) => `'${status}'`).join(', ')})`;

// A key whose emails are still queued or sending (scheduled far ahead) is kept: forgetting it
// would let a client's retry enqueue the same email twice.
const KEY_EXPIRED = `created_at < now() - make_interval(days => $1)
  AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.id = ANY(k.email_ids) AND e.status IN ('queued', 'sending'))`;

// A blob is an orphan when no email links to it and nothing has referenced it for the margin.
// The margin is what makes deleting it safe against a concurrent enqueue of the same content:
// that enqueue refreshes referenced_at under the row lock (0003's comment), and the lock of the
// delete re-reads the row, so a blob referenced meanwhile no longer matches and is kept.
const BLOB_ORPHANED = `b.referenced_at < now() - make_interval(secs => $1)
  AND NOT EXISTS (SELECT 1 FROM email_attachments ea WHERE ea.sha256 = b.sha256)`;

/** What one cleanup would delete (a dry run). */
export interface RetentionPreview {
  emails: Record<(typeof FINISHED_STATUSES)[number], number>;
  logs: number;
  attachments: number;
  idempotencyKeys: number;
}

/**
 * A connection checked out of the pool that holds the retention lock. Every batch runs on it,
 * so a run uses one connection however long it takes.
 */
export class RetentionSession {
  private readonly client: pg.PoolClient;
  private released = false;

  constructor(client: pg.PoolClient) {
    this.client = client;
  }

  /**
   * Deletes up to `limit` finished emails last updated more than `days` days ago; their logs
   * and attachment links go with them (ON DELETE CASCADE). Returns how many were deleted.
   */
  async deleteFinishedEmails(days: number, limit: number): Promise<number> {
    const result = await this.client.query(
      `WITH doomed AS (
         SELECT id FROM emails
         WHERE ${FINISHED} AND updated_at < now() - make_interval(days => $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM emails e USING doomed d
       -- Checked again on the locked row: a requeue that committed first made it queued.
       WHERE e.id = d.id AND e.${FINISHED} AND e.updated_at < now() - make_interval(days => $1)`,
      [days, limit],
    );
    return result.rowCount ?? 0;
  }

  /** Deletes up to `limit` idempotency keys created more than `days` days ago. */
  async deleteIdempotencyKeys(days: number, limit: number): Promise<number> {
    const result = await this.client.query(
      `WITH doomed AS (
         SELECT key FROM idempotency_keys k WHERE ${KEY_EXPIRED}
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM idempotency_keys k USING doomed d WHERE k.key = d.key`,
      [days, limit],
    );
    return result.rowCount ?? 0;
  }

  /** Deletes up to `limit` attachment blobs no email links to and none referenced for `marginSeconds`. */
  async deleteOrphanedBlobs(marginSeconds: number, limit: number): Promise<number> {
    const result = await this.client.query(
      `WITH doomed AS (
         SELECT sha256 FROM attachment_blobs b WHERE ${BLOB_ORPHANED}
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM attachment_blobs b USING doomed d WHERE b.sha256 = d.sha256 AND ${BLOB_ORPHANED}`,
      [marginSeconds, limit],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Gives the lock back and returns the connection to the pool. A connection whose unlock
   * failed is destroyed instead, so the lock can never outlive the run on an idle connection.
   */
  async release(err?: unknown): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (err === undefined) {
      try {
        await this.client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]);
      } catch (unlockErr) {
        err = unlockErr;
      }
    }
    this.client.release(err === undefined ? undefined : (err instanceof Error ? err : new Error(String(err))));
  }
}

export class RetentionStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** The retention lock if no other sidecar holds it, else null (that one is cleaning up). */
  async tryLock(): Promise<RetentionSession | null> {
    const client = await this.pool.connect();
    try {
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...LOCK_KEYS]);
      if (result.rows[0]?.locked === true) return new RetentionSession(client);
      client.release();
      return null;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  /** The retention lock, waiting for whoever holds it to finish. */
  async lock(): Promise<RetentionSession> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK_KEYS]);
      return new RetentionSession(client);
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  /** Counts what a cleanup with these settings would delete now, deleting nothing. */
  async preview(days: number, blobMarginSeconds: number): Promise<RetentionPreview> {
    const result = await this.pool.query<{ emails: Record<string, number> | null; logs: number; attachments: number; keys: number }>(
      `WITH doomed AS (
         SELECT id, status FROM emails WHERE ${FINISHED} AND updated_at < now() - make_interval(days => $1)
       )
       SELECT
         (SELECT json_object_agg(status, n) FROM (SELECT status, count(*)::int AS n FROM doomed GROUP BY status) s) AS emails,
         (SELECT count(*) FROM email_logs l JOIN doomed d ON d.id = l.email_id)::int AS logs,
         -- Orphans after the deletion: every link left belongs to an email that would be deleted.
         (SELECT count(*) FROM attachment_blobs b
          WHERE b.referenced_at < now() - make_interval(secs => $2)
            AND NOT EXISTS (SELECT 1 FROM email_attachments ea
                            WHERE ea.sha256 = b.sha256 AND NOT EXISTS (SELECT 1 FROM doomed d WHERE d.id = ea.email_id)))::int AS attachments,
         (SELECT count(*) FROM idempotency_keys k WHERE ${KEY_EXPIRED})::int AS keys`,
      [days, blobMarginSeconds],
    );
    const row = result.rows[0];
    const emails = Object.fromEntries(FINISHED_STATUSES.map((status) => [status, row?.emails?.[status] ?? 0])) as RetentionPreview['emails'];
    return { emails, logs: row?.logs ?? 0, attachments: row?.attachments ?? 0, idempotencyKeys: row?.keys ?? 0 };
  }
}
