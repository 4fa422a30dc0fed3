// SES webhooks: SNS signatures (pinned test certificate), topic checks, subscription handshakes,
// and every SES event type against the documented sample records.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { SettingsError } from '../../../src/providers/settings.ts';
import { sesWebhook, type SesWebhookSettings } from '../../../src/providers/webhooks/ses.ts';
import { WebhookBodyError, type DeliveryEvent, type WebhookRequest } from '../../../src/providers/webhooks/webhook.ts';
import {
  notification, sesBounce, sesSettings, sesTopic, signedSns, snsCertUrl, snsCertificate, snsRequest,
} from '../../helpers/webhook-cases/ses.ts';
import type { SnsMessage } from '../../../src/providers/webhooks/sns.ts';

const settings: SesWebhookSettings = sesWebhook.parse(sesSettings);
const messageId = '010201900000abcd-12345678-1234-1234-1234-123456789abc-000000';

function request(message: SnsMessage | string, headers: Record<string, string> = {}): WebhookRequest {
  const signed = typeof message === 'string' ? { headers: {}, body: message } : snsRequest(message);
  return { method: 'POST', url: 'https://hooks.example.com/webhooks/default', headers: { ...signed.headers, ...headers }, body: Buffer.from(signed.body) };
}

const mail = (destination: string[] = ['ann@example.com']) => ({
  timestamp: '2026-11-05T16:33:53.012Z', source: 'sender@example.com', messageId, destination,
});

async function eventsOf(record: unknown): Promise<DeliveryEvent[]> {
  const result = await sesWebhook.read(request(signedSns(notification(record))), settings);
  assert.equal(result.kind, 'events');
  return result.events;
}

describe('SES webhook settings', () => {
  test('topic_arn is required, a string or a list of topic ARNs', () => {
    assert.deepEqual(sesWebhook.parse({ topic_arn: sesTopic }).topic_arn, [sesTopic]);
    assert.deepEqual(sesWebhook.parse({ topic_arn: [sesTopic, 'arn:aws:sns:eu-west-1:123456789012:bounces'] }).topic_arn.length, 2);
    assert.throws(() => sesWebhook.parse({}), (error: Error) => error instanceof SettingsError && /^topic_arn must be/.test(error.message));
    assert.throws(() => sesWebhook.parse({ topic_arn: 'ses-events' }), /topic_arn must be/);
    assert.throws(() => sesWebhook.parse({ topic_arn: [] }), /topic_arn must be/);
  });

  test('defaults: auto_confirm on, certificates fetched, none pinned', () => {
    assert.deepEqual(sesWebhook.parse({ topic_arn: sesTopic }), { topic_arn: [sesTopic], auto_confirm: true, certificates: {}, fetch_certificates: true });
    assert.deepEqual(sesWebhook.secrets(settings), []);
  });

  test('errors name the field', () => {
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, auto_confirm: 'yes' }), /auto_confirm must be true or false/);
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, certificates: [] }), /certificates must be an object/);
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, certificates: { 'https://evil.example.com/cert.pem': snsCertificate } }),
      /certificates\["https:\/\/evil\.example\.com\/cert\.pem"\]: the key must be an https URL on an SNS host/);
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, certificates: { [snsCertUrl]: 'not a certificate' } }),
      /certificates\["https:\/\/sns\.eu-west-1\.amazonaws\.com\/.*"\] must be a PEM certificate/);
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, fetch_certificates: false }), /fetch_certificates is false, so certificates must pin/);
    assert.throws(() => sesWebhook.parse({ topic_arn: sesTopic, topic: 'x' }), /unknown setting "topic"/);
  });
});

describe('SES webhook verification', () => {
  const bounce = () => notification(sesBounce(messageId, 'ann@example.com'));

  test('a message signed with the pinned certificate verifies, SignatureVersion 2 and 1', async () => {
    assert.equal(await sesWebhook.verify(request(signedSns(bounce())), settings), true);
    assert.equal(await sesWebhook.verify(request(signedSns(bounce(), undefined, '1')), settings), true);
    assert.equal(await sesWebhook.verify(request(signedSns(notification({ eventType: 'Send', mail: mail() }, { Subject: 'Amazon SES Email Event Notification' }))), settings), true);
  });

  test('another key, a tampered body, an unknown signature version or a missing signature do not', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    assert.equal(await sesWebhook.verify(request(signedSns(bounce(), other)), settings), false);
    const tampered = signedSns(bounce());
    tampered.Message = tampered.Message.replace('Permanent', 'Transient');
    assert.equal(await sesWebhook.verify(request(tampered), settings), false);
    assert.equal(await sesWebhook.verify(request({ ...signedSns(bounce()), SignatureVersion: '3' }), settings), false);
    const unsigned: Partial<SnsMessage> = { ...signedSns(bounce()) };
    delete unsigned.Signature;
    assert.equal(await sesWebhook.verify(request(JSON.stringify(unsigned)), settings), false);
    assert.equal(await sesWebhook.verify(request('not json'), settings), false);
  });

  test('another topic, a header that contradicts the body, or an unpinned certificate are refused', async () => {
    const otherTopic = signedSns(notification(sesBounce(messageId, 'ann@example.com'), { TopicArn: 'arn:aws:sns:eu-west-1:999999999999:attacker' }));
    assert.equal(await sesWebhook.verify(request(otherTopic), settings), false);
    assert.equal(await sesWebhook.verify(request(signedSns(bounce()), { 'x-amz-sns-message-type': 'SubscriptionConfirmation' }), settings), false);
    // Never fetched: fetch_certificates is false and only snsCertUrl is pinned.
    const unpinned = signedSns({ ...bounce(), SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem' });
    assert.equal(await sesWebhook.verify(request(unpinned), settings), false);
    const notSns = signedSns({ ...bounce(), SigningCertURL: 'https://attacker.example.com/cert.pem' });
    assert.equal(await sesWebhook.verify(request(notSns), { ...settings, certificates: { 'https://attacker.example.com/cert.pem': snsCertificate } }), false);
  });
});

describe('SES subscription handshakes', () => {
  const confirmation = (subscribeUrl = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:123456789012:ses-events&Token=2336412f37') => signedSns({
    Type: 'SubscriptionConfirmation', MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b', TopicArn: sesTopic, Token: '2336412f37',
    Message: `You have chosen to subscribe to the topic ${sesTopic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: subscribeUrl, Timestamp: '2026-11-05T16:30:00.000Z',
  });

  test('a signed SubscriptionConfirmation verifies and asks to be confirmed', async () => {
    assert.equal(await sesWebhook.verify(request(confirmation()), settings), true);
    const result = await sesWebhook.read(request(confirmation()), settings);
    assert.equal(result.kind, 'handshake');
    assert.equal(typeof result.confirm, 'function');
    assert.match(result.notice ?? '', /confirming the SNS subscription to arn:aws:sns:eu-west-1:123456789012:ses-events/);
  });

  test('auto_confirm false leaves the SubscribeURL for the operator', async () => {
    const manual = sesWebhook.parse({ ...sesSettings, auto_confirm: false });
    const result = await sesWebhook.read(request(confirmation()), manual);
    assert.equal(result.kind, 'handshake');
    assert.equal(result.confirm, undefined);
    assert.match(result.notice ?? '', /awaits confirmation \(auto_confirm is false\): open https:\/\/sns\.eu-west-1\.amazonaws\.com\/\?Action=ConfirmSubscription/);
  });

  test('a SubscribeURL off SNS is refused', async () => {
    await assert.rejects(async () => sesWebhook.read(request(confirmation('https://attacker.example.com/confirm')), settings), WebhookBodyError);
    await assert.rejects(async () => sesWebhook.read(request(confirmation('http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')), settings), WebhookBodyError);
  });

  test('an UnsubscribeConfirmation is answered, nothing stored or fetched', async () => {
    const message = signedSns({ ...confirmation(), Type: 'UnsubscribeConfirmation' });
    assert.equal(await sesWebhook.verify(request(message), settings), true);
    const result = await sesWebhook.read(request(message), settings);
    assert.equal(result.kind, 'handshake');
    assert.equal(result.confirm, undefined);
  });
});

describe('SES events', () => {
  test('a Permanent bounce is hard, one event per bounced recipient, with its status and diagnostic', async () => {
    const record = sesBounce(messageId, 'ann@example.com');
    record.bounce.bouncedRecipients.push({ emailAddress: 'bob@example.com', action: 'failed', status: '5.1.2', diagnosticCode: 'smtp; 550 5.1.2 no such domain' });
    const events = await eventsOf(record);
    assert.deepEqual(events.map(({ eventKey: _key, ...event }) => event), [
      { type: 'bounced', bounce: 'hard', recipient: 'ann@example.com', at: new Date('2026-11-05T16:33:54.907Z'), code: '5.1.1', message: 'smtp; 550 5.1.1 user unknown', providerMessageId: messageId },
      { type: 'bounced', bounce: 'hard', recipient: 'bob@example.com', at: new Date('2026-11-05T16:33:54.907Z'), code: '5.1.2', message: 'smtp; 550 5.1.2 no such domain', providerMessageId: messageId },
    ]);
    assert.notEqual(events[0]!.eventKey, events[1]!.eventKey);
    assert.deepEqual((await eventsOf(record)).map((event) => event.eventKey), events.map((event) => event.eventKey), 'a replay has the same keys');
  });

  test('Transient and Undetermined bounces are soft; a recipient without a status falls back to the subtype', async () => {
    for (const bounceType of ['Transient', 'Undetermined']) {
      const [event] = await eventsOf({
        eventType: 'Bounce', mail: mail(),
        bounce: { bounceType, bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'ann@example.com' }], timestamp: '2026-11-05T16:33:54.907Z', feedbackId: 'f1' },
      });
      assert.equal(event!.bounce, 'soft');
      assert.equal(event!.code, 'MailboxFull');
      assert.equal(event!.message, `${bounceType}: MailboxFull`);
    }
  });

  test('the older notifications (notificationType) read the same', async () => {
    const [event] = await eventsOf({
      notificationType: 'Bounce', mail: mail(),
      bounce: { bounceType: 'Permanent', bounceSubType: 'Suppressed', bouncedRecipients: [{ emailAddress: 'ann@example.com', status: '5.1.1', action: 'failed', diagnosticCode: 'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.' }], timestamp: '2026-11-05T16:33:54.907Z', feedbackId: 'f2' },
    });
    assert.equal(event!.type, 'bounced');
    assert.equal(event!.bounce, 'hard');
    const complaint = await eventsOf({
      notificationType: 'Complaint', mail: mail(['ann@example.com', 'bob@example.com']),
      complaint: { complainedRecipients: [{ emailAddress: 'bob@example.com' }], timestamp: '2026-11-05T17:00:00.000Z', feedbackId: 'f3', complaintFeedbackType: 'abuse', userAgent: 'Yahoo!-Mail-Feedback/1.0' },
    });
    assert.deepEqual(complaint.map((event) => [event.type, event.recipient, event.code]), [['complained', 'bob@example.com', 'abuse']]);
  });

  test('Delivery: one event per delivered recipient, with the SMTP response', async () => {
    const events = await eventsOf({
      eventType: 'Delivery', mail: mail(['ann@example.com', 'bob@example.com']),
      delivery: { timestamp: '2026-11-05T16:34:00.000Z', processingTimeMillis: 546, recipients: ['ann@example.com', 'bob@example.com'], smtpResponse: '250 2.6.0 Message received', reportingMTA: 'a8-70.smtp-out.amazonses.com' },
    });
    assert.deepEqual(events.map((event) => [event.type, event.recipient, event.message]), [
      ['delivered', 'ann@example.com', '250 2.6.0 Message received'], ['delivered', 'bob@example.com', '250 2.6.0 Message received'],
    ]);
  });

  test('DeliveryDelay is deferred per delayed recipient', async () => {
    const events = await eventsOf({
      eventType: 'DeliveryDelay', mail: mail(),
      deliveryDelay: {
        timestamp: '2026-11-05T16:40:00.000Z', delayType: 'TransientCommunicationFailure', expirationTime: '2026-11-06T16:33:53.012Z',
        delayedRecipients: [{ emailAddress: 'ann@example.com', status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host' }],
      },
    });
    assert.deepEqual(events.map((event) => [event.type, event.recipient, event.code, event.message]), [
      ['deferred', 'ann@example.com', '4.4.1', 'smtp; 421 4.4.1 Unable to connect to remote host'],
    ]);
  });

  test('Reject, Open, Click and an unsubscribe from every topic concern each destination', async () => {
    const reject = await eventsOf({ eventType: 'Reject', mail: mail(), reject: { reason: 'Bad content' } });
    assert.deepEqual(reject.map((event) => [event.type, event.recipient, event.message]), [['rejected', 'ann@example.com', 'Bad content']]);
    const open = await eventsOf({ eventType: 'Open', mail: mail(), open: { ipAddress: '192.0.2.1', timestamp: '2026-11-05T18:00:00.000Z', userAgent: 'Mozilla/5.0' } });
    assert.deepEqual(open.map((event) => [event.type, event.at.toISOString()]), [['opened', '2026-11-05T18:00:00.000Z']]);
    const click = await eventsOf({ eventType: 'Click', mail: mail(), click: { ipAddress: '192.0.2.1', link: 'https://example.com/a', linkTags: {}, timestamp: '2026-11-05T18:01:00.000Z', userAgent: 'Mozilla/5.0' } });
    assert.deepEqual(click.map((event) => [event.type, event.message]), [['clicked', 'https://example.com/a']]);
    const unsubscribe = (unsubscribeAll: boolean) => eventsOf({
      eventType: 'Subscription', mail: mail(),
      subscription: { contactList: 'Newsletters', timestamp: '2026-11-05T18:02:00.000Z', source: 'UnsubscribeHeader', newTopicPreferences: { unsubscribeAll, topicSubscriptionStatus: [] }, oldTopicPreferences: { unsubscribeAll: false } },
    });
    assert.deepEqual((await unsubscribe(true)).map((event) => [event.type, event.recipient]), [['unsubscribed', 'ann@example.com']]);
    assert.deepEqual(await unsubscribe(false), []);
  });

  test('Send, Rendering Failure, inbound and unknown types give no event', async () => {
    assert.deepEqual(await eventsOf({ eventType: 'Send', mail: mail(), send: {} }), []);
    assert.deepEqual(await eventsOf({ eventType: 'Rendering Failure', mail: mail(), failure: { errorMessage: 'Attribute missing', templateName: 'welcome' } }), []);
    assert.deepEqual(await eventsOf({ notificationType: 'Received', mail: mail(), receipt: {} }), []);
    assert.deepEqual(await eventsOf({ eventType: 'SomethingNew', mail: mail() }), []);
  });

  test("SES's topic check message gives no event", async () => {
    const message = signedSns({ ...notification({}), Message: 'Successfully validated SNS topic for Amazon SES event publishing.' });
    assert.deepEqual(await sesWebhook.read(request(message), settings), { kind: 'events', events: [] });
  });

  test('a body off the documented shape throws WebhookBodyError', async () => {
    const malformed = [
      notification({ eventType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [] } }),
      notification({ eventType: 'Bounce', mail: { destination: [] }, bounce: { bounceType: 'Permanent', bouncedRecipients: [] } }),
      notification({ eventType: 'Bounce', mail: mail(), bounce: { bounceType: 'Permanent' } }),
      notification({ eventType: 'Delivery', mail: mail(), delivery: { recipients: [null] } }),
      notification({ mail: mail() }),
      notification([]),
      { ...notification({}), Message: 'not json' },
    ];
    for (const message of malformed) {
      await assert.rejects(async () => sesWebhook.read(request(signedSns(message)), settings), WebhookBodyError, JSON.stringify(message).slice(0, 120));
    }
    await assert.rejects(async () => sesWebhook.read(request('{"Type":"Notification"}'), settings), WebhookBodyError);
    await assert.rejects(async () => sesWebhook.read(request('nope'), settings), WebhookBodyError);
  });
});
