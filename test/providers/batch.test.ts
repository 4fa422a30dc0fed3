// The batch endpoints, against a local server speaking each provider's documented batch API:
// the request shape (each message exactly as the single endpoint would get it), the mapping of
// per-message results back to each email, and whole-request failures, which are every email's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import type { EmailMessage } from '../../src/email/message.ts';
import type { Provider, SendContext, SendOutcome } from '../../src/providers/provider.ts';
import { parseBackends } from '../../src/providers/registry.ts';
import { batchEndpoint, createProvider } from '../../src/providers/kinds.ts';
import { MockProvider, type RecordedRequest, type Reply } from '../helpers/mock-provider.ts';
import { message } from '../helpers/provider-fixtures.ts';

const postmarkToken = 'pm-server-token-0123456789';
const resendKey = 're_test_0123456789abcdef';

const mock = new MockProvider();
let baseUrl: string;
let agent: Agent;

before(async () => {
  baseUrl = await mock.start();
  agent = new Agent({ connections: 4 });
});

after(async () => {
  await agent.close();
  await mock.stop();
});

const context = (): SendContext => ({ agent, headers: { 'user-agent': 'post-office-batch-test' }, timeoutMs: 10_000 });

function adapter(settings: Record<string, unknown>): Provider {
  const backend = parseBackends(JSON.stringify({ default: { ...settings, base_url: baseUrl, batch: true } }), '/nonexistent').default!;
  assert.ok(batchEndpoint(backend) !== undefined, 'the backend batches');
  return createProvider(backend);
}

const postmark = () => adapter({ provider: 'postmark', server_token: postmarkToken });
const resend = () => adapter({ provider: 'resend', api_key: resendKey });

/** Distinct emails, each with its own id, recipient and subject. */
function emails(count: number, template: EmailMessage = message): EmailMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    ...template,
    id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
    to: [`user${i}@example.com`],
    subject: `email ${i}`,
  }));
}

const withoutAttachments = (count: number) => emails(count, { ...message, attachments: [] });

/** Runs `run` with the mock answering `script`, and returns the outcomes and the requests made. */
async function exchange(script: (request: RecordedRequest) => Reply, run: () => Promise<SendOutcome[]>) {
  const first = mock.requests.length;
  mock.script = script;
  const outcomes = await run();
  return { outcomes, requests: mock.requests.slice(first) };
}

function codes(outcomes: SendOutcome[]): string[] {
  return outcomes.map((outcome) => (outcome.outcome === 'ok' ? `ok ${outcome.providerMessageId}` : `${outcome.outcome} ${outcome.code}`));
}

/** Postmark's per-message answer in a batch reply. */
const accepted = (i: number) => ({ ErrorCode: 0, Message: 'OK', MessageID: `pm-${i}`, SubmittedAt: '2026-01-01T00:00:00Z', To: `user${i}@example.com` });
const refused = (code: number, text: string) => ({ ErrorCode: code, Message: text });
/** A 200 accepting every message of a Postmark batch request, whatever its size. */
const acceptAll = (request: RecordedRequest): Reply => {
  const sent = JSON.parse(request.body) as Array<{ To: string }>;
  return { status: 200, body: sent.map((item) => ({ ...accepted(0), MessageID: `pm-${item.To}`, To: item.To })) };
};

describe('postmark /email/batch', () => {
  test('one request; each element is exactly what /email would get; ids map back in order', async () => {
    const batch = emails(3);
    const single = await exchange(() => ({ status: 200, body: accepted(9) }), async () => [await postmark().send(batch[1]!, context())]);
    const { outcomes, requests } = await exchange(() => ({ status: 200, body: [accepted(0), accepted(1), accepted(2)] }), () => postmark().sendBatch!(batch, context()));
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.path, '/email/batch');
    assert.equal(request!.headers['x-postmark-server-token'], postmarkToken);
    assert.match(String(request!.headers['content-type']), /^application\/json/);
    const items = JSON.parse(request!.body) as unknown[];
    assert.equal(items.length, 3);
    assert.deepEqual(items[1], JSON.parse(single.requests[0]!.body), 'the batch element equals the single request body');
    assert.deepEqual(codes(outcomes), ['ok pm-0', 'ok pm-1', 'ok pm-2']);
  });

  test('mixed results in one 200: each email gets its own outcome', async () => {
    const { outcomes } = await exchange(() => ({
      status: 200,
      body: [
        accepted(0),
        refused(406, 'You tried to send to recipient(s) that have been marked as inactive.'),
        refused(300, "Invalid 'To' address: 'user2@'."),
        refused(429, 'Rate limit exceeded.'),
        refused(999, 'Something new.'),
        accepted(5),
      ],
    }), () => postmark().sendBatch!(emails(6), context()));
    assert.deepEqual(codes(outcomes), [
      'ok pm-0',
      'permanent RECIPIENT_REJECTED',
      'permanent REJECTED',
      'retryable RATE_LIMITED',
      'permanent REJECTED',
      'ok pm-5',
    ]);
    assert.match((outcomes[1] as { message: string }).message, /ErrorCode 406: You tried to send to recipient\(s\) that have been marked as inactive/);
  });

  test('a whole-batch 5xx makes every email retryable, with Retry-After', async () => {
    const { outcomes } = await exchange(() => ({ status: 503, headers: { 'retry-after': '7' }, body: { ErrorCode: 100, Message: 'Maintenance' } }), () => postmark().sendBatch!(emails(4), context()));
    assert.deepEqual(codes(outcomes), Array(4).fill('retryable PROVIDER_UNAVAILABLE'));
    for (const outcome of outcomes) assert.equal((outcome as { retryAfterSeconds?: number }).retryAfterSeconds, 7);
  });

  test('a whole-batch 401 is every email\'s AUTH_FAILED, and an echoed token is scrubbed', async () => {
    const { outcomes } = await exchange(() => ({ status: 401, body: { ErrorCode: 10, Message: `Bad or missing API token ${postmarkToken}` } }), () => postmark().sendBatch!(emails(2), context()));
    assert.deepEqual(codes(outcomes), ['permanent AUTH_FAILED', 'permanent AUTH_FAILED']);
    for (const outcome of outcomes) assert.ok(!(outcome as { message: string }).message.includes(postmarkToken));
  });

  test('answers that do not match the messages one for one are every email\'s INVALID_RESPONSE', async () => {
    const { outcomes } = await exchange(() => ({ status: 200, body: [accepted(0), accepted(1)] }), () => postmark().sendBatch!(emails(3), context()));
    assert.deepEqual(codes(outcomes), Array(3).fill('retryable INVALID_RESPONSE'));
  });

  test('a reset connection is every email\'s NETWORK', async () => {
    const { outcomes } = await exchange(() => ({ reset: true }), () => postmark().sendBatch!(emails(2), context()));
    assert.deepEqual(codes(outcomes), ['retryable NETWORK', 'retryable NETWORK']);
  });

  test('more than 500 messages, or more than 50 MB, go in several requests', async () => {
    const many = await exchange(acceptAll, () => postmark().sendBatch!(emails(501), context()));
    assert.deepEqual(many.requests.map((request) => (JSON.parse(request.body) as unknown[]).length), [500, 1]);
    assert.equal(many.outcomes.filter((outcome) => outcome.outcome === 'ok').length, 501);

    const content = Buffer.alloc(9_000_000, 7).toString('base64'); // 12 MB of base64 each
    const heavy = emails(6, { ...message, attachments: [{ filename: 'scan.pdf', content, content_type: 'application/pdf' }] });
    const split = await exchange(acceptAll, () => postmark().sendBatch!(heavy, context()));
    assert.deepEqual(split.requests.map((request) => (JSON.parse(request.body) as unknown[]).length), [4, 2]);
    for (const request of split.requests) assert.ok(Buffer.byteLength(request.body) <= 50_000_000);
    assert.deepEqual(codes(split.outcomes), heavy.map((email) => `ok pm-${email.to[0]}`));
  });
});

describe('resend /emails/batch', () => {
  /** Resend's answers: a batch gets ids in order, a single send its own id. */
  const answer = (request: RecordedRequest): Reply => {
    if (request.path === '/emails/batch') {
      const sent = JSON.parse(request.body) as Array<{ subject: string }>;
      return { status: 200, body: { data: sent.map((item) => ({ id: `re-${item.subject}` })) } };
    }
    return { status: 200, body: { id: `re-single-${(JSON.parse(request.body) as { subject: string }).subject}` } };
  };

  test('one request with strict validation and no idempotency key; ids map back in order', async () => {
    const batch = withoutAttachments(3);
    const single = await exchange(answer, async () => [await resend().send(batch[0]!, context())]);
    const { outcomes, requests } = await exchange(answer, () => resend().sendBatch!(batch, context()));
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request!.path, '/emails/batch');
    assert.equal(request!.headers.authorization, `Bearer ${resendKey}`);
    assert.equal(request!.headers['x-batch-validation'], 'strict');
    // One key for the whole request would not match any email's own key (its id) on a retry.
    assert.equal(request!.headers['idempotency-key'], undefined);
    const items = JSON.parse(request!.body) as unknown[];
    assert.deepEqual(items[0], JSON.parse(single.requests[0]!.body), 'the batch element equals the single request body');
    assert.deepEqual(codes(outcomes), ['ok re-email 0', 'ok re-email 1', 'ok re-email 2']);
  });

  test('emails with attachments are sent on their own (the batch endpoint drops them)', async () => {
    const batch = withoutAttachments(4);
    batch[2] = { ...batch[2]!, attachments: message.attachments };
    const { outcomes, requests } = await exchange(answer, () => resend().sendBatch!(batch, context()));
    const paths = requests.map((request) => request.path).sort();
    assert.deepEqual(paths, ['/emails', '/emails/batch']);
    const alone = requests.find((request) => request.path === '/emails')!;
    assert.equal(alone.headers['idempotency-key'], batch[2]!.id);
    assert.equal((JSON.parse(alone.body) as { attachments: unknown[] }).attachments.length, 2);
    assert.deepEqual(codes(outcomes), ['ok re-email 0', 'ok re-email 1', 'ok re-single-email 2', 'ok re-email 3']);
  });

  test('a batch refused for one invalid email sent nothing: each is sent alone, only that one fails', async () => {
    const { outcomes, requests } = await exchange((request) => {
      if (request.path === '/emails/batch') return { status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } };
      const { subject } = JSON.parse(request.body) as { subject: string };
      return subject === 'email 1'
        ? { status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } }
        : answer(request);
    }, () => resend().sendBatch!(withoutAttachments(3), context()));
    assert.deepEqual(codes(outcomes), ['ok re-single-email 0', 'permanent REJECTED', 'ok re-single-email 2']);
    const singles = requests.filter((request) => request.path === '/emails');
    assert.equal(singles.length, 3);
    assert.deepEqual(singles.map((request) => request.headers['idempotency-key']).sort(), withoutAttachments(3).map((email) => email.id));
  });

  test('a whole-batch 5xx or 429 is every email\'s, with Retry-After', async () => {
    const down = await exchange(() => ({ status: 500, body: { statusCode: 500, name: 'internal_server_error', message: 'oops' } }), () => resend().sendBatch!(withoutAttachments(3), context()));
    assert.deepEqual(codes(down.outcomes), Array(3).fill('retryable PROVIDER_UNAVAILABLE'));
    assert.equal(down.requests.length, 1, 'no fallback to single sends for a retryable failure');
    const limited = await exchange(() => ({ status: 429, headers: { 'retry-after': '7' }, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' } }), () => resend().sendBatch!(withoutAttachments(2), context()));
    assert.deepEqual(codes(limited.outcomes), ['retryable RATE_LIMITED', 'retryable RATE_LIMITED']);
    for (const outcome of limited.outcomes) assert.equal((outcome as { retryAfterSeconds?: number }).retryAfterSeconds, 7);
  });

  test('ids that do not match the emails one for one are every email\'s INVALID_RESPONSE', async () => {
    const { outcomes } = await exchange(() => ({ status: 200, body: { data: [{ id: 'a' }] } }), () => resend().sendBatch!(withoutAttachments(2), context()));
    assert.deepEqual(codes(outcomes), ['retryable INVALID_RESPONSE', 'retryable INVALID_RESPONSE']);
  });
});
