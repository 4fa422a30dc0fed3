// Secrets never leave an adapter (src/providers/secrets.ts), and the registry applies that to
// every adapter it creates with the secrets its kind declares, derived ones included.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import type { Provider, SendContext, SendOutcome } from '../../src/providers/provider.ts';
import { parseBackends } from '../../src/providers/registry.ts';
import { createProvider, providerOrigin } from '../../src/providers/kinds.ts';
import { keepingSecrets } from '../../src/providers/secrets.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { message } from '../helpers/provider-fixtures.ts';

const SECRET = 'sk-live-0123456789abcdef';
const noContext = { agent: new Agent(), headers: {}, timeoutMs: 1000 } satisfies SendContext;

after(() => noContext.agent.close());

describe('keepingSecrets', () => {
  test('a secret in a failure message is redacted; ok outcomes pass as they are', async () => {
    const outcomes: SendOutcome[] = [
      { outcome: 'permanent', code: 'AUTH_FAILED', message: `HTTP 401: key ${SECRET} is not valid, key ${SECRET}` },
      { outcome: 'ok', providerMessageId: SECRET },
    ];
    const provider = keepingSecrets([SECRET, undefined], { send: async () => outcomes.shift()! });
    assert.deepEqual(await provider.send(message, noContext), { outcome: 'permanent', code: 'AUTH_FAILED', message: 'HTTP 401: key [redacted] is not valid, key [redacted]' });
    assert.deepEqual(await provider.send(message, noContext), { outcome: 'ok', providerMessageId: SECRET });
  });

  test('values shorter than 6 characters are not treated as secrets', async () => {
    const provider = keepingSecrets(['abc'], { send: async () => ({ outcome: 'retryable', code: 'NETWORK', message: 'ECONNRESET: abc' }) });
    assert.deepEqual(await provider.send(message, noContext), { outcome: 'retryable', code: 'NETWORK', message: 'ECONNRESET: abc' });
  });

  test('an adapter that throws is a retryable ADAPTER_ERROR, scrubbed', async () => {
    const provider = keepingSecrets([SECRET], {
      send: async () => {
        throw new Error(`cannot sign with ${SECRET}`);
      },
    });
    assert.deepEqual(await provider.send(message, noContext), { outcome: 'retryable', code: 'ADAPTER_ERROR', message: 'cannot sign with [redacted]' });
  });

  test('a batch that throws is every message\'s ADAPTER_ERROR; close passes through', async () => {
    let closed = 0;
    const adapter: Provider = {
      send: async () => ({ outcome: 'ok', providerMessageId: null }),
      sendBatch: async () => {
        throw new Error(`refused ${SECRET}`);
      },
      close: async () => {
        closed++;
      },
    };
    const provider = keepingSecrets([SECRET], adapter);
    const expected = { outcome: 'retryable', code: 'ADAPTER_ERROR', message: 'refused [redacted]' };
    assert.deepEqual(await provider.sendBatch?.([message, message], noContext), [expected, expected]);
    await provider.close?.();
    assert.equal(closed, 1);
  });

  test('an adapter without a batch endpoint or close gets neither', () => {
    const provider = keepingSecrets([SECRET], { send: async () => ({ outcome: 'ok', providerMessageId: null }) });
    assert.equal(provider.sendBatch, undefined);
    assert.equal(provider.close, undefined);
  });
});

describe('the registry', () => {
  const mock = new MockProvider();
  let baseUrl: string;
  let agent: Agent;

  before(async () => {
    baseUrl = await mock.start();
    agent = new Agent({ connections: 1 });
  });

  after(async () => {
    await agent.close();
    await mock.stop();
  });

  // A provider that echoes the Authorization header it was sent: the Basic credential is the
  // key in base64, a secret the settings do not hold as such.
  const basicCases = [
    { provider: 'mailgun', settings: { api_key: 'key-0123456789abcdef', domain: 'mg.example.com' } },
    { provider: 'mailjet', settings: { api_key: 'mj-public-key', secret_key: 'mj-secret-0123456789abcdef' } },
  ];
  for (const { provider, settings } of basicCases) {
    test(`${provider}: an echoed Basic credential is redacted`, async () => {
      mock.script = (request) => ({ status: 400, body: `bad request from ${String(request.headers.authorization)}`, headers: { 'content-type': 'text/plain' } });
      const backend = parseBackends(JSON.stringify({ default: { provider, ...settings, base_url: baseUrl } }), '/nonexistent').default!;
      const outcome = await createProvider(backend).send(message, { agent, headers: {}, timeoutMs: 5000 });
      const credential = String(mock.requests.at(-1)?.headers.authorization).replace(/^Basic /, '');
      assert.ok(credential.length > 10, 'the request carried a Basic credential');
      assert.equal(outcome.outcome, 'permanent');
      assert.ok(!outcome.message.includes(credential), `the outcome never carries the credential: ${outcome.message}`);
      assert.match(outcome.message, /Basic \[redacted\]/);
    });
  }

  test('SMTP and outbox backends have no HTTP origin', () => {
    const backends = parseBackends(JSON.stringify({ relay: { provider: 'smtp', host: 'smtp.example.com' }, files: { provider: 'outbox' } }), '/nonexistent');
    assert.equal(providerOrigin(backends.relay!), null);
    assert.equal(providerOrigin(backends.files!), null);
  });
});
