// Mailjet's Event API (https://dev.mailjet.com/email/guides/webhooks/): one JSON event per
// request, or an array of them when "group events" is on. Mailjet signs nothing; its docs
// recommend basic-auth credentials written into the URL (https://user:password@host/…), checked here.
import type { DeliveryEvent, DeliveryEventType, WebhookKind, WebhookRequest } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { basicAuth, eventKeyOf, eventTime, isRecord, text, type BasicAuthSettings } from './verify.ts';

export type MailjetWebhookSettings = BasicAuthSettings;

const simpleTypes: Record<string, DeliveryEventType> = {
  sent: 'delivered', // "the destination SMTP server has accepted the message"
  open: 'opened',
  click: 'clicked',
  blocked: 'rejected',
  spam: 'complained',
  unsub: 'unsubscribed',
};

/**
 * The body, with each MessageID kept as its source text: Mailjet's numeric ids exceed 2^53 and
 * would be rounded as numbers (only a fallback: Message_GUID is the id the adapter stores).
 */
function parse(request: WebhookRequest): unknown {
  try {
    return JSON.parse(request.body.toString('utf8'), (key, value: unknown, context?: { source?: string }) =>
      key === 'MessageID' && typeof value === 'number' && context?.source !== undefined ? context.source : value);
  } catch {
    throw new WebhookBodyError('the body is not valid JSON');
  }
}

function event(record: unknown): DeliveryEvent | null {
  if (!isRecord(record) || typeof record.event !== 'string') throw new WebhookBodyError('expected Mailjet events with an "event" field');
  const kind = record.event;
  // Message_GUID "equals the value of MessageUUID returned after the message is sent" (src/providers/mailjet.ts stores it).
  const messageId = text(record.Message_GUID) ?? text(record.MessageID);
  const recipient = text(record.email);
  if (messageId === null) throw new WebhookBodyError('Message_GUID is missing');
  if (recipient === null) throw new WebhookBodyError('email is missing');
  const time = text(record.time);
  const url = kind === 'click' ? text(record.url) : null;
  const base = { providerMessageId: messageId, recipient, at: eventTime(record.time), eventKey: eventKeyOf(kind, messageId, recipient, time, url) };
  const error = text(record.error);
  const detail = text(record.comment) ?? (error === null ? null : `${text(record.error_related_to) ?? 'error'}: ${error}`);
  if (kind === 'bounce') {
    // hard_bounce says whether the error is permanent; greylisting "will be re-attempted".
    const hard = record.hard_bounce === true;
    if (!hard && error === 'greylisted') return { ...base, type: 'deferred', code: error, message: detail };
    return { ...base, type: 'bounced', bounce: hard ? 'hard' : 'soft', code: error, message: detail };
  }
  const type = Object.hasOwn(simpleTypes, kind) ? simpleTypes[kind] : undefined; // not a prototype key
  if (type === undefined) return null;
  const code = kind === 'blocked' ? error : kind === 'spam' ? text(record.source) : null;
  const message = kind === 'sent' ? text(record.smtp_reply) : kind === 'blocked' ? detail : url;
  return { ...base, type, code, message };
}

export const mailjetWebhook: WebhookKind<MailjetWebhookSettings> = {
  ...basicAuth,
  read(request) {
    const body = parse(request);
    const records = Array.isArray(body) ? body : [body];
    return { kind: 'events', events: records.map(event).filter((found) => found !== null) };
  },
};
