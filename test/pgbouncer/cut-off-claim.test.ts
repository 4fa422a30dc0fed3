// A claim whose answer is lost: the claim's UPDATE commits on the server, but PgBouncer restarts
// before the emails reach the sidecar (here: while the claim reads their attachments, its second
// query). The rows are leased to a live sidecar that does not know it holds them; it must put
// them back as soon as the connection is back, not after the lease.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase, serverUrl } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { PGBOUNCER_MISSING, pgbouncerPath, startPgBouncer } from '../helpers/pgbouncer.ts';
import { startLoggedSidecar } from '../helpers/pgbouncer-fleet.ts';
import { connect, eventually, postJson, postmarkBackend } from '../helpers/sidecar.ts';

test('emails leased by a claim whose answer PgBouncer cut off go out within seconds, not after the lease', async (t) => {
  if (pgbouncerPath() === undefined) return t.skip(PGBOUNCER_MISSING);
  const pgbouncer = await startPgBouncer(serverUrl());
  defer(() => pgbouncer.stop());
  const provider = new MockProvider();
  defer(() => provider.stop());
  const direct = await createTestDatabase();
  const { service, log } = await startLoggedSidecar(pgbouncer.url(direct), {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_THREADS: '1', POST_OFFICE_LISTEN: 'off', POST_OFFICE_RETENTION_DAYS: '0',
    POST_OFFICE_POLL_SECONDS: '0.2', POST_OFFICE_LEASE_SECONDS: '60',
  });
  defer(() => service.stop());

  const dueAt = new Date(Date.now() + 2000);
  const emails = Array.from({ length: 5 }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `cut off ${i}`, text: 'hi', scheduled_at: dueAt.toISOString(),
    attachments: [{ filename: 'a.txt', content: Buffer.from('attached').toString('base64') }] }));
  assert.equal((await postJson(`${service.apiUrl}/v1/emails/batch`, { emails })).status, 202);

  // The claim's UPDATE commits; its read of the attachments then waits for this table lock.
  const db = await connect(direct);
  const blocker = await connect(direct);
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE attachment_blobs IN ACCESS EXCLUSIVE MODE');
  await eventually('a claim to lease the emails and wait for their attachments', async () => (await db.query(
    `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM attachment_blobs%'`)).rowCount === 1);
  assert.equal((await db.query(`SELECT 1 FROM emails WHERE status = 'sending'`)).rowCount, 5, 'leased on the server');
  // The claim's answer is lost.
  await pgbouncer.restart();
  const cutOffAt = Date.now();
  await blocker.query('COMMIT');

  await eventually('every email to be sent', () => provider.subjects().length === 5, 20_000);
  t.diagnostic(`sent ${Date.now() - cutOffAt} ms after the cut-off (the lease is 60 s)`);
  assert.deepEqual(provider.subjects().sort(), emails.map((email) => email.subject).sort(), 'each sent once');
  const attempts = (await db.query('SELECT DISTINCT attempts FROM emails')).rows.map((row) => row.attempts);
  assert.deepEqual(attempts, [1], 'the cut-off claim\'s attempt was undone');
  assert.ok(log.logged('put back emails a cut-off claim had leased to this sidecar'));
});
