// SendGrid webhooks: the ECDSA signature over timestamp + body, its freshness, and every event
// type of the Event Webhook reference mapped from the documented sample events.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { SettingsError } from '../../../src/providers/settings.ts';
import { sendgridWebhook } from '../../../src/providers/webhooks/sendgrid.ts';
import { WebhookBodyError, type DeliveryEvent, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import type { SignedRequest } from '../../helpers/webhook-case.ts';
import { sendgridBounce, sendgridVerificationKey, signedSendgrid } from '../../helpers/webhook-cases/sendgrid.ts';

const settings = sendgridWebhook.parse({ verification_key: sendgridVerificationKey });
const id = 'W8Q0oQ8wTA2Z2fz7dX9hFQ';
const sgMessageId = `${id}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0`;

const request = (signed: SignedRequest): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default', headers: signed.headers, body: Buffer.from(signed.body),
});

async function eventsOf(events: unknown[]): Promise<DeliveryEvent[]> {
  const result = await sendgridWebhook.read(request(signedSendgrid(JSON.stringify(events))), settings);
  assert.equal(result.kind, 'events');
  return result.events;
}

const base = (event: string, extra: Record<string, unknown> = {}) => ({
  email: 'ann@example.com', timestamp: 1513299569, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>', event, category: 'cat facts',
  sg_event_id: `${event}-rbtnWrG1DVDGGGFHFyun0A==`, sg_message_id: sgMessageId, ...extra,
});

describe('SendGrid webhook settings', () => {
  test('verification_key: the base64 DER key the dashboard shows, or PEM', () => {
    assert.equal(settings.key.asymmetricKeyType, 'ec');
    const pem = settings.key.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(sendgridWebhook.parse({ verification_key: pem }).key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(sendgridWebhook.secrets(settings), []);
  });

  test('errors name the field', () => {
    assert.throws(() => sendgridWebhook.parse({}), (error: Error) => error instanceof SettingsError && error.message === 'verification_key must be a non-empty string');
    assert.throws(() => sendgridWebhook.parse({ verification_key: 'bm90IGEga2V5' }), (error: Error) => error instanceof SettingsError && /^verification_key must be the P-256 public key/.test(error.message));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.throws(() => sendgridWebhook.parse({ verification_key: rsa }), /verification_key must be the P-256 public key/);
    assert.throws(() => sendgridWebhook.parse({ verification_key: sendgridVerificationKey, public_key: 'x' }), /unknown setting "public_key"/);
  });
});

describe('SendGrid webhook verification', () => {
  const body = JSON.stringify([sendgridBounce(id, 'ann@example.com')]);

  test('a correctly signed request verifies', () => {
    assert.equal(sendgridWebhook.verify(request(signedSendgrid(body)), settings), true);
  });

  test('a wrong key, a tampered body or timestamp, or a missing header do not', () => {
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.equal(sendgridWebhook.verify(request(signedSendgrid(body, forger)), settings), false);
    const signed = signedSendgrid(body);
    assert.equal(sendgridWebhook.verify(request({ ...signed, body: body.replace('5.1.1', '4.1.1') }), settings), false);
    const later = String(Number(signed.headers['x-twilio-email-event-webhook-timestamp']) + 1);
    assert.equal(sendgridWebhook.verify(request({ ...signed, headers: { ...signed.headers, 'x-twilio-email-event-webhook-timestamp': later } }), settings), false);
    for (const name of ['x-twilio-email-event-webhook-signature', 'x-twilio-email-event-webhook-timestamp']) {
      const headers: Record<string, string> = { ...signed.headers };
      delete headers[name];
      assert.equal(sendgridWebhook.verify(request({ ...signed, headers }), settings), false, name);
    }
    assert.equal(sendgridWebhook.verify(request({ ...signed, headers: { ...signed.headers, 'x-twilio-email-event-webhook-signature': 'not base64 at all!' } }), settings), false);
  });

  test('a timestamp more than 5 minutes away is refused', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(sendgridWebhook.verify(request(signedSendgrid(body, undefined, String(now - 290))), settings), true);
    assert.equal(sendgridWebhook.verify(request(signedSendgrid(body, undefined, String(now - 310))), settings), false);
    assert.equal(sendgridWebhook.verify(request(signedSendgrid(body, undefined, String(now + 310))), settings), false);
  });
});

describe('SendGrid events', () => {
  test('bounce is a hard bounce, blocked a soft one, with status and reason; the id loses its filter suffix', async () => {
    const events = await eventsOf([
      base('bounce', { reason: '500 unknown recipient', status: '5.0.0', type: 'bounce' }),
      base('bounce', { reason: '550 5.7.1 blocked by policy', status: '5.7.1', type: 'blocked', email: 'Bob <bob@example.com>' }),
    ]);
    assert.deepEqual(events, [
      { type: 'bounced', bounce: 'hard', providerMessageId: id, recipient: 'ann@example.com', at: new Date(1513299569000), code: '5.0.0', message: '500 unknown recipient', eventKey: 'bounce-rbtnWrG1DVDGGGFHFyun0A==' },
      { type: 'bounced', bounce: 'soft', providerMessageId: id, recipient: 'bob@example.com', at: new Date(1513299569000), code: '5.7.1', message: '550 5.7.1 blocked by policy', eventKey: 'bounce-rbtnWrG1DVDGGGFHFyun0A==' },
    ]);
  });

  test('a batch maps each documented type; processed and group (un)subscribes are ignored', async () => {
    const events = await eventsOf([
      base('processed'),
      base('dropped', { reason: 'Bounced Address', status: '5.0.0' }),
      base('delivered', { response: '250 OK' }),
      base('deferred', { response: '400 try again later', attempt: '5' }),
      base('open', { useragent: 'Mozilla/4.0', ip: '255.255.255.255', sg_machine_open: false }),
      base('click', { useragent: 'Mozilla/4.0', ip: '255.255.255.255', url: 'http://www.sendgrid.com/', url_offset: { index: 0, type: 'html' } }),
      base('spamreport'),
      base('unsubscribe'),
      base('group_unsubscribe', { asm_group_id: 10 }),
      base('group_resubscribe', { asm_group_id: 10 }),
    ]);
    assert.deepEqual(events.map((event) => [event.type, event.code, event.message]), [
      ['rejected', 'Bounced Address', 'Bounced Address'],
      ['delivered', null, '250 OK'],
      ['deferred', null, '400 try again later'],
      ['opened', null, null],
      ['clicked', null, 'http://www.sendgrid.com/'],
      ['complained', null, null],
      ['unsubscribed', null, null],
    ]);
    assert.ok(events.every((event) => event.providerMessageId === id));
  });

  test('older message ids keep their own dots; events without sg_message_id or sg_event_id still read', async () => {
    const [old] = await eventsOf([base('delivered', { sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000' })]);
    assert.equal(old!.providerMessageId, '14c5d75ce93.dfd.64b469');
    const [recvd] = await eventsOf([base('delivered', { sg_message_id: `${id}.recvd-5f54b5d587-pdkwq-1-63C0F1A0-3.0` })]);
    assert.equal(recvd!.providerMessageId, id);
    assert.deepEqual(await eventsOf([base('delivered', { sg_message_id: undefined })]), []);
    const withoutId = { ...base('delivered') } as Record<string, unknown>;
    delete withoutId.sg_event_id;
    const [first] = await eventsOf([withoutId]);
    const [again] = await eventsOf([withoutId]);
    assert.match(first!.eventKey, /^[0-9a-f]{40}$/);
    assert.equal(first!.eventKey, again!.eventKey);
  });

  test('a body that is not an array of events throws WebhookBodyError', async () => {
    for (const body of ['{"event":"delivered"}', '[1]', '[{"email":"ann@example.com"}]', '[{"event":"delivered"}]', 'nope']) {
      await assert.rejects(async () => sendgridWebhook.read(request(signedSendgrid(body)), settings), WebhookBodyError, body);
    }
    assert.deepEqual(await eventsOf([]), []);
  });
});
