// Delivery: the parts that move claimed emails to the providers, started and stopped together.
//
//   stopped ──start()──▶ running ──stop()──▶ draining ──▶ stopped
//
// - producer.ts      claims due emails under a lease and fills the worker pool;
// - pacer.ts         holds emails of rate-limited backends until their fleet-wide send slot;
// - failover.ts      says which backend each attempt goes through (a backend's fallback);
// - completer.ts     records outcomes in batches (decide.ts says what each outcome means);
// - lease-keeper.ts  extends this sidecar's leases and rescues those of sidecars that died;
// - lease-reconciler.ts puts back what a claim whose answer was lost leased to this sidecar.
// A poll timer (idle-poll.ts) wakes the producer in case a NOTIFY was missed (or LISTEN is off).
// Draining: claimed-but-unsent emails (waiting, or paced) are released at once (their attempt
// undone), in-flight sends get the grace period to finish and be recorded, then the pool may close.
import type { Logger } from 'pino';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { BackendSettings } from '../providers/kinds.ts';
import type { LeaseStore } from '../store/lease-store.ts';
import type { WorkerPool } from '../worker/pool.ts';
import { Batching } from './batching.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { Completer, countFinished } from './completer.ts';
import { ErrorLog } from '../error-log.ts';
import { Failover } from './failover.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { LeaseReconciler } from './lease-reconciler.ts';
import { IdlePoll } from './idle-poll.ts';
import { Pacer } from './pacer.ts';
import { Producer } from './producer.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface DeliveryOptions {
  /** This sidecar's lease owner name, unique per process. */
  owner: string;
  backends: Readonly<Record<string, BackendSettings>>;
  pollSeconds: number;
  /** The longest poll interval while idle with LISTEN working (idle-poll.ts). */
  idlePollSeconds: number;
  leaseSeconds: number;
  /** The most emails one claim takes. */
  batchSize: number;
  retryBaseSeconds: number;
}

export interface DeliveryDeps {
  leases: LeaseStore;
  pool: WorkerPool;
  breaker: CircuitBreaker;
  limiter: RateLimiter;
  metrics: MainMetrics;
  logger: Logger;
}

export class Delivery {
  private readonly producer: Producer;
  private readonly pacer: Pacer;
  private readonly completer: Completer;
  private readonly leaseKeeper: LeaseKeeper;
  private readonly leases: LeaseStore;
  private readonly owner: string;
  private readonly poll: IdlePoll;
  private readonly errors: ErrorLog;
  private state: 'stopped' | 'running' | 'draining' = 'stopped';

  constructor(options: DeliveryOptions, deps: DeliveryDeps) {
    const { owner } = options;
    const { metrics, logger, breaker } = deps;
    // Everything this sidecar holds a lease on: claimed and not sent, paced, in flight, or sent
    // with its outcome not yet written.
    const held = () => [...this.producer.held(), ...this.pacer.ids(), ...this.completer.ids()];
    const reconciler = new LeaseReconciler(owner, { leases: deps.leases, logger }, held);
    this.poll = new IdlePoll({ pollSeconds: options.pollSeconds, idlePollSeconds: options.idlePollSeconds }, { leases: deps.leases, logger }, () => this.producer.wake());
    const leases = this.poll.watch(reconciler.watch(deps.leases));
    this.leases = leases;
    this.owner = owner;
    this.errors = new ErrorLog(logger);
    // Outcomes wait up to 50 ms to share a write. Providers answer in tens of milliseconds, so
    // outcomes trickle in; with 10 ms a statement carried a dozen, each planned and committed
    // anew, and PostgreSQL spent about 45 % more CPU per email (README § Benchmark).
    this.completer = new Completer({ owner, retryBaseSeconds: options.retryBaseSeconds, retryDelayMs: 1000, gatherMs: 50 }, { leases, metrics, logger });
    // The pacer and the producer hand emails to each other; the hooks close over both.
    this.pacer = new Pacer(owner, { limiter: deps.limiter, leases, metrics, logger }, {
      send: (email) => this.producer.send(email),
      retry: (email) => this.producer.retry(email),
      // Back to the producer, which sends it through a fallback or holds it back.
      holdBack: (email) => this.producer.retry(email),
      allow: (backend) => breaker.allow(backend),
      released: () => this.producer.wake(),
    });
    this.producer = new Producer(
      { owner, batchSize: options.batchSize, leaseSeconds: options.leaseSeconds },
      { leases, pool: deps.pool, breaker, batching: new Batching(options.backends),
        failover: new Failover(options.backends, { breaker, metrics }), completer: this.completer, pacer: this.pacer, metrics, logger, reconciler },
    );
    this.leaseKeeper = new LeaseKeeper({ owner, leaseSeconds: options.leaseSeconds }, { leases, logger }, {
      held,
      rescued: (finished) => {
        countFinished(metrics, finished);
        this.producer.wake();
      },
    });
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'running';
    this.poll.start();
    this.leaseKeeper.start();
    this.producer.start();
  }

  /** Asks for a claim-and-fill pass soon (NOTIFY, a local enqueue). */
  wake(): void {
    if (this.state !== 'running') return;
    this.poll.woken();
    this.producer.wake();
  }

  /** Tells the poll whether NOTIFY reaches this sidecar (it backs off while idle only then). */
  listenWith(listening: () => boolean): void {
    this.poll.listening = listening;
  }

  /**
   * Stops claiming, releases what was claimed but not started, and waits up to `graceMs` for
   * in-flight sends to finish and be recorded. Returns how many were released and how many
   * were still in flight at the deadline (those keep their lease and return when it expires).
   */
  async stop(graceMs: number): Promise<{ released: number; unfinished: number }> {
    if (this.state !== 'running') return { released: 0, unfinished: 0 };
    this.state = 'draining';
    this.poll.stop();
    this.leaseKeeper.stop();
    const waiting = await this.producer.stop();
    const unstarted = [...waiting.map((email) => email.id), ...(await this.pacer.cancelAll())].map((id) => ({ id }));
    const released = await this.leases.release(this.owner, unstarted).catch((err: unknown) => {
      this.errors.error('releasing leases failed', err);
      return 0;
    });
    const unfinished = await this.producer.settle(graceMs);
    await this.completer.drain();
    this.state = 'stopped';
    return { released, unfinished };
  }
}
