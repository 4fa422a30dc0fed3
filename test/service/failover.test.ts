// A failover under a running fleet: three sidecars are delivering when PostgreSQL stops, and a
// new server (a copy of its data, as a promoted replica has) comes up on the same address.
// Enqueues answer 503 meanwhile and are never accepted-then-lost; every email accepted goes
// out, and only an email in flight at the cut can go out twice.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded.ts';
import { migrate } from '../../src/database/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { defer } from '../helpers/cleanup.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const email = (subject: string) => ({ from: 'a@example.com', to: 'b@example.com', subject, text: 'hi' });

test('the database replaced on the same address mid-delivery: nothing lost, nothing sent twice but what was in flight', async (t) => {
  const folders = await Promise.all([1, 2].map(() => mkdtemp(path.join(tmpdir(), 'post-office-failover-'))));
  for (const folder of folders) defer(() => rm(folder, { recursive: true, force: true }));
  const [primaryDir, replicaDir] = folders as [string, string];
  const port = await freePort();
  const logger = createLogger('silent');
  const primary = await startEmbeddedPostgres(primaryDir, logger, port);
  await migrate(primary.url);

  const provider = new MockProvider(() => ({ status: 200, delayMs: 20, body: { ErrorCode: 0, Message: 'OK', MessageID: `mock-${Math.random()}` } }));
  defer(() => provider.stop());
  const env = { POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()), POST_OFFICE_THREADS: '1', POST_OFFICE_BATCH_SIZE: '20', POST_OFFICE_RETENTION_DAYS: '0' };
  const sidecars = await Promise.all([1, 2, 3].map(() => startSidecar(primary.url, env)));
  const accepted: string[] = [];
  await Promise.all(sidecars.map(async (sidecar, n) => {
    const emails = Array.from({ length: 100 }, (_, i) => email(`sidecar ${n} email ${i}`));
    assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);
    accepted.push(...emails.map((one) => one.subject));
  }));
  await eventually('deliveries under way', () => provider.subjects().length >= 60);

  // The old primary stops mid-delivery (fast shutdown: its connections are cut); its data,
  // as a replica would have it, comes up as the new server on the same address.
  const cutAt = Date.now();
  await primary.stop();
  execFileSync('cp', ['-a', path.join(primaryDir, 'pgdata'), path.join(primaryDir, 'pg-password'), replicaDir]);
  const statuses: number[] = [];
  const during = (async () => {
    for (let i = 0; ; i++) {
      const subject = `during the failover ${i}`;
      const { status } = await postJson(`${sidecars[i % 3]!.apiUrl}/v1/emails`, email(subject));
      statuses.push(status);
      if (status === 202) accepted.push(subject);
      else assert.equal(status, 503, 'an enqueue during the failover is refused, never lost');
      if (status === 202 && statuses.includes(503)) return Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const replica = await startEmbeddedPostgres(replicaDir, logger, port);
  defer(() => replica.stop());
  const upAt = Date.now();
  const acceptingAgainAt = await during;
  t.diagnostic(`no server for ${((upAt - cutAt) / 1000).toFixed(1)} s; enqueues answered 503 from the cut until ` +
    `${((acceptingAgainAt - upAt) / 1000).toFixed(1)} s after the new server was up; ${statuses.filter((s) => s === 503).length} refused`);

  const db = await connect(replica.url);
  await eventually('every accepted email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count) === accepted.length, 30_000);
  t.diagnostic(`every email sent ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
  const subjects = provider.subjects();
  assert.deepEqual([...new Set(subjects)].sort(), [...accepted].sort(), 'every accepted email was sent, and nothing else');
  // In flight at the cut: at most each sidecar's pool capacity (1 thread × 8 connections × 2).
  const twice = subjects.length - new Set(subjects).size;
  t.diagnostic(`sent twice: ${twice}`);
  assert.ok(twice <= 3 * 16, `${twice} sent twice, more than could be in flight`);
});
