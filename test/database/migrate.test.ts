// Twenty sidecars starting at once migrate once: the transaction-level advisory lock serialises
// them and the migrations table records each migration a single time; a start that finds the
// lock held says so and gives up after its bound.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { loadMigrations, migrate, MigrationLockTimeout } from '../../src/database/migrate.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { recordingLogger } from '../helpers/recording-logger.ts';
import { connect } from '../helpers/sidecar.ts';

test('twenty concurrent migrations apply each migration exactly once', async () => {
  const databaseUrl = await createTestDatabase({ migrated: false });
  const results = await Promise.all(Array.from({ length: 20 }, () => migrate(databaseUrl)));
  const expected = (await loadMigrations()).map((migration) => `${migration.id}_${migration.name}`);
  assert.deepEqual(results.filter((applied) => applied.length > 0), [expected], 'exactly one sidecar applied them');
  const db = await connect(databaseUrl);
  const rows = (await db.query('SELECT id, name FROM post_office_migrations ORDER BY id')).rows;
  assert.deepEqual(rows.map((row) => `${row.id}_${row.name}`), expected);
  assert.deepEqual(await migrate(databaseUrl), [], 'a later start applies nothing');
});

test('migration files are numbered, named and loaded in order', async () => {
  const migrations = await loadMigrations();
  assert.ok(migrations.length > 0);
  assert.equal(migrations[0]!.id, 1);
  // 1, 2, 3, …: no gap, no number twice.
  migrations.forEach((migration, index) => assert.equal(migration.id, index + 1, `${migration.id}_${migration.name}`));
});

test('two migration files with one number are refused, both named (a renamed one left behind in dist/, say)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'post-office-migrations-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  for (const file of ['0001_a.sql', '0002_b.sql', '0002_c.sql']) await writeFile(path.join(dir, file), 'SELECT 1;');
  await assert.rejects(loadMigrations(pathToFileURL(`${dir}/`)), { message: 'migrations 0002_b.sql and 0002_c.sql share the number 2' });
});

test('a migration lock held by an idle connection: the start logs that it waits, then gives up with a clear error', async () => {
  const databaseUrl = await createTestDatabase({ migrated: false });
  // What an older sidecar behind a transaction pooler left: a session lock on an idle backend.
  const holder = await connect(databaseUrl);
  await holder.query('SELECT pg_advisory_lock($1)', [0x706f7374]);
  const holderPid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const log = recordingLogger();
  await assert.rejects(migrate(databaseUrl, { lockWaitSeconds: 1, logger: log.logger }), (err: Error) => {
    assert.ok(err instanceof MigrationLockTimeout);
    assert.equal(err.message, `gave up after 1 s waiting for the migration lock held by PostgreSQL backend ${holderPid} (idle); it is idle, ` +
      `so nothing is migrating: SELECT pg_terminate_backend(${holderPid}) frees it; POST_OFFICE_MIGRATION_LOCK_SECONDS sets how long to wait`);
    return true;
  });
  const waiting = log.lines().filter((line) => line.msg.startsWith('waiting for the migration lock held by another sidecar'));
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0]!.holderPid, holderPid);

  await holder.query('SELECT pg_advisory_unlock($1)', [0x706f7374]);
  assert.ok((await migrate(databaseUrl)).length > 0, 'once it is free, the migrations apply');
});
