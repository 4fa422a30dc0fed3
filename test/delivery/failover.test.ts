// Failover between backends (docs/providers.md "Failover"): the chain rules on their own, then real
// sidecars whose primary backend is a dead port or a provider answering 503 — emails go out through
// the fallback, and sent_via, each log entry's backend and postoffice_failovers_total say so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { CircuitBreaker } from '../../src/delivery/circuit-breaker.ts';
import { Failover } from '../../src/delivery/failover.ts';
import { createMainMetrics } from '../../src/metrics/main-metrics.ts';
import type { BackendSettings } from '../../src/providers/kinds.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept, type Reply } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, startSidecar } from '../helpers/sidecar.ts';

type Json = Record<string, unknown>;

// A loopback port nothing listens on, so connections to it are refused. A privileged port: one
// freed by a listener on port 0 could be handed to another test's server (one that never
// answers, say) while this file runs.
const DEAD_PORT = 'http://127.0.0.1:1';

const postmark = (baseUrl: string, fallback?: string) => ({
  provider: 'postmark', server_token: 'test-server-token', base_url: baseUrl, ...(fallback === undefined ? {} : { fallback }),
});

const unavailable = () => ({ status: 503, body: { ErrorCode: 0, Message: 'maintenance' } });

function emails(count: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `${prefix} ${i}`, text: 'hi' }));
}

async function enqueue(apiUrl: string, batch: Json[]): Promise<string[]> {
  const answer = await postJson(`${apiUrl}/v1/emails/batch`, { emails: batch });
  assert.equal(answer.status, 202);
  return (answer.body.emails as { id: string }[]).map((email) => email.id);
}

async function getEmail(apiUrl: string, id: string): Promise<Json> {
  return (await (await fetch(`${apiUrl}/v1/emails/${id}`)).json()) as Json;
}

const failovers = async (adminUrl: string, from: string, to: string) => {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = new RegExp(`^postoffice_failovers_total\\{from="${from}",to="${to}"\\} (\\d+)$`, 'm').exec(text);
  return line === null ? undefined : Number(line[1]);
};

test('plan, route and the held-back time along a chain a → b → c', () => {
  const settings = { provider: 'outbox', dir: '/tmp' } as BackendSettings;
  const backends = { a: { ...settings, fallback: 'b' }, b: { ...settings, fallback: 'c' }, c: settings, d: settings };
  const breaker = new CircuitBreaker(Object.keys(backends), { threshold: 1, baseSeconds: 10, maxSeconds: 60 });
  const failover = new Failover(backends, { breaker, metrics: createMainMetrics(new QueueStore(new pg.Pool())) });
  const attempt = (backend: string, number: number, sentVia: string | null) => ({ backend, attempt: number, sentVia });

  assert.equal(failover.plan(attempt('a', 1, null)), 'a', 'a first attempt goes through the email\'s own backend');
  assert.equal(failover.plan(attempt('a', 2, 'a')), 'b', 'after a failed attempt, through the fallback of the backend that made it');
  assert.equal(failover.plan(attempt('a', 3, 'b')), 'c');
  assert.equal(failover.plan(attempt('a', 4, 'c')), 'a', 'after the chain\'s end, the email\'s own backend again');
  assert.equal(failover.plan(attempt('d', 2, 'd')), 'd', 'a backend without a fallback keeps its emails');
  assert.equal(failover.plan(attempt('a', 2, null)), 'a', 'no recorded attempt (a lease that ran out): the own backend');
  assert.deepEqual(failover.chain('a'), ['a', 'b', 'c']);
  assert.deepEqual(failover.chain('c'), ['c']);

  const t0 = Date.now();
  breaker.record('a', 'retryable', t0);
  const email = { via: 'a' };
  assert.equal(failover.route(email), true);
  assert.equal(email.via, 'b', 'a paused: its fallback');
  breaker.record('b', 'retryable', t0 + 1000);
  breaker.record('c', 'retryable', t0 + 2000);
  const held = { via: 'a' };
  assert.equal(failover.route(held), false, 'every backend of the chain paused');
  assert.equal(held.via, 'a', 'via kept: the email is held back from where it started');
  assert.equal(failover.pausedUntil('a').getTime(), t0 + 10_000, 'due again when the first of the pauses ends');
  assert.equal(breaker.states().a, 'open', 'routing asked without taking the probe');
});

test('a backend on a dead port fails over to a working one: sent_via, the log and the counter show it', async () => {
  const spare = new MockProvider();
  defer(() => spare.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: postmark(DEAD_PORT, 'spare'), spare: postmark(await spare.start()) }),
    POST_OFFICE_CIRCUIT_FAILURES: '0', // the retry path alone: each email's second attempt goes through the fallback
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
  });
  assert.equal(await failovers(sidecar.adminUrl, 'default', 'spare'), 0, 'the series exists from the start');
  const ids = await enqueue(sidecar.apiUrl, emails(5, 'dead port'));
  const db = await connect(databaseUrl);
  await eventually('every email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent' AND id = ANY($1::uuid[])`, [ids])).rows[0].count) === ids.length);

  for (const id of ids) {
    const email = await getEmail(sidecar.apiUrl, id);
    assert.equal(email.backend, 'default', 'the backend the app asked for is kept');
    assert.equal(email.sent_via, 'spare');
    assert.equal(email.attempts, 2);
    const logs = (email.logs as Json[]).map(({ attempt, backend, status, code }) => ({ attempt, backend, status, code }));
    assert.deepEqual(logs, [
      { attempt: 1, backend: 'default', status: 'queued', code: 'NETWORK' },
      { attempt: 2, backend: 'spare', status: 'sent', code: null },
    ]);
  }
  assert.equal(spare.requests.length, ids.length, 'the fallback sent each email once');
  assert.equal(await failovers(sidecar.adminUrl, 'default', 'spare'), ids.length);
});

test('while the primary\'s circuit is open, due emails go through the fallback at once', async () => {
  const primary = new MockProvider(unavailable);
  const spare = new MockProvider(accept);
  defer(() => primary.stop());
  defer(() => spare.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: postmark(await primary.start(), 'spare'), spare: postmark(await spare.start()) }),
    POST_OFFICE_THREADS: '1',
    POST_OFFICE_HTTP_CONNECTIONS: '1',
    POST_OFFICE_CIRCUIT_FAILURES: '3',
    POST_OFFICE_CIRCUIT_PAUSE_SECONDS: '600', // open for the whole test
    POST_OFFICE_RETRY_BASE_SECONDS: '600', // the emails that opened it wait: their retries are not what this test sees
  });
  const openers = await enqueue(sidecar.apiUrl, emails(3, 'opener'));
  await eventually('the circuit to open', async () => {
    const readyz = (await (await fetch(`${sidecar.adminUrl}/readyz`)).json()) as { circuits: Record<string, string> };
    return readyz.circuits.default === 'open';
  });
  const primaryRequests = primary.requests.length;
  const spareBefore = spare.requests.length;

  const ids = await enqueue(sidecar.apiUrl, emails(10, 'while open'));
  const db = await connect(databaseUrl);
  await eventually('the emails enqueued while open to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent' AND id = ANY($1::uuid[])`, [ids])).rows[0].count) === ids.length);
  for (const id of ids) {
    const email = await getEmail(sidecar.apiUrl, id);
    assert.deepEqual([email.backend, email.sent_via, email.attempts], ['default', 'spare', 1], 'first attempt, through the fallback');
    assert.deepEqual((email.logs as Json[]).map(({ backend, status }) => ({ backend, status })), [{ backend: 'spare', status: 'sent' }]);
  }
  assert.equal(primary.requests.length, primaryRequests, 'the paused backend was not tried again');
  assert.equal(spare.requests.length - spareBefore, ids.length);
  assert.equal(await failovers(sidecar.adminUrl, 'default', 'spare'), ids.length);
  for (const id of openers) {
    const { rows } = await db.query<{ status: string; sent_via: string }>('SELECT status, sent_via FROM emails WHERE id = $1', [id]);
    assert.deepEqual(rows[0], { status: 'queued', sent_via: 'default' }, 'the emails that opened the circuit wait for their retry');
  }
});

test('emails failing over travel in the fallback\'s batches, counted against the fallback', async () => {
  const primary = new MockProvider(unavailable);
  // Postmark's batch endpoint: one result per email, in order.
  const spare = new MockProvider((request): Reply => {
    const body = JSON.parse(request.body) as { To: string } | { To: string }[];
    const result = (item: { To: string }) => ({ ErrorCode: 0, Message: 'OK', MessageID: `pm-${Math.random()}`, To: item.To, SubmittedAt: '2026-01-01T00:00:00Z' });
    return { status: 200, body: Array.isArray(body) ? body.map(result) : result(body) };
  });
  defer(() => primary.stop());
  defer(() => spare.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: postmark(await primary.start(), 'spare'), spare: { ...postmark(await spare.start()), batch: true } }),
    POST_OFFICE_CIRCUIT_FAILURES: '1',
    POST_OFFICE_CIRCUIT_PAUSE_SECONDS: '600',
    POST_OFFICE_RETRY_BASE_SECONDS: '600',
  });
  const [opener] = await enqueue(sidecar.apiUrl, emails(1, 'opener'));
  const db = await connect(databaseUrl);
  await eventually('the opener to fail once', async () => (await db.query('SELECT status FROM emails WHERE id = $1', [opener])).rows[0].status === 'queued'
    && (await db.query('SELECT count(*) FROM email_logs WHERE email_id = $1', [opener])).rows[0].count === '1');
  const ids = await enqueue(sidecar.apiUrl, emails(20, 'batched'));
  await eventually('the emails to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent' AND sent_via = 'spare' AND id = ANY($1::uuid[])`, [ids])).rows[0].count) === ids.length);
  const batches = spare.requests.filter((request) => request.path === '/email/batch');
  assert.ok(batches.length > 0 && batches.length < ids.length, `${batches.length} batch requests for ${ids.length} emails`);
  assert.equal(primary.requests.length, 1, 'only the opener reached the paused backend');
  const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  const sends = [...metrics.matchAll(/^postoffice_worker_sends_total\{worker="\d+",backend="spare",result="ok"\} (\d+)$/gm)];
  assert.equal(sends.reduce((sum, match) => sum + Number(match[1]), 0), ids.length, 'the sends count as the fallback\'s');
});

test('emails failing over spend the fallback\'s rate-limit allowance, not their own backend\'s', async () => {
  const primary = new MockProvider(unavailable);
  const spare = new MockProvider();
  defer(() => primary.stop());
  defer(() => spare.stop());
  const databaseUrl = await createTestDatabase();
  const limit = { rate_limit: { per_second: 50, per_day: 1000 } };
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: { ...postmark(await primary.start(), 'spare'), ...limit }, spare: { ...postmark(await spare.start()), ...limit } }),
    POST_OFFICE_CIRCUIT_FAILURES: '1',
    POST_OFFICE_CIRCUIT_PAUSE_SECONDS: '600',
    POST_OFFICE_RETRY_BASE_SECONDS: '600',
  });
  await enqueue(sidecar.apiUrl, emails(1, 'opener'));
  await eventually('the circuit to open', async () =>
    ((await (await fetch(`${sidecar.adminUrl}/readyz`)).json()) as { circuits: Record<string, string> }).circuits.default === 'open');
  const ids = await enqueue(sidecar.apiUrl, emails(10, 'paced'));
  const db = await connect(databaseUrl);
  await eventually('the emails to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent' AND sent_via = 'spare' AND id = ANY($1::uuid[])`, [ids])).rows[0].count) === ids.length);
  const { rows } = await db.query<{ backend: string; day_used: number }>('SELECT backend, day_used FROM backend_rate_limits ORDER BY backend');
  assert.deepEqual(rows.map((row) => ({ ...row })), [{ backend: 'default', day_used: 1 }, { backend: 'spare', day_used: ids.length }]);
});

test('a chain of three: each retry moves one backend on, and every hop counts', async () => {
  const middle = new MockProvider(unavailable);
  const last = new MockProvider();
  defer(() => middle.stop());
  defer(() => last.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({
      default: postmark(DEAD_PORT, 'middle'),
      middle: postmark(await middle.start(), 'last'),
      last: postmark(await last.start()),
    }),
    POST_OFFICE_CIRCUIT_FAILURES: '0',
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
  });
  assert.equal(await failovers(sidecar.adminUrl, 'middle', 'last'), 0);
  assert.equal(await failovers(sidecar.adminUrl, 'default', 'last'), undefined, 'series only for configured pairs');
  const ids = await enqueue(sidecar.apiUrl, emails(3, 'chain'));
  const db = await connect(databaseUrl);
  await eventually('every email to be sent', async () =>
    Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent' AND id = ANY($1::uuid[])`, [ids])).rows[0].count) === ids.length);
  for (const id of ids) {
    const email = await getEmail(sidecar.apiUrl, id);
    assert.equal(email.sent_via, 'last');
    assert.deepEqual((email.logs as Json[]).map(({ attempt, backend, status }) => `${String(attempt)} ${String(backend)} ${String(status)}`),
      ['1 default queued', '2 middle queued', '3 last sent']);
  }
  assert.equal(middle.requests.length, ids.length);
  assert.equal(await failovers(sidecar.adminUrl, 'default', 'middle'), ids.length);
  assert.equal(await failovers(sidecar.adminUrl, 'middle', 'last'), ids.length);
});

test('without fallback, an email keeps its backend on every attempt; sent_via is null before the first', async () => {
  const provider = new MockProvider((request, index) => (index === 0 ? unavailable() : accept(request, index)));
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: postmark(await provider.start()) }),
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
  });
  const [scheduled] = await enqueue(sidecar.apiUrl, [{ ...emails(1, 'later')[0]!, scheduled_at: new Date(Date.now() + 3_600_000).toISOString() }]);
  assert.equal((await getEmail(sidecar.apiUrl, scheduled!)).sent_via, null);
  const [id] = await enqueue(sidecar.apiUrl, emails(1, 'retried'));
  const db = await connect(databaseUrl);
  await eventually('the email to be sent', async () => (await db.query('SELECT status FROM emails WHERE id = $1', [id])).rows[0].status === 'sent');
  const email = await getEmail(sidecar.apiUrl, id!);
  assert.equal(email.sent_via, 'default');
  assert.deepEqual((email.logs as Json[]).map(({ backend }) => backend), ['default', 'default']);
  assert.doesNotMatch(await (await fetch(`${sidecar.adminUrl}/metrics`)).text(), /^postoffice_failovers_total\{/m);
});
