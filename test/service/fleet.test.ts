// Many sidecars, one database (docs/contract.md, invariant 4): three sidecars enqueue and send from the
// same queue, and every email reaches the provider exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

test('three sidecars on one database send every email exactly once', async () => {
  const databaseUrl = await createTestDatabase();
  const provider = new MockProvider();
  defer(() => provider.stop());
  const env = { POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()), POST_OFFICE_THREADS: '1', POST_OFFICE_BATCH_SIZE: '20' };
  const sidecars = await Promise.all([startSidecar(databaseUrl, env), startSidecar(databaseUrl, env), startSidecar(databaseUrl, env)]);
  const perSidecar = 200;
  await Promise.all(sidecars.map(async (sidecar, n) => {
    const emails = Array.from({ length: perSidecar }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `sidecar ${n} email ${i}`, text: 'hi' }));
    assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  }));
  const db = await connect(databaseUrl);
  await eventually('every email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count) === 3 * perSidecar);

  const subjects = provider.subjects();
  assert.equal(subjects.length, 3 * perSidecar);
  assert.equal(new Set(subjects).size, 3 * perSidecar, 'no email was sent twice');
  const attempts = (await db.query('SELECT DISTINCT attempts FROM emails')).rows.map((row) => row.attempts);
  assert.deepEqual(attempts, [1]);
});
