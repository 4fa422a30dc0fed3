// Postmark's webhooks (https://postmarkapp.com/developer/webhooks/webhooks-overview): one JSON
// record per request, RecordType naming its kind. Postmark authenticates by the basic-auth
// credentials written into the webhook URL (https://user:password@host/webhooks/<alias>).
import type { DeliveryEvent, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { basicAuth, eventKeyOf, eventTime, isRecord, jsonBody, text, type BasicAuthSettings } from './verify.ts';

export type PostmarkWebhookSettings = BasicAuthSettings;

// Bounce types (https://postmarkapp.com/developer/api/bounce-api#bounce-types) → what they mean
// for the recipient. Types not listed (AutoResponder, Subscribe, AddressChange, …) are not about delivery.
const bounceTypes: Record<string, EventMeaning> = {
  HardBounce: { type: 'bounced', bounce: 'hard' },
  BadEmailAddress: { type: 'bounced', bounce: 'hard' },
  ManuallyDeactivated: { type: 'bounced', bounce: 'hard' },
  SoftBounce: { type: 'bounced', bounce: 'soft' },
  DnsError: { type: 'bounced', bounce: 'soft' },
  Transient: { type: 'deferred' },
  SpamComplaint: { type: 'complained' },
  SpamNotification: { type: 'rejected' },
  Blocked: { type: 'rejected' },
  DMARCPolicy: { type: 'rejected' },
  VirusNotification: { type: 'rejected' },
  Unsubscribe: { type: 'unsubscribed' },
};

function event(record: Record<string, unknown>): DeliveryEvent | null {
  const messageId = text(record.MessageID);
  const kind = record.RecordType;
  if (messageId === null) throw new WebhookBodyError('MessageID is missing');
  const base = { providerMessageId: messageId, code: null, message: null };
  switch (kind) {
    case 'Bounce':
    case 'SpamComplaint': {
      const meaning = bounceTypes[String(record.Type)];
      const recipient = text(record.Email);
      if (recipient === null) throw new WebhookBodyError('Email is missing');
      if (meaning === undefined) return null;
      return {
        ...base, ...meaning, recipient, at: eventTime(record.BouncedAt),
        code: text(record.Type), message: text(record.Description) ?? text(record.Details),
        eventKey: `bounce:${text(record.ID) ?? eventKeyOf(messageId, recipient, text(record.BouncedAt))}`,
      };
    }
    case 'Delivery':
    case 'Open':
    case 'Click': {
      const recipient = text(record.Recipient);
      if (recipient === null) throw new WebhookBodyError('Recipient is missing');
      const at = text(kind === 'Delivery' ? record.DeliveredAt : record.ReceivedAt);
      const type = ({ Delivery: 'delivered', Open: 'opened', Click: 'clicked' } as const)[kind];
      return {
        ...base, type, recipient, at: eventTime(at),
        message: kind === 'Delivery' ? text(record.Details) : kind === 'Click' ? text(record.OriginalLink) : null,
        eventKey: eventKeyOf(kind, messageId, recipient, at, kind === 'Click' ? text(record.OriginalLink) : null),
      };
    }
    case 'SubscriptionChange': {
      // Hard bounces and complaints arrive as their own records; only a recipient's own
      // unsubscribe (ManualSuppression) is news here, and a reactivation changes nothing.
      const recipient = text(record.Recipient);
      if (recipient === null) throw new WebhookBodyError('Recipient is missing');
      if (record.SuppressSending !== true || record.SuppressionReason !== 'ManualSuppression') return null;
      const at = text(record.ChangedAt);
      return { ...base, type: 'unsubscribed', recipient, at: eventTime(at), code: 'ManualSuppression', eventKey: eventKeyOf(kind, messageId, recipient, at) };
    }
    default:
      return null;
  }
}

export const postmarkWebhook: WebhookKind<PostmarkWebhookSettings> = {
  ...basicAuth,
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.RecordType !== 'string') throw new WebhookBodyError('expected a Postmark webhook record with a RecordType');
    const found = event(body);
    return { kind: 'events', events: found === null ? [] : [found] };
  },
};
