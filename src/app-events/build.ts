// The events sender of a sidecar whose POST_OFFICE_EVENTS_URL is set, built from the
// configuration: its series on the main registry, its store on a connection of its own, so the
// sender's small statements never queue behind delivery's and enqueue's on the main pool.
import pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, EventsConfig } from '../config.ts';
import { followConnections } from '../database/open-connections.ts';
import { createAppEventMetrics } from '../metrics/main-metrics.ts';
import { AppEventStore } from '../store/app-event-store.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, EventSender } from './sender.ts';

export interface AppEvents {
  start(): void;
  /** Rows were just written in this process: send now rather than at the next poll. */
  wake(): void;
  /** Stops the sender (in-flight POSTs get `graceMs`), then closes its connection and waits until it has closed. */
  stop(graceMs: number): Promise<void>;
}

export function buildAppEvents(
  config: Config & { events: EventsConfig },
  deps: { databaseUrl: string; registry: Registry; owner: string; logger: Logger },
): AppEvents {
  const pool = new pg.Pool({ connectionString: deps.databaseUrl, max: 1, connectionTimeoutMillis: 2000, query_timeout: 15_000 });
  // A dropped idle connection (database restart) is replaced on the next query.
  pool.on('error', (err) => deps.logger.warn({ err: err.message }, 'idle events database connection lost'));
  const connections = followConnections(pool);
  const store = new AppEventStore(pool);
  const sender = new EventSender({
    url: config.events.url,
    secret: config.events.secret,
    owner: deps.owner,
    concurrency: DEFAULT_CONCURRENCY,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    pollMs: config.pollSeconds * 1000,
    // An event nobody took for as long as its email is kept is dropped with it.
    maxAgeDays: config.retentionDays,
  }, { store, metrics: createAppEventMetrics(deps.registry, store), logger: deps.logger });
  return {
    start: () => sender.start(),
    wake: () => sender.wake(),
    async stop(graceMs) {
      await sender.stop(graceMs);
      // Gone, not just asked to go, before the service stops an embedded database.
      await pool.end();
      await connections.closed();
    },
  };
}
