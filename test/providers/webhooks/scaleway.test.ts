// Scaleway TEM's webhook handler: the token in the URL, the SNS envelope (notification,
// subscription confirmation, unsubscribe), raw delivery, and every documented event type.
import assert from 'node:assert/strict';
import { sign as rsaSign } from 'node:crypto';
import { describe, test } from 'node:test';
import { scalewayWebhook, scalewayWebhookKind } from '../../../src/providers/webhooks/scaleway.ts';
import { SnsVerifier, trustChain } from '../../../src/providers/webhooks/scaleway-sns.ts';
import { caCertificate, rogueCertificate, rogueKey, signingCertificate, signingKey } from './scaleway-certificates.ts';
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
  test('the token in the URL verifies', async () => {
    assert.equal(await scalewayWebhook.verify(request(envelope(dropped)), settings), true);
    assert.equal(await scalewayWebhook.verify(request(envelope(dropped), '/webhooks/default?a=1&token=hook-token-0123456789'), settings), true);
  });
  test('a wrong token, no token, or a token elsewhere than the query does not', async () => {
    assert.equal(await scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/default?token=wrong'), settings), false);
    assert.equal(await scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/default'), settings), false);
    assert.equal(await scalewayWebhook.verify(request(envelope(dropped), 'https://hooks.example.com/webhooks/hook-token-0123456789'), settings), false);
    assert.equal(await scalewayWebhook.verify({ ...request(envelope(dropped), 'https://hooks.example.com/webhooks/default'), headers: { token: 'hook-token-0123456789' } }, settings), false);
  });
  test('settings errors name the field', () => {
    assert.throws(() => scalewayWebhook.parse({}), /trust_chain or token must be set/);
    assert.throws(() => scalewayWebhook.parse({ token: '' }), /token must be a non-empty string/);
    assert.throws(() => scalewayWebhook.parse({ trust_chain: 'not a certificate' }), /trust_chain must be the PEM text of Scaleway's CA certificates/);
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
    assert.deepEqual(await events({ ...dropped, type: 'constructor' }), []);
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

describe('Scaleway webhook: the SNS certificate signature (trust_chain)', () => {
  const certUrl = 'https://messaging.s3.fr-par.scw.cloud/fr-par/sns/certificates/0001.pem';
  const rogueUrl = 'https://messaging.s3.fr-par.scw.cloud/fr-par/sns/certificates/0002.pem';
  const pems: Record<string, string> = { [certUrl]: signingCertificate, [rogueUrl]: rogueCertificate };
  const kind = scalewayWebhookKind(async (url) => {
    const pem = pems[url];
    if (pem === undefined) throw new Error(`no certificate at ${url}`);
    return pem;
  });
  const signed = kind.parse({ trust_chain: caCertificate });
  const both = kind.parse({ trust_chain: caCertificate, token: 'hook-token-0123456789' });

  /** Signs as SNS does: "Name\nvalue\n" for each signed field, in the documented order. */
  function signedEnvelope(message: unknown, options: { type?: string; key?: string; url?: string; version?: '1' | '2'; extra?: Record<string, unknown> } = {}) {
    const unsigned: Record<string, unknown> = { ...envelope(message, options.type ?? 'Notification', options.extra ?? {}), SignatureVersion: options.version ?? '2', SigningCertURL: options.url ?? certUrl };
    const fields = unsigned.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const text = fields.filter((field) => unsigned[field] !== undefined).map((field) => `${field}\n${String(unsigned[field])}\n`).join('');
    const signature = rsaSign(options.version === '1' ? 'sha1' : 'sha256', Buffer.from(text), options.key ?? signingKey).toString('base64');
    return { ...unsigned, Signature: signature };
  }
  const plainUrl = 'https://hooks.example.com/webhooks/default';

  test('a notification signed by a certificate of the trusted CA verifies (SignatureVersion 1 and 2)', async () => {
    assert.equal(await kind.verify(request(signedEnvelope(dropped), plainUrl), signed), true);
    assert.equal(await kind.verify(request(signedEnvelope(dropped, { version: '1' }), plainUrl), signed), true);
    assert.equal(await kind.verify(request(signedEnvelope(dropped, { extra: { Subject: 'TEM event' } }), plainUrl), signed), true);
    const confirmation = signedEnvelope('You have chosen to subscribe', { type: 'SubscriptionConfirmation', extra: { Token: 'abc', SubscribeURL: 'https://sns.mnq.fr-par.scaleway.com/?Token=abc' } });
    assert.equal(await kind.verify(request(confirmation, plainUrl), signed), true);
  });
  test('the certificate is fetched once per URL', async () => {
    const urls: string[] = [];
    const counting = scalewayWebhookKind(async (url) => (urls.push(url), signingCertificate));
    assert.equal(await counting.verify(request(signedEnvelope(dropped), plainUrl), signed), true);
    assert.equal(await counting.verify(request(signedEnvelope({ ...dropped, id: 'other' }), plainUrl), signed), true);
    assert.deepEqual(urls, [certUrl]);
  });
  test('a tampered message, a certificate of another issuer, a non-Scaleway certificate URL or raw delivery does not', async () => {
    const good = signedEnvelope(dropped);
    assert.equal(await kind.verify(request({ ...good, Message: JSON.stringify({ ...dropped, email_to: 'eve@example.com' }) }, plainUrl), signed), false);
    assert.equal(await kind.verify(request(signedEnvelope(dropped, { key: rogueKey, url: rogueUrl }), plainUrl), signed), false);
    assert.equal(await kind.verify(request(signedEnvelope(dropped, { key: rogueKey }), plainUrl), signed), false);
    for (const url of ['http://messaging.s3.fr-par.scw.cloud/c.pem', 'https://evil.example.com/scw.cloud/c.pem', 'https://messaging.s3.fr-par.scw.cloud:8443/c.pem']) {
      assert.equal(await kind.verify(request({ ...good, SigningCertURL: url }, plainUrl), signed), false);
    }
    assert.equal(await kind.verify(request({ ...good, SignatureVersion: '3' }, plainUrl), signed), false);
    assert.equal(await kind.verify(request({ ...good, Signature: undefined }, plainUrl), signed), false);
    assert.equal(await kind.verify(request(dropped, plainUrl), signed), false);
    assert.equal(await kind.verify(request('not json', plainUrl), signed), false);
    assert.equal(await kind.verify(request(signedEnvelope(dropped, { url: 'https://messaging.s3.fr-par.scw.cloud/missing.pem' }), plainUrl), signed), false);
  });
  test('with a token too, both must hold', async () => {
    assert.equal(await kind.verify(request(signedEnvelope(dropped)), both), true);
    assert.equal(await kind.verify(request(signedEnvelope(dropped), plainUrl), both), false);
    assert.equal(await kind.verify(request(envelope(dropped)), both), false);
  });
  test('a certificate outside its validity is not trusted', async () => {
    const verifier = new SnsVerifier(trustChain(caCertificate), async () => signingCertificate);
    assert.equal(await verifier.verify(signedEnvelope(dropped)), true);
    assert.equal(await verifier.verify(signedEnvelope(dropped), new Date('2200-01-01T00:00:00Z')), false);
    assert.equal(await verifier.verify(signedEnvelope(dropped), new Date('2000-01-01T00:00:00Z')), false);
  });
});
