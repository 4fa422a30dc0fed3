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

/**
 * Records the recipients of claimed emails that are on the suppression list (the claim found
 * them, ./lease-store.ts) as `suppressed`, with a log entry each; returns, per email id, the
 * recipients as the email names them, to drop before it is sent.
 */
export async function dropSuppressed(
  pool: pg.Pool,
  emails: readonly { id: string; attempt: number; recipients: readonly string[]; suppressed: readonly string[] }[],
): Promise<Map<string, string[]>> {
  const dropped = new Map<string, string[]>();
  const rows: { id: string; address: string; attempt: number }[] = [];
  for (const email of emails) {
    const listed = new Set(email.suppressed);
    const gone = email.recipients.filter((address) => listed.has(bareAddress(address).toLowerCase()));
    if (gone.length === 0) continue;
    dropped.set(email.id, gone);
    for (const address of gone) rows.push({ id: email.id, address: bareAddress(address).toLowerCase(), attempt: email.attempt });
  }
  if (rows.length === 0) return dropped;
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
