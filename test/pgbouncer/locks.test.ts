// The fleet-wide locks through a real PgBouncer in transaction mode: twenty migrations at once
// apply each migration once, and retention rounds exclude each other and leave nothing held on
// any server connection. Skipped when pgbouncer is not installed (.ci/install-pgbouncer.sh).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/logger.ts';
import { loadMigrations, migrate } from '../../src/database/migrate.ts';
import { CleanupJob } from '../../src/retention/cleanup-job.ts';
import { RetentionStore } from '../../src/store/retention-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase, serverUrl } from '../helpers/database.ts';
import { count, insertEmails } from '../helpers/history.ts';
import { PGBOUNCER_MISSING, pgbouncerPath, startPgBouncer } from '../helpers/pgbouncer.ts';
import { connect } from '../helpers/sidecar.ts';

const advisoryLocks = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

test('twenty migrations at once through PgBouncer apply each migration once and hold no lock after', async (t) => {
  if (pgbouncerPath() === undefined) return t.skip(PGBOUNCER_MISSING);
  const pgbouncer = await startPgBouncer(serverUrl(), { poolSize: 5 });
  defer(() => pgbouncer.stop());
  const direct = await createTestDatabase({ migrated: false });
  const results = await Promise.all(Array.from({ length: 20 }, () => migrate(pgbouncer.url(direct))));
  const expected = (await loadMigrations()).map((migration) => `${migration.id}_${migration.name}`);
  assert.deepEqual(results.filter((applied) => applied.length > 0), [expected]);
  const db = await connect(direct);
  assert.equal(await count(db, advisoryLocks), 0);
});

test('retention through PgBouncer: of two rounds at once one runs and one skips, and the lease is given back', async (t) => {
  if (pgbouncerPath() === undefined) return t.skip(PGBOUNCER_MISSING);
  const pgbouncer = await startPgBouncer(serverUrl(), { poolSize: 3 });
  defer(() => pgbouncer.stop());
  const direct = await createTestDatabase();
  const db = await connect(direct);
  await insertEmails(db, 5, { status: 'sent', ageDays: 60 });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered!: () => void;
  const inBatchHook = new Promise<void>((resolve) => (entered = resolve));
  const jobs = [1, 2].map(() => {
    const pool = new pg.Pool({ connectionString: pgbouncer.url(direct), max: 2 });
    defer(() => pool.end());
    const job = new CleanupJob({
      store: new RetentionStore(pool), logger: createLogger('silent'), intervalSeconds: 3600,
      settings: { days: 30, batchSize: 2, blobMarginSeconds: 3600 },
      onBatch: () => {
        entered();
        return gate;
      },
    });
    defer(() => job.stop());
    return job;
  });
  // Whatever happens, the round held at the gate must end (before the jobs are stopped), or the file never does.
  defer(() => open());
  const runs = jobs.map((job) => job.runOnce());
  assert.equal((await Promise.race(runs)).result, 'skipped_locked');
  await inBatchHook;
  // Mid-round, between batches, nothing is held on a server connection.
  assert.equal(await count(db, advisoryLocks), 0);
  assert.equal(await count(db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`), 0);
  open();
  const reports = await Promise.all(runs);
  assert.deepEqual(reports.map((report) => report.result).sort(), ['ok', 'skipped_locked']);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 0);
  assert.equal(await count(db, 'SELECT count(*) FROM retention_lease WHERE holder IS NOT NULL'), 0, 'the lease was given back');
  assert.equal((await jobs[1]!.runOnce()).result, 'ok');
});
