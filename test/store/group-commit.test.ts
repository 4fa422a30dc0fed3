// Group commit shares a statement, never a failure: a request whose rows PostgreSQL refuses gets
// its own error, and every other request of the group is committed and answered — except during
// an outage, when retrying alone would fail the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import type { NewEmail } from '../../src/email/message.ts';
import { validateEmail } from '../../src/email/validate.ts';
import { GroupCommit } from '../../src/store/group-commit.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
defer(() => pool.end());
const store = new QueueStore(pool);
const context = { defaultFrom: 'sender@example.com', backends: ['default'] };

const email = (subject: string): NewEmail => validateEmail({ to: 'bob@example.com', subject, text: 'hi' }, context);

/** Adds every request at once, so all but the first wait and share the next statement. */
async function addAll(commit: GroupCommit, requests: NewEmail[]) {
  return Promise.allSettled(requests.map((request) => commit.add([request])));
}

test('a row PostgreSQL refuses fails only its own request; the 40 others are committed', async () => {
  const valid = Array.from({ length: 40 }, (_, i) => email(`neighbour ${i}`));
  const poisoned = email('poisoned');
  // Past validation, as a future bug might let through: jsonb cannot hold NUL.
  poisoned.message.text = 'a\u0000b';
  const requests = [...valid.slice(0, 20), poisoned, ...valid.slice(20)];
  const commit = new GroupCommit((emails) => store.insertEmails(emails, 3), { maxConcurrent: 1, maxRows: 2000 });

  const results = await addAll(commit, requests);

  const refused = results.flatMap((result, index) => (result.status === 'rejected' ? [requests[index]!.id] : []));
  assert.deepEqual(refused, [poisoned.id]);
  const reason = (results[20] as PromiseRejectedResult).reason as { code?: string };
  assert.equal(reason.code, '22P05', 'the poisoned request gets PostgreSQL\'s own error');
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM emails WHERE id = ANY($1::uuid[]) ORDER BY id', [requests.map((r) => r.id)]);
  assert.deepEqual(rows.map((row) => row.id), valid.map((v) => v.id).sort());
});

test('after a refused statement every other request is committed exactly once', async () => {
  const requests = Array.from({ length: 41 }, (_, i) => email(`request ${i}`));
  const poisonedId = requests[33]!.id;
  const committed: string[] = [];
  const refusedGroups: string[][] = [];
  // A flush that refuses any statement holding one particular email, as PostgreSQL would.
  const commit = new GroupCommit(async (emails) => {
    await Promise.resolve();
    const ids = emails.map((e) => e.id);
    if (ids.includes(poisonedId)) {
      refusedGroups.push(ids);
      throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
    }
    committed.push(...ids);
  }, { maxConcurrent: 1, maxRows: 2000 });

  const results = await addAll(commit, requests);

  assert.deepEqual(results.map((r) => r.status), requests.map((r) => (r.id === poisonedId ? 'rejected' : 'fulfilled')));
  assert.deepEqual([...committed].sort(), requests.map((r) => r.id).filter((id) => id !== poisonedId).sort());
  assert.deepEqual(refusedGroups.at(-1), [poisonedId], 'the split ends with the poisoned request alone');
  assert.ok(refusedGroups.length <= 8, `a bisection, not one statement per request: ${refusedGroups.length} refused statements`);
});

test('during an outage a failed group is answered at once, not retried request by request', async () => {
  const requests = Array.from({ length: 10 }, (_, i) => email(`outage ${i}`));
  const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const groups: number[] = [];
  const commit = new GroupCommit(async (emails) => {
    groups.push(emails.length);
    await Promise.resolve();
    throw outage;
  }, { maxConcurrent: 1, maxRows: 2000 });

  const results = await addAll(commit, requests);

  for (const result of results) assert.equal((result as PromiseRejectedResult).reason, outage);
  assert.deepEqual(groups, [1, 9], 'the first request alone, then the nine that waited, each once');
});
