// The events sender of a sidecar whose POST_OFFICE_EVENTS_URL is set, built from the
// configuration: its store on the main pg pool, its series on the main registry.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, EventsConfig } from '../config.ts';
import { createAppEventMetrics } from '../metrics/main-metrics.ts';
import { AppEventStore } from '../store/app-event-store.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, EventSender } from './sender.ts';

export function buildEventSender(
  config: Config & { events: EventsConfig },
  deps: { pool: pg.Pool; registry: Registry; owner: string; logger: Logger },
): EventSender {
  const store = new AppEventStore(deps.pool);
  return new EventSender({
    url: config.events.url,
    secret: config.events.secret,
    owner: deps.owner,
    concurrency: DEFAULT_CONCURRENCY,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    pollMs: config.pollSeconds * 1000,
    // An event nobody took for as long as its email is kept is dropped with it.
    maxAgeDays: config.retentionDays,
  }, { store, metrics: createAppEventMetrics(deps.registry, store), logger: deps.logger });
}
