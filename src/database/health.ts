// Readiness (DESIGN invariant 7): "I can accept enqueues" — the database answers and its schema
// is migrated — never "the provider is reachable". Checked in the background so /readyz and the
// API can answer at once during an outage instead of waiting on a dead connection.
import type { QueueStore } from '../queue/store.ts';

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

  /** Marks the database down at once when a query shows it is unreachable. */
  reportUnavailable(): void {
    this.up = false;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
