// A dedicated connection that LISTENs for new emails. It cannot come from the pool: a pooled
// client is returned and reused, and LISTEN belongs to one session. When the connection drops
// it reconnects with a growing delay; meanwhile the dispatcher's poll keeps the queue moving.
//
// Behind a transaction pooler (PgBouncer in transaction mode) LISTEN "works" without an error,
// but the server connection it ran on goes back to the pooler's pool and its notifications are
// dropped. So after every LISTEN a probe is sent from a second connection, a NOTIFY with a
// payload of its own; when it does not arrive within PROBE_MS the listener logs one warning,
// closes and leaves the queue to the poll (POST_OFFICE_POLL_SECONDS) for good.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { NOTIFY_CHANNEL } from '../store/store.ts';

const PROBE_MS = 3000;

export class NotifyListener {
  private readonly connectionString: string;
  private readonly onNotify: () => void;
  private readonly logger: Logger;
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** False once the probe showed notifications never reach this connection. */
  private usable = true;
  /** Connected, listening, and the probe came back. */
  private connected = false;

  constructor(connectionString: string, onNotify: () => void, logger: Logger) {
    this.connectionString = connectionString;
    this.onNotify = onNotify;
    this.logger = logger;
  }

  /** True while a NOTIFY reaches this sidecar: connected and probed; false after the probe found it silent. */
  get listening(): boolean {
    return this.usable && this.connected && !this.stopped;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
    const probe = `probe:${randomBytes(8).toString('hex')}`;
    let probeArrived = false;
    let onProbe: (() => void) | undefined;
    client.on('notification', (message) => {
      if (message.payload === probe) {
        probeArrived = true;
        onProbe?.();
      }
      this.onNotify();
    });
    client.on('error', () => undefined); // 'end' follows and schedules the reconnect
    client.on('end', () => {
      if (client === this.client) this.connected = false;
      this.scheduleReconnect(client);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      await this.sendProbe(probe);
      // Timed from the NOTIFY's commit, so a slow connect cannot make a working LISTEN look silent.
      const arrived = probeArrived || await new Promise<boolean>((resolve) => {
        onProbe = () => resolve(true);
        setTimeout(() => resolve(false), PROBE_MS).unref();
      });
      if (this.stopped) return;
      if (!arrived) {
        this.usable = false;
        this.logger.warn({ waitedMs: PROBE_MS },
          'POST_OFFICE_LISTEN is on but a NOTIFY sent to this sidecar never arrived (a transaction pooler such as PgBouncer ' +
          'between it and PostgreSQL?): LISTEN is off, the dispatcher polls every POST_OFFICE_POLL_SECONDS; set POST_OFFICE_LISTEN=off to skip this check');
        this.client = undefined;
        await client.end().catch(() => undefined);
        return;
      }
      if (this.failures > 0) this.logger.info('LISTEN connection restored');
      this.failures = 0;
      this.connected = true;
      // Anything enqueued while we were not listening is due now.
      this.onNotify();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'LISTEN connection failed; polling meanwhile');
      await client.end().catch(() => undefined);
      this.scheduleReconnect(client);
    }
  }

  /** The NOTIFY that must come back, from a connection of its own (a server connection other than LISTEN's). */
  private async sendProbe(payload: string): Promise<void> {
    const sender = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
    sender.on('error', () => undefined);
    try {
      await sender.connect();
      await sender.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, payload]);
    } finally {
      await sender.end().catch(() => undefined);
    }
  }

  private scheduleReconnect(client: pg.Client): void {
    if (this.stopped || !this.usable || client !== this.client || this.retryTimer !== undefined) return;
    this.failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }
}
