// Mailgun's webhooks (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
// one JSON event per request, {"signature": {timestamp, token, signature}, "event-data": {…}}; the
// signature is the hex HMAC-SHA256 of timestamp + token under the HTTP webhook signing key.
import { onlyFields, optionalBoolean, requiredString } from '../settings.ts';
import type { DeliveryEvent, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, freshTimestamp, hmac, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type MailgunWebhookSettings = {
  signing_key: string;
  /** Refuse a token seen before within the freshness window (replay protection beyond the event keys). */
  reject_reused_tokens: boolean;
};

// Mailgun warns that its webhook processing can be delayed, so the window is wider than the usual 5 minutes.
const toleranceSeconds = 15 * 60;

/** Tokens seen within the window, oldest first; bounded so a flood cannot grow it without limit. */
const seenTokens = new Map<string, number>();
const maxSeenTokens = 10_000;

function firstUse(token: string, now = Date.now()): boolean {
  for (const [seen, expires] of seenTokens) {
    if (expires > now && seenTokens.size < maxSeenTokens) break;
    seenTokens.delete(seen);
  }
  if (seenTokens.has(token)) return false;
  seenTokens.set(token, now + 2 * toleranceSeconds * 1000);
  return true;
}

/** The stored id is the Message-ID in angle brackets (the send's answer); the webhook gives it bare. */
const storedId = (messageId: string) => (messageId.startsWith('<') ? messageId : `<${messageId}>`);

function event(data: Record<string, unknown>): DeliveryEvent | null {
  const kind = text(data.event);
  if (kind === null) throw new WebhookBodyError('event-data.event is missing');
  const message = isRecord(data.message) ? data.message : {};
  const headers = isRecord(message.headers) ? message.headers : {};
  const messageId = text(headers['message-id']);
  const recipient = text(data.recipient);
  const status = isRecord(data['delivery-status']) ? data['delivery-status'] : {};
  const base = () => {
    if (messageId === null) throw new WebhookBodyError('event-data.message.headers.message-id is missing');
    if (recipient === null) throw new WebhookBodyError('event-data.recipient is missing');
    return {
      providerMessageId: storedId(messageId), recipient, at: eventTime(data.timestamp),
      code: text(status.code), message: text(status.description) ?? text(status.message),
      eventKey: eventKeyOf('mailgun', text(data.id), text(data.timestamp), kind, recipient),
    };
  };
  switch (kind) {
    case 'delivered':
      return { ...base(), type: 'delivered' };
    case 'failed': {
      // Temporary failures are retried by Mailgun; "suppress-*" reasons are Mailgun's own lists
      // refusing the send; "old" (gave up after retrying) and "espblock" (the receiving provider
      // blocked the sender) say nothing bad about the address itself.
      const reason = text(data.reason);
      if (data.severity === 'temporary') return { ...base(), type: 'deferred' };
      if (reason?.startsWith('suppress-')) return { ...base(), type: 'rejected', code: reason };
      return { ...base(), type: 'bounced', bounce: reason === 'old' || reason === 'espblock' ? 'soft' : 'hard' };
    }
    case 'rejected': {
      const reject = isRecord(data.reject) ? data.reject : {};
      return { ...base(), type: 'rejected', message: text(reject.reason) ?? text(reject.description) };
    }
    case 'complained':
      return { ...base(), type: 'complained' };
    case 'unsubscribed':
      return { ...base(), type: 'unsubscribed' };
    case 'opened':
      return { ...base(), type: 'opened' };
    case 'clicked':
      return { ...base(), type: 'clicked', message: text(data.url) };
    // accepted (queued at Mailgun), stored (inbound), list_* (mailing lists): not about delivery.
    default:
      return null;
  }
}

export const mailgunWebhook: WebhookKind<MailgunWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['signing_key', 'reject_reused_tokens']);
    return { signing_key: requiredString(raw, 'signing_key'), reject_reused_tokens: optionalBoolean(raw, 'reject_reused_tokens') ?? false };
  },
  secrets: (settings) => [settings.signing_key],
  verify(request, settings) {
    try {
      const body: unknown = JSON.parse(request.body.toString('utf8'));
      const signature = isRecord(body) && isRecord(body.signature) ? body.signature : null;
      const timestamp = text(signature?.timestamp);
      const token = text(signature?.token);
      if (signature === null || timestamp === null || token === null || !freshTimestamp(timestamp, toleranceSeconds)) return false;
      const expected = hmac('sha256', settings.signing_key, timestamp + token);
      // A subaccount's events also carry parent-signature, made with the primary account's key.
      const matches = [signature.signature, signature['parent-signature']].some((given) => typeof given === 'string' && safeEqual(given, expected));
      return matches && (!settings.reject_reused_tokens || firstUse(token));
    } catch {
      return false;
    }
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || !isRecord(body['event-data'])) throw new WebhookBodyError('expected a Mailgun webhook with "event-data"');
    const found = event(body['event-data']);
    return { kind: 'events', events: found === null ? [] : [found] };
  },
};
