// SparkPost's webhook handler with the documented event samples (https://developers.sparkpost.com/api/webhooks/):
// a batch of {msys: {<class>_event: …}} records, authenticated by basic auth or a bearer token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sparkpostWebhook } from '../../../src/providers/webhooks/sparkpost.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import { SettingsError } from '../../../src/providers/settings.ts';

const settings = sparkpostWebhook.parse({ username: 'sparkpost', password: 'hook-password-0123456789' });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function request(body: unknown, authorization = basic('sparkpost', 'hook-password-0123456789')): WebhookRequest {
  return {
    method: 'POST', url: 'https://hooks.example.com/webhooks/sp',
    headers: { 'content-type': 'application/json', authorization }, body: Buffer.from(JSON.stringify(body)),
  };
}

const common = {
  campaign_id: 'Example Campaign Name', customer_id: '1', delv_method: 'esmtp', friendly_from: 'sender@example.com', ip_pool: 'Example-Ip-Pool',
  message_id: '000443ee14578172be22', msg_from: 'sender@example.com', rcpt_meta: {}, rcpt_tags: [], rcpt_to: 'recipient@example.com',
  raw_rcpt_to: 'Recipient@example.com', recipient_domain: 'example.com', subject: 'Summer deals', template_id: 'templ-1234',
  timestamp: '1454442600', transmission_id: '65832150921904138',
};
const messageEvent = (type: string, extra: Record<string, unknown> = {}) =>
  ({ msys: { message_event: { ...common, type, event_id: `9235692769381385${type.length}`, ...extra } } });
const bounce = (bounceClass: string, type = 'bounce') => messageEvent(type, {
  bounce_class: bounceClass, error_code: '554', num_retries: '2',
  raw_reason: '000 550 5.1.1 <recipient@example.com>: Recipient address rejected: User unknown in virtual alias table',
  reason: '000 550 5.1.1 ...@... Recipient address rejected: User unknown in virtual alias table',
});

const read = async (body: unknown) => {
  const result = await sparkpostWebhook.read(request(body), settings);
  return result.kind === 'events' ? result.events : assert.fail('expected events');
};

test('sparkpost: the webhook\'s basic-auth credentials verify; others and none do not', () => {
  assert.equal(sparkpostWebhook.verify(request([bounce('10')]), settings), true);
  assert.equal(sparkpostWebhook.verify(request([bounce('10')], basic('sparkpost', 'wrong-password')), settings), false);
  assert.equal(sparkpostWebhook.verify(request([bounce('10')], basic('someone', 'hook-password-0123456789')), settings), false);
  assert.equal(sparkpostWebhook.verify({ ...request([]), headers: { 'content-type': 'application/json' } }, settings), false);
  assert.equal(sparkpostWebhook.verify(request([], 'Bearer hook-password-0123456789'), settings), false);
});

test('sparkpost: a bearer token (OAuth2 or a custom Authorization header) verifies when set', () => {
  const withToken = sparkpostWebhook.parse({ token: 'token-0123456789abcdef' });
  assert.equal(sparkpostWebhook.verify(request([], 'Bearer token-0123456789abcdef'), withToken), true);
  assert.equal(sparkpostWebhook.verify(request([], 'Bearer token-0123456789abcdeX'), withToken), false);
  assert.equal(sparkpostWebhook.verify(request([], basic('sparkpost', 'token-0123456789abcdef')), withToken), false);
  const both = sparkpostWebhook.parse({ username: 'u', password: 'p', token: 't' });
  assert.equal(sparkpostWebhook.verify(request([], 'Bearer t'), both), true);
  assert.equal(sparkpostWebhook.verify(request([], basic('u', 'p')), both), true);
});

test('sparkpost: bounce classes map to hard bounce, soft bounce or rejected, per SparkPost\'s table', async () => {
  const expected: Array<[string, string, string | undefined]> = [
    ['10', 'bounced', 'hard'], ['30', 'bounced', 'hard'], ['90', 'bounced', 'hard'],
    ['1', 'bounced', 'soft'], ['20', 'bounced', 'soft'], ['21', 'bounced', 'soft'], ['22', 'bounced', 'soft'], ['23', 'bounced', 'soft'],
    ['24', 'bounced', 'soft'], ['40', 'bounced', 'soft'], ['60', 'bounced', 'soft'], ['70', 'bounced', 'soft'], ['100', 'bounced', 'soft'],
    ['25', 'rejected', undefined], ['50', 'rejected', undefined], ['51', 'rejected', undefined], ['52', 'rejected', undefined],
    ['53', 'rejected', undefined], ['54', 'rejected', undefined],
  ];
  for (const [bounceClass, type, hardness] of expected) {
    const [found, ...rest] = await read([bounce(bounceClass)]);
    assert.equal(rest.length, 0);
    assert.equal(found?.type, type, `class ${bounceClass}`);
    assert.equal(found?.bounce, hardness, `class ${bounceClass}`);
  }
  assert.deepEqual(await read([bounce('80')]), [], 'a subscribe request is no bounce');
  const [outOfBand] = await read([bounce('10', 'out_of_band')]);
  assert.equal(outOfBand?.type, 'bounced');
  assert.equal(outOfBand?.bounce, 'hard');
});

test('sparkpost: a bounce carries the transmission id the send stored, the recipient, the time and the reason', async () => {
  const [found] = await read([bounce('10')]);
  assert.equal(found?.providerMessageId, '65832150921904138');
  assert.equal(found?.recipient, 'Recipient@example.com');
  assert.equal(found?.at.getTime(), 1454442600_000);
  assert.equal(found?.code, '554');
  assert.match(found?.message ?? '', /User unknown in virtual alias table/);
  assert.equal(found?.eventKey, '92356927693813856');
});

test('sparkpost: message, engagement and unsubscribe events map to their normalised events, several per batch', async () => {
  const batch = [
    messageEvent('delivery', { queue_time: '3004', num_retries: '0' }),
    messageEvent('delay', { bounce_class: '21', error_code: '454', reason: '454 4.4.4 [internal] no MX or A for domain' }),
    { msys: { message_event: { ...common, type: 'spam_complaint', event_id: 'e-spam', fbtype: 'abuse', report_by: 'server.email.com' } } },
    messageEvent('policy_rejection', { error_code: '554', reason: '550 5.7.1 [internal] recipient blackholed', remote_addr: '127.0.0.1' }),
    { msys: { gen_event: { ...common, type: 'generation_rejection', event_id: 'e-gen', error_code: '554', reason: '554 5.7.1 recipient address suppressed due to customer policy' } } },
    { msys: { track_event: { ...common, type: 'open', event_id: 'e-open', user_agent: 'Mozilla/5.0' } } },
    { msys: { track_event: { ...common, type: 'initial_open', event_id: 'e-initial-open' } } },
    { msys: { track_event: { ...common, type: 'click', event_id: 'e-click', target_link_url: 'https://example.com/deals' } } },
    { msys: { unsubscribe_event: { ...common, type: 'list_unsubscribe', event_id: 'e-list-unsub', mailfrom: 'recipient@example.com' } } },
    { msys: { unsubscribe_event: { ...common, type: 'link_unsubscribe', event_id: 'e-link-unsub', user_agent: 'Mozilla/5.0' } } },
  ];
  const events = await read(batch);
  assert.deepEqual(events.map((event) => event.type), [
    'delivered', 'deferred', 'complained', 'rejected', 'rejected', 'opened', 'opened', 'clicked', 'unsubscribed', 'unsubscribed',
  ]);
  assert.ok(events.every((event) => event.providerMessageId === '65832150921904138'));
  assert.equal(events[2]?.message, 'abuse');
  assert.equal(events[7]?.message, 'https://example.com/deals');
});

test('sparkpost: the test batch sent when a webhook is created, injections and other classes give no event', async () => {
  assert.deepEqual(await read([{ msys: {} }]), []);
  assert.deepEqual(await read([]), []);
  assert.deepEqual(await read([
    messageEvent('injection'),
    { msys: { relay_event: { type: 'relay_delivery', event_id: 'r1' } } },
    { msys: { ab_test_event: { type: 'ab_test_completed', event_id: 'ab1' } } },
  ]), []);
});

test('sparkpost: a body that is not a batch of msys records is a WebhookBodyError', async () => {
  const bodies: unknown[] = [
    { msys: {} }, [{}], ['bounce'], [{ msys: { message_event: bounce('10').msys.message_event, track_event: {} } }],
    [messageEvent('bounce', { bounce_class: '10', transmission_id: undefined })],
    [messageEvent('delivery', { rcpt_to: undefined, raw_rcpt_to: undefined })],
  ];
  for (const body of bodies) await assert.rejects(async () => sparkpostWebhook.read(request(body), settings), WebhookBodyError, JSON.stringify(body));
  await assert.rejects(async () => sparkpostWebhook.read({ ...request([]), body: Buffer.from('not json') }, settings), WebhookBodyError);
});

test('sparkpost: settings errors name the fields', () => {
  assert.throws(() => sparkpostWebhook.parse({}), (error: Error) => error instanceof SettingsError && /username and password \(basic auth\) or token/.test(error.message));
  assert.throws(() => sparkpostWebhook.parse({ username: 'u' }), /username and password must be given together/);
  assert.throws(() => sparkpostWebhook.parse({ password: 'p', token: 't' }), /username and password must be given together/);
  assert.throws(() => sparkpostWebhook.parse({ token: '' }), /token must be a non-empty string/);
  assert.throws(() => sparkpostWebhook.parse({ username: 'u', password: 'p', secret: 's' }), /unknown setting "secret"/);
  assert.deepEqual(sparkpostWebhook.secrets(sparkpostWebhook.parse({ username: 'u', password: 'p', token: 't' })), ['p', 't']);
});
