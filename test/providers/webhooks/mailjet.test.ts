// Mailjet's Event API handler, with the sample events from Mailjet's webhook guide: basic auth
// from the URL, every event type, grouped events, and MessageIDs beyond 2^53.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mailjetWebhook } from '../../../src/providers/webhooks/mailjet.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';

const settings = mailjetWebhook.parse({ username: 'mailjet', password: 'hook-password-0123' });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const request = (body: unknown, authorization: string | null = basic('mailjet', 'hook-password-0123')): WebhookRequest => ({
  method: 'POST', url: 'https://hooks.example.com/webhooks/default',
  headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const common = {
  Message_GUID: '1ab23cd4-e567-8901-2345-6789f0gh1i2j', mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'helloworld', Payload: '',
};
const bounce = {
  event: 'bounce', time: 1430812195, MessageID: 13792286917004336, email: 'bounce@mailjet.com', ...common,
  blocked: false, hard_bounce: true, error_related_to: 'recipient', error: 'user unknown',
  comment: 'Host or domain name not found. Name service error for name=lbjsnrftlsiuvbsren.com type=A: Host not found',
};

async function events(body: unknown) {
  const result = await mailjetWebhook.read(request(body), settings);
  assert.equal(result.kind, 'events');
  return result.kind === 'events' ? result.events : [];
}

describe('Mailjet webhook: verification', () => {
  test('the credentials from the URL verify', () => {
    assert.equal(mailjetWebhook.verify(request(bounce), settings), true);
  });
  test('a wrong password, a wrong user or no Authorization header does not', () => {
    assert.equal(mailjetWebhook.verify(request(bounce, basic('mailjet', 'wrong')), settings), false);
    assert.equal(mailjetWebhook.verify(request(bounce, basic('other', 'hook-password-0123')), settings), false);
    assert.equal(mailjetWebhook.verify(request(bounce, null), settings), false);
    assert.equal(mailjetWebhook.verify(request(bounce, 'Bearer hook-password-0123'), settings), false);
  });
  test('settings errors name the field', () => {
    assert.throws(() => mailjetWebhook.parse({ username: 'mailjet' }), /password must be a non-empty string/);
    assert.throws(() => mailjetWebhook.parse({ username: 'mailjet', password: 'x', token: 'y' }), /unknown setting "token"/);
    assert.deepEqual(mailjetWebhook.secrets(settings), ['hook-password-0123']);
  });
});

describe('Mailjet webhook: events', () => {
  test('a hard bounce, on the message the send adapter stored (Message_GUID = MessageUUID)', async () => {
    assert.deepEqual(await events(bounce), [{
      type: 'bounced', bounce: 'hard', providerMessageId: '1ab23cd4-e567-8901-2345-6789f0gh1i2j', recipient: 'bounce@mailjet.com',
      at: new Date(1430812195 * 1000), code: 'user unknown', message: bounce.comment, eventKey: (await events(bounce))[0]!.eventKey,
    }]);
  });
  test('a soft bounce, and greylisting that Mailjet retries', async () => {
    const [soft] = await events({ ...bounce, hard_bounce: false, error_related_to: 'recipient', error: 'quota exceeded', comment: undefined });
    assert.equal(soft?.type, 'bounced');
    assert.equal(soft?.bounce, 'soft');
    assert.equal(soft?.message, 'recipient: quota exceeded');
    const [grey] = await events({ ...bounce, hard_bounce: false, error_related_to: 'domain', error: 'greylisted' });
    assert.equal(grey?.type, 'deferred');
    assert.equal(grey?.code, 'greylisted');
  });
  test('sent, open, click, blocked, spam and unsub map to their normalised events', async () => {
    const sent = { event: 'sent', time: 1433333949, MessageID: 19421777835146490, email: 'api@mailjet.com', ...common, mj_message_id: '19421777835146490', smtp_reply: 'sent (250 2.0.0 OK 1433333948 fa5si855896wjc.199 - gsmtp)' };
    const open = { event: 'open', time: 1433103519, MessageID: 19421777396190490, email: 'api@mailjet.com', ...common, ip: '127.0.0.1', geo: 'US', agent: 'Mozilla/5.0' };
    const click = { ...open, event: 'click', time: 1433334653, url: 'https://mailjet.com' };
    const blocked = { event: 'blocked', time: 1430812195, MessageID: 13792286917004336, email: 'bounce@mailjet.com', ...common, error_related_to: 'mailjet', error: 'preblocked' };
    const spam = { event: 'spam', time: 1430812195, MessageID: 13792286917004336, email: 'bounce@mailjet.com', ...common, source: 'JMRPP' };
    const unsub = { event: 'unsub', time: 1433334941, MessageID: 20547674933128000, email: 'api@mailjet.com', ...common, mj_list_id: 1 };
    const found = await events([sent, open, click, blocked, spam, unsub]);
    assert.deepEqual(found.map((e) => [e.type, e.code, e.message]), [
      ['delivered', null, sent.smtp_reply],
      ['opened', null, null],
      ['clicked', null, 'https://mailjet.com'],
      ['rejected', 'preblocked', 'mailjet: preblocked'],
      ['complained', 'JMRPP', null],
      ['unsubscribed', null, null],
    ]);
    assert.equal(new Set(found.map((e) => e.eventKey)).size, 6);
  });
  test('a replayed event has the same key; another time or recipient does not', async () => {
    const [a] = await events(bounce);
    const [b] = await events(bounce);
    const [c] = await events({ ...bounce, time: 1430812196 });
    const [d] = await events({ ...bounce, email: 'other@mailjet.com' });
    assert.equal(a?.eventKey, b?.eventKey);
    assert.notEqual(a?.eventKey, c?.eventKey);
    assert.notEqual(a?.eventKey, d?.eventKey);
  });
  test('without Message_GUID, the numeric MessageID is read exactly, past 2^53', async () => {
    const [found] = await events(`{"event":"open","time":1433103519,"MessageID":1152921504606846977,"email":"api@mailjet.com"}`);
    assert.equal(found?.providerMessageId, '1152921504606846977');
  });
  test('event types not about delivery are ignored; an empty group is no events', async () => {
    assert.deepEqual(await events({ ...bounce, event: 'parseroute' }), []);
    assert.deepEqual(await events([]), []);
    assert.deepEqual(await events([{ ...bounce, event: 'constructor' }, { ...bounce, event: 'toString' }]), []);
  });
  test('a malformed body throws WebhookBodyError', async () => {
    await assert.rejects(async () => mailjetWebhook.read(request('not json'), settings), WebhookBodyError);
    await assert.rejects(async () => mailjetWebhook.read(request({ time: 1 }), settings), WebhookBodyError);
    await assert.rejects(async () => mailjetWebhook.read(request([bounce, 'x']), settings), WebhookBodyError);
    await assert.rejects(async () => mailjetWebhook.read(request({ ...bounce, email: undefined }), settings), /email is missing/);
    await assert.rejects(async () => mailjetWebhook.read(request({ ...bounce, Message_GUID: undefined, MessageID: undefined }), settings), /Message_GUID is missing/);
  });
});
