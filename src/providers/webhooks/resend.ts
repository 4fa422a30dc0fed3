// Resend's webhooks (https://resend.com/docs/webhooks/event-types): one JSON event per request,
// signed by Svix (https://docs.svix.com/receiving/verifying-payloads/how-manual): svix-signature
// holds "v1,<base64 HMAC-SHA256>" of `${svix-id}.${svix-timestamp}.${body}` under the whsec_ secret.
import { bare } from '../fields.ts';
import { SettingsError, onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, DeliveryEventType, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, freshTimestamp, header, hmac, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type ResendWebhookSettings = {
  /** The endpoint's signing secret, "whsec_" and base64. */
  signing_secret: string;
  key: Buffer;
};

function key(raw: Record<string, unknown>): Buffer {
  const secret = requiredString(raw, 'signing_secret');
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : '';
  const decoded = Buffer.from(encoded, 'base64');
  if (encoded === '' || decoded.length === 0 || decoded.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new SettingsError('signing_secret must be the webhook\'s signing secret as Resend shows it ("whsec_" then base64)');
  }
  return decoded;
}

const eventTypes: Record<string, DeliveryEventType> = {
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'deferred',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
  // Resend did not send it: an error on its side, or the address is on its suppression list.
  'email.failed': 'rejected',
  'email.suppressed': 'rejected',
};

/** Resend's bounce types are SES's: Permanent is hard, Transient and Undetermined soft; a bounce without a type is permanent by Resend's definition. */
function bounceOf(data: Record<string, unknown>): 'hard' | 'soft' {
  const bounce = isRecord(data.bounce) ? data.bounce : {};
  return bounce.type === undefined || bounce.type === 'Permanent' ? 'hard' : 'soft';
}

function details(type: DeliveryEventType, data: Record<string, unknown>): { code: string | null; message: string | null } {
  const part = (name: string) => (isRecord(data[name]) ? data[name] : {});
  if (type === 'bounced') return { code: text(part('bounce').subType) ?? text(part('bounce').type), message: text(part('bounce').message) };
  if (type === 'rejected') return { code: text(part('failed').reason) ?? text(part('suppressed').type), message: text(part('suppressed').message) };
  if (type === 'clicked') return { code: null, message: text(part('click').link) };
  return { code: null, message: null };
}

export const resendWebhook: WebhookKind<ResendWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['signing_secret']);
    return { signing_secret: requiredString(raw, 'signing_secret'), key: key(raw) };
  },
  secrets: (settings) => [settings.signing_secret],
  verify(request, settings) {
    const id = header(request, 'svix-id');
    const timestamp = header(request, 'svix-timestamp');
    const signatures = header(request, 'svix-signature');
    if (id === undefined || signatures === undefined || !freshTimestamp(timestamp)) return false;
    const expected = hmac('sha256', settings.key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`), request.body]), 'base64');
    // Several space-separated signatures while a secret is being rotated; any v1 one may match.
    return signatures.split(' ').some((entry) => entry.startsWith('v1,') && safeEqual(entry.slice(3), expected));
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.type !== 'string' || !isRecord(body.data)) throw new WebhookBodyError('expected a Resend event with "type" and "data"');
    const type = eventTypes[body.type];
    // email.sent, email.scheduled, email.received, contact.*, domain.*: not about delivery.
    if (type === undefined) return { kind: 'events', events: [] };
    const data = body.data;
    const messageId = text(data.email_id);
    if (messageId === null) throw new WebhookBodyError('data.email_id is missing');
    const to = Array.isArray(data.to) ? data.to.map(text) : [text(data.to)];
    if (to.length === 0 || to.some((address) => address === null)) throw new WebhookBodyError('data.to must list the recipients');
    // Resend does not say which recipient an event is about: with several, each `to` address gets it.
    // svix-id is the same on every retry of an event; read() runs after verify(), which requires it.
    const eventId = header(request, 'svix-id') ?? eventKeyOf('resend', body.type, messageId, text(body.created_at));
    return {
      kind: 'events',
      events: to.map((address, index): DeliveryEvent => ({
        type, ...(type === 'bounced' ? { bounce: bounceOf(data) } : {}), providerMessageId: messageId, recipient: bare(address!),
        at: eventTime(body.created_at), ...details(type, data), eventKey: to.length === 1 ? eventId : `${eventId}:${index}`,
      })),
    };
  },
};
