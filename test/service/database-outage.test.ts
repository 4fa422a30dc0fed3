// PostgreSQL stopped and restarted under a running sidecar: readiness fails and recovers by
// itself; enqueue answers 503 with Retry-After during the outage (never 202-then-lost); mail
// accepted before and after the outage is delivered.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, startEmbeddedPostgres } from '../../src/database/embedded.ts';
import { migrate } from '../../src/database/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { defer } from '../helpers/cleanup.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const email = (subject: string) => ({ from: 'a@example.com', to: 'b@example.com', subject, text: 'hi' });

test('a database outage: 503 with Retry-After, readiness down, then recovery by itself', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-outage-'));
  defer(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const logger = createLogger('silent');
  let database = await startEmbeddedPostgres(dataDir, logger, port);
  defer(() => database.stop());
  await migrate(database.url);

  const provider = new MockProvider();
  defer(() => provider.stop());
  const sidecar = await startSidecar(database.url, { POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()) });
  const ready = async () => (await fetch(`${sidecar.adminUrl}/readyz`)).status;

  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails`, email('before'))).status, 202);
  await eventually('the first email to be sent', () => provider.subjects().includes('before'));

  await database.stop();
  await eventually('readiness to fail', async () => (await ready()) === 503);
  const during = await postJson(`${sidecar.apiUrl}/v1/emails`, email('during'));
  assert.equal(during.status, 503);
  assert.equal(during.body.code, 'DATABASE_UNAVAILABLE');
  assert.equal(during.headers.get('retry-after'), '5');
  const readiness = (await (await fetch(`${sidecar.adminUrl}/readyz`)).json()) as { database: string };
  assert.equal(readiness.database, 'down');

  database = await startEmbeddedPostgres(dataDir, logger, port);
  await eventually('readiness to recover', async () => (await ready()) === 200);
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails`, email('after'))).status, 202);
  await eventually('the email accepted after the outage to be sent', () => provider.subjects().includes('after'));
  assert.ok(!provider.subjects().includes('during'), 'the rejected email was never accepted');
});
