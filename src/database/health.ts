// Readiness (docs/contract.md, invariant 6): "I can accept enqueues" — the database answers and its schema
// is migrated — never "the provider is reachable". Checked in the background so /readyz and the
// API can answer at once during an outage instead of waiting on a dead connection.
import { PostOfficeError } from '../errors.ts';
import type { QueueStore } from '../store/store.ts';

/** What a client is told to wait before trying again while the database is down. */
const RETRY_AFTER_SECONDS = 5;

export class DatabaseHealth {
  private readonly store: QueueStore;
  private readonly schemaVersion: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  up = false;
  migrated = false;
  draining = false;

  constructor(store: QueueStore, schemaVersion: number, intervalMs = 2000) {
    this.store = store;
    this.schemaVersion = schemaVersion;
    this.intervalMs = intervalMs;
  }

  get ready(): boolean {
    return this.up && this.migrated && !this.draining;
  }

  /** Checks once now, then keeps checking in the background. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  check(): Promise<void> {
    this.running ??= this.store.schemaVersion().then(
      (version) => {
        this.up = true;
        this.migrated = version !== null && version >= this.schemaVersion;
      },
      () => {
        this.up = false;
      },
    ).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Fails fast while the database is known to be down, instead of queueing behind a timeout. */
  require(): void {
    if (!this.up) {
      throw new PostOfficeError('DATABASE_UNAVAILABLE', 'database: unreachable, try again shortly', { retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
  }

  /** Marks the database down at once when a query shows it is unreachable. */
  reportUnavailable(): void {
    this.up = false;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
