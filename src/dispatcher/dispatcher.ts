// The dispatcher: a reconcile loop on the main thread between the queue and the worker pool.
//
//   stopped ──start()──▶ running ──stop()──▶ draining ──▶ stopped
//
// While running, every wake (NOTIFY, a local enqueue, the poll timer, a finished send):
//   1. claim   — when fewer than `capacity` claimed emails wait, claim due emails (priority,
//                then due time) under a lease, up to 2 × capacity in all (waiting and paced
//                emails, plus tasks in flight: a batch counts once, like a single send);
//   2. fill    — hand waiting emails to the pool while fewer than `capacity` tasks are in flight;
//                for a backend with "batch": true, the waiting emails that can go with the first
//                are one task (batching.ts), answered with an outcome per email.
// Each result becomes a completion; completions are written in batches, guarded by lease owner
// and attempt. Every lease/3 the leases of everything held are extended (a send may be slow);
// every lease/2 the leases other sidecars left to expire (they died) are rescued. Emails of a
// backend whose circuit is open are not sent: they go back to the queue until it may be tried.
// Emails of a rate-limited backend are paced (rate-limiter.ts): fill hands them to pace, which
// reserves send slots fleet-wide; each is sent at its slot, and those without one go back to
// the queue, due when their turn may come. The circuit is asked at the slot, just before sending.
// Paced emails and probes of a paused backend are always sent one by one.
// Draining: claimed-but-unsent emails (waiting, or paced) are released at once (their attempt
// undone), in-flight sends get the grace period to finish and be recorded, then the pool may close.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { ClaimedEmail, Completion, Finished, QueueStore } from '../queue/store.ts';
import type { SendOutcome } from '../worker/messages.ts';
import type { WorkerPool } from '../worker/pool.ts';
import { Batching } from './batching.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { RateLimiter, Slot } from './rate-limiter.ts';
import { retryDelaySeconds } from './retry-policy.ts';

export interface DispatcherDeps {
  config: Config;
  store: QueueStore;
  pool: WorkerPool;
  metrics: MainMetrics;
  logger: Logger;
  breaker: CircuitBreaker;
  limiter: RateLimiter;
  /** This sidecar's lease owner name, unique per process. */
  owner: string;
}

/** Turns one send outcome into what is recorded. */
export function decide(email: ClaimedEmail, result: SendOutcome, retryBaseSeconds: number, now = Date.now()): Completion {
  const base = { id: email.id, attempt: email.attempt, providerMessageId: null, retryInSeconds: 0 };
  if (result.outcome === 'ok') return { ...base, status: 'sent', providerMessageId: result.providerMessageId, code: null, message: null };
  if (result.outcome === 'permanent') return { ...base, status: 'failed', code: result.code, message: result.message };
  if (email.attempt >= email.maxAttempts) {
    return { ...base, status: 'failed', code: result.code, message: `gave up after ${email.attempt} attempts: ${result.message}` };
  }
  const delay = retryDelaySeconds(email.attempt, retryBaseSeconds, result.retryAfterSeconds);
  if (email.expiresAt !== null && now + delay * 1000 >= email.expiresAt.getTime()) {
    return { ...base, status: 'expired', code: result.code, message: `expires before the next attempt: ${result.message}` };
  }
  return { ...base, status: 'queued', code: result.code, message: `retry in ${Math.ceil(delay)}s: ${result.message}`, retryInSeconds: delay };
}

function workerError(err: unknown): SendOutcome {
  return { outcome: 'retryable', code: 'WORKER_ERROR', message: (err as Error).message };
}

/** A rate-limited email between claim and send: reserving its slot, then waiting for it. */
interface Paced {
  email: ClaimedEmail;
  /** Set once a slot is reserved: the day it counts against, and the timer that sends it. */
  slot?: { day: string; timer: NodeJS.Timeout };
}

export class Dispatcher {
  private readonly deps: DispatcherDeps;
  private readonly waiting: ClaimedEmail[] = [];
  private readonly inflight = new Map<string, ClaimedEmail>();
  /** Pool tasks under way: one per email sent alone, one per batch. */
  private tasks = 0;
  private readonly batching: Batching;
  private readonly paced = new Map<string, Paced>();
  private completions: Completion[] = [];
  private timers: NodeJS.Timeout[] = [];
  private state: 'stopped' | 'running' | 'draining' = 'stopped';
  /** The claim pass under way, if any; stop() waits for it so nothing it claims is stranded. */
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  private wakeScheduled = false;
  private flushing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private lastErrorLog = 0;

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    this.batching = new Batching(deps.config.backends);
  }

  /** What the claim is measured against (see the top of this file). */
  private get load(): number {
    return this.waiting.length + this.tasks + this.paced.size;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'running';
    const { config } = this.deps;
    const every = (seconds: number, task: () => void) => {
      const timer = setInterval(task, seconds * 1000);
      timer.unref();
      this.timers.push(timer);
    };
    every(config.pollSeconds, () => this.wake());
    every(config.leaseSeconds / 3, () => void this.heartbeat());
    every(config.leaseSeconds / 2, () => void this.rescue());
    void this.rescue();
    this.wake();
  }

  /** Asks for a claim-and-fill pass soon; many wakes in one tick make one pass. */
  wake(): void {
    if (this.state !== 'running' || this.wakeScheduled) return;
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
    const { config, store, pool, owner } = this.deps;
    try {
      do {
        this.claimAgain = false;
        const room = 2 * pool.capacity - this.load;
        if (this.state !== 'running' || this.waiting.length >= pool.capacity || room <= 0) break;
        const limit = Math.min(config.batchSize, room);
        const claimed = await store.claim(owner, limit, config.leaseSeconds);
        for (const email of claimed) {
          if (email.status === 'expired') this.deps.metrics.finished.inc({ backend: email.backend, status: 'expired' });
          else this.waiting.push(email);
        }
        this.fill();
        if (claimed.length === limit) this.claimAgain = true;
      } while (this.claimAgain);
    } catch (err) {
      this.logError('claim failed', err);
    }
  }

  private fill(): void {
    const { pool, breaker, limiter } = this.deps;
    const held: ClaimedEmail[] = [];
    const metered: ClaimedEmail[] = [];
    // Paced emails count: at its slot, an email must find a free task slot in the pool, or it
    // would queue there and leave later, bunched with others.
    while (this.state === 'running' && this.tasks + this.paced.size < pool.capacity) {
      const email = this.waiting.shift();
      if (email === undefined) break;
      if (limiter.limits(email.backend)) {
        this.paced.set(email.id, { email });
        metered.push(email);
      } else if (!breaker.allow(email.backend)) {
        held.push(email);
      } else if (breaker.states()[email.backend] !== 'closed') {
        this.send(email); // the one probe of a paused backend
      } else {
        const batch = this.batching.take(email, this.waiting);
        if (batch.length > 1) this.sendBatch(batch);
        else this.send(email);
      }
    }
    if (held.length > 0) void this.holdBack(held);
    for (const [backend, group] of Map.groupBy(metered, (email) => email.backend)) void this.pace(backend, group);
  }

  private send(email: ClaimedEmail): void {
    this.tasks++;
    this.inflight.set(email.id, email);
    this.deps.pool.run({ backend: email.backend, message: email.message, template: email.template }).then(
      (result) => this.finish([email], [result]),
      (err: unknown) => this.finish([email], [workerError(err)]),
    );
  }

  private sendBatch(emails: ClaimedEmail[]): void {
    this.tasks++;
    for (const email of emails) this.inflight.set(email.id, email);
    const task = { backend: emails[0]!.backend, emails: emails.map((email) => ({ message: email.message, template: email.template })) };
    this.deps.pool.runBatch(task).then(
      (results) => this.finish(emails, results),
      (err: unknown) => this.finish(emails, emails.map(() => workerError(err))),
    );
  }

  /**
   * Reserves fleet-wide send slots for emails of a rate-limited backend and sends each at its
   * slot; those without one go back to the queue, due when their turn may come, attempt unspent.
   */
  private async pace(backend: string, emails: ClaimedEmail[]): Promise<void> {
    const { limiter, metrics, owner } = this.deps;
    const reservation = await limiter.reserve(backend, emails.length).catch((err: unknown) => {
      this.logError('reserving send slots failed', err);
      return limiter.nothing(emails.length);
    });
    const { day, slots, dueBack } = reservation;
    let unused = 0;
    emails.slice(0, slots.length).forEach((email, i) => {
      const paced = this.paced.get(email.id);
      if (paced === undefined) {
        unused++; // released by stop() while the reservation was on its way
        return;
      }
      const timer = setTimeout(() => this.atSlot(email, day, slots[i]!), Math.max(0, slots[i]!.at - Date.now()));
      timer.unref();
      paced.slot = { day, timer };
    });
    if (unused > 0) void this.refund(backend, day, unused);
    const back = emails.slice(slots.length).flatMap((email, i) =>
      this.paced.delete(email.id) ? [{ id: email.id, dueAt: dueBack[i]! }] : []);
    if (back.length === 0) return;
    metrics.rateLimited.inc({ backend }, back.length);
    await this.deps.store.release(owner, back).catch((err: unknown) => this.logError('sending rate-limited emails back to the queue failed', err));
    this.wake();
  }

  private atSlot(email: ClaimedEmail, day: string, slot: Slot): void {
    this.paced.delete(email.id);
    if (Date.now() > slot.latest) {
      // Too late for this slot (the event loop was busy): sending now could crowd the next
      // second, so the email asks for a new slot instead.
      void this.refund(email.backend, day, 1);
      this.deps.metrics.rateLimited.inc({ backend: email.backend });
      this.waiting.unshift(email);
      this.fill();
    } else if (this.deps.breaker.allow(email.backend)) {
      this.send(email);
    } else {
      void this.refund(email.backend, day, 1);
      void this.holdBack([email]);
    }
  }

  private refund(backend: string, day: string, count: number): Promise<void> {
    return this.deps.limiter.refund(backend, day, count).catch((err: unknown) => this.logError('refunding rate-limit allowance failed', err));
  }

  /** Emails of a paused backend go back to the queue, due when the pause ends, attempt unspent. */
  private async holdBack(emails: ClaimedEmail[]): Promise<void> {
    const { store, owner, breaker } = this.deps;
    const byBackend = Map.groupBy(emails, (email) => email.backend);
    for (const [backend, group] of byBackend) {
      const dueAt = breaker.pausedUntil(backend);
      await store.release(owner, group.map((email) => ({ id: email.id, dueAt })))
        .catch((err: unknown) => this.logError('holding back emails of a paused backend failed', err));
    }
  }

  /** One task's outcomes, one per email (a batch's whole-request failure is each email's). */
  private finish(emails: readonly ClaimedEmail[], results: readonly SendOutcome[]): void {
    this.tasks--;
    emails.forEach((email, i) => {
      const result = results[i] ?? workerError(new Error(`no outcome for email ${i + 1} of ${emails.length}`));
      this.inflight.delete(email.id);
      this.deps.breaker.record(email.backend, result.outcome);
      this.completions.push(decide(email, result, this.deps.config.retryBaseSeconds));
    });
    void this.flush();
    if (this.state === 'running') {
      this.fill();
      this.wake();
    } else if (this.inflight.size === 0) {
      this.drained?.();
    }
  }

  /** Writes buffered completions in one statement; arrivals during a write go in the next. */
  private flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    if (this.completions.length === 0) return Promise.resolve();
    const batch = this.completions;
    this.completions = [];
    this.flushing = this.deps.store.complete(this.deps.owner, batch).then(
      (finished) => this.countFinished(finished),
      (err: unknown) => {
        // Keep them for the next write; if the lease runs out first, another sidecar retries.
        this.completions = batch.concat(this.completions);
        this.logError('recording results failed', err);
        return new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
      },
    ).finally(() => {
      this.flushing = undefined;
      if (this.completions.length > 0) void this.flush();
    });
    return this.flushing;
  }

  private countFinished(finished: Finished[]): void {
    for (const email of finished) {
      if (email.status === 'sent' || email.status === 'failed' || email.status === 'expired') {
        this.deps.metrics.finished.inc({ backend: email.backend, status: email.status });
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const { store, owner, config } = this.deps;
    const ids = [...this.inflight.keys(), ...this.paced.keys(), ...this.waiting.map((email) => email.id)];
    await store.extendLeases(owner, ids, config.leaseSeconds).catch((err: unknown) => this.logError('extending leases failed', err));
  }

  private async rescue(): Promise<void> {
    try {
      const rescued = await this.deps.store.rescueExpiredLeases();
      if (rescued.length > 0) {
        this.deps.logger.warn({ count: rescued.length }, 'rescued emails whose sidecar let the lease expire');
        this.countFinished(rescued);
        this.wake();
      }
    } catch (err) {
      this.logError('rescuing expired leases failed', err);
    }
  }

  /** Cancels every paced email's slot (refunding the day's allowance) and returns their ids. */
  private async unpace(): Promise<string[]> {
    const unused = new Map<string, { backend: string; day: string; count: number }>();
    for (const { email, slot } of this.paced.values()) {
      if (slot === undefined) continue;
      clearTimeout(slot.timer);
      const { day } = slot;
      const key = `${email.backend}\n${day}`;
      const entry = unused.get(key) ?? { backend: email.backend, day, count: 0 };
      entry.count++;
      unused.set(key, entry);
    }
    const ids = [...this.paced.keys()];
    this.paced.clear();
    await Promise.all([...unused.values()].map(({ backend, day, count }) => this.refund(backend, day, count)));
    return ids;
  }

  private logError(what: string, err: unknown): void {
    // One line per 10 s at most: during a database outage every tick fails.
    if (Date.now() - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = Date.now();
    this.deps.logger.error({ err: (err as Error).message }, what);
  }

  /**
   * Stops claiming, releases what was claimed but not started, and waits up to `graceMs` for
   * in-flight sends to finish and be recorded. Returns how many were released and how many
   * were still in flight at the deadline (those keep their lease and return when it expires).
   */
  async stop(graceMs: number): Promise<{ released: number; unfinished: number }> {
    if (this.state !== 'running') return { released: 0, unfinished: 0 };
    this.state = 'draining';
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    // A claim answered after this point would strand its emails in `sending` until the lease ran out.
    await this.claiming;
    const unstarted = [...this.waiting.splice(0).map((email) => ({ id: email.id })), ...(await this.unpace()).map((id) => ({ id }))];
    const released = await this.deps.store.release(this.deps.owner, unstarted).catch((err: unknown) => {
      this.logError('releasing leases failed', err);
      return 0;
    });
    if (this.inflight.size > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    const unfinished = this.inflight.size;
    // Record what finished; give up after a few tries if the database is gone (the leases expire).
    for (let tries = 0; tries < 5 && (this.flushing !== undefined || this.completions.length > 0); tries++) await this.flush();
    this.state = 'stopped';
    return { released, unfinished };
  }
}
