// Unisender Go's webhook handler, with payloads in the shape of Unisender Go's callback format:
// the MD5 "auth" over the body with the API key in its place, both payload formats, every status.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { unisenderGoWebhook } from '../../../src/providers/webhooks/unisender-go.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';

const apiKey = 'uni-$&-key-0123456789';
const settings = unisenderGoWebhook.parse({ api_key: apiKey });
const placeholder = '__AUTH__';

/** The body as Unisender Go signs it: auth = md5(body with the key in auth's place). */
function sign(payload: Record<string, unknown>, key = apiKey, indent?: number): string {
  const text = JSON.stringify({ auth: placeholder, ...payload }, null, indent);
  const auth = createHash('md5').update(text.split(placeholder).join(key)).digest('hex');
  return text.replace(placeholder, auth);
}
const request = (body: string): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default', headers: { 'content-type': 'application/json' }, body: Buffer.from(body),
});
const data = (status: string, extra: Record<string, unknown> = {}) => ({
  job_id: '1ZymBc-00041N-9X', metadata: { key1: 'Метаданные' }, email: 'recipient@example.com', status, event_time: '2024-09-07 19:27:17', ...extra,
});
const batch = (...eventData: unknown[]) => ({
  events_by_user: [{ user_id: 456, project_id: '6432890213745872', project_name: 'Project', events: eventData.map((d) => ({ event_name: 'transactional_email_status', event_data: d })) }],
});
const hardBounce = data('hard_bounced', { delivery_info: { delivery_status: 'err_user_unknown', destination_response: '550 Spam rejected', user_agent: 'ua', ip: '111.111.111.111' } });

async function events(body: string) {
  const result = await unisenderGoWebhook.read(request(body), settings);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
}

describe('Unisender Go webhook: verification', () => {
  test('a body whose auth is the MD5 with the API key verifies, whatever its spacing', () => {
    assert.equal(unisenderGoWebhook.verify(request(sign(batch(hardBounce))), settings), true);
    assert.equal(unisenderGoWebhook.verify(request(sign(batch(hardBounce), apiKey, 2)), settings), true);
  });
  test('another key, a tampered body, or no auth does not', () => {
    const body = sign(batch(hardBounce));
    assert.equal(unisenderGoWebhook.verify(request(sign(batch(hardBounce), 'another-key')), settings), false);
    assert.equal(unisenderGoWebhook.verify(request(body.replace('hard_bounced', 'delivered')), settings), false);
    assert.equal(unisenderGoWebhook.verify(request(JSON.stringify(batch(hardBounce))), settings), false);
    assert.equal(unisenderGoWebhook.verify(request(JSON.stringify({ auth: '', ...batch(hardBounce) })), settings), false);
    assert.equal(unisenderGoWebhook.verify(request('not json'), settings), false);
  });
  test('settings errors name the field', () => {
    assert.throws(() => unisenderGoWebhook.parse({}), /api_key must be a non-empty string/);
    assert.throws(() => unisenderGoWebhook.parse({ api_key: 'x', token: 'y' }), /unknown setting "token"/);
    assert.deepEqual(unisenderGoWebhook.secrets(settings), [apiKey]);
  });
});

describe('Unisender Go webhook: events', () => {
  test('a hard bounce, on the job_id the send adapter stored, at the UTC event_time', async () => {
    const [found] = await events(sign(batch(hardBounce)));
    assert.deepEqual(found, {
      type: 'bounced', bounce: 'hard', providerMessageId: '1ZymBc-00041N-9X', recipient: 'recipient@example.com',
      at: new Date('2024-09-07T19:27:17Z'), code: 'err_user_unknown', message: '550 Spam rejected', eventKey: found?.eventKey,
    });
    assert.match(found?.eventKey ?? '', /^[0-9a-f]{40}$/);
  });
  test('every status maps as intended; a soft bounce that will be retried is a deferral', async () => {
    const found = await events(sign(batch(
      data('delivered'),
      data('soft_bounced', { delivery_info: { delivery_status: 'err_will_retry' } }),
      data('soft_bounced', { delivery_info: { delivery_status: 'err_mailbox_full' } }),
      data('spam'),
      data('opened'),
      data('clicked', { url: 'https://example.com/a' }),
      data('unsubscribed', { comment: 'no longer interested' }),
    )));
    assert.deepEqual(found.map((e) => [e.type, e.bounce, e.code, e.message]), [
      ['delivered', undefined, null, null],
      ['deferred', undefined, 'err_will_retry', null],
      ['bounced', 'soft', 'err_mailbox_full', null],
      ['complained', undefined, null, null],
      ['opened', undefined, null, null],
      ['clicked', undefined, null, 'https://example.com/a'],
      ['unsubscribed', undefined, null, 'no longer interested'],
    ]);
  });
  test('"sent", "subscribed" and other event names are ignored', async () => {
    const other = { events_by_user: [{ user_id: 456, events: [{ event_name: 'transactional_spam_block', event_data: { block_time: '2024-09-07 19:27:17' } }] }] };
    assert.deepEqual(await events(sign(batch(data('sent'), data('subscribed'), data('constructor')))), []);
    assert.deepEqual(await events(sign(other)), []);
  });
  test('the "single event" format is read too', async () => {
    const single = { event_name: 'transactional_email_status', user_id: 456, project_id: '6432890213745872', ...hardBounce };
    assert.deepEqual((await events(sign(single))).map((e) => [e.type, e.providerMessageId]), [['bounced', '1ZymBc-00041N-9X']]);
  });
  test('a replayed event has the same key', async () => {
    const [a] = await events(sign(batch(hardBounce)));
    const [b] = await events(sign(batch(hardBounce), apiKey, 2));
    const [c] = await events(sign(batch({ ...hardBounce, event_time: '2024-09-07 19:27:18' })));
    assert.equal(a?.eventKey, b?.eventKey);
    assert.notEqual(a?.eventKey, c?.eventKey);
  });
  test('a malformed body throws WebhookBodyError', async () => {
    const read = (body: string) => unisenderGoWebhook.read(request(body), settings);
    await assert.rejects(async () => read('['), WebhookBodyError);
    await assert.rejects(async () => read('[]'), WebhookBodyError);
    await assert.rejects(async () => read(sign({ events_by_user: [{ events: 'x' }] })), WebhookBodyError);
    await assert.rejects(async () => read(sign({ status: 'delivered' })), WebhookBodyError);
    await assert.rejects(async () => read(sign(batch({ ...hardBounce, job_id: undefined }))), /job_id is missing/);
    await assert.rejects(async () => read(sign(batch({ ...hardBounce, email: undefined }))), /email is missing/);
  });
});
