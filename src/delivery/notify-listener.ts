// A dedicated connection that LISTENs for new emails. It cannot come from the pool: a pooled
// client is returned and reused, and LISTEN belongs to one session. When the connection drops
// it reconnects with a growing delay; meanwhile the dispatcher's poll keeps the queue moving.
import pg from 'pg';
import type { Logger } from 'pino';
import { NOTIFY_CHANNEL } from '../store/store.ts';

export class NotifyListener {
  private readonly connectionString: string;
  private readonly onNotify: () => void;
  private readonly logger: Logger;
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(connectionString: string, onNotify: () => void, logger: Logger) {
    this.connectionString = connectionString;
    this.onNotify = onNotify;
    this.logger = logger;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
    client.on('notification', () => this.onNotify());
    client.on('error', () => undefined); // 'end' follows and schedules the reconnect
    client.on('end', () => this.scheduleReconnect(client));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      if (this.failures > 0) this.logger.info('LISTEN connection restored');
      this.failures = 0;
      // Anything enqueued while we were not listening is due now.
      this.onNotify();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'LISTEN connection failed; polling meanwhile');
      await client.end().catch(() => undefined);
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: pg.Client): void {
    if (this.stopped || client !== this.client || this.retryTimer !== undefined) return;
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
