// Mailtrap's sending-webhook handler, with the sample payloads of Mailtrap's webhook docs:
// the Mailtrap-Signature HMAC, both payload formats (JSON and JSON Lines), every event type.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { mailtrapWebhook } from '../../../src/providers/webhooks/mailtrap.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';

const secret = '3f2a9c1e7b4d8a6f0e5c2b9d7a1f4e8c';
const settings = mailtrapWebhook.parse({ signing_secret: secret });
const sign = (body: string, key = secret) => createHmac('sha256', key).update(body).digest('hex');
const request = (body: string, signature: string | null = sign(body)): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default',
  headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'mailtrap-signature': signature }) },
  body: Buffer.from(body),
});
const base = {
  timestamp: 1728669700, sending_stream: 'transactional', message_id: '1df37d17-0286-4d8b-8edf-bc4ec5be86e6', email: 'receiver@example.com',
  event_id: 'bede7236-2284-43d6-a953-1fdcafd0fdbc', sending_domain_name: 'examplesender.com',
};
const bounce = { event: 'bounce', ...base, response: '[CS01] Message rejected due to local policy', response_code: 555, bounce_category: 'spam' };
const json = (...events: unknown[]) => JSON.stringify({ events });

async function events(body: string) {
  const result = await mailtrapWebhook.read(request(body), settings);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
}

describe('Mailtrap webhook: verification', () => {
  test('a body signed with the signing secret verifies (upper-case hex too)', () => {
    const body = json(bounce);
    assert.equal(mailtrapWebhook.verify(request(body), settings), true);
    assert.equal(mailtrapWebhook.verify(request(body, sign(body).toUpperCase()), settings), true);
  });
  test('a wrong secret, a tampered body or a missing header does not', () => {
    const body = json(bounce);
    assert.equal(mailtrapWebhook.verify(request(body, sign(body, 'another-secret')), settings), false);
    assert.equal(mailtrapWebhook.verify({ ...request(body), body: Buffer.from(body.replace('555', '550')) }, settings), false);
    assert.equal(mailtrapWebhook.verify(request(body, null), settings), false);
    assert.equal(mailtrapWebhook.verify(request(body, ''), settings), false);
  });
  test('settings errors name the field', () => {
    assert.throws(() => mailtrapWebhook.parse({}), /signing_secret must be a non-empty string/);
    assert.throws(() => mailtrapWebhook.parse({ signing_secret: 'x', password: 'y' }), /unknown setting "password"/);
    assert.deepEqual(mailtrapWebhook.secrets(settings), [secret]);
  });
});

describe('Mailtrap webhook: events', () => {
  test('a bounce is a hard bounce, keyed by its event_id', async () => {
    assert.deepEqual(await events(json(bounce)), [{
      type: 'bounced', bounce: 'hard', providerMessageId: '1df37d17-0286-4d8b-8edf-bc4ec5be86e6', recipient: 'receiver@example.com',
      at: new Date(1728669700 * 1000), code: '555', message: '[CS01] Message rejected due to local policy', eventKey: 'bede7236-2284-43d6-a953-1fdcafd0fdbc',
    }]);
  });
  test('every documented event type maps as intended', async () => {
    const found = await events(json(
      { event: 'delivery', ...base, category: 'Password reset', custom_variables: { user_id: '123' } },
      { event: 'soft bounce', ...base, response: '4.7.1 Temporary error, please retry', response_code: 451, bounce_category: 'greylisting' },
      { event: 'suspension', ...base, reason: 'Your account has reached its daily sending limit.' },
      { event: 'reject', ...base, reason: 'Recipient in suppression list. Reason: unsubscription' },
      { event: 'spam', ...base },
      { event: 'unsubscribe', ...base },
      { event: 'open', ...base, ip: '127.138.158.185', user_agent: 'Mozilla/5.0' },
      { event: 'click', ...base, url: 'https://mailtrap.io/email-api' },
    ));
    assert.deepEqual(found.map((e) => [e.type, e.code, e.message]), [
      ['delivered', null, null],
      ['deferred', '451', '4.7.1 Temporary error, please retry'],
      ['deferred', null, 'Your account has reached its daily sending limit.'],
      ['rejected', null, 'Recipient in suppression list. Reason: unsubscription'],
      ['complained', null, null],
      ['unsubscribed', null, null],
      ['opened', null, null],
      ['clicked', null, 'https://mailtrap.io/email-api'],
    ]);
  });
  test('JSON Lines batches give one event per line', async () => {
    const lines = [
      { event: 'delivery', ...base, message_id: 'abc-123', event_id: 'evt-1' },
      { event: 'open', ...base, message_id: 'abc-123', event_id: 'evt-2' },
      { event: 'click', ...base, message_id: 'abc-123', event_id: 'evt-3', url: 'https://example.com' },
    ].map((line) => JSON.stringify(line)).join('\n');
    assert.deepEqual((await events(`${lines}\n`)).map((e) => [e.type, e.eventKey]), [['delivered', 'evt-1'], ['opened', 'evt-2'], ['clicked', 'evt-3']]);
    assert.deepEqual((await events(JSON.stringify(bounce))).map((e) => e.type), ['bounced']);
  });
  test('audit-log events are ignored', async () => {
    assert.deepEqual(await events(json({ event: 'activity_log.user.login', description: 'logged in with SSO', actor: { id: 1, type: 'user', name: 'John Doe' }, timestamp: 1735830138 })), []);
    assert.deepEqual(await events(json({ ...bounce, event: 'constructor' }, { ...bounce, event: 'toString' })), []);
  });
  test('without an event_id, the key is a stable hash', async () => {
    const [a] = await events(json({ ...bounce, event_id: undefined }));
    const [b] = await events(json({ ...bounce, event_id: undefined }));
    assert.match(a?.eventKey ?? '', /^[0-9a-f]{40}$/);
    assert.equal(a?.eventKey, b?.eventKey);
  });
  test('a malformed body throws WebhookBodyError', async () => {
    await assert.rejects(async () => mailtrapWebhook.read(request('{"events": [}'), settings), WebhookBodyError);
    await assert.rejects(async () => mailtrapWebhook.read(request('{"events": {}}'), settings), WebhookBodyError);
    await assert.rejects(async () => mailtrapWebhook.read(request('[1, 2]'), settings), WebhookBodyError);
    await assert.rejects(async () => mailtrapWebhook.read(request(json('x')), settings), WebhookBodyError);
    await assert.rejects(async () => mailtrapWebhook.read(request(json({ ...bounce, message_id: undefined })), settings), /message_id is missing/);
    await assert.rejects(async () => mailtrapWebhook.read(request(json({ ...bounce, email: undefined })), settings), /email is missing/);
  });
});
