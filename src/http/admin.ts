// The admin listener (default 0.0.0.0:9587): liveness, readiness and metrics. It lives longest
// of the two listeners — during a drain it keeps answering readiness (503) and metrics — so the
// app it runs on also owns the process's one pg pool, closed last.
import type { FastifyPluginAsync } from 'fastify';
import { AggregatorRegistry } from 'prom-client';
import type { DatabaseHealth } from '../database/health.ts';
import type { CircuitBreaker } from '../delivery/circuit-breaker.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { WorkerPool } from '../worker/pool.ts';

export interface AdminDeps {
  health: DatabaseHealth;
  metrics: MainMetrics;
  /** Absent in an enqueue-only sidecar (POST_OFFICE_DISPATCHER=off). */
  pool: WorkerPool | undefined;
  /** Circuit states are reported in /readyz's detail but never fail readiness. */
  breaker: CircuitBreaker | undefined;
}

/** Routes of the admin listener; service.ts registers them on the app that owns the pg pool. */
export const adminRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  const { health, metrics, pool, breaker } = deps;

  // Answering at all proves the event loop is not stalled; nothing else belongs in liveness.
  app.get('/livez', async () => ({ status: 'alive' }));

  app.get('/readyz', async (_request, reply) => {
    const body = {
      status: health.ready ? 'ready' : 'not_ready',
      database: health.up ? 'up' : 'down',
      schema: health.migrated ? 'current' : 'behind',
      draining: health.draining,
      circuits: breaker?.states() ?? {},
    };
    return reply.code(health.ready ? 200 : 503).send(body);
  });

  // Main thread and every worker thread merged; each worker's series carry its `worker` slot.
  app.get('/metrics', async (_request, reply) => {
    const [main, workers] = await Promise.all([metrics.registry.getMetricsAsJSON(), pool?.collectMetrics() ?? []]);
    const merged = AggregatorRegistry.aggregate([main, ...workers]);
    return reply.type(merged.contentType).send(await merged.metrics());
  });
};
