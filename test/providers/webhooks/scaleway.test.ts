// Scaleway TEM's webhook handler: the token in the URL, the SNS envelope (notification,
// subscription confirmation, unsubscribe), raw delivery, and every documented event type.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scalewayWebhook } from '../../../src/providers/webhooks/scaleway.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';

const settings = scalewayWebhook.parse({ token: 'hook-token-0123456789' });
const request = (body: unknown, url = 'https://hooks.example.com/webhooks/default?token=hook-token-0123456789'): WebhookRequest => ({
  method: 'POST', url, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const dropped = {
  id: '0e6f4b1a-9c2d-4e3f-8a7b-6c5d4e3f2a1b', type: 'email_dropped', organization_id: 'org', project_id: 'project', domain_id: 'domain',
  domain_name: 'example.com', created_at: '2026-11-05T16:33:55Z', email_sent_at: '2026-11-05T16:33:54Z', email_id: '6e9ba5b2-1c6a-4d8e-9c1a-0a0a0a0a0a0a',
  email_from: 'sender@example.com', email_to: 'ann@example.com', email_headers: [{ key: 'Subject', value: 'Hello' }],
  email_error: 'deprecated text', email_response_code: 550, email_response_message: '5.1.1 mailbox unavailable',
};
const envelope = (message: unknown, type = 'Notification', extra: Record<string, unknown> = {}) => ({
  Type: type, MessageId: 'a4c1f3d2-5b6e-4f70-8a9b-0c1d2e3f4a5b', TopicArn: 'arn:scw:sns:fr-par:project:tem', Message: JSON.stringify(message),
  Timestamp: '2026-11-05T16:33:55.000Z', SignatureVersion: '1', Signature: 'c2ln', SigningCertURL: 'https://messaging.s3.fr-par.scw.cloud/fr-par/sns/sns.pem', ...extra,
});

async function events(body: unknown) {
  const result = await scalewayWebhook.read(request(body), settings);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
}

describe('Scaleway webhook: verification', () => {
  test('the token in the URL verifies', () => {
    assert.equal(scalewayWebhook.verify(request(envelope(dropped)), settings), true);
    assert.equal(scalewayWebhook.verify(request(envelope(dropped), '/webhooks/default?a=1&token=hook-token-0123456789'), settings), true);
  });
  test('a wrong token, no token, or a token elsewhere than the query does not', () => {
    assert.equal(scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/default?token=wrong'), settings), false);
    assert.equal(scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/default'), settings), false);
    assert.equal(scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/hook-token-0123456789'), settings), false);
    assert.equal(scalewayWebhook.verify({ ...request(envelope(dropped), 'https://hooks.example.com/webhooks/default'), headers: { token: 'hook-token-0123456789' } }, settings), false);
  });
  test('settings errors name the field', () => {
    assert.throws(() => scalewayWebhook.parse({}), /token must be a non-empty string/);
    assert.throws(() => scalewayWebhook.parse({ token: 'x', secret: 'y' }), /unknown setting "secret"/);
    assert.deepEqual(scalewayWebhook.secrets(settings), ['hook-token-0123456789']);
  });
});

describe('Scaleway webhook: events', () => {
  test('email_dropped in an SNS notification is a hard bounce of the email_id, keyed by the event id', async () => {
    assert.deepEqual(await events(envelope(dropped)), [{
      type: 'bounced', bounce: 'hard', providerMessageId: '6e9ba5b2-1c6a-4d8e-9c1a-0a0a0a0a0a0a', recipient: 'ann@example.com',
      at: new Date('2026-11-05T16:33:55Z'), code: '550', message: '5.1.1 mailbox unavailable', eventKey: '0e6f4b1a-9c2d-4e3f-8a7b-6c5d4e3f2a1b',
    }]);
  });
  test('every documented event type maps as intended; raw delivery (no envelope) is read too', async () => {
    const types = ['email_delivered', 'email_mailbox_not_found', 'email_deferred', 'email_spam', 'email_blocklisted', 'email_queued', 'blocklist_created', 'unknown_type'];
    const found = await Promise.all(types.map(async (type) => (await events({ ...dropped, type, email_response_code: undefined }))[0]));
    assert.deepEqual(found.map((e) => e === undefined ? undefined : [e.type, e.bounce, e.code]), [
      ['delivered', undefined, 'email_delivered'], ['bounced', 'hard', 'email_mailbox_not_found'], ['deferred', undefined, 'email_deferred'],
      ['rejected', undefined, 'email_spam'], ['rejected', undefined, 'email_blocklisted'], undefined, undefined, undefined,
    ]);
  });
  test('a subscription confirmation is a handshake; its SubscribeURL must be https on a Scaleway host', async () => {
    const confirmation = envelope('You have chosen to subscribe', 'SubscriptionConfirmation', { Token: 'abc', SubscribeURL: 'https://sns.mnq.fr-par.scaleway.com/?Action=ConfirmSubscription&Token=abc' });
    const result = await scalewayWebhook.read(request(confirmation), settings);
    assert.equal(result.kind, 'handshake');
    assert.equal(typeof (result.kind === 'handshake' ? result.confirm : undefined), 'function');
    for (const SubscribeURL of ['http://sns.mnq.fr-par.scaleway.com/', 'https://evil.example.com/?scaleway.com', 'https://scaleway.com.evil.example/', 'https://u:p@sns.mnq.fr-par.scaleway.com/']) {
      await assert.rejects(async () => scalewayWebhook.read(request({ ...confirmation, SubscribeURL }), settings), WebhookBodyError);
    }
  });
  test('an unsubscribe confirmation stores nothing', async () => {
    assert.deepEqual(await events(envelope('unsubscribed', 'UnsubscribeConfirmation', { Token: 'abc', SubscribeURL: 'https://sns.mnq.fr-par.scaleway.com/' })), []);
  });
  test('without an event id, the key is a stable hash', async () => {
    const [a] = await events({ ...dropped, id: undefined });
    const [b] = await events(envelope({ ...dropped, id: undefined }));
    assert.match(a?.eventKey ?? '', /^[0-9a-f]{40}$/);
    assert.equal(a?.eventKey, b?.eventKey);
  });
  test('a malformed body throws WebhookBodyError', async () => {
    const read = (body: unknown) => scalewayWebhook.read(request(body), settings);
    await assert.rejects(async () => read('not json'), WebhookBodyError);
    await assert.rejects(async () => read([dropped]), WebhookBodyError);
    await assert.rejects(async () => read({ ...envelope(dropped), Message: '{' }), /the SNS Message is not JSON/);
    await assert.rejects(async () => read({ hello: 'world' }), WebhookBodyError);
    await assert.rejects(async () => read({ ...dropped, email_id: undefined }), /email_id is missing/);
    await assert.rejects(async () => read({ ...dropped, email_to: undefined }), /email_to is missing/);
  });
});
