// Mailgun webhooks: the HMAC signature block, its freshness and token reuse, and every event
// type (failed by severity and reason) from the documented sample events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SettingsError } from '../../../src/providers/settings.ts';
import { mailgunWebhook } from '../../../src/providers/webhooks/mailgun.ts';
import { WebhookBodyError, type DeliveryEvent, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import type { SignedRequest } from '../../helpers/webhook-case.ts';
import { mailgunFailed, mailgunSignature, mailgunSigningKey, signedMailgun } from '../../helpers/webhook-cases/mailgun.ts';

const settings = mailgunWebhook.parse({ signing_key: mailgunSigningKey });
const stored = '<20130503192659.13651.20287@mg.example.com>';

const request = (signed: SignedRequest): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default', headers: signed.headers, body: Buffer.from(signed.body),
});

async function eventsOf(eventData: unknown): Promise<DeliveryEvent[]> {
  const result = await mailgunWebhook.read(request(signedMailgun(eventData)), settings);
  assert.equal(result.kind, 'events');
  return result.events;
}

const eventData = (event: string, extra: Record<string, unknown> = {}) => ({
  ...mailgunFailed(stored, 'alice@example.com'), event, severity: undefined, reason: undefined, id: `${event}-CPgfbmQMTCKtHW6uIWtuVe`, ...extra,
});

describe('Mailgun webhook settings', () => {
  test('signing_key is required and secret; reject_reused_tokens is off by default', () => {
    assert.deepEqual(settings, { signing_key: mailgunSigningKey, reject_reused_tokens: false });
    assert.deepEqual(mailgunWebhook.secrets(settings), [mailgunSigningKey]);
    assert.throws(() => mailgunWebhook.parse({}), (error: Error) => error instanceof SettingsError && error.message === 'signing_key must be a non-empty string');
    assert.throws(() => mailgunWebhook.parse({ signing_key: 'k', reject_reused_tokens: 1 }), /reject_reused_tokens must be true or false/);
    assert.throws(() => mailgunWebhook.parse({ api_key: 'k' }), /unknown setting "api_key"/);
  });
});

describe('Mailgun webhook verification', () => {
  const data = mailgunFailed(stored, 'alice@example.com');

  test('a correctly signed request verifies, also by a subaccount parent-signature', () => {
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data)), settings), true);
    const parent = mailgunSignature();
    const subaccount = { ...parent, signature: mailgunSignature('key-subaccount', parent.timestamp, parent.token).signature, 'parent-signature': parent.signature };
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, subaccount)), settings), true);
  });

  test('a wrong key, a tampered token or timestamp, or a missing signature do not', () => {
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, mailgunSignature('key-wrong'))), settings), false);
    const signature = mailgunSignature();
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, { ...signature, token: `${signature.token}x` })), settings), false);
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, { ...signature, timestamp: String(Number(signature.timestamp) - 1) })), settings), false);
    assert.equal(mailgunWebhook.verify(request({ headers: {}, body: JSON.stringify({ 'event-data': data }) }), settings), false);
    assert.equal(mailgunWebhook.verify(request({ headers: {}, body: 'signature=abc' }), settings), false);
  });

  test('a timestamp more than 15 minutes away is refused', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, mailgunSignature(undefined, String(now - 14 * 60)))), settings), true);
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, mailgunSignature(undefined, String(now - 16 * 60)))), settings), false);
    assert.equal(mailgunWebhook.verify(request(signedMailgun(data, mailgunSignature(undefined, String(now + 16 * 60)))), settings), false);
  });

  test('with reject_reused_tokens, a token is accepted once', () => {
    const strict = mailgunWebhook.parse({ signing_key: mailgunSigningKey, reject_reused_tokens: true });
    const signed = request(signedMailgun(data));
    assert.equal(mailgunWebhook.verify(signed, strict), true);
    assert.equal(mailgunWebhook.verify(signed, strict), false);
    assert.equal(mailgunWebhook.verify(signed, settings), true, 'off by default');
  });
});

describe('Mailgun events', () => {
  test('a permanent failure with reason bounce is a hard bounce of the bracketed Message-ID', async () => {
    assert.deepEqual(await eventsOf(mailgunFailed(stored, 'alice@example.com')), [{
      type: 'bounced', bounce: 'hard', providerMessageId: stored, recipient: 'alice@example.com', at: new Date(1793550834375.624),
      code: '550', message: '5.1.1 The email account that you tried to reach does not exist.',
      eventKey: (await eventsOf(mailgunFailed(stored, 'alice@example.com')))[0]!.eventKey,
    }]);
  });

  test('failed: temporary is deferred, suppress-* rejected, old and espblock soft, generic hard', async () => {
    const cases: Array<[Record<string, unknown>, string, string | undefined]> = [
      [{ severity: 'temporary', reason: 'generic' }, 'deferred', undefined],
      [{ severity: 'permanent', reason: 'suppress-bounce', 'delivery-status': { code: 605, description: 'Not delivering to previously bounced address' } }, 'rejected', undefined],
      [{ severity: 'permanent', reason: 'suppress-unsubscribe' }, 'rejected', undefined],
      [{ severity: 'permanent', reason: 'suppress-complaint' }, 'rejected', undefined],
      [{ severity: 'permanent', reason: 'old' }, 'bounced', 'soft'],
      [{ severity: 'permanent', reason: 'espblock' }, 'bounced', 'soft'],
      [{ severity: 'permanent', reason: 'generic' }, 'bounced', 'hard'],
    ];
    for (const [extra, type, bounce] of cases) {
      const [event] = await eventsOf(eventData('failed', extra));
      assert.equal(event!.type, type, JSON.stringify(extra));
      assert.equal(event!.bounce, bounce, JSON.stringify(extra));
    }
    const [suppressed] = await eventsOf(eventData('failed', { severity: 'permanent', reason: 'suppress-bounce', 'delivery-status': { code: 605, description: 'Not delivering to previously bounced address' } }));
    assert.equal(suppressed!.code, 'suppress-bounce');
    assert.equal(suppressed!.message, 'Not delivering to previously bounced address');
  });

  test('delivered, opened, clicked, unsubscribed, complained and rejected map; accepted and others are ignored', async () => {
    const mapped = [];
    for (const [kind, extra] of [
      ['delivered', { 'delivery-status': { code: 250, message: 'OK', description: '' } }], ['opened', {}], ['clicked', { url: 'https://example.com/a' }],
      ['unsubscribed', {}], ['complained', {}], ['rejected', { reject: { reason: 'Sandbox subdomains are for test purposes only', description: '' } }],
    ] as const) {
      mapped.push(...(await eventsOf(eventData(kind, { 'delivery-status': undefined, ...extra }))).map((event) => [event.type, event.message]));
    }
    assert.deepEqual(mapped, [
      ['delivered', 'OK'], ['opened', null], ['clicked', 'https://example.com/a'], ['unsubscribed', null], ['complained', null],
      ['rejected', 'Sandbox subdomains are for test purposes only'],
    ]);
    for (const kind of ['accepted', 'stored', 'list_member_uploaded']) assert.deepEqual(await eventsOf(eventData(kind)), [], kind);
  });

  test('event keys differ per event and repeat for a replay', async () => {
    const [a] = await eventsOf(eventData('opened'));
    const [b] = await eventsOf(eventData('opened', { id: 'other-id' }));
    const [again] = await eventsOf(eventData('opened'));
    assert.notEqual(a!.eventKey, b!.eventKey);
    assert.equal(a!.eventKey, again!.eventKey);
  });

  test('a body off the documented shape throws WebhookBodyError', async () => {
    const bad = [
      { headers: {}, body: '[]' }, { headers: {}, body: '{"signature":{}}' }, { headers: {}, body: 'x' },
      signedMailgun({ ...eventData('delivered'), event: undefined }),
      signedMailgun({ ...eventData('delivered'), message: { headers: {} } }),
      signedMailgun({ ...eventData('delivered'), recipient: undefined }),
    ];
    for (const signed of bad) await assert.rejects(async () => mailgunWebhook.read(request(signed), settings), WebhookBodyError, String(signed.body).slice(0, 80));
  });
});
