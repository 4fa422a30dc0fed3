// The idle back-off of the dispatcher's poll (src/delivery/idle-poll.ts): with LISTEN working,
// an idle sidecar polls less and less often, yet a new email (NOTIFY) and a scheduled one (the
// next-due probe) still go out at once, not after POST_OFFICE_IDLE_POLL_SECONDS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const email = (subject: string, extra: Record<string, unknown> = {}) => ({ from: 'a@example.com', to: 'b@example.com', subject, text: 'hi', ...extra });

test('idle with LISTEN: the poll backs off, and new and scheduled emails still go out at once', async (t) => {
  const databaseUrl = await createTestDatabase();
  const provider = new MockProvider();
  defer(() => provider.stop());
  const db = await connect(databaseUrl);
  const transactions = async () => {
    // The statistics of other backends reach the view within a second or so.
    await db.query('SELECT pg_stat_clear_snapshot()');
    return Number((await db.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);
  };
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()), POST_OFFICE_THREADS: '1', POST_OFFICE_RETENTION_DAYS: '0',
    POST_OFFICE_POLL_SECONDS: '0.1', POST_OFFICE_IDLE_POLL_SECONDS: '30',
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = await transactions();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idle = (await transactions()) - before;
  t.diagnostic(`${idle} transactions in 3 s idle (a poll every 0.1 s would make 30 claims alone)`);
  // The health check alone makes one every 2 s; the claims have backed off to seconds apart.
  assert.ok(idle < 15, `${idle} transactions in 3 s`);

  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails`, email('new'))).status, 202);
  await eventually('the new email to go out on its NOTIFY', () => provider.subjects().includes('new'), 5000);

  const dueAt = Date.now() + 2000;
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails`, email('scheduled', { scheduled_at: new Date(dueAt).toISOString() }))).status, 202);
  // Idle again: the poll backs off, but not past the scheduled email's due time.
  await eventually('the scheduled email to go out near its time, not after the 30 s idle interval', () => provider.subjects().includes('scheduled'), 10_000);
  assert.ok(Date.now() >= dueAt - 50, 'not before its time');
  t.diagnostic(`the scheduled email went out ${Date.now() - dueAt} ms after its time`);
});
