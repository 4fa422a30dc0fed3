// The SQL of retention (migrations 0005, 0007): deleting finished emails, orphaned attachment
// blobs and old idempotency keys in small batches, under a fleet-wide lease (one row of
// retention_lease) so one sidecar at a time does it. Each batch is its own short transaction
// that renews the lease and deletes: it locks at most `limit` rows, skipping any another
// transaction holds (a requeue, an enqueue re-referencing a blob), and the queue never waits on
// the cleanup for long. Nothing is held on a connection between batches, so it is correct behind
// a transaction pooler, and a holder that dies loses the lease LEASE_SECONDS after its last
// batch. Every cutoff comes from the database's clock, so sidecars whose clocks disagree still
// agree on what is old.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';

/** The statuses retention deletes. `queued` and `sending` are never among them. */
export const FINISHED_STATUSES = ['sent', 'failed', 'expired', 'cancelled'] as const;

/** A batch renews the lease for this long; a batch never takes nearly as long. */
export const LEASE_SECONDS = 30;
const WAIT_POLL_MS = 1000;

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
 * The retention lease, held by `holder`. Every batch runs in a transaction of its own on a
 * connection from the pool, which it gives back at once.
 */
export class RetentionSession {
  private readonly pool: pg.Pool;
  private readonly holder: string;
  private released = false;

  constructor(pool: pg.Pool, holder: string) {
    this.pool = pool;
    this.holder = holder;
  }

  /** One batch: renews the lease and runs `sql` in one transaction; returns the rows it deleted. */
  private async batch(sql: string, params: unknown[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const renewed = await client.query(
        'UPDATE retention_lease SET locked_until = now() + make_interval(secs => $2) WHERE id AND holder = $1',
        [this.holder, LEASE_SECONDS],
      );
      if (renewed.rowCount !== 1) throw new Error('the retention lease was lost (it expired and another sidecar took it over)');
      const result = await client.query(sql, params);
      await client.query('COMMIT');
      client.release();
      return result.rowCount ?? 0;
    } catch (err) {
      // A connection that cannot even roll back is broken: destroyed, not reused.
      const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
      client.release(!rolledBack);
      throw err;
    }
  }

  /**
   * Deletes up to `limit` finished emails last updated more than `days` days ago; their logs
   * and attachment links go with them (ON DELETE CASCADE). Returns how many were deleted.
   */
  async deleteFinishedEmails(days: number, limit: number): Promise<number> {
    return this.batch(
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
  }

  /** Deletes up to `limit` idempotency keys created more than `days` days ago. */
  async deleteIdempotencyKeys(days: number, limit: number): Promise<number> {
    return this.batch(
      `WITH doomed AS (
         SELECT key FROM idempotency_keys k WHERE ${KEY_EXPIRED}
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM idempotency_keys k USING doomed d WHERE k.key = d.key`,
      [days, limit],
    );
  }

  /**
   * Deletes up to `limit` webhook events that matched no email and arrived more than `days` days
   * ago (docs/webhooks.md: kept a while, for messages another system sent). Matched events go
   * with their email.
   */
  async deleteUnmatchedEvents(days: number, limit: number): Promise<number> {
    return this.batch(
      `WITH doomed AS (
         SELECT id FROM delivery_events WHERE email_id IS NULL AND received_at < now() - make_interval(days => $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM delivery_events e USING doomed d WHERE e.id = d.id`,
      [days, limit],
    );
  }

  /** Deletes up to `limit` attachment blobs no email links to and none referenced for `marginSeconds`. */
  async deleteOrphanedBlobs(marginSeconds: number, limit: number): Promise<number> {
    return this.batch(
      `WITH doomed AS (
         SELECT sha256 FROM attachment_blobs b WHERE ${BLOB_ORPHANED}
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM attachment_blobs b USING doomed d WHERE b.sha256 = d.sha256 AND ${BLOB_ORPHANED}`,
      [marginSeconds, limit],
    );
  }

  /**
   * Gives the lease back. Should that fail (the database is down), it lapses by itself within
   * LEASE_SECONDS. `_err` is the failure that ended the run, if any; the lease goes back anyway.
   */
  async release(_err?: unknown): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.pool.query('UPDATE retention_lease SET holder = NULL, locked_until = NULL WHERE id AND holder = $1', [this.holder])
      .catch(() => undefined);
  }
}

export class RetentionStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** The retention lease if no other sidecar holds it, else null (that one is cleaning up). */
  async tryLock(): Promise<RetentionSession | null> {
    const holder = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
    const result = await this.pool.query(
      `UPDATE retention_lease SET holder = $1, locked_until = now() + make_interval(secs => $2)
       WHERE id AND (holder IS NULL OR locked_until < now())`,
      [holder, LEASE_SECONDS],
    );
    return result.rowCount === 1 ? new RetentionSession(this.pool, holder) : null;
  }

  /** The retention lease, waiting for whoever holds it to finish (or to lose it). */
  async lock(): Promise<RetentionSession> {
    for (;;) {
      const session = await this.tryLock();
      if (session !== null) return session;
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
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
