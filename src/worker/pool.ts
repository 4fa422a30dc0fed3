// The main thread's side of the worker threads: a fixed Piscina pool, metric collection from
// every thread, and an orderly close in which each thread closes its own Agent.
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config.ts';
import { version } from '../version.ts';
import type { Renderer, SyntaxProblem } from '../templates/renderer.ts';
import type { RenderResult, TemplateContent, TemplateField } from '../templates/template.ts';
import type { ControlPortOffer, ControlReply, ControlRequest, RenderTask, SendBatchTask, SendOutcome, SendTask, WorkerSetup } from './messages.ts';

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** The thread pool: sends emails, and renders templates off the event loop that serves the API. */
export class WorkerPool implements Renderer {
  /** Emails the pool sends at once (each on its own request): threads × 2 × connections. */
  readonly capacity: number;
  /** The most emails one task carries to a thread. */
  readonly emailsPerTask: number;
  private readonly piscina: Piscina;
  /** threadId → the thread's control port (src/worker/worker.ts offers it once it has loaded). */
  private readonly controlPorts = new Map<number, MessagePort>();
  private readonly pending = new Map<number, (reply: ControlReply) => void>();
  /** threadId → stable slot "0".."N-1"; a replaced thread takes the lowest free slot. */
  private readonly slots = new Map<number, number>();
  private nextRequestId = 1;
  private closed = false;

  constructor(config: Config) {
    const setup: WorkerSetup = {
      backends: config.backends,
      httpConnections: config.httpConnections,
      httpIdleMs: config.httpIdleSeconds * 1000,
      sendTimeoutMs: config.sendTimeoutSeconds * 1000,
      overrideRecipients: [...config.overrideRecipients],
      messageIdDomain: config.messageIdDomain,
      version,
    };
    // Two sends per connection keep every connection busy while results travel back; they
    // travel a few to a task, so a thread gets one message for several emails.
    const tasksPerThread = config.httpConnections * 2;
    this.capacity = config.threads * tasksPerThread;
    this.emailsPerTask = Math.max(1, Math.floor(config.httpConnections / 2));
    this.piscina = new Piscina({
      // The built worker beside the built pool (dist/), the TypeScript one beside the source.
      filename: new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: config.threads,
      maxThreads: config.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: tasksPerThread,
      // Idle threads must keep servicing keep-alive sockets and metric requests, so they
      // may never park in a blocking Atomics.wait.
      atomics: 'disabled',
      // A small young generation: a thread holds a few messages at a time, and a 48 MiB nursery
      // per thread (V8's default ceiling) is memory every pod pays for once a burst has passed.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
      workerData: setup,
    });
    this.piscina.on('message', (message: unknown) => {
      if (isControlPortOffer(message)) this.adoptControlPort(message);
    });
  }

  private adoptControlPort({ threadId, port }: ControlPortOffer): void {
    port.on('message', (reply: ControlReply) => this.pending.get(reply.requestId)?.(reply));
    port.on('close', () => this.controlPorts.delete(threadId));
    port.unref();
    this.controlPorts.set(threadId, port);
  }

  run(task: SendTask): Promise<SendOutcome> {
    return this.piscina.run(task) as Promise<SendOutcome>;
  }

  /** Several emails of one backend in one task, each on its own request; outcomes in order. */
  runEach(task: SendBatchTask): Promise<SendOutcome[]> {
    return this.piscina.run(task, { name: 'sendEach' }) as Promise<SendOutcome[]>;
  }

  /** Several emails of one backend in one task, through its batch endpoint; outcomes in order. */
  runBatch(task: SendBatchTask): Promise<SendOutcome[]> {
    return this.piscina.run(task, { name: 'sendBatch' }) as Promise<SendOutcome[]>;
  }

  render(template: TemplateContent, context: Record<string, unknown>): Promise<RenderResult> {
    return this.piscina.run({ template, context } satisfies RenderTask, { name: 'render' }) as Promise<RenderResult>;
  }

  checkSyntax(parts: Partial<Record<TemplateField, string>>): Promise<SyntaxProblem> {
    return this.piscina.run(parts, { name: 'checkSyntax' }) as Promise<SyntaxProblem>;
  }

  /**
   * Asks every live thread and gathers what arrives within the timeout; a thread that has not
   * offered its control port yet cannot answer, and is waited for all the same.
   */
  private async broadcast(request: Omit<ControlRequest, 'requestId'>, timeoutMs: number): Promise<ControlReply[]> {
    const threads = this.piscina.threads;
    const expected = threads.length;
    if (expected === 0 || this.closed) return [];
    const requestId = this.nextRequestId++;
    const replies: ControlReply[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.pending.set(requestId, (reply) => {
        replies.push(reply);
        if (replies.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (const thread of threads) this.controlPorts.get(thread.threadId)?.postMessage({ ...request, requestId } as ControlRequest);
    });
    this.pending.delete(requestId);
    return replies;
  }

  /**
   * Resolves once every thread has loaded its module (it answers on the control channel), or
   * after `timeoutMs`. Sends handed to threads still loading would wait in Piscina's queue and
   * then leave all at once — which would bunch a rate-limited backend's evenly spaced sends.
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await this.broadcast({ type: 'collect' }, 100)).length < this.piscina.threads.length) {
      // broadcast waited up to 100 ms for the answers; ask again
    }
  }

  /** Every worker's metrics with its `worker` slot label; a busy or dead thread is left out. */
  async collectMetrics(timeoutMs = 1000): Promise<WorkerMetrics[]> {
    const replies = await this.broadcast({ type: 'collect' }, timeoutMs);
    const live = new Set(this.piscina.threads.map((thread) => thread.threadId));
    for (const threadId of this.slots.keys()) if (!live.has(threadId)) this.slots.delete(threadId);
    return replies.flatMap((reply) => {
      if (reply.type !== 'metrics') return [];
      const worker = String(this.slotOf(reply.threadId));
      return [reply.metrics.map((metric) => ({
        ...metric,
        values: metric.values.map((value) => ({ ...value, labels: { worker, ...value.labels } })),
      }))];
    });
  }

  private slotOf(threadId: number): number {
    let slot = this.slots.get(threadId);
    if (slot === undefined) {
      const taken = new Set(this.slots.values());
      slot = 0;
      while (taken.has(slot)) slot++;
      this.slots.set(threadId, slot);
    }
    return slot;
  }

  /** Lets each thread close its Agent (ending keep-alive connections cleanly), then stops them. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.broadcast({ type: 'close' }, timeoutMs);
    this.closed = true;
    for (const port of this.controlPorts.values()) port.close();
    await this.piscina.destroy();
  }
}

function isControlPortOffer(message: unknown): message is ControlPortOffer {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'control-port';
}
