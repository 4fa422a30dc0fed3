// MailerSend's webhook handler with the documented payloads (https://developers.mailersend.com/api/v1/webhooks.html),
// both the current (v2) and the legacy (v1) shape, signed as MailerSend signs them: hex HMAC-SHA256 of the body.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { mailersendWebhook } from '../../../src/providers/webhooks/mailersend.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import { SettingsError } from '../../../src/providers/settings.ts';

const secret = 'Z8ZfnSgRIbEnoHTU27uqRZUvuzOj0tSN';
const settings = mailersendWebhook.parse({ signing_secret: secret });

function signed(body: string, key = secret): WebhookRequest {
  return {
    method: 'POST', url: 'https://hooks.example.com/webhooks/ms',
    headers: { 'content-type': 'application/json', signature: createHmac('sha256', key).update(body).digest('hex') },
    body: Buffer.from(body),
  };
}

// MailerSend escapes every "/" in its JSON; the signature covers those exact bytes.
const v2 = (type: string, data: Record<string, unknown>) => JSON.stringify({
  type: `activity.${type}`, created_at: '2025-08-05T21:24:02.000000Z',
  data: {
    id: '6892766a5b66e2daf3dc9158', domain_id: 'yv69oxl5kl785kw2', message_id: '6892766ae78995a317577aa1',
    email_id: '6892766a8d52ba62543d5e71', type, subject: 'Test email', recipient: 'invalid@example.com', tags: ['test'], meta: [], ...data,
  },
  webhook_id: '2351ndgwr4zqx8ko',
}).replaceAll('/', '\\/');

const v1 = (type: string, morph: Record<string, unknown> | null) => JSON.stringify({
  type: `activity.${type}`, domain_id: 'yv69oxl5kl785kw2', created_at: '2023-02-27T21:48:14.298647Z', webhook_id: '2351ndgwr4zqx8ko',
  url: 'https://hooks.example.com/webhooks/ms',
  data: {
    object: 'activity', id: '63fd251d5c00f8e52001fce6', type, created_at: '2023-02-27T21:48:13.593000Z',
    email: {
      object: 'email', id: '63fd1c1de225707fa905f0a8', from: 'test@mailersend.com', subject: 'Test email', status: 'rejected', tags: null,
      message: { object: 'message', id: '63fd25194d5edba3da09e044', created_at: '2023-02-27T21:48:09.061000Z' },
      recipient: { object: 'recipient', id: '63f3bb1965d98aa98c07d6b7', email: 'invalid@example.com' },
    },
    morph,
  },
});

const read = async (body: string) => {
  const result = await mailersendWebhook.read(signed(body), settings);
  return result.kind === 'events' ? result.events : assert.fail('expected events');
};

test('mailersend: a request signed with the signing secret verifies', () => {
  assert.equal(mailersendWebhook.verify(signed(v2('delivered', {})), settings), true);
});

test('mailersend: a wrong secret, a tampered body or no Signature header do not verify', () => {
  const body = v2('hard_bounced', {});
  assert.equal(mailersendWebhook.verify(signed(body, 'another-secret'), settings), false);
  assert.equal(mailersendWebhook.verify({ ...signed(body), body: Buffer.from(body.replace('invalid@', 'other@')) }, settings), false);
  assert.equal(mailersendWebhook.verify({ ...signed(body), headers: { 'content-type': 'application/json' } }, settings), false);
});

test('mailersend (v2): each activity maps to its normalised event, on the message id the send stored', async () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['delivered', {}, { type: 'delivered' }],
    ['deferred', {}, { type: 'deferred' }],
    ['soft_bounced', { meta: { bounce_reason: 'Mailbox full', bounce_code: 452, bounce_type: 'soft' } }, { type: 'bounced', bounce: 'soft', code: '452', message: 'Mailbox full' }],
    ['hard_bounced', { meta: { bounce_reason: 'Host or domain name not found', bounce_code: 550, bounce_type: 'hard' } }, { type: 'bounced', bounce: 'hard', code: '550', message: 'Host or domain name not found' }],
    ['spam_complaint', { type: 'spam_complaints' }, { type: 'complained' }],
    ['unsubscribed', { meta: { unsubscribe_reason: 'NO_LONGER_WANT' } }, { type: 'unsubscribed', message: 'NO_LONGER_WANT' }],
    ['suppressed', { meta: { suppression_reason: 'on_hold' } }, { type: 'rejected', message: 'on_hold' }],
    ['opened', { meta: { ip: '192.0.2.1', user_agent: 'Mozilla/5.0' } }, { type: 'opened' }],
    ['opened_unique', { type: 'opened' }, { type: 'opened' }],
    ['clicked', { meta: { url: 'https://example.com/test' } }, { type: 'clicked', message: 'https://example.com/test' }],
    ['clicked_unique', { type: 'clicked' }, { type: 'clicked' }],
  ];
  for (const [type, data, expected] of cases) {
    const [found, ...rest] = await read(v2(type, data));
    assert.equal(rest.length, 0);
    assert.ok(found !== undefined, type);
    assert.equal(found.providerMessageId, '6892766ae78995a317577aa1');
    assert.equal(found.recipient, 'invalid@example.com');
    assert.equal(found.eventKey, '6892766a5b66e2daf3dc9158');
    assert.equal(found.at.toISOString(), '2025-08-05T21:24:02.000Z');
    for (const [field, value] of Object.entries(expected)) assert.equal(found[field as keyof typeof found], value, `${type} ${field}`);
  }
});

test('mailersend (v1): the legacy payload reads the message, the recipient and the morph reason', async () => {
  const [bounced] = await read(v1('hard_bounced', { object: 'recipient_bounce', reason: 'Host or domain name not found' }));
  assert.equal(bounced?.type, 'bounced');
  assert.equal(bounced?.bounce, 'hard');
  assert.equal(bounced?.providerMessageId, '63fd25194d5edba3da09e044');
  assert.equal(bounced?.recipient, 'invalid@example.com');
  assert.equal(bounced?.message, 'Host or domain name not found');
  assert.equal(bounced?.eventKey, '63fd251d5c00f8e52001fce6');
  assert.equal(bounced?.at.toISOString(), '2023-02-27T21:48:13.593Z');
  const [unsubscribed] = await read(v1('unsubscribed', { object: 'recipient_unsubscribe', reason: 'option_3', readable_reason: 'I get too many emails' }));
  assert.equal(unsubscribed?.type, 'unsubscribed');
  assert.equal(unsubscribed?.message, 'I get too many emails');
  const [complained] = await read(v1('spam_complaint', { object: 'spam_complaint', reason: null }));
  assert.equal(complained?.type, 'complained');
  const [delivered] = await read(v1('delivered', null));
  assert.equal(delivered?.type, 'delivered');
});

test('mailersend: sent, surveys, the test ping and account events give no event', async () => {
  assert.deepEqual(await read(v2('sent', {})), []);
  assert.deepEqual(await read(v2('survey_opened', {})), []);
  assert.deepEqual(await read(v2('survey_submitted', { meta: { surveys: [{ question_id: 1, survey_id: 1, answer: 'test' }] } })), []);
  assert.deepEqual(await read(JSON.stringify({ type: 'webhook.test', message: 'This is a ping test message', created_at: '2026-09-12T18:39:57.604840Z' })), []);
  assert.deepEqual(await read(JSON.stringify({ type: 'maintenance.start', created_at: '2025-08-05 22:27:14', data: { domain_id: '7nxe3yjmeq28vp0k' } })), []);
});

test('mailersend: a body that is not a MailerSend activity is a WebhookBodyError', async () => {
  const bodies = ['not json', '[]', '{"data":{}}', JSON.stringify({ type: 'activity.delivered' }), v2('hard_bounced', { message_id: null }), v2('delivered', { recipient: null })];
  for (const body of bodies) await assert.rejects(async () => mailersendWebhook.read(signed(body), settings), WebhookBodyError, body);
});

test('mailersend: settings errors name the field', () => {
  assert.throws(() => mailersendWebhook.parse({}), (error: Error) => error instanceof SettingsError && /^signing_secret must be a non-empty string/.test(error.message));
  assert.throws(() => mailersendWebhook.parse({ signing_secret: '' }), /signing_secret/);
  assert.throws(() => mailersendWebhook.parse({ signing_secret: 's', secret: 's' }), /unknown setting "secret"/);
  assert.deepEqual(mailersendWebhook.secrets(settings), [secret]);
});
