// The shape of one provider's conformance case: the request its documentation describes and
// the replies it really sends. The cases themselves live in provider-cases-*.ts; the scenarios
// that run against every case live in test/providers/conformance.test.ts.
import assert from 'node:assert/strict';
import type { EmailMessage } from '../../src/email/message.ts';
import type { OutcomeCode } from '../../src/providers/outcome-codes.ts';
import type { RecordedRequest, Reply } from './mock-provider.ts';

/** One email that exercises every field an adapter maps. */
export const message: EmailMessage = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  from: 'Sender Name <sender@example.com>',
  to: ['Ann Example <ann@example.com>', 'bob@example.com'],
  cc: ['carol@example.com'],
  bcc: ['dave@example.com'],
  reply_to: ['replies@example.com'],
  subject: 'Conformance check',
  text: 'plain body',
  html: '<p>html body <img src="cid:logo"></p>',
  headers: { 'X-Campaign': 'spring' },
  attachments: [
    { filename: 'report.txt', content: Buffer.from('report').toString('base64'), content_type: 'text/plain' },
    { filename: 'logo.png', content: 'iVBORw0KGgo=', content_type: 'image/png', content_id: 'logo' },
  ],
  tags: ['welcome'],
  metadata: { user_id: '42' },
};

/** A reply with a status, as opposed to a reset connection. */
export type StatusReply = Extract<Reply, { status: number }>;

export type Expected =
  | { outcome: 'ok'; id: string | null }
  | { outcome: 'retryable' | 'permanent'; code: OutcomeCode };

export interface ProviderCase {
  /** Test label; the provider value unless one provider has several cases. */
  label: string;
  /** POST_OFFICE_BACKENDS settings for a mock at baseUrl. */
  settings(baseUrl: string): Record<string, unknown>;
  /** A secret from the settings that must never appear in an outcome. */
  secret: string;
  request: {
    path: string;
    /** Headers the documentation requires (name in lower case → exact value or pattern). */
    headers: Record<string, string | RegExp>;
    /** For JSON APIs: dotted paths into the body → the value the email must produce there. */
    fields?: Record<string, unknown>;
    /** Anything a table cannot say (form bodies, signatures, embedded MIME). */
    check?(request: RecordedRequest): void;
  };
  /** The provider's real success reply and the id the adapter must read from it. */
  success: { reply: Reply; id: string };
  /** A documented refusal (4xx, or whatever the provider uses) and its classification. */
  permanent: { reply: Reply; code: OutcomeCode };
  /** The provider's answer to a bad key. */
  unauthorized: Reply;
  /** The provider's 429 body (the scenario adds Retry-After). */
  rateLimited: StatusReply;
  /** A 5xx as the provider sends it. */
  unavailable: Reply;
  /** Provider-specific replies and what they must mean. */
  special?: Array<{ name: string; reply: Reply; expect: Expected }>;
}

/** A JSON reply the way the mock sends it. */
export function json(status: number, body: unknown, headers?: Record<string, string>): StatusReply {
  return { status, body, headers };
}

/** A non-JSON reply (proxy pages, plain-text errors). */
export function text(status: number, body: string, headers?: Record<string, string>): StatusReply {
  return { status, body, headers: { 'content-type': 'text/plain', ...headers } };
}

/** `a.b.0.c` into a parsed JSON body. */
export function pick(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((current, key) => (current === null || current === undefined ? undefined : (current as Record<string, unknown>)[key]), value);
}

/** Checks method, path, required headers and mapped fields of a recorded request. */
export function checkRequest(providerCase: ProviderCase, request: RecordedRequest): void {
  const { path, headers, fields, check } = providerCase.request;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, path);
  for (const [name, expected] of Object.entries(headers)) {
    const actual = request.headers[name];
    assert.ok(typeof actual === 'string', `header ${name} is present`);
    if (expected instanceof RegExp) assert.match(actual, expected, `header ${name}`);
    else assert.equal(actual, expected, `header ${name}`);
  }
  if (fields !== undefined) {
    assert.match(String(request.headers['content-type']), /^application\/json/);
    const body: unknown = JSON.parse(request.body);
    for (const [field, expected] of Object.entries(fields)) {
      assert.deepEqual(pick(body, field), expected, `body field ${field}`);
    }
  }
  check?.(request);
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
