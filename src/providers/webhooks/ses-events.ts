// SES's own records, the JSON inside an SNS Notification's Message: both "event publishing"
// (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html,
// eventType) and the older identity notifications
// (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html, notificationType).
// The two share the mail, bounce, complaint and delivery objects.
import { bare } from '../fields.ts';
import type { DeliveryEvent } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, isRecord, text } from './verify.ts';

type Part = Omit<DeliveryEvent, 'providerMessageId' | 'eventKey'> & { keyParts: ReadonlyArray<string | null> };

const list = (value: unknown, field: string): unknown[] => {
  if (!Array.isArray(value)) throw new WebhookBodyError(`${field} must be an array`);
  return value;
};

const object = (value: unknown, field: string): Record<string, unknown> => {
  if (!isRecord(value)) throw new WebhookBodyError(`${field} is missing`);
  return value;
};

/** A recipient entry's address ({emailAddress} objects in bounces, complaints and delays; plain strings elsewhere). */
function address(entry: unknown, field: string): string {
  const value = isRecord(entry) ? text(entry.emailAddress) : text(entry);
  if (value === null) throw new WebhookBodyError(`${field} has an entry without an address`);
  return bare(value);
}

// Undetermined is SES's word for a bounce it could not classify: soft, so that an address is
// never suppressed on a guess.
const bounceKinds: Record<string, 'hard' | 'soft'> = { Permanent: 'hard', Transient: 'soft', Undetermined: 'soft' };

function parts(type: string, record: Record<string, unknown>, destination: () => string[]): Part[] | null {
  switch (type) {
    case 'Bounce': {
      const bounce = object(record.bounce, 'bounce');
      const kind = bounceKinds[String(bounce.bounceType)] ?? 'soft';
      const at = eventTime(bounce.timestamp);
      return list(bounce.bouncedRecipients, 'bounce.bouncedRecipients').map((entry) => ({
        type: 'bounced', bounce: kind, recipient: address(entry, 'bounce.bouncedRecipients'), at,
        code: (isRecord(entry) ? text(entry.status) : null) ?? text(bounce.bounceSubType),
        message: (isRecord(entry) ? text(entry.diagnosticCode) : null) ?? `${text(bounce.bounceType) ?? ''}: ${text(bounce.bounceSubType) ?? ''}`,
        keyParts: [text(bounce.feedbackId), text(bounce.timestamp)],
      }));
    }
    case 'Complaint': {
      const complaint = object(record.complaint, 'complaint');
      const at = eventTime(complaint.timestamp);
      return list(complaint.complainedRecipients, 'complaint.complainedRecipients').map((entry) => ({
        type: 'complained', recipient: address(entry, 'complaint.complainedRecipients'), at,
        code: text(complaint.complaintFeedbackType), message: text(complaint.complaintSubType),
        keyParts: [text(complaint.feedbackId), text(complaint.timestamp)],
      }));
    }
    case 'Delivery': {
      const delivery = object(record.delivery, 'delivery');
      const at = eventTime(delivery.timestamp);
      return list(delivery.recipients, 'delivery.recipients').map((entry) => ({
        type: 'delivered', recipient: address(entry, 'delivery.recipients'), at,
        code: null, message: text(delivery.smtpResponse), keyParts: [text(delivery.timestamp)],
      }));
    }
    case 'DeliveryDelay': {
      const delay = object(record.deliveryDelay, 'deliveryDelay');
      const at = eventTime(delay.timestamp);
      return list(delay.delayedRecipients, 'deliveryDelay.delayedRecipients').map((entry) => ({
        type: 'deferred', recipient: address(entry, 'deliveryDelay.delayedRecipients'), at,
        code: (isRecord(entry) ? text(entry.status) : null) ?? text(delay.delayType),
        message: (isRecord(entry) ? text(entry.diagnosticCode) : null) ?? text(delay.delayType),
        keyParts: [text(delay.timestamp)],
      }));
    }
    // SES refused the whole message (a virus): every recipient of it.
    case 'Reject': {
      const reject = object(record.reject, 'reject');
      const mail = object(record.mail, 'mail');
      return destination().map((recipient) => ({
        type: 'rejected', recipient, at: eventTime(mail.timestamp), code: 'Reject', message: text(reject.reason), keyParts: [],
      }));
    }
    // SES tracks opens and clicks per message, not per recipient: each recipient gets the event.
    case 'Open':
    case 'Click': {
      const tracked = object(type === 'Open' ? record.open : record.click, type.toLowerCase());
      const link = type === 'Click' ? text(tracked.link) : null;
      return destination().map((recipient) => ({
        type: type === 'Open' ? 'opened' : 'clicked', recipient, at: eventTime(tracked.timestamp),
        code: null, message: link, keyParts: [text(tracked.timestamp), link],
      }));
    }
    // A list-management change: only an unsubscribe from every topic is news here.
    case 'Subscription': {
      const subscription = object(record.subscription, 'subscription');
      const preferences = isRecord(subscription.newTopicPreferences) ? subscription.newTopicPreferences : {};
      if (preferences.unsubscribeAll !== true) return [];
      return destination().map((recipient) => ({
        type: 'unsubscribed', recipient, at: eventTime(subscription.timestamp),
        code: text(subscription.source), message: text(subscription.contactList), keyParts: [text(subscription.timestamp)],
      }));
    }
    // Send (accepted), Rendering Failure (SES templates, which this sidecar does not use), Received (inbound mail).
    default:
      return null;
  }
}

/** The delivery events of one SES record; none for types that are not about delivery. */
export function sesEvents(record: unknown): DeliveryEvent[] {
  if (!isRecord(record)) throw new WebhookBodyError('the SNS Message is not an SES event record');
  const type = text(record.eventType) ?? text(record.notificationType);
  if (type === null) throw new WebhookBodyError('the SES record has neither eventType nor notificationType');
  const mail = object(record.mail, 'mail');
  const messageId = text(mail.messageId);
  if (messageId === null) throw new WebhookBodyError('mail.messageId is missing');
  const destination = () => list(mail.destination, 'mail.destination').map((entry) => address(entry, 'mail.destination'));
  return (parts(type, record, destination) ?? []).map(({ keyParts, ...event }) => ({
    ...event,
    providerMessageId: messageId,
    eventKey: eventKeyOf('ses', type, messageId, event.recipient.toLowerCase(), ...keyParts),
  }));
}
