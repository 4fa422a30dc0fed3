// Every HTTP adapter against a local server that speaks its provider's documented API: one
// table of provider cases (test/helpers/provider-cases-*.ts), one loop of scenarios. Each
// adapter is called directly with a real undici Agent, as the worker calls it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import type { SendContext, SendOutcome } from '../../src/providers/provider.ts';
import { parseBackends } from '../../src/providers/registry.ts';
import { createProvider, providerOrigin } from '../../src/providers/kinds.ts';
import { MockProvider, type Reply } from '../helpers/mock-provider.ts';
import { casesAtoM } from '../helpers/provider-cases-a-m.ts';
import { casesPtoZ } from '../helpers/provider-cases-p-z.ts';
import { checkRequest, message, text, type Expected, type ProviderCase } from '../helpers/provider-fixtures.ts';

// undici checks headersTimeout on a coarse (about one second) clock, so the mock stalls well past it.
const TIMEOUT_MS = 100;
const STALL_MS = 1500;
const cases = [...casesAtoM, ...casesPtoZ];

const mock = new MockProvider();
let baseUrl: string;
let agent: Agent;

before(async () => {
  baseUrl = await mock.start();
  agent = new Agent({ connections: 2 });
});

after(async () => {
  await agent.close();
  await mock.stop();
});

function context(timeoutMs = 5000): SendContext {
  return { agent, headers: { 'user-agent': 'post-office-conformance' }, timeoutMs };
}

/** Parses the case's settings the way start-up does, then builds its adapter. */
function adapterFor(providerCase: ProviderCase) {
  const backends = parseBackends(JSON.stringify({ default: providerCase.settings(baseUrl) }), '/nonexistent');
  const settings = backends.default;
  assert.ok(settings !== undefined);
  return { settings, provider: createProvider(settings) };
}

async function sendWith(providerCase: ProviderCase, reply: Reply, timeoutMs?: number): Promise<SendOutcome> {
  mock.script = () => reply;
  const { provider } = adapterFor(providerCase);
  const outcome = await provider.send(message, context(timeoutMs));
  if (outcome.outcome !== 'ok') {
    assert.ok(!outcome.message.includes(providerCase.secret), `the outcome message never carries the secret: ${outcome.message}`);
  }
  return outcome;
}

function expectOutcome(outcome: SendOutcome, expected: Expected): void {
  if (expected.outcome === 'ok') {
    assert.deepEqual(outcome, { outcome: 'ok', providerMessageId: expected.id });
    return;
  }
  assert.equal(outcome.outcome, expected.outcome, `outcome of ${JSON.stringify(outcome)}`);
  assert.equal((outcome as { code: string }).code, expected.code, `code of ${JSON.stringify(outcome)}`);
}

for (const providerCase of cases) {
  describe(providerCase.label, () => {
    test('sends the documented request and reads the message id', async () => {
      const before = mock.requests.length;
      const outcome = await sendWith(providerCase, providerCase.success.reply);
      expectOutcome(outcome, { outcome: 'ok', id: providerCase.success.id });
      assert.equal(mock.requests.length, before + 1, 'exactly one request');
      checkRequest(providerCase, mock.requests.at(-1)!);
      assert.equal(providerOrigin(adapterFor(providerCase).settings), new URL(baseUrl).origin, 'connection metrics see the provider origin');
    });

    test('a documented refusal is permanent', async () => {
      expectOutcome(await sendWith(providerCase, providerCase.permanent.reply), { outcome: 'permanent', code: providerCase.permanent.code });
    });

    test('a bad key is AUTH_FAILED', async () => {
      expectOutcome(await sendWith(providerCase, providerCase.unauthorized), { outcome: 'permanent', code: 'AUTH_FAILED' });
    });

    test('429 is retryable and honours Retry-After', async () => {
      const reply = { ...providerCase.rateLimited, headers: { ...providerCase.rateLimited.headers, 'retry-after': '7' } };
      const outcome = await sendWith(providerCase, reply);
      expectOutcome(outcome, { outcome: 'retryable', code: 'RATE_LIMITED' });
      assert.equal((outcome as { retryAfterSeconds?: number }).retryAfterSeconds, 7);
    });

    test('5xx is retryable', async () => {
      expectOutcome(await sendWith(providerCase, providerCase.unavailable), { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE' });
    });

    test('a reset connection is retryable', async () => {
      expectOutcome(await sendWith(providerCase, { reset: true }), { outcome: 'retryable', code: 'NETWORK' });
    });

    test('a 2xx with an unreadable body is retryable', async () => {
      const outcome = await sendWith(providerCase, text(200, '<html><body>Welcome to nginx!</body></html>', { 'content-type': 'text/html' }));
      expectOutcome(outcome, { outcome: 'retryable', code: 'INVALID_RESPONSE' });
    });

    test('a provider that echoes the key does not leak it', async () => {
      const outcome = await sendWith(providerCase, text(400, `invalid credentials: ${providerCase.secret}`));
      assert.equal(outcome.outcome, 'permanent');
      assert.match((outcome as { message: string }).message, /\[redacted\]/);
    });

    for (const special of providerCase.special ?? []) {
      test(special.name, async () => {
        expectOutcome(await sendWith(providerCase, special.reply), special.expect);
      });
    }
  });
}

// One scenario over the whole table at once, so the stalls overlap instead of adding up.
test('every adapter: a reply slower than the timeout is retryable, outcome unknown', async () => {
  const wide = new Agent({ connections: cases.length * 2 });
  mock.script = () => ({ status: 200, body: {}, delayMs: STALL_MS });
  try {
    await Promise.all(cases.map(async (providerCase) => {
      const { provider } = adapterFor(providerCase);
      const outcome = await provider.send(message, { agent: wide, headers: {}, timeoutMs: TIMEOUT_MS });
      expectOutcome(outcome, { outcome: 'retryable', code: 'TIMEOUT' });
      assert.match((outcome as { message: string }).message, /outcome unknown/, providerCase.label);
    }));
  } finally {
    await wide.close();
  }
});
