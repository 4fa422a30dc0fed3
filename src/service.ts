// Starts every part of a sidecar in order and stops them in the reverse order:
//   start: data folder and ports tried → database → migrations → pg pool (admin app) → workers → dispatcher → retention job
//          → events sender → listeners (API, admin, webhooks)
//   stop:  readiness 503 → API and webhook listener closed → dispatcher drained → events sender
//          stopped (in-flight POSTs within what is left of the grace) → workers (and their Agents)
//          closed → retention job stopped (after its current batch) → admin + pg pool closed (its last
//          connection gone) → embedded database stopped.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import fastifyPostgres from '@fastify/postgres';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { assertDataDirFree } from './database/data-dir-lock.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './database/embedded.ts';
import { followConnections } from './database/open-connections.ts';
import { DatabaseHealth } from './database/health.ts';
import { loadMigrations, migrate, MigrationLockTimeout } from './database/migrate.ts';
import { CircuitBreaker } from './delivery/circuit-breaker.ts';
import { Delivery } from './delivery/delivery.ts';
import { NotifyListener } from './delivery/notify-listener.ts';
import { RateLimiter } from './delivery/rate-limiter.ts';
import type { AppEvents } from './app-events/build.ts';
import { adminRoutes } from './http/admin.ts';
import { Enqueuer } from './enqueue/enqueuer.ts';
import { buildApi } from './http/api.ts';
import { buildWebhookListener, hasWebhooks } from './http/webhook-listener.ts';
import { createMainMetrics, type MainMetrics } from './metrics/main-metrics.ts';
import { EventStore } from './store/event-store.ts';
import { RateLimitStore } from './store/rate-limit-store.ts';
import { RetentionStore } from './store/retention-store.ts';
import { QueueStore } from './store/store.ts';
import { CleanupJob, DEFAULT_BATCH_SIZE, DEFAULT_BLOB_MARGIN_SECONDS } from './retention/cleanup-job.ts';
import { assertPortsFree } from './port-check.ts';
import { fallbackPairs } from './providers/fallback.ts';
import { inlineRenderer } from './templates/renderer.ts';
import type { WorkerPool } from './worker/pool.ts';

export interface Service {
  apiUrl: string;
  adminUrl: string;
  /** The webhook listener's URL; undefined when no backend has webhook settings. */
  webhookUrl: string | undefined;
  /** This sidecar's lease owner name. */
  owner: string;
  /** Idempotent; resolves once everything is closed. */
  stop(): Promise<void>;
}

async function migrateWithRetry(url: string, logger: Logger, lockWaitSeconds: number, attempts = 30): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await migrate(url, { lockWaitSeconds, logger });
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      return;
    } catch (err) {
      // The lock was waited for already, for as long as configured.
      if (attempt >= attempts || err instanceof MigrationLockTimeout) throw err;
      logger.warn({ err: (err as Error).message, attempt }, 'database not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** The worker pool and what decides around it: circuit breaker, rate limiter, the delivery loop. */
async function buildDelivery(config: Config, deps: { store: QueueStore; metrics: MainMetrics; logger: Logger; owner: string; rateLimits: RateLimitStore }) {
  const { metrics, logger } = deps;
  // Loaded only here: an enqueue-only sidecar never loads Piscina.
  const { WorkerPool } = await import('./worker/pool.ts');
  const pool: WorkerPool = new WorkerPool(config, logger);
  const breaker = new CircuitBreaker(
    config.circuitFailures === 0 ? [] : Object.keys(config.backends),
    { threshold: config.circuitFailures, baseSeconds: config.circuitPauseSeconds, maxSeconds: Math.max(300, config.circuitPauseSeconds) },
    (backend, state) => {
      metrics.circuitOpen.set({ backend }, state === 'closed' ? 0 : 1);
      if (state !== 'half_open') logger.warn({ backend, state }, `circuit ${state === 'open' ? 'opened: backend paused' : 'closed'}`);
    },
  );
  const limiter = new RateLimiter(
    Object.fromEntries(Object.entries(config.backends).map(([alias, settings]) => [alias, settings.rate_limit])),
    deps.rateLimits,
  );
  for (const backend of limiter.backends) metrics.rateLimited.inc({ backend }, 0);
  for (const pair of fallbackPairs(config.backends)) metrics.failovers.inc(pair, 0);
  const loop = new Delivery({
    owner: deps.owner,
    backends: config.backends,
    pollSeconds: config.pollSeconds,
    idlePollSeconds: config.idlePollSeconds,
    leaseSeconds: config.leaseSeconds,
    batchSize: config.batchSize,
    retryBaseSeconds: config.retryBaseSeconds,
  }, { leases: deps.store.leases, pool, breaker, limiter, metrics, logger });
  return { pool, breaker, loop };
}

export async function startService(config: Config, logger: Logger): Promise<Service> {
  const owner = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  // A second `npm start` in the same folder is told so, rather than that its port is busy.
  if (config.databaseUrl === undefined) await assertDataDirFree(config.dataDir);
  const webhooks = hasWebhooks(config.backends);
  await assertPortsFree([
    { variable: 'POST_OFFICE_PORT', host: config.host, port: config.port },
    { variable: 'POST_OFFICE_ADMIN_PORT', host: config.adminHost, port: config.adminPort },
    ...(webhooks ? [{ variable: 'POST_OFFICE_WEBHOOK_PORT', host: config.webhookHost, port: config.webhookPort }] : []),
  ]);
  let embedded: EmbeddedDatabase | undefined;
  const databaseUrl = config.databaseUrl ?? (embedded = await startEmbeddedPostgres(config.dataDir, logger)).url;
  await migrateWithRetry(databaseUrl, logger, config.migrationLockSeconds);
  const schemaVersion = Math.max(...(await loadMigrations()).map((migration) => migration.id));

  const admin = Fastify({ logger: false });
  await admin.register(fastifyPostgres, {
    connectionString: databaseUrl,
    max: config.dbPoolMax,
    // Fail fast during an outage: enqueue answers 503 within seconds instead of hanging.
    connectionTimeoutMillis: 2000,
    query_timeout: 15_000,
  });
  // An idle client's connection dying (database restart) must not crash the process.
  admin.pg.pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection lost'));
  const connections = followConnections(admin.pg.pool);
  // Events on: every status change also writes its app_events row, and wakes this sidecar's sender.
  let events: AppEvents | undefined;
  const store = new QueueStore(admin.pg.pool, { appEvents: config.events !== undefined, onAppEvents: () => events?.wake() });
  const health = new DatabaseHealth(store, schemaVersion);
  await health.start();
  const metrics = createMainMetrics(store);
  if (config.events !== undefined) {
    // Loaded only here: without POST_OFFICE_EVENTS_URL the main thread never loads undici.
    const { buildAppEvents } = await import('./app-events/build.ts');
    events = buildAppEvents({ ...config, events: config.events }, { databaseUrl, registry: metrics.registry, owner, logger });
  }

  // Every backend has a circuit series from the start, so dashboards show "closed", not "no data".
  for (const backend of Object.keys(config.backends)) metrics.circuitOpen.set({ backend }, 0);
  const delivery = config.dispatcher ? await buildDelivery(config, { store, metrics, logger, owner, rateLimits: new RateLimitStore(admin.pg.pool) }) : undefined;
  // Retention runs only where the dispatcher runs: that is the deployment that looks after the
  // queue, and enqueue-only sidecars (often one per app pod) stay out of the lock and keep their
  // connections for enqueues. The retention lease makes any number of runners safe.
  const retention = delivery && config.retentionDays > 0 ? new CleanupJob({
    store: new RetentionStore(admin.pg.pool),
    logger,
    metrics,
    settings: { days: config.retentionDays, batchSize: DEFAULT_BATCH_SIZE, blobMarginSeconds: DEFAULT_BLOB_MARGIN_SECONDS },
    intervalSeconds: config.retentionIntervalSeconds,
  }) : undefined;
  const wake = () => delivery?.loop.wake();
  const listener = delivery && config.listen ? new NotifyListener(databaseUrl, wake, logger) : undefined;

  // Templates render in the worker threads, off the event loop that serves the API, when there are any.
  const renderer = delivery?.pool ?? inlineRenderer;
  const enqueuer = new Enqueuer({
    backends: config.backends,
    defaultFrom: config.defaultFrom,
    maxAttempts: config.maxAttempts,
    // Leave pool connections for delivery and reads.
    maxConcurrentCommits: Math.max(1, config.dbPoolMax - 2),
  }, { store, health, metrics, wake, renderer });
  const api = await buildApi({ config, store, health, metrics, logger, enqueuer, wake, renderer });
  const webhookListener = webhooks
    ? buildWebhookListener({ backends: config.backends, events: new EventStore(admin.pg.pool, { appEvents: config.events !== undefined, onAppEvents: () => events?.wake() }), health, metrics, logger })
    : undefined;
  await admin.register(adminRoutes, { health, metrics, pool: delivery?.pool, breaker: delivery?.breaker });

  // Threads that never stop start now; otherwise with the first task.
  if (config.threadIdleSeconds === 0) await delivery?.pool.start();
  delivery?.loop.start();
  retention?.start();
  events?.start();
  await listener?.start();
  if (listener !== undefined) delivery?.loop.listenWith(() => listener.listening);
  const adminUrl = await admin.listen({ host: config.adminHost, port: config.adminPort });
  const apiUrl = await api.listen({ host: config.host, port: config.port });
  const webhookUrl = await webhookListener?.listen({ host: config.webhookHost, port: config.webhookPort });
  logger.info({ api: apiUrl, admin: adminUrl, ...(webhookUrl === undefined ? {} : { webhooks: webhookUrl }), threads: delivery ? config.threads : 0, backends: Object.keys(config.backends) }, 'post office ready');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const deadline = Date.now() + config.shutdownGraceSeconds * 1000;
      health.draining = true;
      // No new round from here; a round under way ends after its batch, while the drain goes on.
      const retentionStopped = retention?.stop();
      await api.close();
      await webhookListener?.close();
      const drained = await delivery?.loop.stop(config.shutdownGraceSeconds * 1000);
      if (drained !== undefined) logger.info(drained, 'dispatcher drained');
      await listener?.stop();
      await events?.stop(Math.max(0, deadline - Date.now()));
      await delivery?.pool.close();
      health.stop();
      await retentionStopped;
      await admin.close();
      await connections.closed();
      await embedded?.stop();
      logger.info('post office stopped');
    })();
    return stopping;
  };
  return { apiUrl, adminUrl, webhookUrl, owner, stop };
}
