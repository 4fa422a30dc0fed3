// Mailtrap's sending webhooks (https://docs.mailtrap.io/email-api-smtp/advanced/webhooks): batches
// of events, as {"events": [...]} (JSON) or one event per line (JSON Lines). Each request carries
// Mailtrap-Signature: the lower-case hex HMAC-SHA256 of the raw body under the webhook's signing secret.
import { onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind, WebhookRequest } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, header, hmac, isRecord, safeEqual, text } from './verify.ts';

export type MailtrapWebhookSettings = {
  signing_secret: string;
};

// Mailtrap's sending events (https://docs.mailtrap.io/email-api-smtp/analytics/statuses-and-events).
// Audit-log events (activity_log.*) share the endpoint and are ignored.
const eventTypes: Record<string, EventMeaning> = {
  delivery: { type: 'delivered' },
  bounce: { type: 'bounced', bounce: 'hard' }, // "permanent delivery failure"
  'soft bounce': { type: 'deferred' }, // "temporary failure (will retry)"
  suspension: { type: 'deferred' }, // held by Mailtrap (a sending limit), sent later
  reject: { type: 'rejected' },
  spam: { type: 'complained' },
  unsubscribe: { type: 'unsubscribed' },
  open: { type: 'opened' },
  click: { type: 'clicked' },
};

/** The events of either payload format; a line or body that is not a JSON object is malformed. */
function records(request: WebhookRequest): unknown[] {
  const body = request.body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && Array.isArray(parsed.events)) return parsed.events;
    if (isRecord(parsed) && typeof parsed.event === 'string') return [parsed]; // a one-line JSON Lines batch
  } catch {
    try {
      return body.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
    } catch {
      throw new WebhookBodyError('the body is neither JSON nor JSON Lines');
    }
  }
  throw new WebhookBodyError('expected a Mailtrap webhook body with an "events" array');
}

function event(record: unknown): DeliveryEvent | null {
  if (!isRecord(record) || typeof record.event !== 'string') throw new WebhookBodyError('expected Mailtrap events with an "event" field');
  const meaning = Object.hasOwn(eventTypes, record.event) ? eventTypes[record.event] : undefined; // not a prototype key
  if (meaning === undefined) return null;
  const messageId = text(record.message_id);
  const recipient = text(record.email);
  if (messageId === null) throw new WebhookBodyError('message_id is missing');
  if (recipient === null) throw new WebhookBodyError('email is missing');
  const url = record.event === 'click' ? text(record.url) : null;
  return {
    ...meaning, providerMessageId: messageId, recipient, at: eventTime(record.timestamp),
    code: text(record.response_code) ?? text(record.bounce_category),
    message: text(record.response) ?? text(record.reason) ?? url,
    eventKey: text(record.event_id) ?? eventKeyOf(record.event, messageId, recipient, text(record.timestamp), url),
  };
}

export const mailtrapWebhook: WebhookKind<MailtrapWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['signing_secret']);
    return { signing_secret: requiredString(raw, 'signing_secret') };
  },
  secrets: (settings) => [settings.signing_secret],
  verify(request, settings) {
    const signature = header(request, 'mailtrap-signature');
    return signature !== undefined && safeEqual(signature.trim().toLowerCase(), hmac('sha256', settings.signing_secret, request.body));
  },
  read(request) {
    return { kind: 'events', events: records(request).map(event).filter((found) => found !== null) };
  },
};
