// One generation of worker threads: a fixed Piscina pool, the control port each thread offers
// once it has loaded, metric collection from every thread, and an orderly close in which each
// thread closes its own Agent. The pool (pool.ts) starts a generation when work arrives and
// closes it once the threads have been idle for a while.
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ControlPortOffer, ControlReply, ControlRequest, WorkerMetrics, WorkerSetup } from './messages.ts';

export class Threads {
  private readonly piscina: Piscina;
  /** threadId → the thread's control port (src/worker/worker.ts offers it once it has loaded). */
  private readonly controlPorts = new Map<number, MessagePort>();
  private readonly pending = new Map<number, (reply: ControlReply) => void>();
  /** threadId → stable slot "0".."N-1"; a replaced thread takes the lowest free slot. */
  private readonly slots = new Map<number, number>();
  private readonly threadCount: number;
  /** Called once every thread has offered its port, while ready() waits. */
  private loaded: (() => void) | undefined;
  private nextRequestId = 1;
  private closed = false;

  constructor(options: { threads: number; tasksPerThread: number; setup: WorkerSetup }) {
    this.threadCount = options.threads;
    this.piscina = new Piscina({
      // The built worker beside the built pool (dist/), the TypeScript one beside the source.
      filename: new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // A generation keeps its threads until the pool closes it; threads never retire one by one.
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: options.tasksPerThread,
      // Idle threads must keep servicing keep-alive sockets and metric requests, so they
      // may never park in a blocking Atomics.wait.
      atomics: 'disabled',
      // A small young generation: a thread holds a few messages at a time, and a 48 MiB nursery
      // per thread (V8's default ceiling) is memory every pod pays for once a burst has passed.
      // The image's --max-semi-space-size=1 applies to every thread and takes precedence; this
      // caps a process started without it (`node src/main.ts`, the tests).
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
      workerData: options.setup,
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
    if (this.controlPorts.size >= this.threadCount) this.loaded?.();
  }

  run(task: unknown, name?: string): Promise<unknown> {
    return this.piscina.run(task, name === undefined ? undefined : { name });
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
   * Resolves once every thread has loaded its module (it has offered its control port), or after
   * `timeoutMs`. Sends handed to threads still loading would wait in Piscina's queue and then
   * leave all at once — which would bunch a rate-limited backend's evenly spaced sends.
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.controlPorts.size >= this.threadCount) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.loaded = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.loaded = undefined;
  }

  /** Every worker's metrics with its `worker` slot label; a busy or dead thread is left out. */
  async collectMetrics(timeoutMs: number): Promise<WorkerMetrics[]> {
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
  async close(timeoutMs: number): Promise<void> {
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
