// Retries, timeouts and error mapping against a tiny local HTTP server on port 0 that scripts
// its answers (503 then 202, a reset, silence), so no database outage is needed.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { Client, PostOfficeError } from '../src/index.ts';
import { parseRetryAfter } from '../src/transport.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Reply = (response: ServerResponse, request: IncomingMessage) => void;

const servers: ReturnType<typeof createServer>[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** A server answering its nth request with `replies[n]` (the last one again after that). */
async function scriptedServer(replies: Reply[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    seen.push({ method: request.method!, url: request.url!, headers: request.headers, body, at: performance.now() });
    replies[Math.min(seen.length, replies.length) - 1]!(response, request);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (response) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};
const unavailable = (retryAfter: string) => json(503, { statusCode: 503, code: 'DATABASE_UNAVAILABLE', message: 'database: unreachable, try again shortly' }, { 'retry-after': retryAfter });
const accepted = json(202, { id: '01a21ee3-f1df-7668-9c53-6272d3caaf9a', status: 'queued' });
const email = { from: 'shop@example.com', to: 'bob@example.com', subject: 'Hello', text: 'Hi' };

async function rejection(call: Promise<unknown>): Promise<PostOfficeError> {
  const error = await call.then(() => assert.fail('expected the call to fail'), (caught: unknown) => caught);
  assert.ok(error instanceof PostOfficeError, `expected a PostOfficeError, got ${String(error)}`);
  return error;
}

test('a 503 is retried with the same body and idempotency key, and the retry succeeds', async () => {
  const server = await scriptedServer([unavailable('0'), accepted]);
  const client = new Client({ url: server.url, env: { POST_OFFICE_API_TOKEN: 'from-the-environment' } });
  const result = await client.enqueue(email);
  assert.deepStrictEqual(result, { id: '01a21ee3-f1df-7668-9c53-6272d3caaf9a', status: 'queued', replayed: false });
  assert.equal(server.seen.length, 2);
  const [first, second] = server.seen;
  assert.match(String(first!.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
  assert.equal(second!.headers['idempotency-key'], first!.headers['idempotency-key']);
  assert.equal(second!.body, first!.body);
  assert.deepStrictEqual(JSON.parse(first!.body), email);
  assert.equal(first!.headers.authorization, 'Bearer from-the-environment');
  assert.equal(first!.headers['content-type'], 'application/json');
});

test('the client waits the Retry-After seconds before retrying', async () => {
  const server = await scriptedServer([unavailable('1'), accepted]);
  await new Client({ url: server.url, env: {} }).enqueue(email);
  const [first, second] = server.seen;
  // A lower bound only: the retry may come later, never sooner.
  assert.ok(second!.at - first!.at >= 950, `the retry came ${Math.round(second!.at - first!.at)} ms after the 503`);
});

test('retries are bounded: after maxRetries the 503 is thrown with its code and Retry-After', async () => {
  const server = await scriptedServer([unavailable('0')]);
  const error = await rejection(new Client({ url: server.url, maxRetries: 2, env: {} }).get('01a21ee3-f1df-7668-9c53-6272d3caaf9a'));
  assert.equal(server.seen.length, 3);
  assert.deepStrictEqual([error.code, error.statusCode, error.retryAfterSeconds], ['DATABASE_UNAVAILABLE', 503, 0]);
  assert.equal(error.message, 'database: unreachable, try again shortly');
});

test('other errors are not retried', async () => {
  const server = await scriptedServer([json(500, { statusCode: 500, code: 'INTERNAL', message: 'internal error; see the sidecar log' })]);
  const error = await rejection(new Client({ url: server.url, env: {} }).list({ limit: 5 }));
  assert.deepStrictEqual([error.code, error.statusCode], ['INTERNAL', 500]);
  assert.equal(server.seen.length, 1);
  assert.equal(server.seen[0]!.url, '/v1/emails?limit=5');
});

test('a connection closed before an answer is retried with the same idempotency key', async () => {
  const server = await scriptedServer([(response) => response.socket!.destroy(), accepted]);
  const result = await new Client({ url: server.url, env: {} }).enqueue(email, { idempotencyKey: 'order-1234' });
  assert.equal(result.status, 'queued');
  assert.deepStrictEqual(server.seen.map((seen) => seen.headers['idempotency-key']), ['order-1234', 'order-1234']);
});

test('a sidecar that cannot be reached is CONNECTION_FAILED after the retries', async () => {
  const server = await scriptedServer([accepted]);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
  const error = await rejection(new Client({ url, maxRetries: 1, env: {} }).enqueue(email));
  assert.equal(error.code, 'CONNECTION_FAILED');
  assert.equal(error.statusCode, undefined);
  assert.match(error.message, /^POST \/v1\/emails: connection to http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  assert.equal(server.seen.length, 0);
});

test('no answer within the timeout is TIMEOUT, and is not retried', async () => {
  const server = await scriptedServer([() => undefined]);
  const error = await rejection(new Client({ url: server.url, timeoutSeconds: 0.2, env: {} }).enqueue(email));
  assert.deepStrictEqual([error.code, error.statusCode], ['TIMEOUT', undefined]);
  assert.equal(error.message, 'POST /v1/emails: no answer within 0.2 s');
  assert.equal(server.seen.length, 1);
});

test('POST_OFFICE_TIMEOUT sets the timeout, and covers an answer that stalls after its headers', async () => {
  const server = await scriptedServer([(response) => {
    response.writeHead(202, { 'content-type': 'application/json' });
    response.write('{"id":');
  }]);
  const error = await rejection(new Client({ url: server.url, env: { POST_OFFICE_TIMEOUT: '0.2' } }).enqueue(email));
  assert.deepStrictEqual([error.code, error.statusCode], ['TIMEOUT', 202]);
  assert.equal(server.seen.length, 1);
});

test('an answer that is not the API JSON is UNEXPECTED_RESPONSE with its status', async () => {
  const server = await scriptedServer([(response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>')]);
  const error = await rejection(new Client({ url: server.url, env: {} }).listTemplates());
  assert.deepStrictEqual([error.code, error.statusCode], ['UNEXPECTED_RESPONSE', 502]);
  assert.equal(error.message, 'HTTP 502 without an API error body');
});

test('path segments are encoded', async () => {
  const server = await scriptedServer([json(200, { language: 'de', subject: 's', text: null, html: null })]);
  await new Client({ url: `${server.url}/`, env: {} }).previewTemplate('a b/c', { language: 'de' });
  assert.equal(server.seen[0]!.url, '/v1/templates/a%20b%2Fc/preview');
  assert.deepStrictEqual(JSON.parse(server.seen[0]!.body), { language: 'de' });
});

test('Retry-After is seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('5'), 5);
  assert.equal(parseRetryAfter('0.5'), 0.5);
  assert.equal(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString()), 0);
  const ahead = parseRetryAfter(new Date(Date.now() + 120_000).toUTCString())!;
  assert.ok(ahead > 100 && ahead <= 120, `got ${ahead}`);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter('-1'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});
