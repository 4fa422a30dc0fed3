// The app_events rows the queue's own status changes write (docs/events.md) — a lease lost by a
// dead sidecar, an email expired while waiting, a stale completion — and the sender's claim rule.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import pg from 'pg';
import { validateEmail } from '../../src/email/validate.ts';
import { AppEventStore } from '../../src/store/app-event-store.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
defer(() => pool.end());
let wakes = 0;
const store = new QueueStore(pool, { appEvents: true, onAppEvents: () => wakes++ });
const events = new AppEventStore(pool);
const context = { defaultFrom: 'sender@example.com', backends: ['default'] };

beforeEach(async () => {
  await pool.query('TRUNCATE emails, email_logs, app_events CASCADE');
  wakes = 0;
});

async function enqueue(maxAttempts = 3): Promise<string> {
  const email = validateEmail({ to: 'user@example.com', subject: 's' }, context);
  await store.insertEmails([email], maxAttempts);
  return email.id;
}

const payloads = async () => (await pool.query('SELECT payload FROM app_events ORDER BY id')).rows.map((row: { payload: Record<string, unknown> }) => row.payload);

test('a lost lease writes email.retrying, or email.failed when the attempts are used up', async () => {
  const again = await enqueue(3);
  const done = await enqueue(1);
  await store.leases.claim('dead-sidecar', 10, 60);
  await pool.query("UPDATE emails SET locked_until = now() - interval '1 second'");
  assert.equal((await store.leases.rescueExpiredLeases()).length, 2);
  const written = await payloads();
  const of = (id: string) => written.find((p) => p.email_id === id)!;
  assert.deepEqual({ ...of(again), at: undefined }, {
    type: 'email.retrying', email_id: again, at: undefined, status: 'queued', backend: 'default', attempt: 1,
    code: 'LEASE_EXPIRED', message: 'lease expired: the sidecar sending it stopped before recording an outcome', provider_message_id: null,
  });
  assert.equal(of(done).type, 'email.failed');
  assert.equal(wakes, 1);
});

test('an email found expired when claimed writes email.expired; a stale completion writes nothing', async () => {
  const expired = await enqueue();
  await pool.query("UPDATE emails SET expires_at = now() - interval '1 second'");
  const stale = await enqueue();
  const [claimed] = (await store.leases.claim('me', 10, 60)).filter((email) => email.id === stale);
  assert.deepEqual((await payloads()).map((p) => [p.type, p.email_id, p.code]), [['email.expired', expired, 'EXPIRED']]);
  // Another owner's completion changes nothing, so it writes no event either.
  await store.leases.complete('someone-else', [{ id: stale, attempt: claimed!.attempt, via: claimed!.via, status: 'sent', providerMessageId: 'x', code: null, message: null, retryInSeconds: 0 }]);
  assert.equal((await payloads()).length, 1);
});

test('the claim takes only the oldest event of each email, and a failure puts it back with backoff', async () => {
  const [a, b] = [await enqueue(), await enqueue()];
  await pool.query(
    `INSERT INTO app_events (email_id, payload) SELECT id, jsonb_build_object('n', n) FROM unnest($1::uuid[]) AS id, generate_series(1, 3) AS n ORDER BY n`,
    [[a, b]],
  );
  const first = await events.claim('one', 10, 30);
  assert.deepEqual(first.map((e) => e.payload.n), [1, 1]);
  assert.deepEqual(await events.claim('two', 10, 30), [], 'the rest wait for the first of their email');
  assert.equal(await events.failed('one', first[1]!.id, 'the application answered 500', 60, 30), false);
  // The claim that deletes a delivered event already takes its email's next one.
  const next = await events.claim('two', 10, 30, [first[0]!.id]);
  assert.deepEqual(next.map((e) => [e.payload.n, e.attempts]), [[2, 0]], 'the failed one is not due for a minute, and blocks its email');
  assert.equal(await events.release('two'), 1);
  assert.equal(await events.pending(), 5);
  await events.delivered([next[0]!.id]);
  assert.equal(await events.pending(), 4);
});

test('an event older than the age limit is dropped on its next failure; 0 keeps it for ever', async () => {
  const id = await enqueue();
  await pool.query(`INSERT INTO app_events (email_id, payload, created_at) VALUES ($1, '{}', now() - interval '31 days'), ($1, '{}', now())`, [id]);
  const [old] = await events.claim('one', 10, 30);
  assert.equal(await events.failed('one', old!.id, 'timeout', 1, 0), false, 'kept with no limit');
  await pool.query('UPDATE app_events SET next_at = now(), locked_by = $2 WHERE id = $1', [old!.id, 'one']);
  assert.equal(await events.failed('one', old!.id, 'timeout', 1, 30), true);
  assert.equal(await events.pending(), 1);
});
