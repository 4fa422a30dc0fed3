// The producer: claims due emails under a lease and hands them to the worker pool.
//
// Two in-memory sets: *waiting* (claimed, not yet handed to a worker) and *in flight*. On every
// wake (NOTIFY, a local enqueue, the poll timer, a finished send) one claim-and-fill pass runs:
//   1. claim — when fewer than `capacity` claimed emails wait, claim due emails (priority, then
//              due time), up to 2 × capacity in all (waiting, paced, and slots in use: a batch
//              counts once, like a single send); again at once if the claim came back full;
//   2. fill  — hand waiting emails to the pool while fewer than `capacity` slots (an email on
//              its own request, or a batch-endpoint request; and paced emails) are in use;
//              waiting emails of one backend go to a thread together, several per task. An email of a rate-limited backend goes to the pacer; of a
//              paused backend, through its fallback (failover.ts), or when every backend of its
//              chain is paused back to the queue (held back); of a half-open backend, alone as
//              its probe; of a batching backend, with the waiting emails that fit (batching.ts).
// "Backend" below is the one the email's attempt goes through (`via`), not always the email's own.
// Every outcome goes to the completer.
import type { Logger } from 'pino';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { SendOutcome } from '../providers/provider.ts';
import type { ClaimedEmail, LeaseStore } from '../store/lease-store.ts';
import type { WorkerPool } from '../worker/pool.ts';
import type { Batching } from './batching.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Completer } from './completer.ts';
import { ErrorLog } from '../error-log.ts';
import type { Failover } from './failover.ts';
import type { LeaseReconciler } from './lease-reconciler.ts';
import type { Pacer } from './pacer.ts';
import { RetryShare } from './retry-share.ts';

export interface ProducerOptions {
  owner: string;
  /** The most emails one claim takes (POST_OFFICE_BATCH_SIZE). */
  batchSize: number;
  leaseSeconds: number;
}

export interface ProducerDeps {
  leases: LeaseStore;
  pool: WorkerPool;
  breaker: CircuitBreaker;
  batching: Batching;
  failover: Failover;
  completer: Completer;
  pacer: Pacer;
  metrics: MainMetrics;
  logger: Logger;
  /** Puts back, before a claim, what a claim or release that failed left leased to this sidecar. */
  reconciler?: LeaseReconciler;
}

function workerError(err: unknown): SendOutcome {
  return { outcome: 'retryable', code: 'WORKER_ERROR', message: err instanceof Error ? err.message : String(err) };
}

const recipientCount = (email: ClaimedEmail) => email.message.to.length + email.message.cc.length + email.message.bcc.length;

/** The outcome of an email whose every recipient is suppressed: it fails without a provider call. */
function allSuppressed(addresses: readonly string[]): SendOutcome {
  return { outcome: 'permanent', code: 'SUPPRESSED', message: `every recipient is on the suppression list: ${addresses.join(', ')}` };
}

export class Producer {
  private readonly options: ProducerOptions;
  private readonly deps: ProducerDeps;
  private readonly errors: ErrorLog;
  private readonly waiting: ClaimedEmail[] = [];
  private readonly inflight = new Map<string, ClaimedEmail>();
  /** Task slots in use: one per email sent on its own request, one per batch-endpoint request. */
  private slots = 0;
  /** Per backend, emails on a retry in flight: they may take at most half the pool. */
  private readonly retries = new RetryShare(() => this.deps.pool.capacity);
  private running = false;
  /** The claim pass under way, if any; stop() waits for it so nothing it claims is stranded. */
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private wakeScheduled = false;
  private drained: (() => void) | undefined;

  constructor(options: ProducerOptions, deps: ProducerDeps) {
    this.options = options;
    this.deps = deps;
    this.errors = new ErrorLog(deps.logger);
  }

  /** What the claim is measured against (see the top of this file). */
  private get load(): number {
    return this.waiting.length + this.slots + this.deps.pacer.size;
  }

  /** Every email held under a lease and not yet finished: waiting or in flight. */
  held(): string[] {
    return [...this.inflight.keys(), ...this.waiting.map((email) => email.id)];
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  /** Asks for a claim-and-fill pass soon; many wakes in one tick make one pass. */
  wake(): void {
    if (!this.running || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      void this.claim();
    });
  }

  private claim(): Promise<void> {
    if (this.claiming !== undefined) {
      this.claimAgain = true;
      return this.claiming;
    }
    this.claiming = this.claimPass().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  private async claimPass(): Promise<void> {
    const { leases, pool, metrics, reconciler } = this.deps;
    try {
      await reconciler?.settle();
      do {
        this.claimAgain = false;
        const room = 2 * pool.capacity - this.load;
        if (!this.running || this.waiting.length >= pool.capacity || room <= 0) break;
        // Every finished send wakes the producer: claiming the one or two free places each time
        // would make a query per email. Claim once a pool's worth is free (half the most that
        // may be held), or when nothing waits at all.
        if (room < Math.min(this.options.batchSize, pool.capacity) && this.waiting.length > 0) break;
        const limit = Math.min(this.options.batchSize, room);
        const claimed = await leases.claim(this.options.owner, limit, this.options.leaseSeconds);
        for (const email of claimed) {
          if (email.suppressed !== undefined) metrics.recipientsSuppressed.inc({ backend: email.backend }, email.suppressed.length);
          if (email.status === 'expired') metrics.finished.inc({ backend: email.backend, status: 'expired' });
          else if (email.suppressed !== undefined && recipientCount(email) === 0) this.deps.completer.record(email, allSuppressed(email.suppressed));
          else this.waiting.push({ ...email, via: this.deps.failover.plan(email) });
        }
        // Threads stopped while idle start before anything is handed to them, so paced sends
        // do not wait in Piscina's queue for the threads to load and then leave all at once.
        if (this.waiting.length > 0 && !pool.running) await pool.start();
        this.fill();
        if (claimed.length === limit) this.claimAgain = true;
      } while (this.claimAgain);
    } catch (err) {
      this.errors.error('claim failed', err);
    }
  }

  /** Hands waiting emails to the pool (or the pacer) while there is room. */
  fill(): void {
    const { pool, breaker, batching, pacer } = this.deps;
    const held: ClaimedEmail[] = [];
    const metered: ClaimedEmail[] = [];
    // Paced emails count: at its slot, an email must find a free task slot in the pool, or it
    // would queue there and leave later, bunched with others.
    // Retries that would take more than half the pool go back to the queue for a second (attempt
    // unspent): emails failing on their own (a call that never returns) cannot hold every
    // connection, nor every place in `waiting`.
    const later: ClaimedEmail[] = [];
    // Routed first, so emails failing over join their fallback's groups and batches; each again at its turn.
    for (const email of this.waiting) this.deps.failover.route(email);
    while (this.running && this.slots + pacer.size < pool.capacity) {
      let email = this.waiting.shift();
      if (email === undefined) break;
      if (!this.deps.failover.route(email)) {
        held.push(email);
        continue;
      }
      if (this.retries.full(email)) {
        later.push(email);
        continue;
      }
      if (pacer.paces(email.via)) {
        pacer.hold(email);
        metered.push(email);
      } else if (!breaker.allow(email.via)) {
        held.push(email);
      } else if (breaker.states()[email.via] !== 'closed') {
        // The one probe of a paused backend: the newest waiting email of it on its first attempt.
        // The oldest is the likeliest to be one that fails on its own (it has waited longest,
        // and the emails that opened the circuit were first in line).
        this.waiting.unshift(email);
        const probe = this.waiting.findLastIndex((other) => other.via === email!.via && other.attempt === 1);
        email = this.waiting.splice(probe === -1 ? 0 : probe, 1)[0]!;
        this.send(email);
      } else {
        const batch = batching.take(email, this.waiting);
        if (batch.length > 1) this.sendBatch(batch);
        else this.sendEach(this.takeSameBackend(email, pool.capacity - this.slots - pacer.size));
      }
    }
    if (later.length > 0) void this.release(later, new Date(Date.now() + 1000), 'sending retries back to the queue failed');
    if (held.length > 0) void this.holdBack(held);
    for (const [backend, group] of Map.groupBy(metered, (email) => email.via)) void pacer.reserve(backend, group);
  }

  /** Puts an email back at the front of the line (it missed its rate-limit slot, or its backend paused meanwhile). */
  retry(email: ClaimedEmail): void {
    this.waiting.unshift(email);
    this.fill();
  }

  /**
   * `first` and waiting emails of its backend, up to the pool's emails per task and `room`:
   * emails already waiting travel to a thread together, one message for several sends.
   */
  private takeSameBackend(first: ClaimedEmail, room: number): ClaimedEmail[] {
    const group = [first];
    const limit = Math.min(this.deps.pool.emailsPerTask, room);
    for (let i = 0; i < this.waiting.length && group.length < limit;) {
      const email = this.waiting[i]!;
      if (email.via === first.via && !this.retries.full(email, group)) group.push(...this.waiting.splice(i, 1));
      else i++;
    }
    return group;
  }

  send(email: ClaimedEmail): void {
    this.sendEach([email]);
  }

  /** Each email on its own request, in one pool task (each takes a slot). */
  private sendEach(emails: ClaimedEmail[]): void {
    this.slots += emails.length;
    this.going(emails);
    const done = (results: readonly SendOutcome[]) => this.finish(emails, results, emails.length);
    const failed = (err: unknown) => done(emails.map(() => workerError(err)));
    const [only] = emails;
    if (emails.length === 1 && only !== undefined) {
      this.deps.pool.run({ backend: only.via, message: only.message, template: only.template }).then((result) => done([result]), failed);
    } else {
      this.deps.pool.runEach(this.taskOf(emails)).then(done, failed);
    }
  }

  private taskOf(emails: readonly ClaimedEmail[]) {
    return { backend: emails[0]!.via, emails: emails.map((email) => ({ message: email.message, template: email.template })) };
  }

  /** Emails handed to the pool: in flight, their retries and failovers counted. */
  private going(emails: readonly ClaimedEmail[]): void {
    for (const email of emails) {
      this.retries.count(email);
      this.deps.failover.count(email);
      this.inflight.set(email.id, email);
    }
  }

  /** Emails through the backend's batch endpoint: one request, one slot. */
  private sendBatch(emails: ClaimedEmail[]): void {
    this.slots++;
    this.going(emails);
    this.deps.pool.runBatch(this.taskOf(emails)).then(
      (results) => this.finish(emails, results, 1),
      (err: unknown) => this.finish(emails, emails.map(() => workerError(err)), 1),
    );
  }

  /** Emails whose backend and its fallbacks are all paused go back to the queue, attempt unspent, due when a pause ends. */
  async holdBack(emails: readonly ClaimedEmail[]): Promise<void> {
    for (const [backend, group] of Map.groupBy(emails, (email) => email.via)) {
      await this.release(group, this.deps.failover.pausedUntil(backend), 'holding back emails of a paused backend failed');
    }
  }

  private async release(emails: readonly ClaimedEmail[], dueAt: Date, failure: string): Promise<void> {
    await this.deps.leases.release(this.options.owner, emails.map((email) => ({ id: email.id, dueAt })))
      .catch((err: unknown) => this.errors.error(failure, err));
  }

  /** One task's outcomes, one per email (a batch's whole-request failure is each email's). */
  private finish(emails: readonly ClaimedEmail[], results: readonly SendOutcome[], slots: number): void {
    this.slots -= slots;
    emails.forEach((email, i) => {
      const result = results[i] ?? workerError(new Error(`no outcome for email ${i + 1} of ${emails.length}`));
      this.inflight.delete(email.id);
      this.deps.breaker.record(email.via, result.outcome, Date.now(), email.attempt > 1);
      this.retries.count(email, -1);
      this.deps.completer.record(email, result);
    });
    if (this.running) {
      this.fill();
      this.wake();
    } else if (this.inflight.size === 0) {
      this.drained?.();
    }
  }

  /**
   * Stops claiming and filling; waits for a claim under way (a claim answered later would strand
   * its emails in `sending`), then returns the waiting emails, which were never started.
   */
  async stop(): Promise<ClaimedEmail[]> {
    this.running = false;
    await this.claiming;
    return this.waiting.splice(0);
  }

  /** Resolves when nothing is in flight, or after `graceMs`; returns how many are still in flight. */
  async settle(graceMs: number): Promise<number> {
    if (this.inflight.size > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    return this.inflight.size;
  }
}
