// The suppression list: addresses the sidecar never sends to until an operator removes them.
// Webhooks add to it (src/store/event-store.ts); the API manages it; each claim screens its
// emails' recipients against it (./lease-store.ts).
import type pg from 'pg';
import { bareAddress } from '../email/addresses.ts';

export const suppressionReasons = ['bounced', 'complained', 'unsubscribed', 'manual'] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

export interface Suppression {
  address: string;
  reason: SuppressionReason;
  backend: string | null;
  detail: string | null;
  created_at: Date;
}

export class SuppressionStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** In address order, after `after`; `limit` of them. */
  async list(limit: number, after?: string): Promise<Suppression[]> {
    const result = await this.pool.query<Suppression>(
      `SELECT address, reason, backend, detail, created_at FROM suppressions
       WHERE $2::text IS NULL OR address > $2 ORDER BY address LIMIT $1`,
      [limit, after ?? null],
    );
    return result.rows;
  }

  async get(address: string): Promise<Suppression | null> {
    const result = await this.pool.query<Suppression>(
      'SELECT address, reason, backend, detail, created_at FROM suppressions WHERE address = $1', [address],
    );
    return result.rows[0] ?? null;
  }

  /** Adds or replaces one entry; true when it is new. */
  async put(address: string, reason: SuppressionReason, detail: string | null): Promise<{ entry: Suppression; created: boolean }> {
    const result = await this.pool.query<Suppression & { created: boolean }>(
      `INSERT INTO suppressions AS s (address, reason, detail) VALUES ($1, $2, $3)
       ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail, backend = NULL, created_at = now()
       RETURNING address, reason, backend, detail, created_at, (xmax = 0) AS created`,
      [address, reason, detail],
    );
    const { created, ...entry } = result.rows[0]!;
    return { entry, created };
  }

  async delete(address: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM suppressions WHERE address = $1', [address]);
    return (result.rowCount ?? 0) > 0;
  }
}

/** Which of these (bare, lower-case) addresses are suppressed: one indexed lookup for a whole claim. */
export async function suppressedAmong(pool: pg.Pool, addresses: readonly string[]): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const result = await pool.query<{ address: string }>('SELECT address FROM suppressions WHERE address = ANY($1::text[])', [addresses]);
  return new Set(result.rows.map((row) => row.address));
}

/**
 * Screens claimed emails' recipients against the list: returns, per email id, the recipients to
 * drop, and records each drop as the recipient's status (`suppressed`) and a log entry.
 */
export async function screenRecipients(
  pool: pg.Pool,
  emails: readonly { id: string; attempt: number; recipients: readonly string[] }[],
): Promise<Map<string, string[]>> {
  const all = [...new Set(emails.flatMap((email) => email.recipients.map((address) => bareAddress(address).toLowerCase())))];
  const suppressed = await suppressedAmong(pool, all);
  const dropped = new Map<string, string[]>();
  if (suppressed.size === 0) return dropped;
  for (const email of emails) {
    const gone = email.recipients.filter((address) => suppressed.has(bareAddress(address).toLowerCase()));
    if (gone.length > 0) dropped.set(email.id, gone);
  }
  const rows = [...dropped].flatMap(([id, gone]) => gone.map((address) => ({
    id, address: bareAddress(address).toLowerCase(), attempt: emails.find((email) => email.id === id)!.attempt,
  })));
  await pool.query(
    `WITH dropped AS (
       SELECT r.id, r.address, r.attempt, s.reason FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, address text, attempt int)
       JOIN suppressions s ON s.address = r.address
     ), recipients AS (
       INSERT INTO email_recipients (email_id, address, status, at, code, message)
       SELECT id, address, 'suppressed', now(), 'SUPPRESSED', 'on the suppression list (' || reason || ')' FROM dropped
       ON CONFLICT (email_id, address) DO UPDATE SET status = 'suppressed', at = now(), code = 'SUPPRESSED', message = excluded.message
     )
     INSERT INTO email_logs (email_id, attempt, status, code, message)
     SELECT id, attempt, 'suppressed', 'SUPPRESSED', address || ': on the suppression list (' || reason || '), not sent to' FROM dropped`,
    [JSON.stringify(rows)],
  );
  return dropped;
}
