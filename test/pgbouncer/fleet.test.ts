// Sidecars behind a real PgBouncer in transaction mode (test/helpers/pgbouncer.ts): a fleet
// migrates a fresh database at once and a later sidecar joins it, no lock outlives its holder,
// LISTEN left on is detected and replaced by polling, and every email goes out exactly once
// through a PgBouncer restart. Skipped when pgbouncer is not installed (.ci/install-pgbouncer.sh).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { loadMigrations } from '../../src/database/migrate.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { PGBOUNCER_MISSING, pgbouncerPath, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.ts';
import { startLoggedSidecar, type LoggedSidecar } from '../helpers/pgbouncer-fleet.ts';
import { connect, eventually, postJson, postmarkBackend } from '../helpers/sidecar.ts';

const LISTEN_WARNING = 'POST_OFFICE_LISTEN is on but a NOTIFY sent to this sidecar never arrived';

async function bouncer(t: TestContext): Promise<PgBouncer | undefined> {
  if (pgbouncerPath() === undefined) {
    t.skip(PGBOUNCER_MISSING);
    return undefined;
  }
  // The shared test server: each test's databases get pools of their own in it.
  const { serverUrl } = await import('../helpers/database.ts');
  const pgbouncer = await startPgBouncer(serverUrl(), { poolSize: 10 });
  defer(() => pgbouncer.stop());
  return pgbouncer;
}

async function fleet(databaseUrl: string, env: Record<string, string>, size: number): Promise<LoggedSidecar[]> {
  const sidecars = await Promise.all(Array.from({ length: size }, () => startLoggedSidecar(databaseUrl, env)));
  for (const sidecar of sidecars) defer(() => sidecar.service.stop());
  return sidecars;
}

test('three sidecars and a later fourth start through PgBouncer on fresh databases, migrate once and leave no lock behind', async (t) => {
  const pgbouncer = await bouncer(t);
  if (pgbouncer === undefined) return;
  const expected = (await loadMigrations()).map((migration) => migration.id);
  const env = { POST_OFFICE_THREADS: '1', POST_OFFICE_LISTEN: 'off', POST_OFFICE_RETENTION_DAYS: '0', POST_OFFICE_BACKENDS: JSON.stringify({ default: { provider: 'outbox' } }) };
  // A few fresh fleets side by side; scripts/pgbouncer-fleets.ts runs twenty in a row.
  await Promise.all([1, 2, 3].map(async () => {
    const direct = await createTestDatabase({ migrated: false });
    const url = pgbouncer.url(direct);
    const first = await fleet(url, env, 3);
    const fourth = await fleet(url, env, 1);
    const db = await connect(direct);
    const applied = (await db.query('SELECT id FROM post_office_migrations ORDER BY id')).rows.map((row) => row.id);
    assert.deepEqual(applied, expected, 'every migration applied once');
    const locks = await db.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    assert.deepEqual(locks.rows, [], 'no advisory lock is held once every sidecar is up');
    assert.ok([...first, ...fourth].every((sidecar) => sidecar.log.logged('post office ready')));
  }));
});

test('LISTEN left on behind PgBouncer: detected at start with one warning, and emails another sidecar queues go out on the poll', async (t) => {
  const pgbouncer = await bouncer(t);
  if (pgbouncer === undefined) return;
  const provider = new MockProvider();
  defer(() => provider.stop());
  const direct = await createTestDatabase();
  const env = { POST_OFFICE_THREADS: '1', POST_OFFICE_RETENTION_DAYS: '0', POST_OFFICE_POLL_SECONDS: '0.5', POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()) };
  const [sender] = await fleet(pgbouncer.url(direct), env, 1);
  const warnings = sender!.log.lines().filter((line) => line.msg.includes(LISTEN_WARNING));
  assert.equal(warnings.length, 1, 'one warning line');
  assert.equal(warnings[0]!.level, 40);
  const [enqueuer] = await fleet(pgbouncer.url(direct), { ...env, POST_OFFICE_DISPATCHER: 'off' }, 1);
  assert.equal((await postJson(`${enqueuer!.service.apiUrl}/v1/emails`, { from: 'a@example.com', to: 'b@example.com', subject: 'polled', text: 'hi' })).status, 202);
  await eventually('the email to be sent on the poll', () => provider.subjects().includes('polled'));

  // Straight to PostgreSQL, LISTEN works and says nothing.
  const [listening] = await fleet(direct, env, 1);
  assert.ok(!listening!.log.logged(LISTEN_WARNING));
});

test('three sidecars through PgBouncer send 600 emails exactly once, through a PgBouncer restart mid-wave', async (t) => {
  const pgbouncer = await bouncer(t);
  if (pgbouncer === undefined) return;
  const provider = new MockProvider(() => ({ status: 200, delayMs: 5, body: { ErrorCode: 0, Message: 'OK', MessageID: `mock-${Math.random()}` } }));
  defer(() => provider.stop());
  const direct = await createTestDatabase();
  const backends = JSON.stringify({ default: { provider: 'postmark', server_token: 'test-server-token', base_url: await provider.start(), rate_limit: { per_second: 300 } } });
  const env = { POST_OFFICE_THREADS: '1', POST_OFFICE_LISTEN: 'off', POST_OFFICE_RETENTION_DAYS: '0', POST_OFFICE_BATCH_SIZE: '20', POST_OFFICE_BACKENDS: backends };
  const sidecars = await fleet(pgbouncer.url(direct), env, 3);
  const perSidecar = 200;
  await Promise.all(sidecars.map(async ({ service }, n) => {
    const emails = Array.from({ length: perSidecar }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `sidecar ${n} email ${i}`, text: 'hi' }));
    assert.equal((await postJson(`${service.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  }));
  await eventually('a third of the emails to be sent', () => provider.subjects().length >= perSidecar, 45_000);
  await pgbouncer.restart();
  const db = await connect(direct);
  await eventually('every email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count) === 3 * perSidecar, 45_000).catch(async (err: Error) => {
    const rows = (await db.query(`SELECT status, locked_by IS NOT NULL AS leased, count(*)::int AS n, max(last_error) AS error FROM emails GROUP BY 1, 2`)).rows;
    const logs = sidecars.flatMap((sidecar) => sidecar.log.lines().filter((line) => line.level >= 40).map((line) => JSON.stringify(line)));
    throw new Error(`${err.message}: ${JSON.stringify(rows)}\n${logs.join('\n')}`);
  });
  const subjects = provider.subjects();
  // Only a send whose outcome the restart kept from being recorded may go out twice.
  const duplicates = subjects.length - new Set(subjects).size;
  assert.equal(new Set(subjects).size, 3 * perSidecar);
  t.diagnostic(`duplicates after a PgBouncer restart mid-wave: ${duplicates}`);
  assert.equal(duplicates, 0, 'no email sent twice');
});
