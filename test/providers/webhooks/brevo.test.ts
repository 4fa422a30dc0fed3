// Brevo's transactional webhook handler, with payloads in the shape of Brevo's transactional
// webhook reference: basic auth or a bearer token, every event type, batched arrays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brevoWebhook } from '../../../src/providers/webhooks/brevo.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const both = brevoWebhook.parse({ username: 'brevo', password: 'hook-password-0123', token: 'client-token-0123' });
const request = (body: unknown, authorization: string | null): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default',
  headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const hardBounce = {
  event: 'hard_bounce', email: 'not-a-user@example.com', id: 9999999, date: '2018-03-06 20:10:23',
  ts: 1520363423, 'message-id': '<201803011158.9876543210@smtp-relay.mailin.fr>', ts_event: 1520363423, ts_epoch: 1520363423000,
  subject: 'Test subject', tag: 'header-tag', sending_ip: '185.41.28.109',
  reason: ' RecipientError: 550 5.5.0 Requested action not taken: mailbox unavailable.',
};

async function events(body: unknown) {
  const result = await brevoWebhook.read(request(body, basic('brevo', 'hook-password-0123')), both);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
}

describe('Brevo webhook: verification', () => {
  test('basic auth from the URL verifies, and so does the bearer token', () => {
    assert.equal(brevoWebhook.verify(request(hardBounce, basic('brevo', 'hook-password-0123')), both), true);
    assert.equal(brevoWebhook.verify(request(hardBounce, 'Bearer client-token-0123'), both), true);
  });
  test('a wrong password or token, or no Authorization header, does not', () => {
    assert.equal(brevoWebhook.verify(request(hardBounce, basic('brevo', 'wrong')), both), false);
    assert.equal(brevoWebhook.verify(request(hardBounce, 'Bearer wrong-token'), both), false);
    assert.equal(brevoWebhook.verify(request(hardBounce, null), both), false);
  });
  test('a scheme that is not configured is refused', () => {
    const tokenOnly = brevoWebhook.parse({ token: 'client-token-0123' });
    const basicOnly = brevoWebhook.parse({ username: 'brevo', password: 'hook-password-0123' });
    assert.equal(brevoWebhook.verify(request(hardBounce, basic('brevo', 'hook-password-0123')), tokenOnly), false);
    assert.equal(brevoWebhook.verify(request(hardBounce, 'Bearer client-token-0123'), tokenOnly), true);
    assert.equal(brevoWebhook.verify(request(hardBounce, 'Bearer hook-password-0123'), basicOnly), false);
    assert.equal(brevoWebhook.verify(request(hardBounce, basic('brevo', 'hook-password-0123')), basicOnly), true);
  });
  test('settings errors name the field', () => {
    assert.throws(() => brevoWebhook.parse({}), /token, or username and password, must be set/);
    assert.throws(() => brevoWebhook.parse({ username: 'brevo' }), /^Error: password must be a non-empty string/);
    assert.throws(() => brevoWebhook.parse({ password: 'x' }), /^Error: username must be a non-empty string/);
    assert.throws(() => brevoWebhook.parse({ token: '' }), /token must be a non-empty string/);
    assert.throws(() => brevoWebhook.parse({ token: 'x', secret: 'y' }), /unknown setting "secret"/);
    assert.deepEqual(brevoWebhook.secrets(both), ['hook-password-0123', 'client-token-0123']);
  });
});

describe('Brevo webhook: events', () => {
  test('a hard bounce keeps the message id with its angle brackets, as the send adapter stored it', async () => {
    const [found] = await events(hardBounce);
    assert.deepEqual(found, {
      type: 'bounced', bounce: 'hard', providerMessageId: '<201803011158.9876543210@smtp-relay.mailin.fr>', recipient: 'not-a-user@example.com',
      at: new Date(1520363423000), code: 'hard_bounce', message: 'RecipientError: 550 5.5.0 Requested action not taken: mailbox unavailable.',
      eventKey: found?.eventKey,
    });
    assert.match(found?.eventKey ?? '', /^[0-9a-f]{40}$/);
  });
  test('a message id without brackets gets them', async () => {
    const [found] = await events({ ...hardBounce, 'message-id': '201803011158.9876543210@smtp-relay.mailin.fr' });
    assert.equal(found?.providerMessageId, '<201803011158.9876543210@smtp-relay.mailin.fr>');
  });
  test('every documented event type maps as intended; a batched array gives several events', async () => {
    const names = ['delivered', 'soft_bounce', 'invalid_email', 'deferred', 'spam', 'blocked', 'error', 'opened', 'unique_opened', 'proxy_open', 'unique_proxy_open', 'click', 'unsubscribed'];
    const found = await events(names.map((event) => ({ ...hardBounce, event, link: event === 'click' ? 'https://example.com/a' : undefined, reason: undefined })));
    assert.deepEqual(found.map((e) => [e.type, e.bounce, e.code]), [
      ['delivered', undefined, null], ['bounced', 'soft', 'soft_bounce'], ['bounced', 'hard', 'invalid_email'], ['deferred', undefined, 'deferred'],
      ['complained', undefined, 'spam'], ['rejected', undefined, 'blocked'], ['rejected', undefined, 'error'],
      ['opened', undefined, null], ['opened', undefined, null], ['opened', undefined, null], ['opened', undefined, null],
      ['clicked', undefined, null], ['unsubscribed', undefined, null],
    ]);
    assert.equal(found[11]?.message, 'https://example.com/a');
    assert.equal(new Set(found.map((e) => e.eventKey)).size, names.length);
  });
  test('"request" (sent) and unknown types are ignored', async () => {
    assert.deepEqual(await events([{ ...hardBounce, event: 'request' }, { ...hardBounce, event: 'list_addition' }, { ...hardBounce, event: 'constructor' }]), []);
  });
  test('a replayed event has the same key', async () => {
    const [a] = await events(hardBounce);
    const [b] = await events([hardBounce]);
    const [c] = await events({ ...hardBounce, ts_epoch: 1520363424000 });
    assert.equal(a?.eventKey, b?.eventKey);
    assert.notEqual(a?.eventKey, c?.eventKey);
  });
  test('a malformed body throws WebhookBodyError', async () => {
    const read = (body: unknown) => brevoWebhook.read(request(body, null), both);
    await assert.rejects(async () => read('{'), WebhookBodyError);
    await assert.rejects(async () => read({ email: 'a@example.com' }), WebhookBodyError);
    await assert.rejects(async () => read({ ...hardBounce, 'message-id': undefined }), /message-id is missing/);
    await assert.rejects(async () => read({ ...hardBounce, email: undefined }), /email is missing/);
  });
});
