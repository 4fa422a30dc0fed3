// The queue store: the only module that speaks SQL. Everything else calls these named
// functions. Claims use FOR UPDATE SKIP LOCKED under a lease; every write made on behalf of
// a send is guarded by the lease owner and the attempt number, so a stale writer changes nothing.
import type pg from 'pg';
import type { EmailStatus, NewEmail, StoredMessage } from '../email/message.ts';
import { priorities, priorityOf, type Priority } from '../email/message.ts';
import { blobRecordset } from './attachment-store.ts';
import { emailEventCte } from './app-event-store.ts';
import { LeaseStore, type AppEventOptions } from './lease-store.ts';
import { SuppressionStore } from './suppression-store.ts';
import { TemplateStore } from './template-store.ts';

import { NOTIFY_CHANNEL } from './notify.ts';

export { NOTIFY_CHANNEL };

export interface EmailRow {
  id: string;
  status: EmailStatus;
  priority: Priority;
  backend: string;
  /** The backend that made the latest attempt (it differs from `backend` after a failover), null before the first. */
  sent_via: string | null;
  message: StoredMessage;
  attempts: number;
  provider_message_id: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  scheduled_at: Date | null;
  expires_at: Date | null;
  sent_at: Date | null;
}

/** A recipient whose status an event or suppression moved (email_recipients). */
export interface RecipientRow {
  address: string;
  status: string;
  at: Date;
  code: string | null;
  message: string | null;
}

export interface LogEntry {
  at: Date;
  attempt: number;
  /** The backend that made this attempt, or reported this delivery event; null where none did (expired, a lease that ran out). */
  backend: string | null;
  status: string;
  code: string | null;
  message: string | null;
}

const EMAIL_COLUMNS = `id, status, priority, backend, sent_via, message, attempts, provider_message_id, last_error,
  created_at, updated_at, scheduled_at, expires_at, sent_at`;

type RawEmailRow = Omit<EmailRow, 'priority'> & { priority: number };

function toEmailRow(row: RawEmailRow): EmailRow {
  return { ...row, priority: priorityOf(row.priority) };
}

function insertSql(withKey: boolean): string {
  return `WITH ${withKey ? `fresh AS (
      INSERT INTO idempotency_keys (key, request_hash, email_ids) VALUES ($3, $4, $5::uuid[])
      ON CONFLICT (key) DO NOTHING RETURNING key
    ), ` : ''}inserted AS (
      INSERT INTO emails (id, status, priority, backend, message, max_attempts, scheduled_at, run_at, expires_at)
      SELECT t.id, 'queued', t.priority, t.backend, t.message, $2, t.scheduled_at, COALESCE(t.scheduled_at, now()), t.expires_at
      FROM jsonb_to_recordset($1::jsonb)
        AS t(id uuid, priority smallint, backend text, message jsonb, scheduled_at timestamptz, expires_at timestamptz)
      ${withKey ? 'WHERE EXISTS (SELECT 1 FROM fresh)' : ''}
      RETURNING id
    ), blobs AS (
      -- Each content once; referencing it again refreshes referenced_at (see 0003's comment).
      INSERT INTO attachment_blobs (sha256, content, size)
      SELECT b.sha256, decode(b.content, 'base64'), b.size
      FROM jsonb_to_recordset($${withKey ? 6 : 3}::jsonb) AS b(sha256 text, content text, size integer)
      WHERE EXISTS (SELECT 1 FROM inserted)
      ON CONFLICT (sha256) DO UPDATE SET referenced_at = now()
    ), links AS (
      INSERT INTO email_attachments (email_id, sha256)
      SELECT DISTINCT l.email_id, l.sha256 FROM jsonb_to_recordset($${withKey ? 7 : 4}::jsonb) AS l(email_id uuid, sha256 text)
      WHERE l.email_id IN (SELECT id FROM inserted)
    )
    SELECT (SELECT count(*) FROM inserted)::int AS inserted,
           (SELECT count(*) FROM (SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM inserted LIMIT 1) n)::int AS notified`;
}

function recordset(emails: readonly NewEmail[]): string {
  return JSON.stringify(
    emails.map((email) => ({
      id: email.id,
      priority: priorities.indexOf(email.priority),
      backend: email.backend,
      message: email.message,
      scheduled_at: email.scheduledAt,
      expires_at: email.expiresAt,
    })),
  );
}

export type IdempotentInsert = { ids: string[]; created: boolean } | { mismatch: true };

export class QueueStore {
  private readonly pool: pg.Pool;
  /** Stored templates (src/store/template-store.ts), on the same pool. */
  readonly templates: TemplateStore;
  /** What delivery writes under a lease (src/store/lease-store.ts), on the same pool. */
  readonly leases: LeaseStore;
  /** The suppression list (src/store/suppression-store.ts), on the same pool. */
  readonly suppressions: SuppressionStore;

  private readonly events: boolean;
  private readonly onEvents: () => void;

  /** With `appEvents`, cancel and requeue (and every write of `leases`) also write their app_events row. */
  constructor(pool: pg.Pool, options: AppEventOptions = {}) {
    this.pool = pool;
    this.templates = new TemplateStore(pool);
    this.suppressions = new SuppressionStore(pool);
    this.leases = new LeaseStore(pool, this.templates, options);
    this.events = options.appEvents === true;
    this.onEvents = options.onAppEvents ?? (() => {});
  }

  /** `, name AS (INSERT INTO app_events …)` for an email-status change by the API, when events are on. */
  private apiEventCte(type: string, status: string, code: string, message: string): string {
    if (!this.events) return '';
    return `, ${emailEventCte('events', 'updated', {
      emailId: 'id', type: `'${type}'`, status: `'${status}'`, backend: 'backend', attempt: 'attempts',
      code: `'${code}'`, message: `'${message}'`, providerMessageId: 'provider_message_id',
    })}`;
  }

  /** Inserts emails in one statement (one transaction) and wakes every listening dispatcher. */
  async insertEmails(emails: readonly NewEmail[], maxAttempts: number): Promise<void> {
    await this.pool.query(insertSql(false), [recordset(emails), maxAttempts, ...blobRecordset(emails)]);
  }

  /**
   * Inserts emails under an idempotency key, atomically: the first request with a key inserts;
   * a later one with the same request hash gets the original ids; with another hash, a mismatch.
   */
  async insertEmailsOnce(emails: readonly NewEmail[], maxAttempts: number, key: string, requestHash: string): Promise<IdempotentInsert> {
    const ids = emails.map((email) => email.id);
    const result = await this.pool.query<{ inserted: number }>(
      insertSql(true),
      [recordset(emails), maxAttempts, key, requestHash, ids, ...blobRecordset(emails)],
    );
    if ((result.rows[0]?.inserted ?? 0) > 0) return { ids, created: true };
    const existing = await this.pool.query<{ request_hash: string; email_ids: string[] }>(
      'SELECT request_hash, email_ids FROM idempotency_keys WHERE key = $1',
      [key],
    );
    const row = existing.rows[0];
    if (row === undefined || row.request_hash !== requestHash) return { mismatch: true };
    return { ids: row.email_ids, created: false };
  }

  async getEmail(id: string): Promise<{ email: EmailRow; logs: LogEntry[]; recipients: RecipientRow[] } | null> {
    const result = await this.pool.query<RawEmailRow & { logs: LogEntry[]; recipients: RecipientRow[] }>(
      `SELECT ${EMAIL_COLUMNS},
         COALESCE((SELECT json_agg(json_build_object('at', l.at, 'attempt', l.attempt, 'backend', l.backend, 'status', l.status,
                                                    'code', l.code, 'message', l.message) ORDER BY l.id)
                   FROM email_logs l WHERE l.email_id = emails.id), '[]') AS logs,
         COALESCE((SELECT json_agg(json_build_object('address', r.address, 'status', r.status, 'at', r.at,
                                                    'code', r.code, 'message', r.message))
                   FROM email_recipients r WHERE r.email_id = emails.id), '[]') AS recipients
       FROM emails WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    if (row === undefined) return null;
    const { logs, recipients, ...email } = row;
    return {
      email: toEmailRow(email),
      logs: logs.map((log) => ({ ...log, at: new Date(log.at) })),
      recipients: recipients.map((recipient) => ({ ...recipient, at: new Date(recipient.at) })),
    };
  }

  /** Newest first; `before` is the id of the last email of the previous page. */
  /** `recipientStatus`: only emails with a recipient in that status (one an event or suppression set). */
  async listEmails(options: { status?: EmailStatus; recipientStatus?: string; before?: string; limit: number }): Promise<EmailRow[]> {
    const result = await this.pool.query<RawEmailRow>(
      `SELECT ${EMAIL_COLUMNS} FROM emails
       WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR id < $2)
         AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM email_recipients r WHERE r.email_id = emails.id AND r.status = $4))
       ORDER BY id DESC LIMIT $3`,
      [options.status ?? null, options.before ?? null, options.limit, options.recipientStatus ?? null],
    );
    return result.rows.map(toEmailRow);
  }

  async statusOf(id: string): Promise<EmailStatus | null> {
    const result = await this.pool.query<{ status: EmailStatus }>('SELECT status FROM emails WHERE id = $1', [id]);
    return result.rows[0]?.status ?? null;
  }

  async statusesOf(ids: readonly string[]): Promise<Map<string, EmailStatus>> {
    const result = await this.pool.query<{ id: string; status: EmailStatus }>(
      'SELECT id, status FROM emails WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(result.rows.map((row) => [row.id, row.status]));
  }

  /** Puts a failed, expired or cancelled email back in the queue with a fresh attempt budget. */
  async requeue(id: string, maxAttempts: number): Promise<boolean> {
    const result = await this.pool.query(
      `WITH updated AS (
         UPDATE emails SET status = 'queued', max_attempts = attempts + $2, updated_at = now(),
           -- A cancelled email scheduled for later keeps its schedule.
           run_at = GREATEST(now(), COALESCE(scheduled_at, now())),
           -- An expired email that is requeued on purpose is wanted now, whatever its deadline was.
           expires_at = CASE WHEN status = 'expired' THEN NULL ELSE expires_at END
         WHERE id = $1 AND status IN ('failed', 'expired', 'cancelled')
         RETURNING id, attempts, backend, provider_message_id
       ), logged AS (
         INSERT INTO email_logs (email_id, attempt, status, code, message)
         SELECT id, attempts, 'queued', 'REQUEUED', 'requeued through the API' FROM updated
       )${this.apiEventCte('email.requeued', 'queued', 'REQUEUED', 'requeued through the API')}
       SELECT id, pg_notify('${NOTIFY_CHANNEL}', '') FROM updated`,
      [id, maxAttempts],
    );
    if (this.events && result.rowCount === 1) this.onEvents();
    return result.rowCount === 1;
  }

  /** Cancels a queued email; false when it is not queued (or does not exist). */
  async cancel(id: string): Promise<boolean> {
    const result = await this.pool.query(
      `WITH updated AS (
         UPDATE emails SET status = 'cancelled', updated_at = now() WHERE id = $1 AND status = 'queued'
         RETURNING id, attempts, backend, provider_message_id
       )${this.apiEventCte('email.cancelled', 'cancelled', 'CANCELLED', 'cancelled through the API')}
       INSERT INTO email_logs (email_id, attempt, status, code, message)
       SELECT id, attempts, 'cancelled', 'CANCELLED', 'cancelled through the API' FROM updated RETURNING email_id`,
      [id],
    );
    if (this.events && result.rowCount === 1) this.onEvents();
    return result.rowCount === 1;
  }

  /** Queue depth by status and the age of the oldest due email, for the queue gauges. */
  async queueStats(): Promise<{ counts: Record<'queued' | 'sending', number>; oldestAgeSeconds: number }> {
    const result = await this.pool.query<{ queued: number; sending: number; oldest: number | null }>(
      `SELECT (SELECT count(*) FROM emails WHERE status = 'queued')::int AS queued,
              (SELECT count(*) FROM emails WHERE status = 'sending')::int AS sending,
              (SELECT EXTRACT(EPOCH FROM now() - min(run_at)) FROM emails WHERE status = 'queued' AND run_at <= now())::float8 AS oldest`,
    );
    const row = result.rows[0];
    return { counts: { queued: row?.queued ?? 0, sending: row?.sending ?? 0 }, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
  }

  /** The newest migration applied, or null before any; also proves the database answers. */
  async schemaVersion(): Promise<number | null> {
    const result = await this.pool.query<{ version: number | null }>(
      'SELECT max(id) AS version FROM post_office_migrations',
    );
    return result.rows[0]?.version ?? null;
  }
}
