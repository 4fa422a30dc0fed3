// Mandrill's webhooks (https://mailchimp.com/developer/transactional/guides/track-respond-activity-webhooks/):
// a form-encoded body whose `mandrill_events` is a JSON array of events. X-Mandrill-Signature is
// the base64 HMAC-SHA1, with the webhook's key, of the exact webhook URL followed by each POST
// parameter's name and value, sorted by name.
import { SettingsError, onlyFields, optionalString, requiredString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind, WebhookRequest } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, header, hmac, isRecord, safeEqual, text } from './verify.ts';

export type MandrillWebhookSettings = {
  key: string;
  /** The URL exactly as entered in Mandrill; the request's own URL when not set (no proxy in between). */
  url?: string;
};

// Message events; `send` (accepted by Mandrill), inbound messages and the sync events
// (whitelist/blacklist changes, which carry `type` instead of `event`) are not about delivery.
const eventTypes: Record<string, EventMeaning> = {
  deferral: { type: 'deferred' },
  hard_bounce: { type: 'bounced', bounce: 'hard' },
  soft_bounce: { type: 'bounced', bounce: 'soft' },
  spam: { type: 'complained' },
  unsub: { type: 'unsubscribed' },
  reject: { type: 'rejected' },
  open: { type: 'opened' },
  click: { type: 'clicked' },
};

function formParams(request: WebhookRequest): Array<[string, string]> {
  return [...new URLSearchParams(request.body.toString('utf8'))];
}

function event(record: unknown): DeliveryEvent | null {
  if (!isRecord(record)) throw new WebhookBodyError('each of mandrill_events must be an object');
  const kind = text(record.event);
  const meaning = kind === null ? undefined : eventTypes[kind];
  if (kind === null || meaning === undefined) return null;
  const msg = isRecord(record.msg) ? record.msg : {};
  const messageId = text(record._id) ?? text(msg._id);
  const recipient = text(msg.email);
  if (messageId === null) throw new WebhookBodyError(`a ${kind} event has no _id`);
  if (recipient === null) throw new WebhookBodyError(`a ${kind} event has no msg.email`);
  const ts = text(record.ts);
  const url = kind === 'click' ? text(record.url) : null;
  return {
    ...meaning, providerMessageId: messageId, recipient, at: eventTime(record.ts),
    code: text(msg.bounce_description), message: url ?? text(msg.diag),
    // Mandrill gives events no id of their own.
    eventKey: eventKeyOf(kind, messageId, recipient, ts, url),
  };
}

export const mandrillWebhook: WebhookKind<MandrillWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['key', 'url']);
    const url = optionalString(raw, 'url');
    if (url !== undefined && !/^https?:\/\/[^/]/i.test(url)) throw new SettingsError('url must be the full http or https URL entered in Mandrill');
    return url === undefined ? { key: requiredString(raw, 'key') } : { key: requiredString(raw, 'key'), url };
  },
  secrets: (settings) => [settings.key],
  verify(request, settings) {
    const given = header(request, 'x-mandrill-signature');
    if (given === undefined) return false;
    const params = formParams(request).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signed = (settings.url ?? request.url) + params.map(([name, value]) => name + value).join('');
    return safeEqual(given, hmac('sha1', settings.key, signed, 'base64'));
  },
  read(request) {
    const raw = new URLSearchParams(request.body.toString('utf8')).get('mandrill_events');
    if (raw === null) throw new WebhookBodyError('expected a form body with mandrill_events');
    let events: unknown;
    try {
      events = JSON.parse(raw);
    } catch {
      throw new WebhookBodyError('mandrill_events is not valid JSON');
    }
    // An empty array is the check Mandrill makes when a webhook is added: nothing to store.
    if (!Array.isArray(events)) throw new WebhookBodyError('mandrill_events must be a JSON array');
    return { kind: 'events', events: events.map((record) => event(record)).filter((found) => found !== null) };
  },
};
