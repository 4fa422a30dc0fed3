// Every webhook case of test/helpers/webhook-cases/, against its kind alone (no sidecar): the
// settings parse, the bounce verifies and reads as a hard bounce of the very id the send adapter
// stored (the conformance case's success.id), and the forged request does not verify.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { webhookKinds } from '../../../src/providers/webhooks/kinds.ts';
import type { WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import { casesAtoM } from '../../helpers/provider-cases-a-m.ts';
import { casesPtoZ } from '../../helpers/provider-cases-p-z.ts';
import type { SignedRequest, WebhookCase } from '../../helpers/webhook-case.ts';

const folder = path.resolve(import.meta.dirname, '../../helpers/webhook-cases');
const url = 'https://hooks.example.com/webhooks/default';
const recipient = 'ann@example.com';

const request = (signed: SignedRequest): WebhookRequest => ({ method: 'POST', url: signed.url ?? url, headers: signed.headers, body: Buffer.from(signed.body) });

for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
  test(`webhook case ${file}`, async () => {
    const module = (await import(path.join(folder, file))) as Record<string, unknown>;
    const found = Object.entries(module).filter(([name]) => name.endsWith('Case')).map(([, value]) => value as WebhookCase);
    assert.equal(found.length, 1, `${file} exports one …Case`);
    const webhookCase = found[0]!;
    const kind = webhookKinds[webhookCase.label];
    assert.ok(kind, `${webhookCase.label} is in webhookKinds`);
    const conformance = [...casesAtoM, ...casesPtoZ].find((providerCase) => providerCase.label === webhookCase.label);
    assert.ok(conformance, `${webhookCase.label} has a conformance case`);
    const messageId = conformance.success.id;
    const settings = kind.parse(webhookCase.webhook);

    const bounce = request(await webhookCase.bounce({ messageId, recipient, url }));
    assert.equal(await kind.verify(bounce, settings), true);
    const result = await kind.read(bounce, settings);
    assert.equal(result.kind, 'events');
    assert.deepEqual(result.events.map((event) => [event.type, event.bounce, event.providerMessageId, event.recipient]), [['bounced', 'hard', messageId, recipient]]);

    assert.equal(await kind.verify(request(await webhookCase.forged({ messageId, recipient, url })), settings), false);
  });
}
