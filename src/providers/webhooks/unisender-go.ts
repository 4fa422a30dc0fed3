// Unisender Go's event webhooks (https://godocs.unisender.ru/web-api-ref#callback-format): a JSON
// body {"auth": …, "events_by_user": [{"events": [...]}]}, or one flat event when the webhook is
// set to "single event". "auth" is the MD5 of the body as sent with the auth value replaced by
// the API key of the user or project whose webhook it is.
import { createHash } from 'node:crypto';
import { onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type UnisenderGoWebhookSettings = {
  api_key: string;
};

// transactional_email_status statuses; "sent" (accepted) and "subscribed" are not news about delivery.
const statuses: Record<string, EventMeaning> = {
  delivered: { type: 'delivered' },
  hard_bounced: { type: 'bounced', bounce: 'hard' },
  soft_bounced: { type: 'bounced', bounce: 'soft' },
  spam: { type: 'complained' },
  opened: { type: 'opened' },
  clicked: { type: 'clicked' },
  unsubscribed: { type: 'unsubscribed' },
};

/** The auth check: the body's own text, auth swapped for the key, hashed; a body without auth fails. */
function authentic(body: Buffer, apiKey: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(parsed) || typeof parsed.auth !== 'string' || parsed.auth === '') return false;
    // The hash covers the exact bytes Unisender sent (its key order, spacing, escapes), so the
    // value is replaced in the text rather than the JSON re-serialised.
    const signed = body.toString('utf8').replace(parsed.auth, () => apiKey); // a function: a "$" in the key is literal
    return safeEqual(parsed.auth.toLowerCase(), createHash('md5').update(signed, 'utf8').digest('hex'));
  } catch {
    return false;
  }
}

/** The event_data of every transactional_email_status event, in either payload format. */
function statusEvents(body: unknown): unknown[] {
  if (!isRecord(body)) throw new WebhookBodyError('expected a Unisender Go webhook object');
  if (Array.isArray(body.events_by_user)) {
    return body.events_by_user.flatMap((user: unknown) => {
      if (!isRecord(user) || !Array.isArray(user.events)) throw new WebhookBodyError('expected events_by_user[].events to be an array');
      return user.events.flatMap((item: unknown) => {
        if (!isRecord(item) || typeof item.event_name !== 'string') throw new WebhookBodyError('expected events with an event_name');
        return item.event_name === 'transactional_email_status' ? [item.event_data] : [];
      });
    });
  }
  if (typeof body.event_name !== 'string') throw new WebhookBodyError('expected events_by_user or a single event with an event_name');
  return body.event_name === 'transactional_email_status' ? [body] : [];
}

function event(data: unknown): DeliveryEvent | null {
  if (!isRecord(data) || typeof data.status !== 'string') throw new WebhookBodyError('expected event_data with a status');
  const jobId = text(data.job_id);
  const recipient = text(data.email);
  if (jobId === null) throw new WebhookBodyError('job_id is missing');
  if (recipient === null) throw new WebhookBodyError('email is missing');
  const info = isRecord(data.delivery_info) ? data.delivery_info : {};
  const deliveryStatus = text(info.delivery_status);
  // A soft bounce Unisender Go will retry ("err_will_retry") is a deferral, not a final bounce.
  const meaning = data.status === 'soft_bounced' && deliveryStatus === 'err_will_retry' ? { type: 'deferred' as const } : Object.hasOwn(statuses, data.status) ? statuses[data.status] : undefined;
  if (meaning === undefined) return null;
  // event_time is UTC without a zone: "2024-09-07 19:27:17".
  const time = text(data.event_time);
  const url = data.status === 'clicked' ? text(data.url) : null;
  return {
    ...meaning, providerMessageId: jobId, recipient,
    at: eventTime(time === null ? undefined : /[zZ]|[+-]\d\d:?\d\d$/.test(time) ? time : `${time.replace(' ', 'T')}Z`),
    code: deliveryStatus, message: text(info.destination_response) ?? text(data.comment) ?? url,
    // Unisender Go gives no event id (its "ID" header changes on each retry).
    eventKey: eventKeyOf(data.status, jobId, recipient, time, url),
  };
}

export const unisenderGoWebhook: WebhookKind<UnisenderGoWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key']);
    return { api_key: requiredString(raw, 'api_key') };
  },
  secrets: (settings) => [settings.api_key],
  verify: (request, settings) => authentic(request.body, settings.api_key),
  read(request) {
    return { kind: 'events', events: statusEvents(jsonBody(request)).map(event).filter((found) => found !== null) };
  },
};
