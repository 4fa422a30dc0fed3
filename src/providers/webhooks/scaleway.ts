// Scaleway Transactional Email's webhooks (https://www.scaleway.com/en/docs/transactional-email/reference-content/webhook-events-payloads/)
// reach an HTTP endpoint through a Scaleway Topics and Events (SNS-compatible) subscription: an
// SNS envelope whose Message is the TEM event, or the bare event when "raw delivery" is on.
// Requests are authenticated by the envelope's certificate signature, checked against Scaleway's
// CA (trust_chain, scaleway-sns.ts), and/or by a shared token in the URL's query (?token=…); when
// both are set, both must hold.
import { onlyFields, optionalString, SettingsError } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind, WebhookResult } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { isScalewayUrl, SnsVerifier, trustChain } from './scaleway-sns.ts';
import { confirmSubscription, fetchText, type FetchText } from './sns.ts';
import { eventKeyOf, eventTime, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type ScalewayWebhookSettings = {
  token?: string;
  /** The PEM text of Scaleway's CA trust chain for the region (sns-trust-chain.pem). */
  trust_chain?: string;
};

// TEM event types → what they mean for the recipient; email_queued, blocklist_created and
// unknown_type are not about one delivery and are ignored.
const eventTypes: Record<string, EventMeaning> = {
  email_delivered: { type: 'delivered' },
  email_dropped: { type: 'bounced', bounce: 'hard' }, // "definitively rejected by the destination server"
  email_mailbox_not_found: { type: 'bounced', bounce: 'hard' },
  email_deferred: { type: 'deferred' }, // "the sending of the email will be automatically retried"
  // Identified as spam by Scaleway or the receiving server: a refusal, not the recipient's complaint.
  email_spam: { type: 'rejected' },
  email_blocklisted: { type: 'rejected' }, // blocked before sending: the recipient is on a blocklist
};

/** The token from the URL's query string, or undefined. */
function urlToken(url: string): string | undefined {
  try {
    return new URL(url, 'http://localhost').searchParams.get('token') ?? undefined;
  } catch {
    return undefined;
  }
}

function event(record: Record<string, unknown>): DeliveryEvent | null {
  const type = String(record.type);
  const meaning = Object.hasOwn(eventTypes, type) ? eventTypes[type] : undefined; // not a prototype key
  if (meaning === undefined) return null;
  const emailId = text(record.email_id);
  const recipient = text(record.email_to);
  if (emailId === null) throw new WebhookBodyError('email_id is missing');
  if (recipient === null) throw new WebhookBodyError('email_to is missing');
  const at = text(record.created_at) ?? text(record.email_sent_at);
  return {
    ...meaning, providerMessageId: emailId, recipient, at: eventTime(at ?? undefined),
    code: text(record.email_response_code) ?? type,
    message: text(record.email_response_message) ?? text(record.email_error) ?? text(record.blocklist_reason),
    eventKey: text(record.id) ?? eventKeyOf(type, emailId, recipient, at),
  };
}

/** A TEM event as an object: the SNS Message is JSON text. */
function temEvent(message: unknown): Record<string, unknown> {
  let parsed: unknown = message;
  if (typeof message === 'string') {
    try {
      parsed = JSON.parse(message);
    } catch {
      throw new WebhookBodyError('the SNS Message is not JSON');
    }
  }
  if (!isRecord(parsed) || typeof parsed.type !== 'string') throw new WebhookBodyError('expected a Transactional Email event with a "type"');
  return parsed;
}

const snsTypes = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

/** The SNS envelope of a body, or null (raw delivery carries no signature). */
function envelopeOf(body: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isRecord(parsed) && snsTypes.has(String(parsed.Type)) ? parsed : null;
  } catch {
    return null;
  }
}

/** The kind, with the certificate fetcher as a parameter so that tests serve their own certificates. */
export function scalewayWebhookKind(fetch: FetchText = fetchText): WebhookKind<ScalewayWebhookSettings> {
  // One verifier (and certificate cache) per trust chain.
  const verifiers = new Map<string, SnsVerifier>();
  const verifierOf = (pem: string) => {
    let verifier = verifiers.get(pem);
    if (verifier === undefined) verifiers.set(pem, verifier = new SnsVerifier(trustChain(pem), fetch));
    return verifier;
  };
  return {
    parse(raw) {
      onlyFields(raw, ['token', 'trust_chain']);
      const settings = { token: optionalString(raw, 'token'), trust_chain: optionalString(raw, 'trust_chain') };
      if (settings.token === undefined && settings.trust_chain === undefined) throw new SettingsError('trust_chain or token must be set');
      if (settings.trust_chain !== undefined) {
        try {
          trustChain(settings.trust_chain);
        } catch (error) {
          throw new SettingsError(`trust_chain must be the PEM text of Scaleway's CA certificates (${(error as Error).message})`);
        }
      }
      return settings;
    },
    secrets: (settings) => [settings.token],
    async verify(request, settings) {
      const given = urlToken(request.url);
      const tokenOk = settings.token === undefined || (given !== undefined && safeEqual(given, settings.token));
      if (settings.trust_chain === undefined) return tokenOk;
      const envelope = envelopeOf(request.body);
      const signed = envelope !== null && await verifierOf(settings.trust_chain).verify(envelope);
      return tokenOk && signed;
    },
    read(request): WebhookResult {
      const body = jsonBody(request);
      if (!isRecord(body)) throw new WebhookBodyError('expected an SNS message or a Transactional Email event');
      switch (body.Type) {
        case 'SubscriptionConfirmation': {
          const subscribeUrl = text(body.SubscribeURL);
          if (subscribeUrl === null || !isScalewayUrl(subscribeUrl)) throw new WebhookBodyError('SubscribeURL must be an https URL on a Scaleway host');
          return { kind: 'handshake', confirm: () => confirmSubscription(subscribeUrl, isScalewayUrl, 'Scaleway Topics and Events') };
        }
        case 'UnsubscribeConfirmation':
          return { kind: 'events', events: [] };
        case 'Notification': {
          const found = event(temEvent(body.Message));
          return { kind: 'events', events: found === null ? [] : [found] };
        }
        default: {
          // Raw message delivery: the TEM event itself.
          const found = event(temEvent(body));
          return { kind: 'events', events: found === null ? [] : [found] };
        }
      }
    },
  };
}

export const scalewayWebhook = scalewayWebhookKind();
