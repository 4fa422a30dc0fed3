// The client against a real sidecar (this process, a real PostgreSQL, the outbox provider) with
// an API token: every call, the API's error codes, and idempotency.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { createTestDatabase } from '../../../test/helpers/database.ts';
import { connect, eventually, startSidecar } from '../../../test/helpers/sidecar.ts';
import { Client, PostOfficeError, type EmailRequest } from '../src/index.ts';

const token = 'client-test-token-0123456789';
const databaseUrl = await createTestDatabase();
const sidecar = await startSidecar(databaseUrl, { POST_OFFICE_API_TOKEN: token });
const db = await connect(databaseUrl);
const client = new Client({ url: sidecar.apiUrl, apiToken: token, env: {} });

const email = (to: string, extra: Partial<EmailRequest> = {}): EmailRequest => ({
  from: 'Shop <shop@example.com>', to, subject: 'Your order', text: 'Thanks!', ...extra,
});
// Far ahead, so the dispatcher leaves it queued for cancel and requeue.
const later = new Date(Date.now() + 86_400_000).toISOString();

async function rejection(call: Promise<unknown>): Promise<PostOfficeError> {
  const error = await call.then(() => assert.fail('expected the call to fail'), (caught: unknown) => caught);
  assert.ok(error instanceof PostOfficeError, `expected a PostOfficeError, got ${String(error)}`);
  return error;
}

test('enqueue, then get the email as it is sent', async () => {
  const accepted = await client.enqueue(email('bob@example.com', { tags: ['orders'], metadata: { order: '1234' } }));
  assert.equal(accepted.status, 'queued');
  assert.equal(accepted.replayed, false);
  await eventually('the email to be sent', async () => (await client.get(accepted.id)).status === 'sent');
  const detail = await client.get(accepted.id);
  assert.deepStrictEqual(detail.to, ['bob@example.com']);
  assert.deepStrictEqual(detail.metadata, { order: '1234' });
  assert.equal(detail.attempts, 1);
  assert.ok(detail.logs.some((entry) => entry.status === 'sent'));
});

test('a batch answers in request order', async () => {
  const accepted = await client.enqueueBatch([email('one@example.com'), email('two@example.com'), email('three@example.com')]);
  assert.equal(accepted.length, 3);
  const recipients = await Promise.all(accepted.map(async ({ id }) => (await client.get(id)).to[0]));
  assert.deepStrictEqual(recipients, ['one@example.com', 'two@example.com', 'three@example.com']);
});

test('list follows the cursor page by page, newest first', async () => {
  const tag = `list-${randomUUID()}`;
  const ids = (await client.enqueueBatch([1, 2, 3, 4, 5].map((n) => email(`n${n}@example.com`, { tags: [tag], scheduled_at: later })))).map(({ id }) => id);
  const first = await client.list({ status: 'queued', limit: 2 });
  assert.equal(first.emails.length, 2);
  assert.equal(typeof first.next_cursor, 'string');
  const second = await client.list({ status: 'queued', limit: 2, cursor: first.next_cursor! });
  assert.notDeepStrictEqual(second.emails.map((e) => e.id), first.emails.map((e) => e.id));
  const seen: string[] = [];
  for await (const summary of client.listAll({ status: 'queued', limit: 2 })) if (summary.tags.includes(tag)) seen.push(summary.id);
  assert.deepStrictEqual(seen, [...ids].reverse());
});

test('cancel a queued email, requeue it, and cancel again', async () => {
  const { id } = await client.enqueue(email('carol@example.com', { scheduled_at: later }));
  assert.deepStrictEqual(await client.cancel(id), { id, status: 'cancelled' });
  const again = await rejection(client.cancel(id));
  assert.equal(again.code, 'INVALID_STATE');
  assert.equal(again.statusCode, 409);
  assert.match(again.message, /^status: the email is cancelled/);
  assert.deepStrictEqual(await client.requeue(id), { id, status: 'queued' });
  assert.equal((await client.cancel(id)).status, 'cancelled');
});

test('templates: put, get, list, preview, send with one, delete', async () => {
  const name = `welcome-${randomUUID().slice(0, 8)}`;
  const created = await client.putTemplate(name, {
    subject: 'Welcome, {{ user.name }}!', html: '<p>Hi {{ user.name }}</p>', example_context: { user: { name: 'Ada' } },
  });
  assert.equal(created.language, '');
  assert.equal(created.strict_variables, false);
  await client.putTemplate(name, { subject: 'Willkommen, {{ user.name }}!', text: 'Hallo {{ user.name }}' }, { language: 'de' });
  assert.equal((await client.getTemplate(name, { language: 'de' })).subject, 'Willkommen, {{ user.name }}!');
  const listed = (await client.listTemplates()).find((summary) => summary.name === name);
  assert.deepStrictEqual(listed?.languages, ['', 'de']);
  assert.equal((await client.previewTemplate(name)).subject, 'Welcome, Ada!');
  const german = await client.previewTemplate(name, { language: 'de', context: { user: { name: 'Bob' } } });
  assert.deepStrictEqual([german.language, german.subject, german.text], ['de', 'Willkommen, Bob!', 'Hallo Bob']);
  const { id } = await client.enqueue({ from: 'shop@example.com', to: 'dan@example.com', template: name, language: 'de', context: { user: { name: 'Dan' } } });
  assert.equal((await client.get(id)).subject, 'Willkommen, Dan!');
  await client.deleteTemplate(name, { language: 'de' });
  const missing = await rejection(client.getTemplate(name, { language: 'de' }));
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(missing.statusCode, 404);
});

test('an invalid address is a 400 INVALID_ADDRESS that names the field, and nothing is stored', async () => {
  const before = (await db.query('SELECT count(*)::int AS n FROM emails')).rows[0].n;
  const error = await rejection(client.enqueue(email('bob@example.com', { cc: ['ok@example.com', 'bob@'] })));
  assert.equal(error.code, 'INVALID_ADDRESS');
  assert.equal(error.statusCode, 400);
  assert.match(error.message, /^cc\[1\]: /);
  assert.equal(error.retryAfterSeconds, undefined);
  assert.equal((await db.query('SELECT count(*)::int AS n FROM emails')).rows[0].n, before);
});

test('the types come from the schema: a priority it does not list is a type error and a 400', async () => {
  // @ts-expect-error: priority is "now" | "high" | "medium" | "low" in the OpenAPI document
  const error = await rejection(client.enqueue(email('gina@example.com', { priority: 'urgent' })));
  assert.deepStrictEqual([error.code, error.statusCode], ['VALIDATION_FAILED', 400]);
  assert.equal(error.message, 'priority: must be one of now, high, medium, low');
});

test('an unknown email is NOT_FOUND; a missing or wrong token is UNAUTHORIZED', async () => {
  assert.equal((await rejection(client.get(randomUUID()))).code, 'NOT_FOUND');
  for (const apiToken of [undefined, 'not-the-right-token-at-all']) {
    const error = await rejection(new Client({ url: sidecar.apiUrl, apiToken, env: {} }).list());
    assert.deepStrictEqual([error.code, error.statusCode], ['UNAUTHORIZED', 401]);
  }
});

test('the same idempotency key twice stores one email; the second answer is replayed', async () => {
  const idempotencyKey = randomUUID();
  const message = email('erin@example.com', { subject: `once ${idempotencyKey}` });
  const first = await client.enqueue(message, { idempotencyKey });
  const second = await client.enqueue(message, { idempotencyKey });
  assert.equal(second.id, first.id);
  assert.deepStrictEqual([first.replayed, second.replayed], [false, true]);
  const stored = await db.query("SELECT count(*)::int AS n FROM emails WHERE message->>'subject' = $1", [message.subject]);
  assert.equal(stored.rows[0].n, 1);

  const reused = await rejection(client.enqueue({ ...message, text: 'a different body' }, { idempotencyKey }));
  assert.deepStrictEqual([reused.code, reused.statusCode], ['IDEMPOTENCY_KEY_REUSED', 422]);
});

test('each call without a key gets its own: the same email twice is two emails', async () => {
  const message = email('frank@example.com', { subject: `twice ${randomUUID()}` });
  const [first, second] = [await client.enqueue(message), await client.enqueue(message)];
  assert.notEqual(first.id, second.id);
  const batchKey = randomUUID();
  const batch = await client.enqueueBatch([message, message], { idempotencyKey: batchKey });
  const replay = await client.enqueueBatch([message, message], { idempotencyKey: batchKey });
  assert.deepStrictEqual(replay.map(({ id }) => id), batch.map(({ id }) => id));
  assert.ok(replay.every(({ replayed }) => replayed));
  const stored = await db.query("SELECT count(*)::int AS n FROM emails WHERE message->>'subject' = $1", [message.subject]);
  assert.equal(stored.rows[0].n, 4);
});

test('suppressions: suppress, get, list, unsuppress', async () => {
  const address = `blocked-${randomUUID().slice(0, 8)}@example.com`;
  const added = await client.suppress(address, { detail: 'asked us' });
  assert.deepStrictEqual([added.address, added.reason, added.detail], [address, 'manual', 'asked us']);
  assert.equal((await client.getSuppression(address)).reason, 'manual');
  const page = await client.listSuppressions({ limit: 1000 });
  assert.ok(page.suppressions.some((entry) => entry.address === address));
  await client.unsuppress(address);
  const gone = await rejection(client.getSuppression(address));
  assert.equal(gone.code, 'NOT_FOUND');
});
