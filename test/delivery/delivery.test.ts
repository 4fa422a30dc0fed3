// Retry classes end to end, against the scripted provider: 5xx, 429 (with Retry-After) and
// network failures are retried; 4xx fail after one attempt; attempts run out; deadlines expire.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, accept, type Reply } from '../helpers/mock-provider.ts';
import { eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const provider = new MockProvider();
let apiUrl: string;

// Each test scripts the replies for its own subject: the nth request for that subject gets
// replies[n] (the last reply repeats).
const scripts = new Map<string, Reply[]>();
provider.script = (request, index) => {
  const subject = String((JSON.parse(request.body) as { Subject: string }).Subject);
  const replies = scripts.get(subject);
  if (replies === undefined) return accept(request, index);
  const seen = provider.requests.filter((r) => r.body.includes(`"Subject":"${subject}"`)).length;
  return replies[Math.min(seen - 1, replies.length - 1)]!;
};

before(async () => {
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const service = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
    POST_OFFICE_MAX_ATTEMPTS: '3',
  });
  apiUrl = service.apiUrl;
});

type Email = { status: string; attempts: number; last_error: string | null; logs: { attempt: number; status: string; code: string | null }[] };

async function send(subject: string, replies: Reply[], extra: Record<string, unknown> = {}): Promise<string> {
  scripts.set(subject, replies);
  const response = await postJson(`${apiUrl}/v1/emails`, { from: 'a@example.com', to: 'b@example.com', subject, text: 'hi', ...extra });
  assert.equal(response.status, 202);
  return String(response.body.id);
}

async function settled(id: string): Promise<Email> {
  let email: Email | undefined;
  await eventually(`email ${id} to settle`, async () => {
    email = (await (await fetch(`${apiUrl}/v1/emails/${id}`)).json()) as Email;
    return email.status !== 'queued' && email.status !== 'sending';
  });
  return email!;
}

const requestsFor = (subject: string) => provider.requests.filter((r) => r.body.includes(`"Subject":"${subject}"`));
const ok: Reply = { status: 200, body: { ErrorCode: 0, Message: 'OK', MessageID: 'pm-1' } };

test('a 5xx is retried and the retry succeeds', async () => {
  const email = await settled(await send('five-hundred', [{ status: 503, body: { ErrorCode: 0, Message: 'down' } }, ok]));
  assert.equal(email.status, 'sent');
  assert.equal(email.attempts, 2);
  assert.deepEqual(email.logs.map((log) => [log.attempt, log.status, log.code]), [[1, 'queued', 'PROVIDER_UNAVAILABLE'], [2, 'sent', null]]);
});

test('a 429 is retried no sooner than its Retry-After', async () => {
  const email = await settled(await send('rate-limited', [{ status: 429, headers: { 'retry-after': '1' }, body: { ErrorCode: 0, Message: 'slow down' } }, ok]));
  assert.equal(email.status, 'sent');
  const [first, second] = requestsFor('rate-limited');
  assert.ok(second!.at - first!.at >= 1000, `retried after ${second!.at - first!.at} ms, before Retry-After: 1`);
  assert.equal(email.logs[0]?.code, 'RATE_LIMITED');
});

test('a reset connection is retried', async () => {
  const email = await settled(await send('reset', [{ reset: true }, ok]));
  assert.equal(email.status, 'sent');
  assert.equal(email.logs[0]?.code, 'NETWORK');
});

test('a 4xx fails after one attempt', async () => {
  const email = await settled(await send('rejected', [{ status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } }]));
  assert.equal(email.status, 'failed');
  assert.equal(email.attempts, 1);
  assert.equal(requestsFor('rejected').length, 1);
  assert.match(email.last_error ?? '', /ErrorCode 300/);
});

test('401 is a permanent AUTH_FAILED', async () => {
  const email = await settled(await send('bad-token', [{ status: 401, body: { ErrorCode: 10, Message: 'Bad or missing API token' } }]));
  assert.equal(email.status, 'failed');
  assert.equal(email.logs.at(-1)?.code, 'AUTH_FAILED');
});

test('retryable failures stop at POST_OFFICE_MAX_ATTEMPTS', async () => {
  const email = await settled(await send('always-down', [{ status: 500, body: {} }]));
  assert.equal(email.status, 'failed');
  assert.equal(email.attempts, 3);
  assert.equal(requestsFor('always-down').length, 3);
  assert.match(email.last_error ?? '', /gave up after 3 attempts/);
});

test('an email whose next retry would fall after expires_at expires', async () => {
  const expires = new Date(Date.now() + 60_000).toISOString();
  const email = await settled(await send('deadline', [{ status: 429, headers: { 'retry-after': '120' }, body: {} }], { expires_at: expires }));
  assert.equal(email.status, 'expired');
  assert.equal(requestsFor('deadline').length, 1);
});

test('an email already past expires_at when claimed is expired, not sent', async () => {
  const past = new Date(Date.now() - 60_000);
  const id = await send('too-late', [ok], { scheduled_at: new Date(past.getTime() - 1000).toISOString(), expires_at: past.toISOString() });
  const email = await settled(id);
  assert.equal(email.status, 'expired');
  assert.equal(requestsFor('too-late').length, 0);
  assert.equal(email.logs.at(-1)?.code, 'EXPIRED');
});
