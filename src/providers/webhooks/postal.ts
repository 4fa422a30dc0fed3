// Postal's webhooks (https://docs.postalserver.io/developer/webhooks): one JSON envelope
// {event, timestamp, uuid, payload} per request, signed with the server's RSA signing key:
// X-Postal-Signature-256 (RSA-SHA256, base64) and the legacy X-Postal-Signature (RSA-SHA1).
import { createPublicKey, verify as rsaVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SettingsError, onlyFields, requiredString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { eventKeyOf, eventTime, header, isRecord, jsonBody, text } from './verify.ts';

export type PostalWebhookSettings = {
  public_key: KeyObject;
};

/**
 * The key as Postal shows it: a PEM block, the bare base64 of `postal default-dkim-record`
 * (its `p=` value, or the whole "v=DKIM1; …; p=…" record), or a JWK from /.well-known/jwks.json.
 */
function publicKey(value: string): KeyObject {
  const trimmed = value.trim();
  let key: KeyObject | undefined;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPublicKey(trimmed);
    else if (trimmed.startsWith('{')) key = createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' });
    else {
      const bare = /(?:^|;)\s*p=([^;]+)/.exec(trimmed)?.[1] ?? trimmed;
      key = createPublicKey({ key: Buffer.from(bare.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    }
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'rsa') {
    throw new SettingsError('public_key must be the Postal server\'s RSA public key (PEM, the base64 "p=" value of its DKIM-style record, or a JWK)');
  }
  return key;
}

/**
 * A 5xx reply from the receiving server is a hard bounce and a 4xx one that Postal gave up on is
 * soft; any other HardFail is Postal's own refusal (spam threshold, the domain gone, no RCPT TO).
 */
function failure(output: string | null): EventMeaning {
  if (output !== null && /^\s*5\d\d\b/.test(output)) return { type: 'bounced', bounce: 'hard' };
  if (output !== null && /^\s*4\d\d\b/.test(output)) return { type: 'bounced', bounce: 'soft' };
  return { type: 'rejected' };
}

const statusEvents: Record<string, true> = { MessageSent: true, MessageDelayed: true, MessageDeliveryFailed: true, MessageHeld: true };

// DomainDNSError, SendLimitApproaching/Exceeded and any later event are about the server, not a message.
const messageEvents: Record<string, true> = { ...statusEvents, MessageBounced: true, MessageLinkClicked: true, MessageLoaded: true };

function event(kind: string, uuid: string | null, envelopeTime: unknown, payload: Record<string, unknown>): DeliveryEvent | null {
  if (messageEvents[kind] !== true) return null;
  const tracked = kind === 'MessageBounced' ? payload.original_message : payload.message;
  if (!isRecord(tracked)) throw new WebhookBodyError(`payload.${kind === 'MessageBounced' ? 'original_message' : 'message'} is missing`);
  // Incoming messages (routed to an HTTP endpoint) are not emails the sidecar sent.
  if (tracked.direction === 'incoming') return null;
  const messageId = text(tracked.message_id);
  const recipient = text(tracked.to);
  if (messageId === null) throw new WebhookBodyError('message.message_id is missing');
  if (recipient === null) throw new WebhookBodyError('message.to is missing');
  const at = eventTime(payload.timestamp ?? envelopeTime);
  const eventKey = uuid ?? eventKeyOf(kind, messageId, recipient, String(payload.timestamp ?? envelopeTime ?? ''));
  const base = { providerMessageId: messageId, recipient, at, eventKey, code: null, message: null };
  if (statusEvents[kind] === true) {
    const output = text(payload.output);
    const details = text(payload.details);
    const code = /^\s*([245]\d\d(?:[ -][245]\.\d{1,3}\.\d{1,3})?)/.exec(output ?? '')?.[1]?.trim() ?? text(payload.status);
    const message = [details, output].filter((part) => part !== null).join(': ') || null;
    switch (kind) {
      case 'MessageSent': return { ...base, type: 'delivered', code, message };
      case 'MessageDelayed': return { ...base, type: 'deferred', code, message };
      // Held: Postal kept it back (the recipient is on its suppression list, a send limit, a hold setting).
      case 'MessageHeld': return { ...base, type: 'rejected', code: 'Held', message };
      default: return { ...base, ...failure(output), code, message };
    }
  }
  switch (kind) {
    case 'MessageBounced': {
      const bounce = isRecord(payload.bounce) ? payload.bounce : {};
      return { ...base, type: 'bounced', bounce: 'hard', code: 'Bounced', message: text(bounce.subject) };
    }
    case 'MessageLinkClicked': return { ...base, type: 'clicked', message: text(payload.url) };
    default: return { ...base, type: 'opened' };
  }
}

export const postalWebhook: WebhookKind<PostalWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['public_key']);
    return { public_key: publicKey(requiredString(raw, 'public_key')) };
  },
  // A public key: nothing to hide.
  secrets: () => [],
  verify(request, settings) {
    // The SHA-256 signature is checked when present, with no fall back to SHA-1 (no downgrade).
    const sha256 = header(request, 'x-postal-signature-256');
    const signature = sha256 ?? header(request, 'x-postal-signature');
    if (signature === undefined || signature === '') return false;
    try {
      return rsaVerify(sha256 === undefined ? 'sha1' : 'sha256', request.body, settings.public_key, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  },
  read(request) {
    const body = jsonBody(request);
    if (!isRecord(body) || typeof body.event !== 'string' || !isRecord(body.payload)) {
      throw new WebhookBodyError('expected a Postal webhook envelope with an event and a payload');
    }
    const found = event(body.event, text(body.uuid), body.timestamp, body.payload);
    return { kind: 'events', events: found === null ? [] : [found] };
  },
};
