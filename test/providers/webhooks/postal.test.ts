// Postal's webhook handler with the documented payloads (https://docs.postalserver.io/developer/webhooks),
// signed with a throwaway RSA key the way Postal signs them: RSA-SHA256 and RSA-SHA1 of the raw body.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { postalWebhook, type PostalWebhookSettings } from '../../../src/providers/webhooks/postal.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import { SettingsError } from '../../../src/providers/settings.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const bare = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const settings: PostalWebhookSettings = postalWebhook.parse({ public_key: pem });

const message = {
  id: 12345, token: 'abcdef123', direction: 'outgoing', message_id: '5817a64332f44_4ec93ff59e79d154565eb@app34.mail',
  to: 'test@example.com', from: 'sales@awesomeapp.com', subject: 'Welcome to AwesomeApp', timestamp: 1477945177.12994,
  spam_status: 'NotSpam', tag: 'welcome',
};

const envelope = (event: string, payload: Record<string, unknown>) => JSON.stringify({
  event, timestamp: 1477945177.12994, uuid: '820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd', payload,
});

const status = (status: string, output: string, details = 'Message sent by SMTP to aspmx.l.google.com') =>
  ({ status, details, output, time: 0.22, sent_with_ssl: true, timestamp: 1477945177.12994, message });

function signed(body: string, key: KeyObject = privateKey, headers: Record<string, string> = {}): WebhookRequest {
  return {
    method: 'POST', url: 'https://hooks.example.com/webhooks/postal',
    headers: {
      'content-type': 'application/json',
      'x-postal-signature-256': sign('sha256', Buffer.from(body), key).toString('base64'),
      'x-postal-signature': sign('sha1', Buffer.from(body), key).toString('base64'),
      ...headers,
    },
    body: Buffer.from(body),
  };
}

const read = async (body: string) => {
  const result = await postalWebhook.read(signed(body), settings);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
};

test('postal: a request signed by the server key verifies (SHA-256, and SHA-1 alone from older versions)', () => {
  const body = envelope('MessageSent', status('Sent', '250 2.0.0 OK'));
  assert.equal(postalWebhook.verify(signed(body), settings), true);
  const legacy = signed(body);
  delete (legacy.headers as Record<string, string>)['x-postal-signature-256'];
  assert.equal(postalWebhook.verify(legacy, settings), true);
});

test('postal: the key is accepted as PEM, bare base64, the DKIM-style record and a JWK', () => {
  const body = envelope('MessageSent', status('Sent', '250 2.0.0 OK'));
  const jwk = JSON.stringify(publicKey.export({ format: 'jwk' }));
  for (const value of [pem, bare, `v=DKIM1; t=s; h=sha256; p=${bare};`, jwk]) {
    assert.equal(postalWebhook.verify(signed(body), postalWebhook.parse({ public_key: value })), true, value.slice(0, 20));
  }
});

test('postal: another key, a tampered body, a missing or garbled signature do not verify', () => {
  const body = envelope('MessageSent', status('Sent', '250 2.0.0 OK'));
  assert.equal(postalWebhook.verify(signed(body, other.privateKey), settings), false);
  assert.equal(postalWebhook.verify({ ...signed(body), body: Buffer.from(body.replace('test@', 'evil@')) }, settings), false);
  assert.equal(postalWebhook.verify({ ...signed(body), headers: { 'content-type': 'application/json' } }, settings), false);
  assert.equal(postalWebhook.verify(signed(body, privateKey, { 'x-postal-signature-256': 'not base64!', 'x-postal-signature': '' }), settings), false);
});

test('postal: a bad SHA-256 signature is refused even when the SHA-1 one is good (no downgrade)', () => {
  const body = envelope('MessageSent', status('Sent', '250 2.0.0 OK'));
  const forged = sign('sha256', Buffer.from(body), other.privateKey).toString('base64');
  assert.equal(postalWebhook.verify(signed(body, privateKey, { 'x-postal-signature-256': forged }), settings), false);
});

test('postal: message status events map to delivered, deferred, hard or soft bounce, rejected', async () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['MessageSent', status('Sent', '250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp'), { type: 'delivered', code: '250 2.0.0' }],
    ['MessageDelayed', status('SoftFail', '451 4.7.1 Greylisted, try again later'), { type: 'deferred', code: '451 4.7.1' }],
    ['MessageDeliveryFailed', status('HardFail', '550 5.1.1 The email account that you tried to reach does not exist'), { type: 'bounced', bounce: 'hard', code: '550 5.1.1' }],
    ['MessageDeliveryFailed', status('HardFail', '452 4.2.2 The email account that you tried to reach is over quota'), { type: 'bounced', bounce: 'soft', code: '452 4.2.2' }],
    ['MessageDeliveryFailed', status('HardFail', '', 'Message is likely spam. Threshold is 5.0 and the message scored 7.2.'), { type: 'rejected', code: 'HardFail' }],
    ['MessageHeld', status('Held', '', 'Recipient (test@example.com) is on the suppression list (reason: too many hard fails)'), { type: 'rejected', code: 'Held' }],
  ];
  for (const [event, payload, expected] of cases) {
    const [found, ...rest] = await read(envelope(event, payload));
    assert.equal(rest.length, 0);
    assert.ok(found !== undefined, event);
    assert.equal(found.providerMessageId, message.message_id);
    assert.equal(found.recipient, 'test@example.com');
    assert.equal(found.eventKey, '820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd');
    assert.equal(found.at.getTime(), new Date(1477945177.12994 * 1000).getTime());
    for (const [field, value] of Object.entries(expected)) assert.equal(found[field as keyof typeof found], value, `${event} ${field}`);
    if (expected.bounce === undefined) assert.equal(found.bounce, undefined);
  }
});

test('postal: MessageBounced is a hard bounce of the original message', async () => {
  const bounce = { ...message, id: 12347, direction: 'incoming', message_id: 'abc@someserver.com', to: 'abcde@psrp.postal.yourdomain.com', subject: 'Delivery Error' };
  const [found] = await read(envelope('MessageBounced', { original_message: message, bounce }));
  assert.equal(found?.type, 'bounced');
  assert.equal(found?.bounce, 'hard');
  assert.equal(found?.providerMessageId, message.message_id);
  assert.equal(found?.recipient, 'test@example.com');
  assert.equal(found?.message, 'Delivery Error');
});

test('postal: clicks and opens (MessageLinkClicked, MessageLoaded)', async () => {
  const tracking = { ip_address: '185.22.208.2', user_agent: 'Mozilla/5.0', message };
  const [clicked] = await read(envelope('MessageLinkClicked', { url: 'https://atech.media', token: 'VJzsFA0S', ...tracking }));
  assert.equal(clicked?.type, 'clicked');
  assert.equal(clicked?.message, 'https://atech.media');
  const [opened] = await read(envelope('MessageLoaded', tracking));
  assert.equal(opened?.type, 'opened');
});

test('postal: DNS errors, send limits and incoming messages give no event', async () => {
  assert.deepEqual(await read(envelope('DomainDNSError', { domain: 'example.com', spf_status: 'OK', dkim_status: 'Invalid' })), []);
  assert.deepEqual(await read(envelope('SendLimitApproaching', { server: { uuid: 'x' }, volume: 950, limit: 1000 })), []);
  assert.deepEqual(await read(envelope('MessageSent', { ...status('Sent', '200 OK'), message: { ...message, direction: 'incoming' } })), []);
});

test('postal: a body that is not a Postal envelope is a WebhookBodyError', async () => {
  for (const body of ['not json', '[]', '{"event":"MessageSent"}', envelope('MessageSent', { status: 'Sent' }), envelope('MessageSent', { message: { ...message, message_id: undefined } })]) {
    await assert.rejects(async () => postalWebhook.read(signed(body), settings), WebhookBodyError, body);
  }
});

test('postal: settings errors name the field', () => {
  assert.throws(() => postalWebhook.parse({}), (error: Error) => error instanceof SettingsError && /public_key/.test(error.message));
  assert.throws(() => postalWebhook.parse({ public_key: 'bm90IGEga2V5' }), /public_key must be the Postal server's RSA public key/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.throws(() => postalWebhook.parse({ public_key: ec }), /public_key/);
  assert.throws(() => postalWebhook.parse({ public_key: pem, secret: 'x' }), /unknown setting "secret"/);
  assert.deepEqual(postalWebhook.secrets(settings), []);
});
