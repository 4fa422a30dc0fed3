// The SQL of delivery events: a verified webhook's events are stored once each (a replay changes
// nothing), matched to their email by the provider's message id, and what they say lands on the
// recipient's status, the email's log, the suppression list and — when events to the app are on
// — the app's event outbox. One transaction per webhook request: the provider hears 2xx only
// after all of it is committed.
import type pg from 'pg';
import type { DeliveryEvent } from '../providers/webhooks/webhook.ts';
import { eventTimeSql } from './app-event-store.ts';

/** What storing one request's events did, for the metrics. */
export interface StoredEvents {
  /** New events, matched to an email, by type. */
  matched: DeliveryEvent['type'][];
  /** New events whose message id no email has. */
  unmatched: number;
  /** Events stored before (a replay). */
  duplicates: number;
  /** Addresses newly put on the suppression list, with the reason. */
  suppressed: { address: string; reason: string }[];
}

/** Unmatched events are kept this long (the retention job deletes them after). */
export const UNMATCHED_EVENT_DAYS = 7;

// Which event may replace a recipient's status: a higher rank always, the same rank when newer.
// A late "delivered" never hides a bounce; a complaint after delivery shows.
const rank = (status: string) =>
  `CASE ${status} WHEN 'deferred' THEN 1 WHEN 'delivered' THEN 2 WHEN 'rejected' THEN 3 WHEN 'bounced' THEN 3 WHEN 'complained' THEN 4 ELSE 5 END`;

export class EventStore {
  private readonly pool: pg.Pool;
  private readonly appEvents: boolean;
  private readonly onAppEvents: () => void;

  /**
   * `appEvents`: also write each recipient event to the app's event outbox (POST_OFFICE_EVENTS_URL,
   * docs/events.md); `onAppEvents` is called after a commit that wrote some, to wake the sender.
   */
  constructor(pool: pg.Pool, options: { appEvents?: boolean; onAppEvents?: () => void } = {}) {
    this.pool = pool;
    this.appEvents = options.appEvents === true;
    this.onAppEvents = options.onAppEvents ?? (() => {});
  }

  async record(backend: string, events: readonly DeliveryEvent[]): Promise<StoredEvents> {
    if (events.length === 0) return { matched: [], unmatched: 0, duplicates: 0, suppressed: [] };
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query<{ id: string; email_id: string | null; event: DeliveryEvent['type'] }>(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(event_key text, provider_message_id text,
             recipient text, event text, bounce text, at timestamptz, code text, message text, ord bigint)
         )
         INSERT INTO delivery_events (backend, event_key, email_id, provider_message_id, recipient, event, bounce, at, code, message)
         SELECT $1, i.event_key,
           (SELECT e.id FROM emails e WHERE e.provider_message_id = i.provider_message_id ORDER BY e.id DESC LIMIT 1),
           i.provider_message_id, lower(i.recipient), i.event, i.bounce, i.at, i.code, i.message
         FROM input i ORDER BY i.ord
         ON CONFLICT (backend, event_key) DO NOTHING
         RETURNING id, email_id, event`,
        [backend, JSON.stringify(events.map((event, ord) => ({ ord,
          event_key: event.eventKey, provider_message_id: event.providerMessageId, recipient: event.recipient,
          event: event.type, bounce: event.bounce ?? null, at: event.at.toISOString(), code: event.code, message: event.message,
        })))],
      );
      const matched = inserted.rows.filter((row) => row.email_id !== null);
      const ids = matched.map((row) => row.id);
      let suppressed: StoredEvents['suppressed'] = [];
      if (ids.length > 0) {
        await this.applyToRecipients(client, ids);
        suppressed = await this.suppress(client, backend, ids);
        if (this.appEvents) await this.toApp(client, ids);
      }
      await client.query('COMMIT');
      if (this.appEvents && ids.length > 0) this.onAppEvents();
      return {
        matched: matched.map((row) => row.event),
        unmatched: inserted.rows.length - matched.length,
        duplicates: events.length - inserted.rows.length,
        suppressed,
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Recipient status (for events that change one) and a log entry for every event. */
  private async applyToRecipients(client: pg.PoolClient, ids: readonly string[]): Promise<void> {
    await client.query(
      `WITH new AS (
         SELECT DISTINCT ON (d.email_id, d.recipient) d.email_id, d.recipient, d.event AS status, d.at, d.code, d.message
         FROM delivery_events d
         WHERE d.id = ANY($1::bigint[]) AND d.event IN ('delivered', 'deferred', 'bounced', 'complained', 'rejected')
         ORDER BY d.email_id, d.recipient,
           ${rank('d.event')} DESC, d.at DESC
       )
       INSERT INTO email_recipients AS r (email_id, address, status, at, code, message)
       SELECT email_id, recipient, status, at, code, message FROM new
       ON CONFLICT (email_id, address) DO UPDATE SET status = excluded.status, at = excluded.at, code = excluded.code, message = excluded.message
       WHERE ${rank('excluded.status')} > ${rank('r.status')}
          OR (${rank('excluded.status')} = ${rank('r.status')} AND excluded.at >= r.at)`,
      [ids],
    );
    await client.query(
      `INSERT INTO email_logs (email_id, attempt, status, code, message, backend, at)
       SELECT d.email_id, e.attempts, d.event, d.code,
         d.recipient || CASE WHEN d.bounce IS NULL THEN '' ELSE ' (' || d.bounce || ' bounce)' END || COALESCE(': ' || d.message, ''),
         d.backend, d.at
       FROM delivery_events d JOIN emails e ON e.id = d.email_id
       WHERE d.id = ANY($1::bigint[]) ORDER BY d.id`,
      [ids],
    );
  }

  /** A hard bounce, a complaint or an unsubscribe puts the address on the suppression list (the first reason stays). */
  private async suppress(client: pg.PoolClient, backend: string, ids: readonly string[]): Promise<StoredEvents['suppressed']> {
    const result = await client.query<{ address: string; reason: string }>(
      `INSERT INTO suppressions (address, reason, backend, detail)
       SELECT DISTINCT ON (d.recipient) d.recipient,
         CASE d.event WHEN 'bounced' THEN 'bounced' WHEN 'complained' THEN 'complained' ELSE 'unsubscribed' END,
         $2, d.code || COALESCE(': ' || d.message, '')
       FROM delivery_events d
       WHERE d.id = ANY($1::bigint[])
         AND ((d.event = 'bounced' AND d.bounce = 'hard') OR d.event IN ('complained', 'unsubscribed'))
       ORDER BY d.recipient, d.id
       ON CONFLICT (address) DO NOTHING
       RETURNING address, reason`,
      [ids, backend],
    );
    return result.rows;
  }

  /** One app event per delivery event (docs/events.md): recipient.<event>. */
  private async toApp(client: pg.PoolClient, ids: readonly string[]): Promise<void> {
    await client.query(
      `INSERT INTO app_events (email_id, payload)
       SELECT d.email_id, jsonb_build_object(
         'type', 'recipient.' || d.event, 'email_id', d.email_id, 'at', ${eventTimeSql('d.at')},
         'recipient', d.recipient, 'event', d.event,
         'bounce', d.bounce, 'status', COALESCE(r.status, CASE WHEN e.status = 'sending' THEN 'queued' ELSE e.status END),
         'backend', e.backend, 'code', d.code, 'message', d.message)
       FROM delivery_events d JOIN emails e ON e.id = d.email_id
       LEFT JOIN email_recipients r ON r.email_id = d.email_id AND r.address = d.recipient
       WHERE d.id = ANY($1::bigint[]) ORDER BY d.id`,
      [ids],
    );
  }
}
