// The events sender: POSTs the rows of app_events to POST_OFFICE_EVENTS_URL, signed, and deletes
// each one the application answered 2xx; any other answer (or none within the timeout) puts it
// back with exponential backoff. Every sidecar with the URL set runs one; the claim's lease and
// "oldest row of its email only" rule (src/store/app-event-store.ts) keep one email's events in
// order across all of them.
//
//   stopped ──start()──▶ running: claim up to the free slots, POST each, claim again when one ends
//                        (the claim also deletes the events answered 2xx since the last one);
//                        nothing due: sleep until wake() (a write in this process) or the poll;
//                        a failed POST pauses claiming (1 s doubling to 60 s) until one succeeds
//                        ──stop(grace)──▶ no new claims; in-flight POSTs get the grace, then are
//                        aborted; every lease still held is released ──▶ stopped
import type { Logger } from 'pino';
import { Pool, request } from 'undici';
import type { AppEventMetrics } from '../metrics/main-metrics.ts';
import type { AppEventStore, ClaimedEvent } from '../store/app-event-store.ts';
import { ErrorLog } from '../error-log.ts';
import { version } from '../version.ts';
import { signatureHeader } from './signature.ts';

export interface SenderOptions {
  url: string;
  secret: string;
  owner: string;
  /** POSTs in flight at most. */
  concurrency: number;
  timeoutMs: number;
  /** How often an idle sender looks for events other sidecars wrote (one indexed query). */
  pollMs: number;
  /** Undelivered events older than this are dropped on their next failure; 0 keeps them for ever. */
  maxAgeDays: number;
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_TIMEOUT_MS = 10_000;
const FIRST_RETRY_SECONDS = 1;
const MAX_RETRY_SECONDS = 600;
/**
 * Rounds (one statement each) start at most this often: while delivery writes events and POSTs
 * end every millisecond, the wakes of 10 ms make one round, not one each.
 */
const MIN_ROUND_MS = 10;
/** The longest the whole sender waits between claims while every POST fails. */
const MAX_PAUSE_SECONDS = 60;

/** 1 s doubling per failed attempt up to `max` (10 min), ± 20 % so a fleet's retries spread out. */
export function retryDelaySeconds(failedAttempts: number, max = MAX_RETRY_SECONDS, random: () => number = Math.random): number {
  const delay = Math.min(max, FIRST_RETRY_SECONDS * 2 ** Math.min(30, Math.max(0, failedAttempts - 1)));
  return delay * (0.8 + 0.4 * random());
}

/** The body the application receives: the row id first, then the stored payload. */
export function eventBody(event: ClaimedEvent): string {
  const { type, email_id, at, ...rest } = event.payload;
  return JSON.stringify({ id: Number(event.id), type, email_id, at, ...rest });
}

export class EventSender {
  private readonly options: SenderOptions;
  private readonly store: AppEventStore;
  private readonly metrics: AppEventMetrics;
  private readonly logger: Logger;
  private readonly errors: ErrorLog;
  private readonly pool: Pool;
  private readonly leaseSeconds: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Claimed, waiting for a free slot: the next claim runs while these are being sent. */
  private waiting: { event: ClaimedEvent; claimedAt: number }[] = [];
  /** Answered 2xx, not yet deleted: the next claim deletes them in the same statement. */
  private delivered: string[] = [];
  private readonly abort = new AbortController();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Failed pauses since the last 2xx: while the app is down, the sender pauses as well. */
  private failuresInARow = 0;
  private pausedUntil = 0;
  private lastRound = 0;

  constructor(options: SenderOptions, deps: { store: AppEventStore; metrics: AppEventMetrics; logger: Logger }) {
    this.options = options;
    this.store = deps.store;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.errors = new ErrorLog(deps.logger);
    const url = new URL(options.url);
    this.pool = new Pool(url.origin, { connections: options.concurrency, keepAliveTimeout: 30_000 });
    // Longer than a POST can take, so a live sender never loses a lease to another one.
    this.leaseSeconds = Math.ceil(options.timeoutMs / 1000) * 2 + 10;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Sends at once instead of at the next poll: rows were just written. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops claiming, gives in-flight POSTs `graceMs`, aborts the rest and releases every lease (waiting ones too). */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.inFlight.values()),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    this.abort.abort();
    await Promise.allSettled(this.inFlight.values());
    await this.store.delivered(this.delivered.splice(0)).catch((err: unknown) => this.errors.error('deleting delivered events failed', err));
    await this.store.release(this.options.owner).catch((err: unknown) => this.errors.error('releasing event leases failed', err));
    await this.pool.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      // The app is failing: one claim per pause, not per poll, so an outage costs the database
      // little however many events wait (their rows stay due; each email's oldest is backed off).
      const paused = this.pausedUntil - Date.now();
      if (paused > 0) {
        await this.sleep(paused);
        continue;
      }
      const since = Date.now() - this.lastRound;
      if (since < MIN_ROUND_MS) await new Promise((resolve) => setTimeout(resolve, MIN_ROUND_MS - since));
      this.lastRound = Date.now();
      // Up to one slot's worth of events waits beside each POST in flight.
      const room = 2 * this.options.concurrency - this.inFlight.size - this.waiting.length;
      const done = this.delivered.splice(0);
      let claimed: ClaimedEvent[] = [];
      this.woken = false;
      if (room > 0 || done.length > 0) {
        try {
          claimed = await this.store.claim(this.options.owner, Math.max(0, room), this.leaseSeconds, done);
        } catch (err) {
          this.delivered.push(...done);
          this.errors.error('claiming events failed', err);
        }
      }
      const claimedAt = Date.now();
      this.waiting.push(...claimed.map((event) => ({ event, claimedAt })));
      this.fill();
      // A full batch may mean more are due; otherwise wait for a slot, a wake or the poll.
      if (claimed.length > 0 && claimed.length === room) continue;
      if (!this.running) break;
      await this.sleep(this.woken ? 0 : this.options.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /** Starts waiting events while slots are free (not while the app is failing, nor stopping). */
  private fill(): void {
    while (this.running && this.inFlight.size < this.options.concurrency && this.pausedUntil <= Date.now()) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      // Its lease may run out before the POST ends: leave it to the next claim (here or elsewhere).
      if (Date.now() - next.claimedAt > (this.leaseSeconds * 1000) / 2) continue;
      this.send(next.event);
    }
  }

  private send(event: ClaimedEvent): void {
    const sending = this.post(event).finally(() => {
      this.inFlight.delete(event.id);
      this.fill();
      // The email's next event may be due now, and there is room to claim.
      this.wake();
    });
    this.inFlight.set(event.id, sending);
  }

  private async post(event: ClaimedEvent): Promise<void> {
    let error: string;
    try {
      const body = eventBody(event);
      const response = await request(this.options.url, {
        dispatcher: this.pool,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `post-office/${version}`,
          'post-office-signature': signatureHeader(this.options.secret, body),
          'post-office-event-id': event.id,
        },
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.failuresInARow = 0;
        this.pausedUntil = 0;
        this.delivered.push(event.id);
        this.metrics.appEvents.inc({ result: 'delivered' });
        return;
      }
      error = `the application answered ${response.statusCode}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (this.abort.signal.aborted) return; // stop() releases the lease; the attempt does not count
    this.metrics.appEvents.inc({ result: 'failed' });
    // POSTs that were in flight together fail together: they deepen the pause once.
    if (Date.now() >= this.pausedUntil) {
      this.failuresInARow++;
      this.pausedUntil = Date.now() + retryDelaySeconds(this.failuresInARow, MAX_PAUSE_SECONDS) * 1000;
    }
    try {
      const dropped = await this.store.failed(this.options.owner, event.id, error, retryDelaySeconds(event.attempts + 1), this.options.maxAgeDays);
      if (dropped) this.logger.warn({ event: event.id, email: event.payload.email_id, error }, `event dropped: undelivered for ${this.options.maxAgeDays} days`);
    } catch (err) {
      // The lease runs out and the event is claimed again.
      this.errors.error('recording an event failure failed', err);
    }
  }
}
