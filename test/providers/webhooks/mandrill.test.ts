// Mandrill's webhook handler with the documented event samples
// (https://mailchimp.com/developer/transactional/docs/webhooks/), signed as Mandrill signs them:
// base64 HMAC-SHA1 of the webhook URL followed by each POST field's name and value, sorted by name.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { mandrillWebhook } from '../../../src/providers/webhooks/mandrill.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import { SettingsError } from '../../../src/providers/settings.ts';

const key = 'KfFuThPttL_KoUyDndHW3A';
const publicUrl = 'https://mail-hooks.example.com/webhooks/mandrill';
const settings = mandrillWebhook.parse({ key, url: publicUrl });

const msg = {
  ts: 1365109999, subject: 'This an example webhook message', email: 'example.webhook@mandrillapp.com', sender: 'example.sender@mandrillapp.com',
  tags: ['webhook-example'], opens: [], clicks: [], state: 'sent', metadata: { user_id: 111 },
  _id: 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa', _version: 'exampleaaaaaaaaaaaaaaa',
};
const messageEvent = (event: string, extra: Record<string, unknown> = {}, msgExtra: Record<string, unknown> = {}) =>
  ({ event, msg: { ...msg, ...msgExtra }, _id: msg._id, ts: 1385020180, ...extra });
const hardBounce = messageEvent('hard_bounce', {}, {
  state: 'bounced', bounce_description: 'bad_mailbox', bgtools_code: 10,
  diag: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
});

const signature = (url: string, fields: Record<string, string>, signingKey = key) =>
  createHmac('sha1', signingKey).update(url + Object.keys(fields).sort().map((name) => name + fields[name]).join('')).digest('base64');

function signed(events: unknown, options: { url?: string; key?: string; extra?: Record<string, string> } = {}): WebhookRequest {
  const fields = { mandrill_events: JSON.stringify(events), ...options.extra };
  return {
    method: 'POST', url: 'http://10.0.0.7:8588/webhooks/mandrill',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mandrill-signature': signature(options.url ?? publicUrl, fields, options.key) },
    body: Buffer.from(new URLSearchParams(fields).toString()),
  };
}

const read = async (events: unknown) => {
  const result = await mandrillWebhook.read(signed(events), settings);
  return result.kind === 'events' ? result.events : assert.fail('expected events');
};

test('mandrill: a request signed for the configured URL verifies, with every POST field in name order', () => {
  assert.equal(mandrillWebhook.verify(signed([hardBounce]), settings), true);
  assert.equal(mandrillWebhook.verify(signed([hardBounce], { extra: { a_field: 'first', z_field: 'last' } }), settings), true);
});

test('mandrill: without a url setting, the URL the request arrived at is signed', () => {
  const direct = mandrillWebhook.parse({ key });
  assert.equal(mandrillWebhook.verify(signed([hardBounce], { url: 'http://10.0.0.7:8588/webhooks/mandrill' }), direct), true);
  assert.equal(mandrillWebhook.verify(signed([hardBounce]), direct), false);
});

test('mandrill: a wrong key, another URL, a tampered body or no signature do not verify', () => {
  assert.equal(mandrillWebhook.verify(signed([hardBounce], { key: 'another-key' }), settings), false);
  assert.equal(mandrillWebhook.verify(signed([hardBounce], { url: 'https://mail-hooks.example.com/webhooks/other' }), settings), false);
  const tampered = signed([hardBounce]);
  assert.equal(mandrillWebhook.verify({ ...tampered, body: Buffer.from(tampered.body.toString().replace('example.webhook', 'someone.else')) }, settings), false);
  assert.equal(mandrillWebhook.verify({ ...tampered, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, settings), false);
});

test('mandrill: each message event maps to its normalised event on the message _id', async () => {
  const batch = [
    hardBounce,
    messageEvent('soft_bounce', {}, { state: 'soft-bounced', bounce_description: 'mailbox_full', diag: 'smtp;552 5.2.2 Over quota' }),
    messageEvent('deferral', {}, { state: 'deferred', diag: '451 4.3.0 Temporary failure' }),
    messageEvent('spam'),
    messageEvent('unsub'),
    messageEvent('reject', {}, { state: 'rejected' }),
    messageEvent('open', { ip: '127.0.0.1', user_agent: 'Mozilla/5.0' }),
    messageEvent('click', { ip: '127.0.0.1', url: 'http://mandrill.com' }),
  ];
  const events = await read(batch);
  assert.deepEqual(events.map((event) => [event.type, event.bounce]), [
    ['bounced', 'hard'], ['bounced', 'soft'], ['deferred', undefined], ['complained', undefined], ['unsubscribed', undefined],
    ['rejected', undefined], ['opened', undefined], ['clicked', undefined],
  ]);
  for (const event of events) {
    assert.equal(event.providerMessageId, 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa');
    assert.equal(event.recipient, 'example.webhook@mandrillapp.com');
    assert.equal(event.at.getTime(), 1385020180_000);
  }
  assert.equal(events[0]?.code, 'bad_mailbox');
  assert.equal(events[0]?.message, 'smtp;550 5.1.1 The email account that you tried to reach does not exist.');
  assert.equal(events[7]?.message, 'http://mandrill.com');
  assert.equal(new Set(events.map((event) => event.eventKey)).size, events.length, 'each event has its own key');
  const [again] = await read([hardBounce]);
  assert.equal(again?.eventKey, events[0]?.eventKey, 'a replayed event keeps its key');
});

test('mandrill: the empty batch sent when a webhook is added, send, sync and inbound events give no event', async () => {
  assert.deepEqual(await read([]), []);
  const sync = { type: 'blacklist', action: 'add', reject: { reason: 'hard-bounce', email: 'example.webhook@mandrillapp.com' }, ts: 1385020180 };
  assert.deepEqual(await read([messageEvent('send'), sync, { event: 'inbound', msg: { raw_msg: '...' }, ts: 1385020180 }]), []);
});

test('mandrill: a body that is not a mandrill_events array is a WebhookBodyError', async () => {
  const bad: WebhookRequest[] = [
    { ...signed([]), body: Buffer.from('something=else') },
    { ...signed([]), body: Buffer.from('mandrill_events=not-json') },
    signed({ event: 'hard_bounce' }),
    signed(['hard_bounce']),
    signed([{ ...hardBounce, _id: undefined, msg: { ...hardBounce.msg, _id: undefined } }]),
    signed([{ ...hardBounce, msg: { ...hardBounce.msg, email: undefined } }]),
  ];
  for (const request of bad) await assert.rejects(async () => mandrillWebhook.read(request, settings), WebhookBodyError, request.body.toString());
});

test('mandrill: settings errors name the field', () => {
  assert.throws(() => mandrillWebhook.parse({}), (error: Error) => error instanceof SettingsError && /^key must be a non-empty string/.test(error.message));
  assert.throws(() => mandrillWebhook.parse({ key, url: '' }), /url must be a non-empty string when given/);
  assert.throws(() => mandrillWebhook.parse({ key, url: '/webhooks/mandrill' }), /url must be the full http or https URL entered in Mandrill/);
  assert.throws(() => mandrillWebhook.parse({ key, secret: 's' }), /unknown setting "secret"/);
  assert.deepEqual(mandrillWebhook.secrets(settings), [key]);
});
