// The main thread's side of the worker threads. They start with the first task (a send, a
// render) and stop once they have had nothing to do for POST_OFFICE_THREAD_IDLE_SECONDS, so an
// idle sidecar holds no worker thread and the next task starts them again. What stopped threads
// counted stays in /metrics under their `worker` slots, so no counter goes back.
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.ts';
import { version } from '../version.ts';
import type { Renderer, SyntaxProblem } from '../templates/renderer.ts';
import type { RenderResult, TemplateContent, TemplateField } from '../templates/template.ts';
import type { RenderTask, SendBatchTask, SendOutcome, SendTask, WorkerMetrics, WorkerSetup } from './messages.ts';
import { Threads } from './threads.ts';

/** The thread pool: sends emails, and renders templates off the event loop that serves the API. */
export class WorkerPool implements Renderer {
  /** Emails the pool sends at once (each on its own request): threads × 2 × connections. */
  readonly capacity: number;
  /** The most emails one task carries to a thread. */
  readonly emailsPerTask: number;
  private readonly options: ConstructorParameters<typeof Threads>[0];
  /** 0: the threads never stop for being idle. */
  private readonly idleMs: number;
  private readonly logger: Pick<Logger, 'debug' | 'warn'> | undefined;
  /** The threads once every one has loaded; undefined while none run. */
  private live: Threads | undefined;
  private starting: Promise<Threads> | undefined;
  /** Threads on their way out: a task arriving meanwhile waits for them, then starts new ones. */
  private stopping: Promise<void> | undefined;
  /** Tasks handed to the threads and not yet answered. */
  private busy = 0;
  private idleSince = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The counters and histograms of threads that stopped, by `worker` slot; their gauges at 0. */
  private carried: WorkerMetrics = [];
  private closed = false;

  constructor(config: Config, logger?: Pick<Logger, 'debug' | 'warn'>) {
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
    this.options = { threads: config.threads, tasksPerThread, setup };
    this.idleMs = config.threadIdleSeconds * 1000;
    this.logger = logger;
  }

  /** True while the threads are up and loaded: a task goes to them at once. */
  get running(): boolean {
    return this.live !== undefined;
  }

  /** Starts the threads unless they run; resolves once every one has loaded its module. */
  start(): Promise<void> {
    return this.threads().then(() => undefined);
  }

  private threads(): Promise<Threads> {
    if (this.live !== undefined) return Promise.resolve(this.live);
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    this.starting ??= (async () => {
      while (this.stopping !== undefined) await this.stopping;
      const threads = new Threads(this.options);
      await threads.ready();
      this.live = threads;
      this.logger?.debug({ threads: this.options.threads }, 'worker threads started');
      return threads;
    })();
    return this.starting;
  }

  private async task<T>(run: (threads: Threads) => Promise<unknown>): Promise<T> {
    this.busy++;
    try {
      return (await run(this.live ?? (await this.threads()))) as T;
    } finally {
      if (--this.busy === 0) this.idle();
    }
  }

  run(task: SendTask): Promise<SendOutcome> {
    return this.task((threads) => threads.run(task));
  }

  /** Several emails of one backend in one task, each on its own request; outcomes in order. */
  runEach(task: SendBatchTask): Promise<SendOutcome[]> {
    return this.task((threads) => threads.run(task, 'sendEach'));
  }

  /** Several emails of one backend in one task, through its batch endpoint; outcomes in order. */
  runBatch(task: SendBatchTask): Promise<SendOutcome[]> {
    return this.task((threads) => threads.run(task, 'sendBatch'));
  }

  render(template: TemplateContent, context: Record<string, unknown>): Promise<RenderResult> {
    return this.task((threads) => threads.run({ template, context } satisfies RenderTask, 'render'));
  }

  checkSyntax(parts: Partial<Record<TemplateField, string>>): Promise<SyntaxProblem> {
    return this.task((threads) => threads.run(parts, 'checkSyntax'));
  }

  /** The last task has answered: the threads stop if none follows within the idle time. */
  private idle(): void {
    this.idleSince = Date.now();
    if (this.idleMs === 0 || this.idleTimer !== undefined) return;
    // One timer for a whole idle spell, not one per task: it looks again when it fires.
    const check = (): void => {
      this.idleTimer = undefined;
      if (this.busy > 0 || this.live === undefined) return;
      const left = this.idleSince + this.idleMs - Date.now();
      if (left > 0) this.idleTimer = setTimeout(check, left).unref();
      else this.stopIdle();
    };
    this.idleTimer = setTimeout(check, this.idleMs).unref();
  }

  private stopIdle(): void {
    const threads = this.live!;
    this.live = undefined;
    this.starting = undefined;
    this.stopping = (async () => {
      try {
        this.carried = await carry([this.carried, ...(await threads.collectMetrics(1000))]);
      } finally {
        await threads.close(5000);
      }
      this.logger?.debug({ idleSeconds: this.idleMs / 1000 }, 'worker threads stopped: idle; the next task starts them again');
    })()
      .catch((err: unknown) => this.logger?.warn({ err: (err as Error).message }, 'stopping idle worker threads failed'))
      .finally(() => {
        this.stopping = undefined;
      });
  }

  /** Every worker's metrics with its `worker` slot label, what stopped threads counted included; a busy or dead thread is left out. */
  async collectMetrics(timeoutMs = 1000): Promise<WorkerMetrics[]> {
    // Not while threads stop: their last counts are on their way into `carried`.
    while (this.stopping !== undefined) await this.stopping;
    const carried = this.carried;
    const live = (await this.live?.collectMetrics(timeoutMs)) ?? [];
    return carried.length === 0 ? live : [carried, ...live];
  }

  /** Lets each thread close its Agent (ending keep-alive connections cleanly), then stops them. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    while (this.stopping !== undefined) await this.stopping;
    const threads = this.live ?? (await this.starting);
    this.live = undefined;
    this.starting = undefined;
    await threads?.close(timeoutMs);
  }
}

/** Sums registries by metric, `worker` slot and labels; gauges (a thread's present state) read 0. */
async function carry(registries: WorkerMetrics[]): Promise<WorkerMetrics> {
  const summed = await AggregatorRegistry.aggregate(registries).getMetricsAsJSON();
  // The JSON names the type ("gauge"), though prom-client's typings declare a numeric enum.
  return summed.map((metric) => (String(metric.type) === 'gauge' ? { ...metric, values: metric.values.map((value) => ({ ...value, value: 0 })) } : metric));
}
