// A few emails whose provider call never returns must not stand for the backend's health: with
// the defaults (2 threads × 8 connections, the circuit opening after 5 failures), 50 hanging
// emails queued ahead of 500 ordinary ones. The ordinary ones go out within 30 s of being queued
// while the hanging ones keep timing out and are retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

test('50 hanging emails do not hold back 500 ordinary ones behind an open circuit', { timeout: 120_000 }, async () => {
  const provider = new MockProvider((request, index) =>
    (request.body.includes('hang@') ? { status: 200, body: {}, delayMs: 60_000 } : accept(request, index)));
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_SEND_TIMEOUT_SECONDS: '3',
  });
  const batch = (to: (i: number) => string, count: number) =>
    ({ emails: Array.from({ length: count }, (_, i) => ({ from: 'a@example.com', to: to(i), subject: `s${i}`, text: 'hi' })) });
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, batch((i) => `hang@${i}.example.com`, 50))).status, 202);
  const queued = Date.now();
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, batch((i) => `ok${i}@example.com`, 500))).status, 202);

  const db = await connect(databaseUrl);
  defer(() => db.end());
  const count = async (sql: string) => Number((await db.query(sql)).rows[0].count);
  await eventually('the 500 ordinary emails to be sent', async () =>
    (await count(`SELECT count(*) FROM emails WHERE status = 'sent' AND message->'to'->>0 LIKE 'ok%'`)) === 500, 60_000);
  const seconds = (Date.now() - queued) / 1000;
  assert.ok(seconds <= 30, `the ordinary emails took ${seconds.toFixed(1)} s`);
  console.log(`the 500 ordinary emails were sent ${seconds.toFixed(1)} s after being queued`);
  assert.equal(await count(`SELECT count(*) FROM emails WHERE status = 'sent' AND message->'to'->>0 LIKE 'hang%'`), 0);
  // The hanging ones timed out and wait for their retry (or are being retried), attempts counted.
  await eventually('the hanging emails to have been tried', async () =>
    (await count(`SELECT count(*) FROM email_logs l JOIN emails e ON e.id = l.email_id WHERE l.code = 'TIMEOUT'`)) >= 50, 60_000);
});
