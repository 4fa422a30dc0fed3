// Batch endpoints end to end: a backend with "batch": true sends emails that wait together in
// fewer requests than emails, and each email still ends with its own outcome — its own provider
// message id, its own refusal, its own retry. A lone email and a rate-limited backend still go
// one by one.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider, type RecordedRequest, type Reply } from '../helpers/mock-provider.ts';
import { eventually, postJson, startSidecar } from '../helpers/sidecar.ts';

type Item = { Subject: string; To: string };

/** The Subjects a request carried: one for /email, several for /email/batch. */
function subjectsOf(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as Item | Item[];
  return (Array.isArray(body) ? body : [body]).map((item) => item.Subject);
}

// Postmark's answer for one message: refused when its subject says so, else accepted with an
// id derived from the subject, so the test can tell whose id each email got.
function answer(item: Item) {
  if (item.Subject.includes('inactive')) return { ErrorCode: 406, Message: 'You tried to send to recipient(s) that have been marked as inactive.', To: item.To };
  return { ErrorCode: 0, Message: 'OK', MessageID: `pm-${item.Subject}`, To: item.To, SubmittedAt: '2026-01-01T00:00:00Z' };
}

let failNextBatch = false;
const provider = new MockProvider((request): Reply => {
  const body = JSON.parse(request.body) as Item | Item[];
  if (!Array.isArray(body)) {
    const result = answer(body);
    return result.ErrorCode === 0 ? { status: 200, body: result } : { status: 422, body: result };
  }
  if (failNextBatch) {
    failNextBatch = false;
    return { status: 503, body: { ErrorCode: 100, Message: 'Maintenance' } };
  }
  return { status: 200, body: body.map(answer) };
});

let apiUrl: string;

before(async () => {
  defer(() => provider.stop());
  const baseUrl = await provider.start();
  const postmark = { provider: 'postmark', server_token: 'test-server-token', base_url: baseUrl, batch: true };
  const databaseUrl = await createTestDatabase();
  const service = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({ default: postmark, paced: { ...postmark, rate_limit: { per_second: 100 } } }),
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
    POST_OFFICE_CIRCUIT_PAUSE_SECONDS: '0.2',
  });
  apiUrl = service.apiUrl;
});

interface Email { status: string; attempts: number; provider_message_id: string | null; logs: { attempt: number; status: string; code: string | null }[] }

/** Enqueues the emails in one request (one commit), so they are claimed and wait together. */
async function enqueue(subjects: string[], extra: Record<string, unknown> = {}): Promise<string[]> {
  const emails = subjects.map((subject) => ({ from: 'a@example.com', to: `${subject}@example.com`, subject, text: 'hi', ...extra }));
  const response = await postJson(`${apiUrl}/v1/emails/batch`, { emails });
  assert.equal(response.status, 202);
  return (response.body.emails as { id: string }[]).map((email) => email.id);
}

async function settled(ids: string[]): Promise<Email[]> {
  const read = (id: string) => fetch(`${apiUrl}/v1/emails/${id}`).then(async (response) => (await response.json()) as Email);
  let emails: Email[] = [];
  await eventually(`${ids.length} emails to settle`, async () => {
    emails = await Promise.all(ids.map(read));
    return emails.every((email) => email.status !== 'queued' && email.status !== 'sending');
  });
  return emails;
}

/** The requests that carried any of these subjects. */
const requestsFor = (subjects: string[]) => provider.requests.filter((request) => subjectsOf(request).some((subject) => subjects.includes(subject)));

test('N emails reach the provider in fewer than N requests, and each ends sent with its own id', async () => {
  const subjects = Array.from({ length: 60 }, (_, i) => `bulk-${i}`);
  const emails = await settled(await enqueue(subjects));
  assert.deepEqual(emails.map((email) => email.status), subjects.map(() => 'sent'));
  assert.deepEqual(emails.map((email) => email.provider_message_id), subjects.map((subject) => `pm-${subject}`));
  for (const email of emails) assert.deepEqual(email.logs.map((log) => [log.attempt, log.status]), [[1, 'sent']]);
  const requests = requestsFor(subjects);
  assert.ok(requests.length < subjects.length, `${requests.length} requests for ${subjects.length} emails`);
  assert.ok(requests.some((request) => request.path === '/email/batch' && subjectsOf(request).length > 1), 'a batch request carried several emails');
  // Every email was sent exactly once.
  assert.deepEqual(requests.flatMap(subjectsOf).sort(), [...subjects].sort());
});

test('an email refused inside a batch fails alone; the others are sent', async () => {
  const subjects = ['mixed-0', 'mixed-1', 'mixed-inactive-2', 'mixed-3', 'mixed-4'];
  const emails = await settled(await enqueue(subjects));
  assert.deepEqual(emails.map((email) => email.status), ['sent', 'sent', 'failed', 'sent', 'sent']);
  assert.equal(emails[2]!.logs.at(-1)?.code, 'RECIPIENT_REJECTED');
  assert.equal(emails[2]!.attempts, 1);
  assert.equal(emails[3]!.provider_message_id, 'pm-mixed-3');
  assert.ok(requestsFor(['mixed-inactive-2']).some((request) => request.path === '/email/batch'), 'the refused email travelled in a batch');
});

test('a whole-batch 5xx is each email\'s retryable failure; each is retried and sent', async () => {
  failNextBatch = true;
  const subjects = Array.from({ length: 8 }, (_, i) => `retry-${i}`);
  const emails = await settled(await enqueue(subjects));
  assert.deepEqual(emails.map((email) => email.status), subjects.map(() => 'sent'));
  for (const email of emails) {
    assert.deepEqual(email.logs.map((log) => [log.attempt, log.status, log.code]), [[1, 'queued', 'PROVIDER_UNAVAILABLE'], [2, 'sent', null]]);
  }
  assert.deepEqual(emails.map((email) => email.provider_message_id), subjects.map((subject) => `pm-${subject}`));
});

test('a lone email goes to /email, as without batching', async () => {
  const [email] = await settled(await enqueue(['alone']));
  assert.equal(email!.status, 'sent');
  assert.deepEqual(requestsFor(['alone']).map((request) => request.path), ['/email']);
});

test('a rate-limited backend keeps sending one by one', async () => {
  const subjects = Array.from({ length: 6 }, (_, i) => `paced-${i}`);
  const emails = await settled(await enqueue(subjects, { backend: 'paced' }));
  assert.deepEqual(emails.map((email) => email.status), subjects.map(() => 'sent'));
  assert.deepEqual(requestsFor(subjects).map((request) => request.path), subjects.map(() => '/email'));
});
