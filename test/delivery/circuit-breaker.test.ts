// Circuit breaking: the state machine on its own, then a sidecar whose provider goes down —
// the backend is paused instead of hammered, its emails stay queued with attempts unspent,
// the state shows in metrics and /readyz (which stays 200), and sending resumes by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, type CircuitState } from '../../src/delivery/circuit-breaker.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

test('opens after N retryable failures in a row, probes once, doubles the pause', () => {
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker(['a'], { threshold: 3, baseSeconds: 10, maxSeconds: 60 }, (_, state) => changes.push(state));
  const t0 = 1_000_000;
  breaker.record('a', 'retryable', t0);
  breaker.record('a', 'permanent', t0); // the provider answered: the run of failures ends
  breaker.record('a', 'retryable', t0);
  breaker.record('a', 'retryable', t0);
  assert.equal(breaker.allow('a', t0), true);
  breaker.record('a', 'retryable', t0);
  assert.equal(breaker.states().a, 'open');
  assert.equal(breaker.allow('a', t0 + 9_999), false);
  assert.equal(breaker.allow('a', t0 + 10_000), true, 'one probe after the pause');
  assert.equal(breaker.allow('a', t0 + 10_000), false, 'only one probe at a time');
  breaker.record('a', 'retryable', t0 + 10_000);
  assert.equal(breaker.allow('a', t0 + 10_000 + 19_999), false, 'the second pause is twice as long');
  assert.equal(breaker.allow('a', t0 + 10_000 + 20_000), true);
  breaker.record('a', 'ok', t0 + 30_000);
  assert.equal(breaker.states().a, 'closed');
  assert.deepEqual(changes, ['open', 'half_open', 'open', 'half_open', 'closed']);
  assert.equal(new CircuitBreaker([], { threshold: 3, baseSeconds: 1, maxSeconds: 1 }).allow('unknown'), true);
});

test('a failing backend is paused, its emails wait unspent, and sending resumes by itself', async () => {
  let down = true;
  const provider = new MockProvider((request, index) => (down ? { status: 503, body: { Message: 'maintenance' } } : accept(request, index)));
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_THREADS: '1',
    POST_OFFICE_HTTP_CONNECTIONS: '1',
    POST_OFFICE_CIRCUIT_FAILURES: '3',
    POST_OFFICE_CIRCUIT_PAUSE_SECONDS: '0.5',
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
    POST_OFFICE_MAX_ATTEMPTS: '100',
  });
  const emails = Array.from({ length: 20 }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `e${i}`, text: 'hi' }));
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);

  const readyz = async () => {
    const response = await fetch(`${sidecar.adminUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as { circuits: Record<string, string> } };
  };
  await eventually('the circuit to open', async () => (await readyz()).body.circuits.default === 'open');
  assert.equal((await readyz()).status, 200, 'an open circuit never fails readiness');
  const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  assert.match(metrics, /^postoffice_backend_circuit_open\{backend="default"\} 1$/m);

  // While down, the provider sees the failures that opened the circuit and one probe per pause,
  // not 20 emails × retries; the emails held back have not spent attempts.
  const db = await connect(databaseUrl);
  await eventually('a few pauses to pass', () => provider.requests.length >= 6);
  // Emails not held by the dispatcher right now (claimed ones count an attempt until released).
  const attempts = Number((await db.query(`SELECT coalesce(sum(attempts), 0) AS n FROM emails WHERE status <> 'sending'`)).rows[0].n);
  assert.ok(attempts <= provider.requests.length, `${attempts} attempts for ${provider.requests.length} sends`);
  assert.equal(Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'failed'`)).rows[0].count), 0);

  down = false;
  await eventually('every email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count) === 20);
  assert.equal((await readyz()).body.circuits.default, 'closed');
  assert.match(await (await fetch(`${sidecar.adminUrl}/metrics`)).text(), /^postoffice_backend_circuit_open\{backend="default"\} 0$/m);
});

test('failures of emails on a retry do not open a closed circuit; a half-open probe still counts', () => {
  const breaker = new CircuitBreaker(['a'], { threshold: 2, baseSeconds: 10, maxSeconds: 60 });
  const t0 = 1_000_000;
  for (let i = 0; i < 10; i++) breaker.record('a', 'retryable', t0, true);
  assert.equal(breaker.states().a, 'closed', 'emails failing again on their retry may be at fault themselves');
  breaker.record('a', 'retryable', t0);
  breaker.record('a', 'retryable', t0);
  assert.equal(breaker.states().a, 'open', 'first attempts still open it');
  assert.equal(breaker.allow('a', t0 + 10_000), true);
  breaker.record('a', 'retryable', t0 + 10_000, true);
  assert.equal(breaker.states().a, 'open', 'a failed probe reopens it, whatever its attempt');
});
