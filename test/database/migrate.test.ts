// Twenty sidecars starting at once migrate once: the advisory lock serialises them and the
// migrations table records each migration a single time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMigrations, migrate } from '../../src/database/migrate.ts';
import { createTestDatabase } from '../helpers/database.ts';
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
  // Numbers only grow; a number may be reserved for a migration on another branch.
  migrations.forEach((migration, index) => index === 0 || assert.ok(migration.id > migrations[index - 1]!.id, `${migration.id}_${migration.name}`));
});
