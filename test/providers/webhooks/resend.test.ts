// Resend webhooks: Svix signatures (several during a rotation), their freshness, and every email
// event type from the documented sample payloads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SettingsError } from '../../../src/providers/settings.ts';
import { resendWebhook } from '../../../src/providers/webhooks/resend.ts';
import { WebhookBodyError, type DeliveryEvent, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import type { SignedRequest } from '../../helpers/webhook-case.ts';
import { resendBounced, resendSecret, signedResend } from '../../helpers/webhook-cases/resend.ts';

const settings = resendWebhook.parse({ signing_secret: resendSecret });
const emailId = '4ef9a417-02e9-4d39-ad75-9611e0fcc33c';

const request = (signed: SignedRequest): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default', headers: signed.headers, body: Buffer.from(signed.body),
});

async function eventsOf(event: unknown, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'): Promise<DeliveryEvent[]> {
  const result = await resendWebhook.read(request(signedResend(JSON.stringify(event), undefined, undefined, id)), settings);
  assert.equal(result.kind, 'events');
  return result.events;
}

const sample = (type: string, data: Record<string, unknown> = {}) => ({
  type, created_at: '2026-11-05T16:33:54.907Z',
  data: { created_at: '2026-11-05T16:33:52.318Z', email_id: emailId, from: 'Acme <onboarding@resend.dev>', to: ['delivered@resend.dev'], subject: 'Sending this example', ...data },
});

describe('Resend webhook settings', () => {
  test('signing_secret: whsec_ and base64, kept secret', () => {
    assert.equal(settings.key.length, 24);
    assert.deepEqual(resendWebhook.secrets(settings), [resendSecret]);
    assert.throws(() => resendWebhook.parse({}), (error: Error) => error instanceof SettingsError && error.message === 'signing_secret must be a non-empty string');
    for (const secret of ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_', 'whsec_not base64!']) {
      assert.throws(() => resendWebhook.parse({ signing_secret: secret }), (error: Error) => error instanceof SettingsError && /^signing_secret must be the webhook's signing secret/.test(error.message), secret);
    }
    assert.throws(() => resendWebhook.parse({ signing_secret: resendSecret, api_key: 're_x' }), /unknown setting "api_key"/);
  });
});

describe('Resend webhook verification', () => {
  const body = JSON.stringify(resendBounced(emailId, 'ann@example.com'));

  test('a correctly signed request verifies, also among several signatures', () => {
    const signed = signedResend(body);
    assert.equal(resendWebhook.verify(request(signed), settings), true);
    const rotated = { ...signed, headers: { ...signed.headers, 'svix-signature': `v1,c29tZSBvdGhlciBzaWduYXR1cmU= ${signed.headers['svix-signature']}` } };
    assert.equal(resendWebhook.verify(request(rotated), settings), true);
  });

  test('a wrong secret, a tampered body or id, or a missing header do not', () => {
    assert.equal(resendWebhook.verify(request(signedResend(body, 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==')), settings), false);
    const signed = signedResend(body);
    assert.equal(resendWebhook.verify(request({ ...signed, body: body.replace('Permanent', 'Transient') }), settings), false);
    assert.equal(resendWebhook.verify(request({ ...signed, headers: { ...signed.headers, 'svix-id': 'msg_other' } }), settings), false);
    assert.equal(resendWebhook.verify(request({ ...signed, headers: { ...signed.headers, 'svix-signature': signed.headers['svix-signature']!.replace('v1,', 'v2,') } }), settings), false);
    for (const name of ['svix-id', 'svix-timestamp', 'svix-signature']) {
      const headers: Record<string, string> = { ...signed.headers };
      delete headers[name];
      assert.equal(resendWebhook.verify(request({ ...signed, headers }), settings), false, name);
    }
  });

  test('a timestamp more than 5 minutes away is refused', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(resendWebhook.verify(request(signedResend(body, undefined, String(now - 290))), settings), true);
    assert.equal(resendWebhook.verify(request(signedResend(body, undefined, String(now - 310))), settings), false);
    assert.equal(resendWebhook.verify(request(signedResend(body, undefined, String(now + 310))), settings), false);
  });
});

describe('Resend events', () => {
  test('a Permanent bounce is hard, keyed by svix-id', async () => {
    assert.deepEqual(await eventsOf(resendBounced(emailId, 'Ann <ann@example.com>')), [{
      type: 'bounced', bounce: 'hard', providerMessageId: emailId, recipient: 'ann@example.com', at: new Date('2026-11-05T16:33:54.907Z'),
      code: 'General', message: "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.",
      eventKey: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    }]);
  });

  test('Transient and Undetermined bounces are soft; one without a type is hard', async () => {
    for (const [bounce, expected] of [[{ type: 'Transient', subType: 'MailboxFull', message: 'full' }, 'soft'], [{ type: 'Undetermined', subType: 'Undetermined' }, 'soft'], [{ message: 'The recipient\'s email provider sent a hard bounce message.' }, 'hard']] as const) {
      const [event] = await eventsOf(sample('email.bounced', { bounce }));
      assert.equal(event!.bounce, expected, JSON.stringify(bounce));
    }
  });

  test('each documented email event maps; sent, scheduled, received and other families are ignored', async () => {
    const mapped = [];
    for (const [type, data] of [
      ['email.delivered', {}], ['email.delivery_delayed', {}], ['email.complained', {}], ['email.opened', {}],
      ['email.clicked', { click: { ipAddress: '122.115.53.11', link: 'https://resend.com', timestamp: '2026-11-05T16:40:00.000Z', userAgent: 'Mozilla/5.0' } }],
      ['email.failed', { failed: { reason: 'reached_daily_quota' } }], ['email.suppressed', {}],
    ] as const) {
      mapped.push(...(await eventsOf(sample(type, data))).map((event) => [event.type, event.code, event.message]));
    }
    assert.deepEqual(mapped, [
      ['delivered', null, null], ['deferred', null, null], ['complained', null, null], ['opened', null, null],
      ['clicked', null, 'https://resend.com'], ['rejected', 'reached_daily_quota', null], ['rejected', null, null],
    ]);
    for (const type of ['email.sent', 'email.scheduled', 'email.received', 'contact.created', 'domain.updated']) {
      assert.deepEqual(await eventsOf(sample(type)), [], type);
    }
  });

  test('several recipients: each `to` address gets the event, with its own key', async () => {
    const events = await eventsOf(sample('email.delivered', { to: ['ann@example.com', 'bob@example.com'] }), 'msg_1');
    assert.deepEqual(events.map((event) => [event.recipient, event.eventKey]), [['ann@example.com', 'msg_1:0'], ['bob@example.com', 'msg_1:1']]);
  });

  test('a body off the documented shape throws WebhookBodyError', async () => {
    for (const event of [
      [], { type: 'email.bounced' }, { data: {} }, sample('email.delivered', { email_id: undefined }), sample('email.delivered', { to: [] }), sample('email.delivered', { to: [1, null] }),
    ]) {
      await assert.rejects(async () => resendWebhook.read(request(signedResend(JSON.stringify(event))), settings), WebhookBodyError, JSON.stringify(event));
    }
    await assert.rejects(async () => resendWebhook.read(request(signedResend('nope')), settings), WebhookBodyError);
  });
});
