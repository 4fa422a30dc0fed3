// The HTTP API as README.md and docs/contract.md state it: enqueue (202 means committed), batch order, the email
// shape, the cursor-paginated list, cancel and requeue, idempotency keys, the bearer token,
// /openapi.json, priority now, the default sender, and an enqueue-only sidecar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { defer } from '../helpers/cleanup.ts';
import { MockProvider, type Script } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

type Json = Record<string, unknown>;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const later = () => new Date(Date.now() + 3_600_000).toISOString();

async function call(url: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(url, options);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

/** Starts a mock provider, stopped after the file's sidecars (cleanups run as a stack). */
async function provider(script?: Script): Promise<{ mock: MockProvider; url: string }> {
  const mock = new MockProvider(script);
  defer(() => mock.stop());
  return { mock, url: await mock.start() };
}

// The sending sidecar: Postmark to a mock that rejects subjects starting "reject" while asked to.
let rejecting = true;
const sending = await provider((request) => {
  const { Subject } = JSON.parse(request.body) as { Subject: string };
  if (rejecting && Subject.startsWith('reject')) return { status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } };
  return { status: 200, body: { ErrorCode: 0, Message: 'OK', MessageID: `pm-${Subject}` } };
});
const mainDb = await createTestDatabase();
const main = await startSidecar(mainDb, {
  POST_OFFICE_BACKENDS: postmarkBackend(sending.url),
  POST_OFFICE_THREADS: '1',
  POST_OFFICE_MAX_ATTEMPTS: '3',
  POST_OFFICE_DEFAULT_FROM: 'Post Office <noreply@example.com>',
});
const db = await connect(mainDb);
const emails = `${main.apiUrl}/v1/emails`;
const statusOf = async (id: string) => (await db.query<{ status: string }>('SELECT status FROM emails WHERE id = $1', [id])).rows[0]?.status;

// A quiet database with an enqueue-only sidecar: nothing changes a status behind a test's back.
const quietDb = await createTestDatabase();
const quiet = await startSidecar(quietDb, { POST_OFFICE_DISPATCHER: 'off', POST_OFFICE_MAX_ATTEMPTS: '4' });
const quietClient = await connect(quietDb);

test('enqueue answers 202 {id, status: queued} only after the row is committed', async () => {
  const answer = await postJson(emails, { from: 'a@example.com', to: 'b@example.com', subject: 'committed', text: 'hi' });
  const row = await db.query('SELECT message->>\'subject\' AS subject FROM emails WHERE id = $1', [answer.body.id]);
  assert.equal(answer.status, 202);
  assert.deepEqual(Object.keys(answer.body).sort(), ['id', 'status']);
  assert.match(String(answer.body.id), uuid);
  assert.equal(answer.body.status, 'queued');
  assert.equal(row.rows[0]?.subject, 'committed', 'the row is in PostgreSQL when the 202 arrives');
});

test('a batch answers ids in request order', async () => {
  const subjects = Array.from({ length: 6 }, (_, i) => `batch order ${i}`);
  const answer = await postJson(`${emails}/batch`, { emails: subjects.map((subject) => ({ to: 'b@example.com', subject })) });
  assert.equal(answer.status, 202);
  const accepted = answer.body.emails as { id: string; status: string }[];
  assert.equal(accepted.length, subjects.length);
  assert.equal(new Set(accepted.map((email) => email.id)).size, subjects.length);
  const { rows } = await db.query<{ id: string; subject: string }>(
    `SELECT id, message->>'subject' AS subject FROM emails WHERE id = ANY($1::uuid[])`, [accepted.map((email) => email.id)]);
  const subjectOf = new Map(rows.map((row) => [row.id, row.subject]));
  assert.deepEqual(accepted.map((email) => subjectOf.get(email.id)), subjects);
  for (const email of accepted) assert.equal(email.status, 'queued');
});

test('GET returns every field of the email shape and its log', async () => {
  const scheduled = new Date(Date.now() - 1000).toISOString();
  const expires = later();
  const { body } = await postJson(emails, {
    from: 'Sender <sender@example.com>', to: ['to@example.com'], cc: 'cc@example.com', bcc: ['bcc@example.com'],
    reply_to: 'reply@example.com', subject: 'full shape', text: 'hi', tags: ['welcome'], metadata: { user: '42' },
    priority: 'high', scheduled_at: scheduled, expires_at: expires,
  });
  await eventually('the email to be sent', async () => (await statusOf(String(body.id))) === 'sent');
  const got = await call(`${emails}/${String(body.id)}`);
  assert.equal(got.status, 200);
  const email = got.body;
  for (const field of ['id', 'status', 'priority', 'backend', 'sent_via', 'from', 'to', 'cc', 'bcc', 'subject', 'attempts', 'provider_message_id',
    'last_error', 'created_at', 'updated_at', 'scheduled_at', 'expires_at', 'sent_at', 'logs']) {
    assert.ok(Object.hasOwn(email, field), `GET has ${field}`);
  }
  assert.equal(email.id, body.id);
  assert.equal(email.status, 'sent');
  assert.equal(email.priority, 'high');
  assert.equal(email.backend, 'default');
  assert.equal(email.sent_via, 'default', 'the backend that made the attempt');
  assert.equal(email.from, 'Sender <sender@example.com>');
  assert.deepEqual([email.to, email.cc, email.bcc, email.reply_to], [['to@example.com'], ['cc@example.com'], ['bcc@example.com'], ['reply@example.com']]);
  assert.equal(email.subject, 'full shape');
  assert.deepEqual([email.tags, email.metadata], [['welcome'], { user: '42' }]);
  assert.equal(email.attempts, 1);
  assert.equal(email.provider_message_id, 'pm-full shape');
  assert.equal(email.last_error, null);
  assert.equal(email.scheduled_at, scheduled);
  assert.equal(email.expires_at, expires);
  for (const field of ['created_at', 'updated_at', 'sent_at']) assert.ok(!Number.isNaN(Date.parse(String(email[field]))), `${field} is a date`);
  const logs = email.logs as Json[];
  assert.equal(logs.length, 1);
  assert.deepEqual(Object.keys(logs[0]!).sort(), ['at', 'attempt', 'backend', 'code', 'message', 'status']);
  assert.equal(logs[0]!.backend, 'default');
  assert.equal(logs[0]!.status, 'sent');
  assert.equal(logs[0]!.attempt, 1);
  assert.ok(!Number.isNaN(Date.parse(String(logs[0]!.at))));
});

test('the list is newest first, and its cursor walks every row exactly once; status filters', async () => {
  const batch = await postJson(`${quiet.apiUrl}/v1/emails/batch`, {
    emails: Array.from({ length: 7 }, (_, i) => ({ from: 'a@example.com', to: 'b@example.com', subject: `list ${i}` })),
  });
  const ids = (batch.body.emails as { id: string }[]).map((email) => email.id);
  for (const id of [ids[1]!, ids[4]!]) assert.equal((await call(`${quiet.apiUrl}/v1/emails/${id}/cancel`, { method: 'POST' })).status, 200);

  const expected = (await quietClient.query<{ id: string }>('SELECT id FROM emails ORDER BY id DESC')).rows.map((row) => row.id);
  assert.ok(expected.length >= 7);
  const seen: string[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await call(`${quiet.apiUrl}/v1/emails?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.equal(page.status, 200);
    const listed = page.body.emails as Json[];
    for (const email of listed) assert.equal(Object.hasOwn(email, 'logs'), false, 'a list entry is the summary');
    seen.push(...listed.map((email) => String(email.id)));
    pages.push(listed.length);
    cursor = page.body.next_cursor as string | null;
  } while (cursor !== null);
  assert.deepEqual(seen, expected, 'newest first, every row exactly once');
  assert.ok(pages.slice(0, -1).every((size) => size === 3) && pages.at(-1)! >= 1 && pages.at(-1)! <= 3, `page sizes ${pages}`);

  const cancelled = await call(`${quiet.apiUrl}/v1/emails?status=cancelled`);
  const expectCancelled = (await quietClient.query<{ id: string }>(`SELECT id FROM emails WHERE status = 'cancelled' ORDER BY id DESC`)).rows.map((row) => row.id);
  assert.deepEqual((cancelled.body.emails as Json[]).map((email) => email.id), expectCancelled);
  assert.ok(expectCancelled.includes(ids[1]!) && expectCancelled.includes(ids[4]!));
  assert.equal(cancelled.body.next_cursor, null);
  const queued = await call(`${quiet.apiUrl}/v1/emails?status=queued&limit=1000`);
  const listedQueued = (queued.body.emails as Json[]);
  assert.ok(listedQueued.every((email) => email.status === 'queued'));
  assert.ok(!listedQueued.some((email) => email.id === ids[1] || email.id === ids[4]));
});

test('cancel a queued email, then cancel again (409), requeue it (fresh budget), requeue again (409)', async () => {
  const { body } = await postJson(`${quiet.apiUrl}/v1/emails`, { from: 'a@example.com', to: 'b@example.com', subject: 'to cancel', scheduled_at: later() });
  const url = `${quiet.apiUrl}/v1/emails/${String(body.id)}`;

  // As `curl -X POST -H 'content-type: application/json'` sends it: a JSON content type, no body.
  const cancelled = await call(`${url}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' } });
  assert.deepEqual([cancelled.status, cancelled.body], [200, { id: body.id, status: 'cancelled' }]);
  const again = await call(`${url}/cancel`, { method: 'POST' });
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'INVALID_STATE');
  assert.match(String(again.body.message), /^status: the email is cancelled/);

  const requeued = await call(`${url}/requeue`, { method: 'POST' });
  assert.deepEqual([requeued.status, requeued.body], [200, { id: body.id, status: 'queued' }]);
  const row = await quietClient.query('SELECT status, attempts, max_attempts FROM emails WHERE id = $1', [body.id]);
  assert.deepEqual(row.rows[0], { status: 'queued', attempts: 0, max_attempts: 4 });
  const schedule = await quietClient.query('SELECT run_at = scheduled_at AS kept FROM emails WHERE id = $1', [body.id]);
  assert.equal(schedule.rows[0].kept, true, 'a requeued email keeps its future schedule');
  const twice = await call(`${url}/requeue`, { method: 'POST' });
  assert.equal(twice.status, 409);
  assert.equal(twice.body.code, 'INVALID_STATE');
  assert.match(String(twice.body.message), /^status: the email is queued/);

  const logs = (await call(url)).body.logs as Json[];
  assert.deepEqual(logs.map((log) => [log.status, log.code]), [['cancelled', 'CANCELLED'], ['queued', 'REQUEUED']]);
});

test('a failed email requeued gets a fresh attempt budget and is sent; a sent one cannot be cancelled or requeued', async () => {
  rejecting = true;
  const { body } = await postJson(emails, { to: 'b@example.com', subject: 'reject me once' });
  const url = `${emails}/${String(body.id)}`;
  await eventually('the email to fail', async () => (await statusOf(String(body.id))) === 'failed');
  const failed = (await call(url)).body;
  assert.equal(failed.attempts, 1);
  assert.match(String(failed.last_error), /HTTP 422/);

  rejecting = false;
  const requeued = await call(`${url}/requeue`, { method: 'POST' });
  assert.deepEqual([requeued.status, requeued.body.id], [200, body.id]);
  await eventually('the requeued email to be sent', async () => (await statusOf(String(body.id))) === 'sent');
  const sent = (await call(url)).body;
  assert.equal(sent.attempts, 2);
  assert.equal(sent.provider_message_id, 'pm-reject me once');
  assert.deepEqual((sent.logs as Json[]).map((log) => [log.attempt, log.status, log.code]), [[1, 'failed', 'REJECTED'], [1, 'queued', 'REQUEUED'], [2, 'sent', null]]);
  assert.equal((await db.query('SELECT max_attempts FROM emails WHERE id = $1', [body.id])).rows[0]?.max_attempts, 1 + 3);

  for (const action of ['cancel', 'requeue']) {
    const refused = await call(`${url}/${action}`, { method: 'POST' });
    assert.deepEqual([refused.status, refused.body.code], [409, 'INVALID_STATE'], action);
  }
});

test('an unknown id is 404 NOT_FOUND for get, cancel and requeue', async () => {
  const id = '01900000-0000-7000-8000-000000000000';
  for (const [method, path] of [['GET', ''], ['POST', '/cancel'], ['POST', '/requeue']] as const) {
    const answer = await call(`${emails}/${id}${path}`, { method });
    assert.equal(answer.status, 404, `${method} ${path}`);
    assert.equal(answer.body.code, 'NOT_FOUND');
    assert.equal(answer.body.message, `id: no email ${id}`);
  }
});

test('Idempotency-Key: same body replays the id, another body is 422, concurrent requests make one row', async () => {
  const count = async (subject: string) => Number((await db.query(`SELECT count(*) FROM emails WHERE message->>'subject' = $1`, [subject])).rows[0].count);
  const email = { to: 'b@example.com', subject: 'idempotent one' };
  const first = await postJson(emails, email, { 'idempotency-key': 'order-1001' });
  const replay = await postJson(emails, email, { 'idempotency-key': 'order-1001' });
  assert.equal(first.status, 202);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  assert.equal(replay.status, 202);
  assert.equal(replay.body.id, first.body.id);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(await count('idempotent one'), 1);

  const reused = await postJson(emails, { ...email, text: 'changed' }, { 'idempotency-key': 'order-1001' });
  assert.equal(reused.status, 422);
  assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
  assert.match(String(reused.body.message), /^idempotency-key: /);
  assert.equal(await count('idempotent one'), 1);

  const batch = { emails: [{ to: 'b@example.com', subject: 'idempotent batch 0' }, { to: 'c@example.com', subject: 'idempotent batch 1' }] };
  const firstBatch = await postJson(`${emails}/batch`, batch, { 'idempotency-key': 'batch-7' });
  const replayBatch = await postJson(`${emails}/batch`, batch, { 'idempotency-key': 'batch-7' });
  assert.deepEqual((replayBatch.body.emails as Json[]).map((e) => e.id), (firstBatch.body.emails as Json[]).map((e) => e.id));
  assert.equal(replayBatch.headers.get('idempotent-replayed'), 'true');

  const racing = await Promise.all(Array.from({ length: 8 }, () => postJson(emails, { to: 'b@example.com', subject: 'idempotent race' }, { 'idempotency-key': 'race-1' })));
  assert.ok(racing.every((answer) => answer.status === 202), JSON.stringify(racing.map((answer) => answer.body)));
  assert.equal(new Set(racing.map((answer) => answer.body.id)).size, 1);
  assert.equal(racing.filter((answer) => answer.headers.get('idempotent-replayed') === null).length, 1, 'exactly one request created it');
  assert.equal(await count('idempotent race'), 1);
  assert.equal(Number((await db.query(`SELECT count(*) FROM idempotency_keys WHERE key = 'race-1'`)).rows[0].count), 1);
});

test('with POST_OFFICE_API_TOKEN, /v1 needs the bearer token and /openapi.json does not', async () => {
  const token = 'tok_4f9c2e1b7a6d5c3e8f0a';
  const guarded = await startSidecar(quietDb, { POST_OFFICE_DISPATCHER: 'off', POST_OFFICE_API_TOKEN: token });
  const email = { from: 'a@example.com', to: 'b@example.com', subject: 'guarded' };
  const count = async () => Number((await quietClient.query(`SELECT count(*) FROM emails WHERE message->>'subject' = 'guarded'`)).rows[0].count);

  for (const authorization of [undefined, 'Bearer tok_4f9c2e1b7a6d5c3e8f0b', `Basic ${token}`, token]) {
    const refused = await postJson(`${guarded.apiUrl}/v1/emails`, email, authorization === undefined ? {} : { authorization });
    assert.equal(refused.status, 401, String(authorization));
    assert.equal(refused.body.code, 'UNAUTHORIZED');
    assert.match(String(refused.body.message), /^authorization: /);
    assert.ok(!JSON.stringify(refused.body).includes(token), 'the token is never echoed');
  }
  // The router decodes %76 to "v": an encoded path must not slip past the token check.
  for (const path of ['/v1/emails', '/%761/emails', '/v%31/emails']) assert.equal((await call(`${guarded.apiUrl}${path}`)).status, 401, path);
  assert.equal(await count(), 0);

  const accepted = await postJson(`${guarded.apiUrl}/v1/emails`, email, { authorization: `Bearer ${token}` });
  assert.equal(accepted.status, 202);
  assert.equal(await count(), 1);
  assert.equal((await call(`${guarded.apiUrl}/v1/emails/${String(accepted.body.id)}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const openapi = await call(`${guarded.apiUrl}/openapi.json`);
  assert.equal(openapi.status, 200);
  assert.ok(!JSON.stringify(openapi.body).includes(token));
  assert.deepEqual(openapi.body.security, [{ bearer: [] }], 'the document says every route needs the token');
});

test('GET /openapi.json is an OpenAPI 3 document listing every /v1 route', async () => {
  const { status, body } = await call(`${main.apiUrl}/openapi.json`);
  assert.equal(status, 200);
  assert.match(String(body.openapi), /^3\.\d+\.\d+$/);
  const paths = body.paths as Record<string, Record<string, Json>>;
  const routes = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)).sort();
  assert.deepEqual(routes, [
    'DELETE /v1/suppressions/{address}', 'DELETE /v1/templates/{name}',
    'GET /v1/emails', 'GET /v1/emails/{id}', 'GET /v1/suppressions', 'GET /v1/suppressions/{address}', 'GET /v1/templates', 'GET /v1/templates/{name}',
    'POST /v1/emails', 'POST /v1/emails/batch', 'POST /v1/emails/{id}/cancel', 'POST /v1/emails/{id}/requeue',
    'POST /v1/templates/{name}/preview', 'PUT /v1/suppressions/{address}', 'PUT /v1/templates/{name}',
  ]);
  const enqueue = paths['/v1/emails']!.post as { requestBody: { content: Record<string, { schema: { properties: Json } }> }; responses: Json };
  assert.ok(Object.hasOwn(enqueue.requestBody.content['application/json']!.schema.properties, 'scheduled_at'));
  assert.ok(Object.hasOwn(enqueue.responses, '202') && Object.hasOwn(enqueue.responses, '400'));
});

test('priority "now" is stored, then sent', async () => {
  const { status, body } = await postJson(emails, { to: 'b@example.com', subject: 'right now', priority: 'now' });
  assert.equal(status, 202);
  await eventually('the priority now email to be sent', async () => (await statusOf(String(body.id))) === 'sent');
  assert.equal((await call(`${emails}/${String(body.id)}`)).body.priority, 'now');
  assert.ok(sending.mock.subjects().includes('right now'));
});

test('POST_OFFICE_DEFAULT_FROM fills a missing from', async () => {
  const { body } = await postJson(emails, { to: 'b@example.com', subject: 'default sender' });
  assert.equal((await call(`${emails}/${String(body.id)}`)).body.from, 'Post Office <noreply@example.com>');
  await eventually('the email to reach the provider', () => sending.mock.subjects().includes('default sender'));
  const request = sending.mock.requests.find((r) => (JSON.parse(r.body) as { Subject: string }).Subject === 'default sender')!;
  assert.equal((JSON.parse(request.body) as { From: string }).From, 'Post Office <noreply@example.com>');
});

test('POST_OFFICE_DISPATCHER=off accepts but never sends; another sidecar on the database sends', async () => {
  const sharedDb = await createTestDatabase();
  const idle = await provider();
  const busy = await provider();
  const enqueueOnly = await startSidecar(sharedDb, { POST_OFFICE_DISPATCHER: 'off', POST_OFFICE_BACKENDS: postmarkBackend(idle.url) });
  const shared = await connect(sharedDb);
  const accepted = await postJson(`${enqueueOnly.apiUrl}/v1/emails/batch`, {
    emails: ['now', 'high', 'low'].map((priority) => ({ from: 'a@example.com', to: 'b@example.com', subject: `off ${priority}`, priority })),
  });
  assert.equal(accepted.status, 202);
  const ids = (accepted.body.emails as Json[]).map((email) => String(email.id));
  const statuses = async () => (await shared.query<{ status: string }>('SELECT status FROM emails WHERE id = ANY($1::uuid[])', [ids])).rows.map((row) => row.status);
  assert.deepEqual(await statuses(), ['queued', 'queued', 'queued']);

  await startSidecar(sharedDb, { POST_OFFICE_THREADS: '1', POST_OFFICE_BACKENDS: postmarkBackend(busy.url) });
  await eventually('the other sidecar to send all three', async () => (await statuses()).every((status) => status === 'sent'));
  assert.deepEqual(busy.mock.subjects().sort(), ['off high', 'off low', 'off now']);
  assert.equal(idle.mock.requests.length, 0, 'the enqueue-only sidecar sent nothing');
  const listed = await call(`${enqueueOnly.apiUrl}/v1/emails?status=sent`);
  assert.equal((listed.body.emails as Json[]).length, 3, 'and it still reads the shared queue');
});
