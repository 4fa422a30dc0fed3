// The main thread's metrics. Queue gauges are read from the database at scrape time (they
// describe the shared queue, not this sidecar, so dashboards must not sum them across pods).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppEventStore } from '../store/app-event-store.ts';
import type { QueueStore } from '../store/store.ts';

const QUEUE_READ_TIMEOUT_MS = 1000;

export function createMainMetrics(store: QueueStore) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // One database read per scrape serves both queue gauges.
  let pendingRead: Promise<Awaited<ReturnType<QueueStore['queueStats']>> | null> | null = null;
  const readQueue = () => {
    pendingRead ??= Promise.race([
      store.queueStats().catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), QUEUE_READ_TIMEOUT_MS).unref()),
    ]).finally(() => {
      pendingRead = null;
    });
    return pendingRead;
  };

  // Every label of the retention counters exists from the start (at 0), so dashboards and
  // alerts see a series rather than "no data" in a sidecar that has not cleaned up yet.
  const retentionDeleted = new Counter({
    name: 'postoffice_retention_deleted_total',
    help: 'Rows the retention job of this sidecar deleted: finished emails (with their logs), orphaned attachment blobs, expired idempotency keys.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const kind of ['emails', 'attachments', 'idempotency_keys', 'unmatched_events'] as const) retentionDeleted.inc({ kind }, 0);
  const retentionRuns = new Counter({
    name: 'postoffice_retention_runs_total',
    help: 'Retention rounds of this sidecar by result: ok, skipped_locked (another sidecar was cleaning up), failed.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['ok', 'skipped_locked', 'failed'] as const) retentionRuns.inc({ result }, 0);

  return {
    registry,
    retentionDeleted,
    retentionRuns,
    enqueued: new Counter({
      name: 'postoffice_emails_enqueued_total',
      help: 'Emails accepted (202) by this sidecar, by backend and priority.',
      labelNames: ['backend', 'priority'] as const,
      registers: [registry],
    }),
    finished: new Counter({
      name: 'postoffice_emails_finished_total',
      help: 'Emails this sidecar brought to a final status (sent, failed, expired), by the backend the email was enqueued for, as in postoffice_emails_enqueued_total (the backend that sent it counts in postoffice_worker_sends_total).',
      labelNames: ['backend', 'status'] as const,
      registers: [registry],
    }),
    queueEmails: new Gauge({
      name: 'postoffice_queue_emails',
      help: 'Emails in the shared queue by status (queued, sending), read from the database.',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const stats = await readQueue();
        if (stats === null) return; // keep the last values rather than report a false zero
        this.set({ status: 'queued' }, stats.counts.queued);
        this.set({ status: 'sending' }, stats.counts.sending);
      },
    }),
    queueOldestAge: new Gauge({
      name: 'postoffice_queue_oldest_age_seconds',
      help: 'Age of the oldest queued email that is due, read from the database.',
      registers: [registry],
      async collect() {
        const stats = await readQueue();
        if (stats !== null) this.set(stats.oldestAgeSeconds);
      },
    }),
    circuitOpen: new Gauge({
      name: 'postoffice_backend_circuit_open',
      help: "1 while this sidecar has paused a backend after repeated retryable failures (open or probing), else 0.",
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'postoffice_backend_rate_limited_total',
      help: "Emails this sidecar held back because the backend's fleet-wide rate limit had no room for them yet (they wait in the queue; one email may count more than once).",
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
    deliveryEvents: new Counter({
      name: 'postoffice_delivery_events_total',
      help: "Delivery events from providers' webhooks this sidecar stored and matched to an email, by backend and event (delivered, bounced, complained, …).",
      labelNames: ['backend', 'event'] as const,
      registers: [registry],
    }),
    webhookRequests: new Counter({
      name: 'postoffice_webhook_requests_total',
      help: 'Webhook requests by backend and result: ok, unauthorized (verification failed), malformed, failed (not stored: the provider retries).',
      labelNames: ['backend', 'result'] as const,
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'postoffice_webhook_events_total',
      help: 'Webhook events by backend and result: stored (matched to an email), unmatched (no email has the message id), duplicate (a replay).',
      labelNames: ['backend', 'result'] as const,
      registers: [registry],
    }),
    suppressionsAdded: new Counter({
      name: 'postoffice_suppressions_added_total',
      help: 'Addresses this sidecar put on the suppression list, by reason (bounced, complained, unsubscribed, manual).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    recipientsSuppressed: new Counter({
      name: 'postoffice_recipients_suppressed_total',
      help: 'Recipients dropped at send time because they are on the suppression list, by backend.',
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
    failovers: new Counter({
      name: 'postoffice_failovers_total',
      help: "Emails this sidecar sent through a backend's fallback instead of the backend itself (its circuit paused, or its last attempt failed), by hop along the chain.",
      labelNames: ['from', 'to'] as const,
      registers: [registry],
    }),
    apiDuration: new Histogram({
      name: 'postoffice_api_request_duration_seconds',
      help: 'API request duration by route template, method and status code.',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type MainMetrics = ReturnType<typeof createMainMetrics>;

/**
 * The events sender's series (docs/events.md), registered only where POST_OFFICE_EVENTS_URL is
 * set. The pending gauge, like the queue gauges, describes the shared table, not this sidecar.
 */
export function createAppEventMetrics(registry: Registry, store: AppEventStore) {
  const appEvents = new Counter({
    name: 'postoffice_app_events_total',
    help: 'POSTs of events to POST_OFFICE_EVENTS_URL by this sidecar: delivered (2xx) or failed (retried later).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['delivered', 'failed'] as const) appEvents.inc({ result }, 0);
  const pending = new Gauge({
    name: 'postoffice_app_events_pending',
    help: 'Events the application has not taken yet (2xx), read from the database.',
    registers: [registry],
    async collect() {
      const count = await Promise.race([
        store.pending().catch(() => null),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), QUEUE_READ_TIMEOUT_MS).unref()),
      ]);
      if (count !== null) this.set(count);
    },
  });
  return { appEvents, pending };
}

export type AppEventMetrics = ReturnType<typeof createAppEventMetrics>;
