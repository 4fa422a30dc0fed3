// The SQL of delivery: claims under a lease, completions, lease extension, release and rescue.
// Every write made on behalf of a send is guarded by the lease owner (and, for completions, the
// attempt number), so a sidecar whose lease expired and was taken over changes nothing.
import type pg from 'pg';
import { priorities, priorityOf, type EmailMessage, type EmailStatus, type Priority, type StoredMessage } from '../email/message.ts';
import { templateKey, type TemplateContent } from '../templates/template.ts';
import { emailEventCte, eventTypeSql } from './app-event-store.ts';
import { attachmentContents } from './attachment-store.ts';
import { NOTIFY_CHANNEL } from './notify.ts';
import { dropSuppressed } from './suppression-store.ts';
import type { TemplateStore } from './template-store.ts';

/** An email this sidecar holds a lease on (status sending), or found expired while claiming. */
export interface ClaimedEmail {
  id: string;
  status: 'sending' | 'expired';
  priority: Priority;
  /** The backend the app asked for. */
  backend: string;
  /** The backend this attempt goes through: `backend` as claimed; delivery may move it along its fallbacks (src/delivery/failover.ts). */
  via: string;
  /** The backend that made the previous recorded attempt, null before the first. */
  sentVia: string | null;
  message: EmailMessage;
  attempt: number;
  maxAttempts: number;
  expiresAt: Date | null;
  /** With render_on_delivery (message.template): the stored template to render in the worker. */
  template?: TemplateContent;
  /** Recipients on the suppression list, already dropped from `message` (and recorded as such). */
  suppressed?: string[];
}

/** The recorded outcome of one attempt. */
export interface Completion {
  id: string;
  attempt: number;
  /** The backend that made this attempt (emails.sent_via, email_logs.backend). */
  via: string;
  status: 'sent' | 'queued' | 'failed' | 'expired';
  providerMessageId: string | null;
  code: string | null;
  message: string | null;
  /** With status queued: seconds until the retry is due. */
  retryInSeconds: number;
  /** With status sent, for an email rendered on delivery: the subject it was sent with. */
  subject?: string;
}

export interface Finished {
  id: string;
  backend: string;
  status: EmailStatus;
}

/** Events to the application (docs/events.md): off unless POST_OFFICE_EVENTS_URL is set. */
export interface AppEventOptions {
  /** Every status change also writes its app_events row, in the same statement. */
  appEvents?: boolean;
  /** Called after a write that may have added app_events rows, so the sender need not wait for its poll. */
  onAppEvents?: () => void;
}

export class LeaseStore {
  private readonly pool: pg.Pool;
  private readonly templates: TemplateStore;
  private readonly events: boolean;
  private readonly onEvents: () => void;

  constructor(pool: pg.Pool, templates: TemplateStore, options: AppEventOptions = {}) {
    this.pool = pool;
    this.templates = templates;
    this.events = options.appEvents === true;
    this.onEvents = options.onAppEvents ?? (() => {});
  }

  /** `, name AS (INSERT INTO app_events …)` when events are on, else nothing. */
  private eventCte(name: string, source: string, columns: Parameters<typeof emailEventCte>[2]): string {
    return this.events ? `, ${emailEventCte(name, source, columns)}` : '';
  }

  /**
   * Claims up to `limit` due emails, by priority then due time, under a lease held by `owner`.
   * Emails whose expires_at has passed are marked expired in the same statement and returned
   * with status "expired" so the caller can count them.
   */
  async claim(owner: string, limit: number, leaseSeconds: number): Promise<ClaimedEmail[]> {
    const result = await this.pool.query<{
      id: string; status: 'sending' | 'expired'; priority: number; backend: string; sent_via: string | null;
      message: StoredMessage; attempts: number; max_attempts: number; expires_at: Date | null; suppressed: string[] | null;
    }>(
      // The next due emails, highest priority first, locked: planned so that it reads only the
      // rows it takes, whatever the statistics say
      // (src/database/migrations/0008_delivery_plans.sql).
      `WITH next AS (
         SELECT id FROM post_office_due_emails($1, $4) AS id
       ), claimed AS (
         UPDATE emails e SET
           status       = CASE WHEN e.expires_at <= now() THEN 'expired' ELSE 'sending' END,
           attempts     = CASE WHEN e.expires_at <= now() THEN e.attempts ELSE e.attempts + 1 END,
           locked_by    = CASE WHEN e.expires_at <= now() THEN NULL ELSE $2 END,
           locked_until = CASE WHEN e.expires_at <= now() THEN NULL ELSE now() + make_interval(secs => $3) END,
           last_error   = CASE WHEN e.expires_at <= now() THEN 'expired before it could be sent' ELSE e.last_error END,
           updated_at   = now()
         FROM next WHERE e.id = next.id
         RETURNING e.id, e.status, e.priority, e.backend, e.sent_via, e.message, e.attempts, e.max_attempts, e.expires_at, e.provider_message_id
       ), expired AS (
         INSERT INTO email_logs (email_id, attempt, status, code, message)
         SELECT id, attempts, 'expired', 'EXPIRED', 'expired before it could be sent' FROM claimed WHERE status = 'expired'
       )${this.eventCte('expired_events', "claimed WHERE status = 'expired'", {
         emailId: 'id', type: "'email.expired'", status: 'status', backend: 'backend', attempt: 'attempts',
         code: "'EXPIRED'", message: "'expired before it could be sent'", providerMessageId: 'provider_message_id',
       })}
       -- Recipients on the suppression list (bare, lower-case), found in the same statement.
       SELECT c.id, c.status, c.priority, c.backend, c.sent_via, c.message, c.attempts, c.max_attempts, c.expires_at,
         CASE WHEN c.status = 'sending' THEN (
           SELECT array_agg(s.address) FROM suppressions s WHERE s.address IN (
             SELECT lower(COALESCE(substring(a FROM '<([^<>]*)>\\s*$'), btrim(a)))
             FROM jsonb_array_elements_text((c.message->'to') || (c.message->'cc') || (c.message->'bcc')) AS a)
         ) END AS suppressed
       FROM claimed c ORDER BY priority, id`,
      [limit, owner, leaseSeconds, priorities.length - 1],
    );
    if (this.events && result.rows.some((row) => row.status === 'expired')) this.onEvents();
    const sending = result.rows.filter((row) => row.status === 'sending').map((row) => row.message);
    const dropped = await dropSuppressed(this.pool, result.rows.flatMap((row) => (row.suppressed === null ? [] : [{
      id: row.id, attempt: row.attempts, recipients: [...row.message.to, ...row.message.cc, ...row.message.bcc], suppressed: row.suppressed,
    }])));
    const contents = await attachmentContents(this.pool, sending);
    const templates = await this.templates.resolve(sending.flatMap((message) => (message.template === undefined ? [] : [message.template])));
    return result.rows.map((row) => {
      const gone = dropped.get(row.id);
      const keep = (addresses: string[]) => (gone === undefined ? addresses : addresses.filter((address) => !gone.includes(address)));
      return {
        id: row.id,
        status: row.status,
        priority: priorityOf(row.priority),
        backend: row.backend,
        via: row.backend,
        sentVia: row.sent_via,
        message: {
          ...row.message,
          to: keep(row.message.to),
          cc: keep(row.message.cc),
          bcc: keep(row.message.bcc),
          attachments: row.message.attachments.map(({ sha256, size: _size, ...attachment }) => ({ ...attachment, content: contents.get(sha256) ?? '' })),
        },
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        expiresAt: row.expires_at,
        ...(row.message.template === undefined ? {} : { template: templates.get(templateKey(row.message.template)) }),
        ...(gone === undefined ? {} : { suppressed: gone }),
      };
    });
  }

  /**
   * When the next queued email is due (null: none is queued): one index probe per priority on
   * the claim's index, however many emails are scheduled ahead.
   */
  async nextDue(): Promise<Date | null> {
    const result = await this.pool.query<{ next: Date | null }>(
      `SELECT min(n.run_at) AS next FROM generate_series(0, $1) p,
         LATERAL (SELECT run_at FROM emails WHERE status = 'queued' AND priority = p ORDER BY run_at LIMIT 1) n`,
      [priorities.length - 1],
    );
    return result.rows[0]?.next ?? null;
  }

  /** Records outcomes in one statement; only rows still leased by `owner` at that attempt change. */
  async complete(owner: string, completions: readonly Completion[]): Promise<Finished[]> {
    if (completions.length === 0) return [];
    const result = await this.pool.query<Finished>(
      `WITH result AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, attempt int, via text, status text,
           provider_message_id text, code text, message text, retry_in double precision, subject text)
       ), held AS (
         -- The lease guard, each email found by its key whatever the statistics say
         -- (src/database/migrations/0008_delivery_plans.sql); the UPDATE re-checks it unindexed.
         SELECT id FROM post_office_still_leased($1, ARRAY(SELECT id FROM result), ARRAY(SELECT attempt FROM result)) AS id
       ), done AS (
         UPDATE emails e SET
           status = r.status,
           sent_via = r.via,
           provider_message_id = COALESCE(r.provider_message_id, e.provider_message_id),
           message = CASE WHEN r.subject IS NULL THEN e.message ELSE jsonb_set(e.message, '{subject}', to_jsonb(r.subject)) END,
           last_error = CASE WHEN r.status = 'sent' THEN e.last_error ELSE r.message END,
           run_at = CASE WHEN r.status = 'queued' THEN now() + make_interval(secs => r.retry_in) ELSE e.run_at END,
           sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE e.sent_at END,
           locked_by = NULL, locked_until = NULL, updated_at = now()
         FROM result r JOIN held h ON h.id = r.id
         WHERE e.id = r.id AND e.locked_by = $1 AND e.attempts = r.attempt
         RETURNING e.id, e.backend, e.status
       ), logged AS (
         INSERT INTO email_logs (email_id, attempt, backend, status, code, message)
         SELECT r.id, r.attempt, r.via, r.status, r.code, r.message FROM result r JOIN done d ON d.id = r.id
       )${this.eventCte('events', 'result r JOIN done d ON d.id = r.id', {
         emailId: 'd.id', type: eventTypeSql('d.status'), status: 'd.status', backend: 'd.backend', attempt: 'r.attempt',
         code: 'r.code', message: 'r.message', providerMessageId: 'r.provider_message_id',
       })}
       SELECT * FROM done`,
      [
        owner,
        JSON.stringify(
          completions.map((c) => ({
            id: c.id, attempt: c.attempt, via: c.via, status: c.status, provider_message_id: c.providerMessageId,
            code: c.code, message: c.message, retry_in: c.retryInSeconds, subject: c.subject ?? null,
          })),
        ),
      ],
    );
    if (this.events && result.rows.length > 0) this.onEvents();
    return result.rows;
  }

  /** Keeps the leases of emails this sidecar still holds from expiring. */
  async extendLeases(owner: string, ids: readonly string[], leaseSeconds: number): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE emails SET locked_until = now() + make_interval(secs => $3)
       WHERE id = ANY($2::uuid[]) AND status = 'sending' AND locked_by = $1`,
      [owner, ids, leaseSeconds],
    );
  }

  /**
   * Returns emails this sidecar claimed but never handed to a provider; their attempt is undone.
   * An email with `dueAt` is not due again before then (a paused or rate-limited backend).
   */
  async release(owner: string, emails: readonly { id: string; dueAt?: Date }[]): Promise<number> {
    if (emails.length === 0) return 0;
    // Emails due at once (a sidecar shutting down) wake the others, which may be backed off while idle.
    const result = await this.pool.query<{ released: number }>(
      `WITH released AS (
         UPDATE emails e SET status = 'queued', attempts = e.attempts - 1, locked_by = NULL, locked_until = NULL,
           run_at = COALESCE(d.due_at, e.run_at), updated_at = now()
         FROM unnest($2::uuid[], $3::timestamptz[]) AS d(id, due_at)
         WHERE e.id = d.id AND e.status = 'sending' AND e.locked_by = $1
         RETURNING e.run_at
       )
       SELECT (SELECT count(*) FROM released)::int AS released,
              (SELECT count(*) FROM (SELECT pg_notify('${NOTIFY_CHANNEL}', '') FROM released WHERE run_at <= now() LIMIT 1) n)::int AS notified`,
      [owner, emails.map((email) => email.id), emails.map((email) => email.dueAt ?? null)],
    );
    return result.rows[0]?.released ?? 0;
  }

  /**
   * Puts back emails leased to `owner` that it does not hold (`held`): a claim whose answer was
   * lost leased them to a sidecar that never received them. Their attempt is undone, as in
   * release; an email in `held` (waiting, paced, in flight, its outcome not yet written) is
   * never touched. Returns how many were put back.
   */
  async releaseStray(owner: string, held: readonly string[]): Promise<number> {
    const result = await this.pool.query(
      `WITH stray AS (
         SELECT id FROM emails WHERE status = 'sending' AND locked_by = $1 AND NOT (id = ANY($2::uuid[]))
         FOR UPDATE SKIP LOCKED
       )
       UPDATE emails e SET status = 'queued', attempts = e.attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = now()
       FROM stray WHERE e.id = stray.id AND e.status = 'sending' AND e.locked_by = $1`,
      [owner, held],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Puts back emails whose lease expired (their sidecar died mid-send), or fails them when their
   * attempts are used up, so a message that crashes its sender cannot loop forever.
   */
  async rescueExpiredLeases(limit = 1000): Promise<Finished[]> {
    const result = await this.pool.query<Finished>(
      `WITH stale AS (
         SELECT id FROM emails WHERE status = 'sending' AND locked_until < now()
         LIMIT $1 FOR UPDATE SKIP LOCKED
       ), rescued AS (
         UPDATE emails e SET
           status = CASE WHEN e.attempts >= e.max_attempts THEN 'failed' ELSE 'queued' END,
           last_error = 'lease expired: the sidecar sending it stopped before recording an outcome',
           run_at = now(), locked_by = NULL, locked_until = NULL, updated_at = now()
         FROM stale WHERE e.id = stale.id
         RETURNING e.id, e.backend, e.status, e.attempts, e.provider_message_id
       ), logged AS (
         INSERT INTO email_logs (email_id, attempt, status, code, message)
         SELECT id, attempts, status, 'LEASE_EXPIRED', 'lease expired: the sidecar sending it stopped before recording an outcome'
         FROM rescued
       )${this.eventCte('events', 'rescued', {
         emailId: 'id', type: eventTypeSql('status'), status: 'status', backend: 'backend', attempt: 'attempts', code: "'LEASE_EXPIRED'",
         message: "'lease expired: the sidecar sending it stopped before recording an outcome'", providerMessageId: 'provider_message_id',
       })}
       SELECT id, backend, status FROM rescued`,
      [limit],
    );
    if (this.events && result.rows.length > 0) this.onEvents();
    return result.rows;
  }
}
