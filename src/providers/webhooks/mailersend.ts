// MailerSend's webhooks (https://developers.mailersend.com/api/v1/webhooks.html): one JSON
// activity per request, authenticated by the `Signature` header: the hex HMAC-SHA256 of the
// raw body with the webhook's signing secret. Both payload versions are read: v2 (flat `data`)
// and the legacy v1 (`data.email.message`, `data.morph`).
import { onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, header, hmac, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type MailersendWebhookSettings = {
  signing_secret: string;
};

// The activity types about delivery; activity.sent (accepted by MailerSend), the survey events,
// webhook.test and the account events (maintenance, sender identity, verification) are not.
const activityTypes: Record<string, EventMeaning> = {
  'activity.delivered': { type: 'delivered' },
  'activity.deferred': { type: 'deferred' },
  'activity.soft_bounced': { type: 'bounced', bounce: 'soft' },
  'activity.hard_bounced': { type: 'bounced', bounce: 'hard' },
  'activity.spam_complaint': { type: 'complained' },
  'activity.unsubscribed': { type: 'unsubscribed' },
  'activity.suppressed': { type: 'rejected' },
  'activity.opened': { type: 'opened' },
  'activity.opened_unique': { type: 'opened' },
  'activity.clicked': { type: 'clicked' },
  'activity.clicked_unique': { type: 'clicked' },
};

interface Parts {
  messageId: string | null;
  recipient: string | null;
  code: string | null;
  message: string | null;
}

/** v1: the message and recipient nested under data.email, details in data.morph. */
function legacy(data: Record<string, unknown>, email: Record<string, unknown>): Parts {
  const message = isRecord(email.message) ? email.message : {};
  const recipient = isRecord(email.recipient) ? email.recipient : {};
  const morph = isRecord(data.morph) ? data.morph : {};
  return {
    messageId: text(message.id),
    recipient: text(recipient.email),
    code: null,
    message: text(morph.readable_reason) ?? text(morph.reason) ?? text(morph.url),
  };
}

/** v2: flat data with message_id and recipient; details in data.meta ([] when there are none). */
function current(data: Record<string, unknown>): Parts {
  const meta = isRecord(data.meta) ? data.meta : {};
  return {
    messageId: text(data.message_id),
    recipient: text(data.recipient) ?? text(data.email),
    code: text(meta.bounce_code),
    message: text(meta.bounce_reason) ?? text(meta.suppression_reason) ?? text(meta.unsubscribe_reason) ?? text(meta.url),
  };
}

export const mailersendWebhook: WebhookKind<MailersendWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['signing_secret']);
    return { signing_secret: requiredString(raw, 'signing_secret') };
  },
  secrets: (settings) => [settings.signing_secret],
  verify(request, settings) {
    const given = header(request, 'signature');
    return given !== undefined && safeEqual(given.toLowerCase(), hmac('sha256', settings.signing_secret, request.body));
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.type !== 'string') throw new WebhookBodyError('expected a MailerSend webhook with a type');
    const meaning = activityTypes[body.type];
    if (meaning === undefined) return { kind: 'events', events: [] };
    const data = body.data;
    if (!isRecord(data)) throw new WebhookBodyError('data is missing');
    const parts = isRecord(data.email) ? legacy(data, data.email) : current(data);
    if (parts.messageId === null) throw new WebhookBodyError('the message id (data.message_id, or data.email.message.id) is missing');
    if (parts.recipient === null) throw new WebhookBodyError('the recipient (data.recipient, or data.email.recipient.email) is missing');
    const time = text(data.created_at) ?? text(body.created_at);
    const event: DeliveryEvent = {
      ...meaning, providerMessageId: parts.messageId, recipient: parts.recipient, at: eventTime(time),
      code: parts.code, message: parts.message,
      eventKey: text(data.id) ?? eventKeyOf(body.type, parts.messageId, parts.recipient, time),
    };
    return { kind: 'events', events: [event] };
  },
};
