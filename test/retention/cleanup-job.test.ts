// Retention (src/retention/cleanup-job.ts): what it deletes and what it never deletes, in
// batches, one sidecar at a time, and stopping after the batch under way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/logger.ts';
import { createMainMetrics, type MainMetrics } from '../../src/metrics/main-metrics.ts';
import { RetentionStore } from '../../src/store/retention-store.ts';
import { QueueStore } from '../../src/store/store.ts';
import { CleanupJob, type BatchProgress, type CleanupJobDeps } from '../../src/retention/cleanup-job.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { count, insertBlob, insertEmail, insertEmails, insertIdempotencyKey } from '../helpers/history.ts';
import { connect, eventually, startSidecar } from '../helpers/sidecar.ts';

const HOUR = 3600;

async function setup() {
  const databaseUrl = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  defer(() => pool.end());
  return { databaseUrl, pool, db: await connect(databaseUrl) };
}

/** A job on its own metrics registry, never started: tests call runOnce(). */
function job(pool: pg.Pool, options: Partial<CleanupJobDeps['settings']> & Pick<CleanupJobDeps, 'onBatch'> = {}) {
  const { onBatch, ...settings } = options;
  const metrics = createMainMetrics(new QueueStore(pool));
  const cleanup = new CleanupJob({
    store: new RetentionStore(pool),
    logger: createLogger('silent'),
    metrics,
    settings: { days: 30, batchSize: 1000, blobMarginSeconds: HOUR, ...settings },
    intervalSeconds: 3600,
    onBatch,
  });
  defer(() => cleanup.stop());
  return { cleanup, metrics };
}

async function counter(metrics: MainMetrics, metric: 'retentionDeleted' | 'retentionRuns', label: string): Promise<number> {
  const { values } = await metrics[metric].get();
  return values.find((value) => Object.values(value.labels).includes(label))?.value ?? NaN;
}

test('deletes old sent, failed, expired and cancelled emails with their logs; never queued or sending, however old', async () => {
  const { pool, db } = await setup();
  const statuses = ['sent', 'failed', 'expired', 'cancelled', 'queued', 'sending'] as const;
  const old = new Map<string, string>();
  for (const status of statuses) {
    old.set(status, await insertEmail(db, { status, ageDays: 400, logs: 2 }));
    await insertEmail(db, { status, ageDays: 29, logs: 2 });
  }
  const { cleanup, metrics } = job(pool);
  assert.equal(await counter(metrics, 'retentionRuns', 'ok'), 0, 'series exist before the first run');

  const report = await cleanup.runOnce();

  assert.equal(report.result, 'ok');
  assert.equal(report.complete, true);
  assert.deepEqual(report.deleted, { emails: 4, attachments: 0, idempotency_keys: 0, unmatched_events: 0 });
  const left = (await db.query<{ id: string; status: string; age: number }>(
    `SELECT id, status, extract(day FROM now() - updated_at)::int AS age FROM emails ORDER BY status, age`)).rows;
  assert.deepEqual(
    left.map((row) => `${row.status}:${row.age > 30 ? 'old' : 'recent'}`),
    ['cancelled:recent', 'expired:recent', 'failed:recent', 'queued:recent', 'queued:old', 'sending:recent', 'sending:old', 'sent:recent'],
  );
  assert.ok(left.some((row) => row.id === old.get('queued')) && left.some((row) => row.id === old.get('sending')));
  assert.equal(await count(db, 'SELECT count(*) FROM email_logs'), 2 * left.length, 'the logs of deleted emails went with them');
  assert.equal(await counter(metrics, 'retentionDeleted', 'emails'), 4);
  assert.equal(await counter(metrics, 'retentionRuns', 'ok'), 1);

  assert.deepEqual((await cleanup.runOnce()).deleted, { emails: 0, attachments: 0, idempotency_keys: 0, unmatched_events: 0 }, 'a second run finds nothing');
});

test('orphaned attachment blobs go; one still linked to a live email stays, and so does one referenced within the margin', async () => {
  const { pool, db } = await setup();
  const onlyOld = await insertBlob(db, 'only an old email had this', 2 * HOUR);
  const shared = await insertBlob(db, 'an old and a queued email have this', 2 * HOUR);
  const recentSent = await insertBlob(db, 'a recently sent email has this', 2 * HOUR);
  const justReferenced = await insertBlob(db, 'referenced a minute ago, no links yet', 60);
  const longOrphaned = await insertBlob(db, 'nothing links to this', 2 * HOUR);
  const oldEmail = await insertEmail(db, { status: 'sent', ageDays: 40, blobs: [onlyOld, shared] });
  await insertEmail(db, { status: 'queued', ageDays: 40, blobs: [shared] });
  await insertEmail(db, { status: 'sent', ageDays: 1, blobs: [recentSent] });

  const { cleanup, metrics } = job(pool);
  const report = await cleanup.runOnce();

  assert.deepEqual(report.deleted, { emails: 1, attachments: 2, idempotency_keys: 0, unmatched_events: 0 });
  assert.equal(await count(db, 'SELECT count(*) FROM email_attachments WHERE email_id = $1', [oldEmail]), 0, 'links go with their email');
  const blobs = (await db.query<{ sha256: string }>('SELECT sha256 FROM attachment_blobs')).rows.map((row) => row.sha256);
  assert.deepEqual(blobs.sort(), [shared, recentSent, justReferenced].sort());
  assert.ok(!blobs.includes(onlyOld) && !blobs.includes(longOrphaned));
  assert.equal(await counter(metrics, 'retentionDeleted', 'attachments'), 2);
});

test('idempotency keys older than the retention period expire, unless their email is still waiting to be sent', async () => {
  const { pool, db } = await setup();
  const sent = await insertEmail(db, { status: 'sent', ageDays: 40 });
  const scheduled = await insertEmail(db, { status: 'queued', ageDays: 40 });
  await insertIdempotencyKey(db, 'old', 40, [sent]);
  await insertIdempotencyKey(db, 'recent', 2, [sent]);
  await insertIdempotencyKey(db, 'old-but-queued', 40, [scheduled]);

  const { cleanup, metrics } = job(pool);
  assert.deepEqual((await cleanup.runOnce()).deleted, { emails: 1, attachments: 0, idempotency_keys: 1, unmatched_events: 0 });
  const keys = (await db.query<{ key: string }>('SELECT key FROM idempotency_keys ORDER BY key')).rows.map((row) => row.key);
  assert.deepEqual(keys, ['old-but-queued', 'recent']);
  assert.equal(await counter(metrics, 'retentionDeleted', 'idempotency_keys'), 1);
});

test('with a tiny batch size the run loops, batch after batch, until everything old is gone', async () => {
  const { pool, db } = await setup();
  await insertEmails(db, 10, { status: 'sent', ageDays: 31, logs: 1 });
  await insertEmail(db, { status: 'queued', ageDays: 31 });
  for (let i = 0; i < 5; i++) await insertBlob(db, `orphan ${i}`, 2 * HOUR);
  const batches: BatchProgress[] = [];
  const { cleanup } = job(pool, { batchSize: 4, onBatch: (progress) => void batches.push(progress) });

  const report = await cleanup.runOnce();

  assert.deepEqual(batches.map(({ kind, deleted, total }) => `${kind} ${deleted} ${total}`), [
    'emails 4 4', 'emails 4 8', 'emails 2 10',
    'attachments 4 4', 'attachments 1 5',
  ]);
  assert.deepEqual(report.deleted, { emails: 10, attachments: 5, idempotency_keys: 0, unmatched_events: 0 });
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 1);
});

test('one sidecar at a time: of two jobs started together on one database, one cleans up and the other skips the round', async () => {
  const { pool, db } = await setup();
  await insertEmails(db, 3, { status: 'failed', ageDays: 90 });
  // Whichever job takes the lock waits here, holding it, until the other has given up.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const a = job(pool, { onBatch: () => gate });
  const b = job(pool, { onBatch: () => gate });

  const runs = [a.cleanup.runOnce(), b.cleanup.runOnce()];
  const first = await Promise.race(runs);
  assert.equal(first.result, 'skipped_locked');
  assert.deepEqual(first.deleted, { emails: 0, attachments: 0, idempotency_keys: 0, unmatched_events: 0 });
  open();
  const reports = await Promise.all(runs);

  assert.deepEqual(reports.map((report) => report.result).sort(), ['ok', 'skipped_locked']);
  assert.equal(reports.find((report) => report.result === 'ok')?.deleted.emails, 3);
  const runsBy = async (result: string) => (await counter(a.metrics, 'retentionRuns', result)) + (await counter(b.metrics, 'retentionRuns', result));
  assert.equal(await runsBy('ok'), 1);
  assert.equal(await runsBy('skipped_locked'), 1);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 0);
  assert.equal((await b.cleanup.runOnce()).result, 'ok', 'the lock was given back');
});

test('stop() lets the batch under way finish, ends the run and gives the lock back; it is idempotent', async () => {
  const { pool, db } = await setup();
  await insertEmails(db, 6, { status: 'sent', ageDays: 60 });
  let stopped: Promise<void> | undefined;
  const { cleanup } = job(pool, {
    batchSize: 2,
    onBatch: () => {
      stopped ??= cleanup.stop();
    },
  });

  const report = await cleanup.runOnce();
  await stopped;
  await cleanup.stop();

  assert.equal(report.result, 'ok');
  assert.equal(report.complete, false);
  assert.equal(report.deleted.emails, 2);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 4);
  assert.equal((await job(pool).cleanup.runOnce()).deleted.emails, 4, 'another sidecar takes the lock and carries on');
});

test('a failing run is reported as failed and releases its connection', async () => {
  const { pool, db } = await setup();
  await db.query('ALTER TABLE emails RENAME TO emails_elsewhere');
  const { cleanup, metrics } = job(pool);
  const report = await cleanup.runOnce();
  assert.equal(report.result, 'failed');
  assert.equal(await counter(metrics, 'retentionRuns', 'failed'), 1);
  await db.query('ALTER TABLE emails_elsewhere RENAME TO emails');
  assert.equal((await cleanup.runOnce()).result, 'ok', 'the failed run did not keep the lock');
  assert.equal(pool.totalCount - pool.idleCount, 0, 'no connection left checked out');
});

test('a sidecar runs retention by itself soon after start and counts it in /metrics', async () => {
  const { databaseUrl, db } = await setup();
  await insertEmails(db, 2, { status: 'sent', ageDays: 8 });
  await insertEmail(db, { status: 'sent', ageDays: 6 });
  const sidecar = await startSidecar(databaseUrl, { POST_OFFICE_RETENTION_DAYS: '7', POST_OFFICE_RETENTION_INTERVAL_SECONDS: '1' });

  await eventually('the old emails to be deleted', async () => (await count(db, 'SELECT count(*) FROM emails')) === 1);
  const metricsText = async () => (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  await eventually('the run to be counted', async () => /postoffice_retention_runs_total\{result="ok"\} [1-9]/.test(await metricsText()));
  const text = await metricsText();
  assert.match(text, /postoffice_retention_deleted_total\{kind="emails"\} 2\n/);
  assert.match(text, /postoffice_retention_deleted_total\{kind="idempotency_keys"\} 0\n/);
  assert.match(text, /postoffice_retention_runs_total\{result="failed"\} 0\n/);
  await sidecar.stop();
});

test('webhook events that matched no email are deleted after 7 days; matched ones stay with their email', async () => {
  const { pool, db } = await setup();
  const email = await insertEmail(db, { status: 'sent', ageDays: 1 });
  await db.query(`INSERT INTO delivery_events (backend, event_key, email_id, event, at, received_at)
    VALUES ('default', 'matched', $1, 'delivered', now(), now() - interval '8 days')`, [email]);
  await db.query(`INSERT INTO delivery_events (backend, event_key, event, at, received_at)
    VALUES ('default', 'old', 'delivered', now(), now() - interval '8 days'), ('default', 'new', 'delivered', now(), now() - interval '6 days')`);
  const { cleanup, metrics } = job(pool);
  const report = await cleanup.runOnce();
  assert.equal(report.deleted.unmatched_events, 1);
  assert.deepEqual((await db.query('SELECT event_key FROM delivery_events ORDER BY event_key')).rows.map((row) => row.event_key), ['matched', 'new']);
  assert.equal(await counter(metrics, 'retentionDeleted', 'unmatched_events'), 1);
});
