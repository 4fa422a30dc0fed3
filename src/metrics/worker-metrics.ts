// The metrics one worker thread keeps about itself, in its own registry. The main thread adds
// the stable `worker` slot label when it merges every worker's registry into /metrics.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type * as Prom from 'prom-client';

// The four classes a worker uses, not prom-client's index: the index also loads the default
// metrics, the push gateway (http, https, url) and @opentelemetry/api — about 10 MiB in every
// worker thread. The classes are the same ones, so names, labels and values are unchanged.
const load = createRequire(import.meta.url);
const Counter = load('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = load('prom-client/lib/gauge') as typeof Prom.Gauge;
const Histogram = load('prom-client/lib/histogram') as typeof Prom.Histogram;
const Registry = load('prom-client/lib/registry') as typeof Prom.Registry;

type Result = 'ok' | 'retryable' | 'permanent';

export function createWorkerMetrics() {
  const registry = new Registry();
  let lastLoop = performance.eventLoopUtilization();
  // The label objects of each backend, made once: a send updates three metrics, and building
  // their labels anew for every one of thousands of sends a second is garbage for nothing.
  const labelsOf = new Map<string, { backend: { backend: string }; result: Record<Result, { backend: string; result: Result }> }>();
  const labels = (backend: string) => {
    let found = labelsOf.get(backend);
    if (found === undefined) {
      const result = (value: Result) => ({ backend, result: value });
      found = { backend: { backend }, result: { ok: result('ok'), retryable: result('retryable'), permanent: result('permanent') } };
      labelsOf.set(backend, found);
    }
    return found;
  };
  const metrics = {
    registry,
    sends: new Counter({
      name: 'postoffice_worker_sends_total',
      help: 'Sends this worker made, by backend and result (ok, retryable, permanent).',
      labelNames: ['backend', 'result'] as const,
      registers: [registry],
    }),
    sendErrors: new Counter({
      name: 'postoffice_worker_send_errors_total',
      help: 'Failed sends by backend and error code (AUTH_FAILED, RATE_LIMITED, NETWORK, ...).',
      labelNames: ['backend', 'code'] as const,
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: 'postoffice_worker_send_duration_seconds',
      help: 'Time from handing an email to the provider adapter to its answer.',
      labelNames: ['backend'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    connectionsOpened: new Counter({
      name: 'postoffice_worker_connections_opened_total',
      help: "Connections this worker's own HTTP Agent opened, by backend.",
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'postoffice_worker_inflight_sends',
      help: 'Sends this worker has started and not yet finished.',
      registers: [registry],
    }),
    eventLoop: new Gauge({
      name: 'postoffice_worker_event_loop_utilization',
      help: "Share of time this worker's event loop was busy since the previous scrape (0-1).",
      registers: [registry],
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(performance.eventLoopUtilization(now, lastLoop).utilization);
        lastLoop = now;
      },
    }),
    /** One send of `backend` finished after `seconds`: its duration. */
    timed(backend: string, seconds: number): void {
      metrics.sendDuration.observe(labels(backend).backend, seconds);
    },
    /** One email's outcome: counted by result, and by code when it failed. */
    counted(backend: string, outcome: { outcome: Result; code?: string }): void {
      metrics.sends.inc(labels(backend).result[outcome.outcome]);
      if (outcome.code !== undefined) metrics.sendErrors.inc({ backend, code: outcome.code });
    },
  };
  return metrics;
}
