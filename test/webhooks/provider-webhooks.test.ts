// Every provider's webhook case (test/helpers/webhook-cases/) against a real sidecar: an email
// goes out through the provider's conformance mock, then its documented hard-bounce webhook,
// signed as the provider signs it, reaches /webhooks/<alias>. A forged one answers 401 and
// changes nothing; the real one marks the recipient bounced and suppresses the address; a replay
// changes nothing; the next email to that address fails SUPPRESSED without a provider call.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { defer } from '../helpers/cleanup.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { casesAtoM } from '../helpers/provider-cases-a-m.ts';
import { casesPtoZ } from '../helpers/provider-cases-p-z.ts';
import type { SignedRequest, WebhookCase } from '../helpers/webhook-case.ts';
import { connect, eventually, postJson, startSidecar } from '../helpers/sidecar.ts';

const folder = new URL('../helpers/webhook-cases/', import.meta.url);
const cases: WebhookCase[] = [];
for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts')).sort()) {
  const module = (await import(new URL(file, folder).href)) as Record<string, unknown>;
  // Each file exports its case as <name>Case (and may export helpers beside it).
  cases.push(...Object.entries(module).filter(([name]) => name.endsWith('Case')).map(([, value]) => value as WebhookCase));
}
const conformance = new Map([...casesAtoM, ...casesPtoZ].map((entry) => [entry.label, entry]));

async function post(url: string, request: SignedRequest) {
  const response = await fetch(request.url ?? url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, body: await response.text() };
}


test('every provider with a webhook kind has a case', async () => {
  const { webhookKinds } = await import('../../src/providers/webhooks/kinds.ts');
  assert.deepEqual(cases.map((entry) => entry.label).sort(), Object.keys(webhookKinds).sort());
});

describe('provider webhooks through a real sidecar', () => {
  for (const entry of cases) {
    test(entry.label, async () => {
      // A database per case: a sidecar left running by a failed case cannot take another's emails.
      const databaseUrl = await createTestDatabase();
      const db = await connect(databaseUrl);
      const provider = conformance.get(entry.label);
      assert.ok(provider, `no conformance case labelled ${entry.label}`);
      const mock = new MockProvider(() => provider.success.reply);
      const base = await mock.start();
      defer(() => mock.stop());
      const sidecar = await startSidecar(databaseUrl, {
        POST_OFFICE_BACKENDS: JSON.stringify({ default: { ...provider.settings(base), webhook: entry.webhook } }),
      });
      assert.ok(sidecar.webhookUrl, 'the webhook listener started');
      const url = `${sidecar.webhookUrl}/webhooks/default`;
      const recipient = `gone-${entry.label.replaceAll('_', '-')}@example.com`;
      const email = { from: 'sender@example.com', to: [`Gone <${recipient}>`], subject: 'hello', text: 'hi' };

      const sent = await postJson(`${sidecar.apiUrl}/v1/emails`, email);
      assert.equal(sent.status, 202);
      const id = String(sent.body.id);
      const get = async () => (await (await fetch(`${sidecar.apiUrl}/v1/emails/${id}`)).json()) as {
        status: string; provider_message_id: string; recipients: { address: string; status: string }[]; logs: unknown[];
      };
      await eventually('the email is sent', async () => (await get()).status === 'sent');
      assert.equal((await get()).provider_message_id, provider.success.id);
      assert.deepEqual((await get()).recipients.map((r) => [r.address, r.status]), [[recipient, 'sent']]);

      const input = { messageId: provider.success.id, recipient, url };
      const forged = await post(url, await entry.forged(input));
      assert.equal(forged.status, 401, `a forged webhook is refused: ${forged.body}`);
      const events = async () => Number((await db.query('SELECT count(*) FROM delivery_events WHERE recipient = $1', [recipient])).rows[0].count);
      assert.equal(await events(), 0, 'a forged webhook stores nothing');

      const bounce = await entry.bounce(input);
      const accepted = await post(url, bounce);
      assert.equal(accepted.status, 200, `the signed bounce is accepted: ${accepted.body}`);
      const after = await get();
      assert.deepEqual(after.recipients.map((r) => [r.address, r.status]), [[recipient, 'bounced']]);
      const suppression = await fetch(`${sidecar.apiUrl}/v1/suppressions/${recipient}`);
      assert.equal(suppression.status, 200);
      assert.equal(((await suppression.json()) as { reason: string }).reason, 'bounced');

      // A replay (the provider retrying, or an attacker resending a captured request) changes nothing.
      const stored = await events();
      assert.equal((await post(url, await entry.bounce(input))).status, 200);
      assert.equal(await events(), stored);
      assert.equal((await get()).logs.length, after.logs.length);

      const calls = mock.requests.length;
      const next = await postJson(`${sidecar.apiUrl}/v1/emails`, email);
      const nextId = String(next.body.id);
      await eventually('the next email fails', async () => {
        const row = await db.query('SELECT status FROM emails WHERE id = $1', [nextId]);
        return row.rows[0].status === 'failed';
      });
      const logs = await db.query('SELECT code FROM email_logs WHERE email_id = $1 ORDER BY id', [nextId]);
      assert.ok(logs.rows.some((row) => row.code === 'SUPPRESSED'));
      assert.equal(mock.requests.length, calls, 'no provider call for a suppressed recipient');
      await sidecar.stop();
    });
  }
});
