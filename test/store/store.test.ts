// The queue store against a real PostgreSQL: claim order, SKIP LOCKED, and the lease guard
// (docs/contract.md, invariants 3, 4 and 5).
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import pg from 'pg';
import { validateEmail } from '../../src/email/validate.ts';
import type { Priority } from '../../src/email/message.ts';
import type { Completion } from '../../src/store/lease-store.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 6 });
defer(() => pool.end());
const store = new QueueStore(pool);
const context = { defaultFrom: 'sender@example.com', backends: ['default'] };

beforeEach(() => pool.query('TRUNCATE emails, email_logs, idempotency_keys CASCADE'));

async function enqueue(count: number, options: { priority?: Priority; scheduled_at?: string } = {}): Promise<string[]> {
  const emails = Array.from({ length: count }, (_, i) => validateEmail({ to: `user${i}@example.com`, subject: `s${i}`, ...options }, context));
  await store.insertEmails(emails, 3);
  return emails.map((email) => email.id);
}

const ok = (id: string, attempt: number): Completion => ({
  id, attempt, via: 'default', status: 'sent', providerMessageId: 'pm', code: null, message: null, retryInSeconds: 0,
});

async function statusOf(id: string) {
  return (await pool.query('SELECT status, attempts, locked_by FROM emails WHERE id = $1', [id])).rows[0];
}

test('claims by priority, then due time, and skips emails not yet due', async () => {
  const [low] = await enqueue(1, { priority: 'low' });
  const [medium] = await enqueue(1);
  const [now] = await enqueue(1, { priority: 'now' });
  const [high] = await enqueue(1, { priority: 'high' });
  await enqueue(1, { priority: 'now', scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
  const claimed = await store.leases.claim('a', 10, 60);
  assert.deepEqual(claimed.map((email) => email.id), [now, high, medium, low]);
  assert.ok(claimed.every((email) => email.status === 'sending' && email.attempt === 1));
});

test('concurrent claims never take the same email (FOR UPDATE SKIP LOCKED)', async () => {
  await enqueue(300);
  const claims = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => store.leases.claim(owner, 100, 60)));
  const ids = claims.flat().map((email) => email.id);
  assert.equal(ids.length, 300);
  assert.equal(new Set(ids).size, 300);
});

test('completion changes only rows still leased by the writer at that attempt', async () => {
  const [id] = await enqueue(1);
  const [claimed] = await store.leases.claim('a', 1, 60);
  assert.deepEqual(await store.leases.complete('b', [ok(id!, 1)]), [], 'another owner cannot complete it');
  assert.equal((await statusOf(id!)).status, 'sending');

  // a's lease runs out (its sidecar hung), the email is rescued and claimed again by b.
  await pool.query(`UPDATE emails SET locked_until = now() - interval '1 second' WHERE id = $1`, [id]);
  assert.equal((await store.leases.rescueExpiredLeases()).length, 1);
  const [again] = await store.leases.claim('b', 1, 60);
  assert.equal(again?.attempt, 2);

  // a wakes up and reports its stale outcome: nothing changes.
  assert.deepEqual(await store.leases.complete('a', [{ ...ok(id!, claimed!.attempt), status: 'failed', code: 'X', message: 'stale' }]), []);
  assert.equal((await statusOf(id!)).status, 'sending');
  assert.deepEqual(await store.leases.complete('b', [ok(id!, 2)]), [{ id, backend: 'default', status: 'sent' }]);
  const logs = (await pool.query('SELECT attempt, status, code FROM email_logs WHERE email_id = $1 ORDER BY id', [id])).rows;
  assert.deepEqual(logs, [
    { attempt: 1, status: 'queued', code: 'LEASE_EXPIRED' },
    { attempt: 2, status: 'sent', code: null },
  ]);
});

test('a lease that expires with the attempts used up fails the email instead of looping', async () => {
  const [id] = await enqueue(1);
  await pool.query(`UPDATE emails SET max_attempts = 1 WHERE id = $1`, [id]);
  await store.leases.claim('a', 1, 60);
  await pool.query(`UPDATE emails SET locked_until = now() - interval '1 second' WHERE id = $1`, [id]);
  assert.deepEqual((await store.leases.rescueExpiredLeases()).map((row) => row.status), ['failed']);
});

test('release returns unsent claims to the queue and undoes their attempt', async () => {
  const ids = await enqueue(3);
  await store.leases.claim('a', 3, 60);
  assert.equal(await store.leases.release('b', ids.map((id) => ({ id }))), 0, 'only the owner can release');
  const later = new Date(Date.now() + 3_600_000);
  assert.equal(await store.leases.release('a', [{ id: ids[0]! }, { id: ids[1]! }, { id: ids[2]!, dueAt: later }]), 3);
  assert.equal((await store.leases.claim('a', 3, 60)).length, 2, 'the one due later is not claimable yet');
  await store.leases.release('a', [{ id: ids[0]! }, { id: ids[1]! }]);
  for (const id of ids) assert.deepEqual(await statusOf(id), { status: 'queued', attempts: 0, locked_by: null });
});

test('extending leases keeps them from being rescued', async () => {
  const [id] = await enqueue(1);
  await store.leases.claim('a', 1, 60);
  await pool.query(`UPDATE emails SET locked_until = now() - interval '1 second' WHERE id = $1`, [id]);
  await store.leases.extendLeases('a', [id!], 60);
  assert.equal((await store.leases.rescueExpiredLeases()).length, 0);
});

test('a retry waits until its due time', async () => {
  const [id] = await enqueue(1);
  await store.leases.claim('a', 1, 60);
  await store.leases.complete('a', [{ ...ok(id!, 1), status: 'queued', code: 'RATE_LIMITED', message: 'retry', retryInSeconds: 3600 }]);
  assert.equal((await store.leases.claim('a', 1, 60)).length, 0);
  assert.equal((await statusOf(id!)).status, 'queued');
});
