// The worker thread's entry, loaded once per thread by Piscina.
//
// The lesson of django-post_office PR #521 lives here: this thread creates exactly one undici
// Agent when the module loads, sends every email it handles through it, never shares it with
// another thread, and closes it when the thread is told to stop. Its idle connections close
// after POST_OFFICE_HTTP_IDLE_SECONDS, and the host names it connects to are resolved through a
// cache of its own, so a burst of new connections does not become a burst of getaddrinfo calls.
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { createWorkerMetrics } from '../metrics/worker-metrics.ts';
import type { Provider, SendContext } from '../providers/provider.ts';
import { createProvider, providerOrigin } from '../providers/registry.ts';
import { renderOnDelivery } from '../templates/render-on-delivery.ts';
import { createWorkerAgent } from './agent.ts';
import type { ControlReply, ControlRequest, SendOutcome, SendTask, WorkerSetup } from './messages.ts';
import { overrideRecipients } from './recipient-override.ts';

const setup = workerData as WorkerSetup;
const metrics = createWorkerMetrics();

const agent = createWorkerAgent({ connections: setup.httpConnections, idleMs: setup.httpIdleMs });

// Count the connections this thread's Agent opens, labelled by the backend that owns the origin.
const backendByOrigin = new Map<string, string>();
const providers = new Map<string, Provider>();
for (const [alias, settings] of Object.entries(setup.backends)) {
  providers.set(alias, createProvider(settings));
  const origin = providerOrigin(settings);
  if (origin !== null && !backendByOrigin.has(origin)) backendByOrigin.set(origin, alias);
}
agent.on('connect', (origin) => {
  metrics.connectionsOpened.inc({ backend: backendByOrigin.get(new URL(String(origin)).origin) ?? 'unknown' });
});

const context: SendContext = {
  agent,
  headers: { 'user-agent': `post-office/${setup.version} (thread ${threadId})` },
  timeoutMs: setup.sendTimeoutMs,
  messageIdDomain: setup.messageIdDomain,
};

// Metric collection and shutdown arrive on a broadcast channel rather than as Piscina tasks,
// so a scrape is answered even when every task slot is busy.
const control = new BroadcastChannel(setup.controlChannel);
control.onmessage = (event) => {
  const request = event.data as ControlRequest;
  if (request.type === 'collect') {
    void metrics.registry.getMetricsAsJSON().then((values) => {
      control.postMessage({ type: 'metrics', requestId: request.requestId, threadId, metrics: values } satisfies ControlReply);
    });
  } else if (request.type === 'close') {
    // SMTP pools say QUIT; the Agent ends its keep-alive connections.
    const closing = [...providers.values()].map((provider) => provider.close?.());
    void Promise.allSettled([...closing, agent.close()]).finally(() => {
      control.postMessage({ type: 'closed', requestId: request.requestId, threadId } satisfies ControlReply);
      control.close();
    });
  }
};

/** Sends one email. Never throws: every failure comes back as a classified outcome. */
export default async function send(task: SendTask): Promise<SendOutcome> {
  const provider = providers.get(task.backend);
  if (provider === undefined) {
    return { outcome: 'permanent', code: 'UNKNOWN_BACKEND', message: `backend "${task.backend}" is not configured` };
  }
  metrics.inflight.inc();
  const stopTimer = metrics.sendDuration.startTimer({ backend: task.backend });
  let result: SendOutcome;
  try {
    // Templates marked render_on_delivery are rendered here, in the worker: it is CPU work.
    const message = renderOnDelivery(task);
    // The recipient override is applied just before the adapter, so no provider path skips it.
    result = 'outcome' in message ? message : await provider.send(overrideRecipients(message, setup.overrideRecipients), context);
  } catch (err) {
    result = { outcome: 'retryable', code: 'ADAPTER_ERROR', message: err instanceof Error ? err.message : String(err) };
  }
  stopTimer();
  metrics.inflight.dec();
  metrics.sends.inc({ backend: task.backend, result: result.outcome });
  if (result.outcome !== 'ok') metrics.sendErrors.inc({ backend: task.backend, code: result.code });
  return result;
}
