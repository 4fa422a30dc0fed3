// The worker thread's entry, loaded once per thread by Piscina.
//
// The lesson of django-post_office PR #521 lives here: this thread creates exactly one undici
// Agent when the module loads, sends every email it handles through it, never shares it with
// another thread, and closes it when the thread is told to stop. Its idle connections close
// after POST_OFFICE_HTTP_IDLE_SECONDS, and the host names it connects to are resolved through a
// cache of its own, so a burst of new connections does not become a burst of getaddrinfo calls.
import { performance } from 'node:perf_hooks';
// Piscina hands its workerData to the thread as Node's own; importing it from 'piscina' would load
// the pool's whole main-thread side into every worker.
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { createWorkerMetrics } from '../metrics/worker-metrics.ts';
import type { EmailMessage } from '../email/message.ts';
import { adapterError } from '../providers/outcome-codes.ts';
import type { Provider, SendContext } from '../providers/provider.ts';
import { createProvider, providerOrigin } from '../providers/kinds.ts';
import { renderOnDelivery } from './render-on-delivery.ts';
import { createWorkerAgent } from './agent.ts';
import { inlineRenderer, type SyntaxProblem } from '../templates/renderer.ts';
import type { RenderResult, TemplateField } from '../templates/template.ts';
import type { ControlPortOffer, ControlReply, ControlRequest, RenderTask, SendBatchTask, SendOutcome, SendTask, WorkerSetup } from './messages.ts';
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

// Metric collection and shutdown arrive on a port of this thread's own rather than as Piscina
// tasks, so a scrape is answered even when every task slot is busy. A MessagePort with a
// 'message' listener, not a BroadcastChannel: a BroadcastChannel delivers MessageEvents, and the
// first one loads Node's bundled copy of undici into the thread, ≈ 15 MiB of resident memory.
if (parentPort === null) throw new Error('src/worker/worker.ts runs in a Piscina worker thread');
const { port1: control, port2 } = new MessageChannel();
parentPort.postMessage({ type: 'control-port', threadId, port: port2 } satisfies ControlPortOffer, [port2]);
control.on('message', (request: ControlRequest) => {
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
});

const unknownBackend = (backend: string): SendOutcome => ({ outcome: 'permanent', code: 'UNKNOWN_BACKEND', message: `backend "${backend}" is not configured` });

/**
 * The message as the adapter gets it — rendered, when its template is rendered on delivery (CPU
 * work, so here in the worker), with the recipient override applied just before the adapter so no
 * provider path skips it — or the outcome that makes sending it pointless.
 */
async function prepared(backend: string, email: Omit<SendTask, 'backend'>): Promise<EmailMessage | SendOutcome> {
  // Only an email that names a template needs the task's shape (and a render).
  const message = email.message.template === undefined ? email.message : await renderOnDelivery({ backend, ...email });
  return 'outcome' in message ? message : overrideRecipients(message, setup.overrideRecipients);
}

/** Renders a template for the main thread (enqueue, preview); the engines load on first use. */
export function render(task: RenderTask): Promise<RenderResult> {
  return inlineRenderer.render(task.template, task.context);
}

/** Checks a template's syntax for the main thread (saving a template). */
export function checkSyntax(parts: Partial<Record<TemplateField, string>>): Promise<SyntaxProblem> {
  return inlineRenderer.checkSyntax(parts);
}

/** A sent email rendered here carries its rendered subject back, for the email's record. */
function withSubject(stored: EmailMessage, sent: EmailMessage, result: SendOutcome): SendOutcome {
  return result.outcome === 'ok' && stored.template !== undefined ? { ...result, subject: sent.subject } : result;
}

/** Sends one email. Never throws: every failure comes back as a classified outcome. */
export default function send(task: SendTask): Promise<SendOutcome> {
  return sendOne(task.backend, task);
}

async function sendOne(backend: string, email: Omit<SendTask, 'backend'>): Promise<SendOutcome> {
  const provider = providers.get(backend);
  if (provider === undefined) return unknownBackend(backend);
  metrics.inflight.inc();
  const started = performance.now();
  let result: SendOutcome;
  try {
    const message = await prepared(backend, email);
    result = 'outcome' in message ? message : withSubject(email.message, message, await provider.send(message, context));
  } catch (err) {
    result = adapterError(err);
  }
  metrics.timed(backend, (performance.now() - started) / 1000);
  metrics.inflight.dec();
  metrics.counted(backend, result);
  return result;
}

/** Sends several emails of one backend, each on its own request, side by side; outcomes in order. */
export function sendEach(task: SendBatchTask): Promise<SendOutcome[]> {
  return Promise.all(task.emails.map((email) => sendOne(task.backend, email)));
}

/**
 * Sends several emails of one backend through its batch endpoint: one outcome per email, in
 * order. An email that cannot be rendered fails alone and stays out of the request. Never throws.
 */
export async function sendBatch(task: SendBatchTask): Promise<SendOutcome[]> {
  const provider = providers.get(task.backend);
  if (provider === undefined) return task.emails.map(() => unknownBackend(task.backend));
  metrics.inflight.inc(task.emails.length);
  const started = performance.now();
  const results: Array<SendOutcome | undefined> = [];
  const ready: Array<{ index: number; message: EmailMessage }> = [];
  for (const [index, email] of task.emails.entries()) {
    try {
      const message = await prepared(task.backend, email);
      if ('outcome' in message) results[index] = message;
      else ready.push({ index, message });
    } catch (err) {
      results[index] = adapterError(err);
    }
  }
  const messages = ready.map((entry) => entry.message);
  let sent: SendOutcome[];
  try {
    sent = provider.sendBatch !== undefined && messages.length > 1
      ? await provider.sendBatch(messages, context)
      : await Promise.all(messages.map((message) => provider.send(message, context)));
    if (sent.length !== messages.length) throw new Error(`the adapter answered ${sent.length} outcomes for ${messages.length} emails`);
  } catch (err) {
    sent = messages.map(() => adapterError(err));
  }
  ready.forEach((entry, i) => {
    const result = sent[i];
    results[entry.index] = result === undefined ? undefined : withSubject(task.emails[entry.index]!.message, entry.message, result);
  });
  metrics.timed(task.backend, (performance.now() - started) / 1000);
  metrics.inflight.dec(task.emails.length);
  const outcomes = task.emails.map((_, i) => results[i] ?? adapterError('no outcome'));
  for (const outcome of outcomes) metrics.counted(task.backend, outcome);
  return outcomes;
}
