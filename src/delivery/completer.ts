// The completer: every send's outcome becomes a completion (decide.ts), buffered and written in
// batches — one guarded statement for everything that finished while the previous write ran. A
// write that fails is kept and tried again; if this sidecar's leases run out first, the emails
// are rescued and sent again elsewhere (at-least-once).
import type { Logger } from 'pino';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import type { SendOutcome } from '../providers/provider.ts';
import type { ClaimedEmail, Completion, Finished, LeaseStore } from '../store/lease-store.ts';
import { decide } from './decide.ts';
import { ErrorLog } from '../error-log.ts';

export interface CompleterOptions {
  /** This sidecar's lease owner name. */
  owner: string;
  retryBaseSeconds: number;
  /** Pause before trying a failed write again. */
  retryDelayMs: number;
  /**
   * How long an outcome may wait for others to share its write: one statement per few
   * milliseconds instead of one per finished send (each a round trip the database must wake for).
   */
  gatherMs: number;
}

/** Buffered outcomes written at once, without waiting for gatherMs. */
const FLUSH_AT = 1000;

/** Counts the emails that reached a final status, by backend. */
export function countFinished(metrics: MainMetrics, finished: readonly Finished[]): void {
  for (const email of finished) {
    if (email.status === 'sent' || email.status === 'failed' || email.status === 'expired') {
      metrics.finished.inc({ backend: email.backend, status: email.status });
    }
  }
}

export class Completer {
  private readonly options: CompleterOptions;
  private readonly leases: LeaseStore;
  private readonly metrics: MainMetrics;
  private readonly errors: ErrorLog;
  private buffered: Completion[] = [];
  /** The outcomes of the write under way. */
  private written: readonly Completion[] = [];
  private writing: Promise<void> | undefined;
  private gathering: NodeJS.Timeout | undefined;

  constructor(options: CompleterOptions, deps: { leases: LeaseStore; metrics: MainMetrics; logger: Logger }) {
    this.options = options;
    this.leases = deps.leases;
    this.metrics = deps.metrics;
    this.errors = new ErrorLog(deps.logger);
  }

  /** Something is buffered or being written. */
  get pending(): boolean {
    return this.writing !== undefined || this.buffered.length > 0;
  }

  /** The emails whose outcome is not written yet: their leases are still this sidecar's. */
  ids(): string[] {
    return [...this.written, ...this.buffered].map((completion) => completion.id);
  }

  /** Buffers the outcome of one email's attempt; it is written within gatherMs. */
  record(email: ClaimedEmail, result: SendOutcome): void {
    this.buffered.push(decide(email, result, this.options.retryBaseSeconds));
    this.schedule();
  }

  /** A write now when much is buffered, else one within gatherMs (unless one is set already). */
  private schedule(): void {
    if (this.buffered.length >= FLUSH_AT) void this.flush();
    else if (this.buffered.length > 0) this.gathering ??= setTimeout(() => void this.flush(), this.options.gatherMs);
  }

  /** Writes what is buffered in one statement; arrivals during a write go in the next. */
  flush(): Promise<void> {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    if (this.writing !== undefined) return this.writing;
    if (this.buffered.length === 0) return Promise.resolve();
    const batch = this.buffered;
    this.buffered = [];
    this.written = batch;
    this.writing = this.leases.complete(this.options.owner, batch).then(
      (finished) => countFinished(this.metrics, finished),
      (err: unknown) => {
        this.buffered = batch.concat(this.buffered);
        this.errors.error('recording results failed', err);
        return new Promise<void>((resolve) => setTimeout(resolve, this.options.retryDelayMs).unref());
      },
    ).finally(() => {
      this.written = [];
      this.writing = undefined;
      this.schedule();
    });
    return this.writing;
  }

  /** Writes what is left, giving up after `tries` writes if the database is gone (leases expire). */
  async drain(tries = 5): Promise<void> {
    for (let i = 0; i < tries && this.pending; i++) await this.flush();
  }
}
