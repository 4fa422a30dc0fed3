// One throttled error log per duty: during a database outage every tick of every duty fails, and
// one line per duty per interval says so without flooding the log. Each duty keeps its own, so a
// noisy one (claims failing every poll) cannot hide another's first error (completions failing).
import type { Logger } from 'pino';

export class ErrorLog {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly last = new Map<string, number>();

  constructor(logger: Logger, intervalMs = 10_000) {
    this.logger = logger;
    this.intervalMs = intervalMs;
  }

  /** Logs `what` unless the same `what` was logged within the interval. */
  error(what: string, err: unknown, now = Date.now()): void {
    if (now - (this.last.get(what) ?? -Infinity) < this.intervalMs) return;
    this.last.set(what, now);
    this.logger.error({ err: err instanceof Error ? err.message : String(err) }, what);
  }
}
