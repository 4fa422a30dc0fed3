// Writes queue history straight into the database for the retention tests: emails of any status
// and age with their logs and attachment links, attachment blobs, idempotency keys. Ages are
// relative to the database's clock, which is the clock retention reads.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { EmailStatus } from '../../src/email/message.ts';

const MESSAGE = { from: 'a@example.com', to: ['b@example.com'], cc: [], bcc: [], reply_to: [], subject: 'history', headers: {}, attachments: [], tags: [], metadata: {} };

export interface HistoricEmail {
  status: EmailStatus;
  /** Days since the email last changed (updated_at). */
  ageDays: number;
  /** Log entries to write for it. */
  logs?: number;
  /** SHA-256 of blobs (already inserted) it links to. */
  blobs?: string[];
}

/** Inserts one email; returns its id. */
export async function insertEmail(db: pg.Client, email: HistoricEmail): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO emails (id, status, priority, backend, message, attempts, max_attempts, run_at, locked_by, locked_until, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 2, 'default', $2::jsonb, 1, 6, at, CASE WHEN $1 = 'sending' THEN 'gone' END,
            CASE WHEN $1 = 'sending' THEN now() + interval '1 minute' END, at, at
     FROM (SELECT now() - make_interval(days => $3) AS at) t
     RETURNING id`,
    [email.status, JSON.stringify(MESSAGE), email.ageDays],
  );
  const id = rows[0]!.id;
  if ((email.logs ?? 0) > 0) {
    await db.query(`INSERT INTO email_logs (email_id, attempt, status) SELECT $1, i, $2 FROM generate_series(1, $3) AS i`, [id, email.status, email.logs]);
  }
  for (const sha256 of email.blobs ?? []) await db.query('INSERT INTO email_attachments (email_id, sha256) VALUES ($1, $2)', [id, sha256]);
  return id;
}

/** Inserts `count` emails alike; returns their ids. */
export async function insertEmails(db: pg.Client, count: number, email: HistoricEmail): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await insertEmail(db, email));
  return ids;
}

/** Inserts a blob last referenced `referencedSecondsAgo` ago; returns its SHA-256. */
export async function insertBlob(db: pg.Client, content: string, referencedSecondsAgo: number): Promise<string> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  await db.query(
    `INSERT INTO attachment_blobs (sha256, content, size, referenced_at) VALUES ($1, $2, $3, now() - make_interval(secs => $4))`,
    [sha256, Buffer.from(content), Buffer.byteLength(content), referencedSecondsAgo],
  );
  return sha256;
}

export async function insertIdempotencyKey(db: pg.Client, key: string, ageDays: number, emailIds: string[]): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (key, request_hash, email_ids, created_at) VALUES ($1, 'hash', $2::uuid[], now() - make_interval(days => $3))`,
    [key, emailIds, ageDays],
  );
}

export async function count(db: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await db.query<{ count: string }>(sql, params)).rows[0]!.count);
}
