// The metrics one worker thread keeps about itself, in its own registry. The main thread adds
// the stable `worker` slot label when it merges every worker's registry into /metrics.
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createWorkerMetrics() {
  const registry = new Registry();
  let lastLoop = performance.eventLoopUtilization();
  return {
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
  };
}
