// Retention: deletes finished emails (sent, failed, expired, cancelled) older than the retention
// period with their logs and attachment links, then attachment blobs no email references any
// more, then old idempotency keys. Never a queued or sending email.
//
//   stopped ──start()──▶ waiting ──timer──▶ running ──▶ waiting … ──stop()──▶ stopped
//
// Each run first takes the fleet-wide retention lease without waiting: if another sidecar holds
// it, that sidecar is cleaning up and this one skips the round. Work is done in batches of
// `batchSize` rows, each its own short transaction that also renews the lease (so nothing is
// held on a connection between batches, as a transaction pooler requires), until a batch comes
// back short. stop()
// lets the batch under way finish, then the run ends; the next run (here or in another
// sidecar) carries on where it stopped. The first run comes shortly after start, at a random
// moment so a fleet that starts together does not queue on the lock; later runs come every
// interval ± 10 %.
import type { Logger } from 'pino';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import { UNMATCHED_EVENT_DAYS } from '../store/event-store.ts';
import type { RetentionSession, RetentionStore } from '../store/retention-store.ts';

export interface CleanupSettings {
  /** Finished emails last updated longer ago than this are deleted, and keys created before it. */
  days: number;
  /** Rows per statement. */
  batchSize: number;
  /** An orphaned blob is kept until nothing has referenced it for this long (see 0003). */
  blobMarginSeconds: number;
}

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_BLOB_MARGIN_SECONDS = 3600;

export type CleanupKind = 'emails' | 'attachments' | 'idempotency_keys' | 'unmatched_events';
export type CleanupCounts = Record<CleanupKind, number>;

/** One batch done: how many rows it deleted and how many of that kind the run has deleted so far. */
export interface BatchProgress {
  kind: CleanupKind;
  deleted: number;
  total: number;
}

export interface CleanupHooks {
  /** Awaited after every batch that deleted something, while the lease is held. */
  onBatch?: (progress: BatchProgress) => void | Promise<void>;
  /** Asked before every batch: true ends the run early. */
  stopping?: () => boolean;
}

/**
 * Runs every step in batches on a session that holds the retention lease. Emails go first, so
 * blobs they were the last to reference are orphans by the time blobs are looked at.
 * Returns the counts and whether every step ran to the end.
 */
export async function cleanUp(session: RetentionSession, settings: CleanupSettings, hooks: CleanupHooks = {}): Promise<{ deleted: CleanupCounts; complete: boolean }> {
  const { days, batchSize, blobMarginSeconds } = settings;
  const deleted: CleanupCounts = { emails: 0, attachments: 0, idempotency_keys: 0, unmatched_events: 0 };
  const steps: [CleanupKind, () => Promise<number>][] = [
    ['emails', () => session.deleteFinishedEmails(days, batchSize)],
    ['attachments', () => session.deleteOrphanedBlobs(blobMarginSeconds, batchSize)],
    ['idempotency_keys', () => session.deleteIdempotencyKeys(days, batchSize)],
    ['unmatched_events', () => session.deleteUnmatchedEvents(UNMATCHED_EVENT_DAYS, batchSize)],
  ];
  for (const [kind, batch] of steps) {
    for (;;) {
      if (hooks.stopping?.() === true) return { deleted, complete: false };
      const count = await batch();
      deleted[kind] += count;
      if (count > 0) await hooks.onBatch?.({ kind, deleted: count, total: deleted[kind] });
      if (count < batchSize) break;
    }
  }
  return { deleted, complete: true };
}

export type RunResult = 'ok' | 'skipped_locked' | 'failed';

export interface RunReport {
  result: RunResult;
  deleted: CleanupCounts;
  /** False when stop() (or a failure) ended the run before every step was done. */
  complete: boolean;
  durationMs: number;
}

export interface CleanupJobDeps {
  store: RetentionStore;
  logger: Logger;
  settings: CleanupSettings;
  metrics?: Pick<MainMetrics, 'retentionDeleted' | 'retentionRuns'>;
  intervalSeconds: number;
  /** The first run comes at a random moment within this many seconds of start(). */
  firstRunWithinSeconds?: number;
  /** Awaited after every batch (the CLI prints progress; tests hold a run mid-way). */
  onBatch?: CleanupHooks['onBatch'];
}

export class CleanupJob {
  private readonly deps: CleanupJobDeps;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<RunReport> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(deps: CleanupJobDeps) {
    this.deps = deps;
  }

  start(): void {
    if (this.started || this.stopped !== undefined) return;
    this.started = true;
    const within = Math.min(this.deps.firstRunWithinSeconds ?? 60, this.deps.intervalSeconds);
    this.schedule(Math.random() * within * 1000);
  }

  private schedule(delayMs: number): void {
    if (this.stopped !== undefined) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule(this.deps.intervalSeconds * 1000 * (0.9 + 0.2 * Math.random())));
    }, delayMs);
    // A pending cleanup must never keep the process alive.
    this.timer.unref();
  }

  /** One run now; a run already under way is joined rather than overlapped. Never rejects. */
  runOnce(): Promise<RunReport> {
    this.current ??= this.run().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async run(): Promise<RunReport> {
    const { store, logger, settings, metrics, onBatch } = this.deps;
    const startedAt = performance.now();
    let deleted: CleanupCounts = { emails: 0, attachments: 0, idempotency_keys: 0, unmatched_events: 0 };
    const report = (result: RunResult, complete: boolean): RunReport => {
      metrics?.retentionRuns.inc({ result });
      return { result, deleted, complete, durationMs: Math.round(performance.now() - startedAt) };
    };
    let session: RetentionSession | null = null;
    try {
      session = await store.tryLock();
      if (session === null) {
        logger.debug('retention skipped: another sidecar is cleaning up');
        return report('skipped_locked', false);
      }
      const outcome = await cleanUp(session, settings, {
        stopping: () => this.stopped !== undefined,
        onBatch: async (progress) => {
          // Counted per batch, so a long first run shows progress on dashboards.
          metrics?.retentionDeleted.inc({ kind: progress.kind }, progress.deleted);
          deleted = { ...deleted, [progress.kind]: progress.total };
          await onBatch?.(progress);
        },
      });
      await session.release();
      const done = report('ok', outcome.complete);
      logger.info({ days: settings.days, deleted, durationMs: done.durationMs, complete: outcome.complete }, 'retention run finished');
      return done;
    } catch (err) {
      await session?.release(err);
      const failed = report('failed', false);
      logger.warn({ err: (err as Error).message, deleted, durationMs: failed.durationMs }, 'retention run failed');
      return failed;
    }
  }

  /** Idempotent: no more runs; a run under way finishes its current batch first. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearTimeout(this.timer);
      await this.current;
    })();
    return this.stopped;
  }
}
