// SendGrid's Event Webhook (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
// a JSON array of events per request, signed with ECDSA P-256 / SHA-256 over the timestamp header
// followed by the raw body (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features).
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { bare } from '../fields.ts';
import { SettingsError, onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, DeliveryEventType, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, freshTimestamp, header, isRecord, jsonBody, text } from './verify.ts';

export type SendgridWebhookSettings = {
  /** The "Verification Key" SendGrid shows once signing is on: base64 DER, or PEM. */
  verification_key: string;
  key: KeyObject;
};

function publicKey(raw: Record<string, unknown>): KeyObject {
  const value = requiredString(raw, 'verification_key').trim();
  try {
    const key = value.includes('-----BEGIN')
      ? createPublicKey(value)
      : createPublicKey({ key: Buffer.from(value.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return key;
  } catch {
    // Reported below, as for a key of the wrong kind.
  }
  throw new SettingsError('verification_key must be the P-256 public key SendGrid shows for the signed Event Webhook (base64, or PEM)');
}

// SendGrid's events → what they mean for the recipient. processed (accepted for sending) is no
// news; group (un)subscribes concern one unsubscribe group, which SendGrid enforces itself
// (later sends in it arrive as dropped), so they do not suppress the address for every email.
const eventTypes: Record<string, DeliveryEventType> = {
  delivered: 'delivered',
  deferred: 'deferred',
  bounce: 'bounced',
  dropped: 'rejected',
  spamreport: 'complained',
  open: 'opened',
  click: 'clicked',
  unsubscribe: 'unsubscribed',
};

/**
 * sg_message_id is the X-Message-Id the send answered, then SendGrid's suffix (".filterdrecv-…",
 * ".recvd-…"). Older ids hold dots of their own ("14c5d75ce93.dfd.64b469.filter0001…"), so the
 * suffix is cut where it starts, not at the first dot.
 */
const messageIdOf = (value: string) => /^(.+?)\.(filter|recvd)/.exec(value)?.[1] ?? value;

function event(record: unknown): DeliveryEvent | null {
  if (!isRecord(record) || typeof record.event !== 'string') throw new WebhookBodyError('each event must be an object with an "event" field');
  const recipient = text(record.email);
  if (recipient === null) throw new WebhookBodyError(`a ${record.event} event has no email`);
  const type = eventTypes[record.event];
  const sgMessageId = text(record.sg_message_id);
  // Without sg_message_id no email can match (events of mail sent by other means); skipped.
  if (type === undefined || sgMessageId === null) return null;
  const providerMessageId = messageIdOf(sgMessageId);
  // "bounce" is a permanent refusal, "blocked" a temporary one (reputation, content): SendGrid's bounce types.
  const bounce = type === 'bounced' ? (record.type === 'blocked' ? 'soft' : 'hard') : undefined;
  const code = type === 'bounced' ? text(record.status) ?? text(record.type) : type === 'rejected' ? text(record.reason) : null;
  const message = type === 'clicked' ? text(record.url) : text(record.reason) ?? text(record.response);
  return {
    type, ...(bounce === undefined ? {} : { bounce }), providerMessageId, recipient: bare(recipient), at: eventTime(record.timestamp),
    code, message,
    eventKey: text(record.sg_event_id) ?? eventKeyOf('sendgrid', record.event, providerMessageId, recipient, text(record.timestamp)),
  };
}

export const sendgridWebhook: WebhookKind<SendgridWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['verification_key']);
    return { verification_key: requiredString(raw, 'verification_key'), key: publicKey(raw) };
  },
  // A public key: nothing to hide.
  secrets: () => [],
  verify(request, settings) {
    const signature = header(request, 'x-twilio-email-event-webhook-signature');
    const timestamp = header(request, 'x-twilio-email-event-webhook-timestamp');
    if (signature === undefined || !freshTimestamp(timestamp)) return false;
    try {
      const signed = Buffer.concat([Buffer.from(timestamp!, 'utf8'), request.body]);
      return verifySignature('sha256', signed, { key: settings.key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  },
  read(request) {
    const body = jsonBody(request);
    if (!Array.isArray(body)) throw new WebhookBodyError('expected a JSON array of SendGrid events');
    return { kind: 'events', events: body.map(event).filter((found) => found !== null) };
  },
};
