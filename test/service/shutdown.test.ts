// A real sidecar process (node src/main.ts) stopped mid-delivery, gracefully and not:
//  - SIGTERM: exit 0, nothing left in `sending`, a restart sends the rest with zero duplicates;
//  - SIGKILL: after a restart every email is delivered, duplicates only among those in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, sidecarEnv, spawnSidecar } from '../helpers/sidecar.ts';

const EMAILS = 150;
const THREADS = 2;
const CONNECTIONS = 2;

async function setUp(env: Record<string, string> = {}) {
  const databaseUrl = await createTestDatabase();
  // Slow replies keep sends in flight when the signal arrives.
  const provider = new MockProvider(async (request, index) => ({ ...(await accept(request, index)), delayMs: 200 }));
  defer(() => provider.stop());
  const base = sidecarEnv(databaseUrl, {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_THREADS: String(THREADS),
    POST_OFFICE_HTTP_CONNECTIONS: String(CONNECTIONS),
    ...env,
  });
  const db = await connect(databaseUrl);
  const count = async (status: string) => Number((await db.query('SELECT count(*) FROM emails WHERE status = $1', [status])).rows[0].count);
  const first = await spawnSidecar(base);
  const emails = Array.from({ length: EMAILS }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `email ${i}`, text: 'hi' }));
  assert.equal((await postJson(`${first.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  await eventually('sends to be under way', () => provider.requests.length >= 30);
  return { provider, base, count, first };
}

function duplicates(subjects: string[]): string[] {
  const seen = new Set<string>();
  return subjects.filter((subject) => (seen.has(subject) ? true : (seen.add(subject), false)));
}

test('SIGTERM mid-delivery: exit 0, nothing stuck in sending, zero duplicates after restart', async () => {
  const { provider, base, count, first } = await setUp();
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.log.join('\n'));

  assert.equal(await count('sending'), 0, 'every lease was recorded or released');
  assert.equal(await count('sent'), provider.requests.length, 'every send the provider saw was recorded');

  const second = await spawnSidecar(base);
  await eventually('the rest to be sent', async () => (await count('sent')) === EMAILS, 60_000);
  assert.deepEqual(duplicates(provider.subjects()), []);
  assert.equal(new Set(provider.subjects()).size, EMAILS);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('SIGKILL mid-delivery: every email delivered after restart, duplicates only among in-flight', async () => {
  const env = { POST_OFFICE_LEASE_SECONDS: '5', POST_OFFICE_SEND_TIMEOUT_SECONDS: '2' };
  const { provider, base, count, first } = await setUp(env);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  const seenBeforeDeath = new Set(provider.subjects());

  const second = await spawnSidecar(base);
  await eventually('every email to be sent', async () => (await count('sent')) === EMAILS, 60_000);
  const repeated = duplicates(provider.subjects());
  assert.equal(new Set(provider.subjects()).size, EMAILS, 'every email reached the provider');
  for (const subject of repeated) assert.ok(seenBeforeDeath.has(subject), `${subject} was sent twice but was not in flight at the kill`);
  // In flight at most: every task slot of every thread.
  assert.ok(repeated.length <= THREADS * CONNECTIONS * 2, `${repeated.length} duplicates`);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});
