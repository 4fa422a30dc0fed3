// The seed's assertion, made stronger (django-post_office PR #521): with T threads and
// hundreds of emails, the provider sees at most T × POST_OFFICE_HTTP_CONNECTIONS connections,
// connections are reused across batches, and no connection ever carries two threads' requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const THREADS = 2;
const CONNECTIONS = 3;
const BURST = 300;

function burst(round: number) {
  return {
    emails: Array.from({ length: BURST }, (_, i) => ({
      from: 'sender@example.com',
      to: `user${i}@example.com`,
      subject: `round ${round} email ${i}`,
      text: 'hello',
    })),
  };
}

test('each worker thread sends every email through its own one Agent', async () => {
  const databaseUrl = await createTestDatabase();
  const provider = new MockProvider();
  const service = await startSidecar(databaseUrl, {
    POST_OFFICE_THREADS: String(THREADS),
    POST_OFFICE_HTTP_CONNECTIONS: String(CONNECTIONS),
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
  });
  const db = await connect(databaseUrl);
  const sent = async () => Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count);

  assert.equal((await postJson(`${service.apiUrl}/v1/emails/batch`, burst(1))).status, 202);
  await eventually('the first burst to be sent', async () => (await sent()) === BURST);
  const afterFirst = provider.connectionsOpened;

  assert.equal((await postJson(`${service.apiUrl}/v1/emails/batch`, burst(2))).status, 202);
  await eventually('the second burst to be sent', async () => (await sent()) === 2 * BURST);

  assert.equal(provider.requests.length, 2 * BURST, 'every email reached the provider exactly once');
  assert.ok(provider.connectionsOpened <= THREADS * CONNECTIONS, `${provider.connectionsOpened} connections > ${THREADS} × ${CONNECTIONS}`);
  assert.equal(provider.connectionsOpened, afterFirst, 'the second burst reused the connections of the first');

  // The User-Agent names the sending thread: one thread per connection, at most CONNECTIONS each.
  const threadOf = new Map<number, Set<string>>();
  for (const request of provider.requests) {
    const thread = /\(thread (\d+)\)/.exec(String(request.headers['user-agent']))?.[1];
    assert.ok(thread, 'the request names its thread');
    threadOf.set(request.connection, (threadOf.get(request.connection) ?? new Set()).add(thread));
  }
  for (const [connection, threads] of threadOf) assert.equal(threads.size, 1, `connection ${connection} carried requests from threads ${[...threads]}`);
  const perThread = new Map<string, number>();
  for (const threads of threadOf.values()) for (const thread of threads) perThread.set(thread, (perThread.get(thread) ?? 0) + 1);
  assert.ok(perThread.size <= THREADS);
  for (const [thread, count] of perThread) assert.ok(count <= CONNECTIONS, `thread ${thread} opened ${count} connections`);

  // The workers' own count of their Agent's connect events agrees, labelled by stable slot.
  const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text();
  const opened = [...metrics.matchAll(/^postoffice_worker_connections_opened_total\{worker="(\d+)",backend="default"\} (\d+)$/gm)];
  assert.equal(opened.reduce((sum, match) => sum + Number(match[2]), 0), provider.connectionsOpened);
  for (const match of opened) assert.ok(Number(match[1]) < THREADS, `worker slot ${match[1]} is within 0..${THREADS - 1}`);
  const sends = [...metrics.matchAll(/^postoffice_worker_sends_total\{worker="\d+",backend="default",result="ok"\} (\d+)$/gm)];
  assert.equal(sends.reduce((sum, match) => sum + Number(match[1]), 0), 2 * BURST);
  await provider.stop();
});
