// Brevo's transactional webhooks (https://developers.brevo.com/docs/transactional-webhooks): one
// JSON event per request, or an array when the webhook is "batched". Brevo signs nothing; it
// authenticates by basic-auth credentials in the URL or a bearer token it adds
// (https://developers.brevo.com/docs/secured-webhooks): either, or both, may be configured.
import { onlyFields, optionalString, SettingsError } from '../settings.ts';
import type { DeliveryEvent, DeliveryEventType, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { basicAuthMatches, eventKeyOf, eventTime, header, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type BrevoWebhookSettings = {
  username?: string;
  password?: string;
  token?: string;
};

// Event names as Brevo sends them → what they mean for the recipient. "request" (sent) says
// nothing the queue does not know already, so it is not listed and is ignored.
const eventTypes: Record<string, EventMeaning> = {
  delivered: { type: 'delivered' },
  hard_bounce: { type: 'bounced', bounce: 'hard' },
  // The address is not valid: Brevo did not send, and never will, so it is suppressed like a hard bounce.
  invalid_email: { type: 'bounced', bounce: 'hard' },
  soft_bounce: { type: 'bounced', bounce: 'soft' },
  deferred: { type: 'deferred' },
  spam: { type: 'complained' },
  complaint: { type: 'complained' },
  blocked: { type: 'rejected' },
  error: { type: 'rejected' },
  opened: { type: 'opened' },
  unique_opened: { type: 'opened' },
  proxy_open: { type: 'opened' },
  unique_proxy_open: { type: 'opened' },
  click: { type: 'clicked' },
  unsubscribed: { type: 'unsubscribed' },
  unsubscribe: { type: 'unsubscribed' },
};

const failures = new Set<DeliveryEventType>(['bounced', 'deferred', 'complained', 'rejected']);

function event(record: unknown): DeliveryEvent | null {
  if (!isRecord(record) || typeof record.event !== 'string') throw new WebhookBodyError('expected Brevo events with an "event" field');
  const meaning = Object.hasOwn(eventTypes, record.event) ? eventTypes[record.event] : undefined; // not a prototype key
  if (meaning === undefined) return null;
  const rawId = text(record['message-id']);
  const recipient = text(record.email);
  if (rawId === null) throw new WebhookBodyError('message-id is missing');
  if (recipient === null) throw new WebhookBodyError('email is missing');
  // src/providers/brevo.ts stores the messageId with its angle brackets, as the webhook gives it.
  const messageId = rawId.startsWith('<') ? rawId : `<${rawId}>`;
  // ts_epoch (milliseconds) and ts_event are UTC; "date" is in the account's time zone.
  const time = text(record.ts_epoch) ?? text(record.ts_event) ?? text(record.ts);
  const link = record.event === 'click' ? text(record.link) : null;
  const reason = text(record.reason);
  return {
    ...meaning, providerMessageId: messageId, recipient, at: eventTime(time ?? undefined),
    // Brevo gives no code of its own beyond the event name, which says why for failures.
    code: failures.has(meaning.type) ? record.event : null, message: reason?.trim() ?? link,
    // Brevo's "id" is the webhook's, not the event's: the key is a hash of what identifies the event.
    eventKey: eventKeyOf(record.event, messageId, recipient, time, link),
  };
}

export const brevoWebhook: WebhookKind<BrevoWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['username', 'password', 'token']);
    const settings = { username: optionalString(raw, 'username'), password: optionalString(raw, 'password'), token: optionalString(raw, 'token') };
    if ((settings.username === undefined) !== (settings.password === undefined)) {
      throw new SettingsError(`${settings.username === undefined ? 'username' : 'password'} must be a non-empty string (username and password go together)`);
    }
    if (settings.password === undefined && settings.token === undefined) throw new SettingsError('token, or username and password, must be set');
    return settings;
  },
  secrets: (settings) => [settings.password, settings.token],
  verify(request, settings) {
    const authorization = header(request, 'authorization') ?? '';
    if (settings.token !== undefined && /^bearer /i.test(authorization)) return safeEqual(authorization.slice(7).trim(), settings.token);
    return settings.username !== undefined && settings.password !== undefined && basicAuthMatches(request, settings.username, settings.password);
  },
  read(request) {
    const body = jsonBody(request);
    const records = Array.isArray(body) ? body : [body];
    return { kind: 'events', events: records.map(event).filter((found) => found !== null) };
  },
};
