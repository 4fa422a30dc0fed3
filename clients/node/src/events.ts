// Verifying an event the sidecar POSTed to POST_OFFICE_EVENTS_URL (docs/events.md): the
// Post-Office-Signature header is `t=<unix seconds>, v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
// Check it on the raw body, before parsing it: a re-serialised body would not match.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** An event as the application receives it; `type` says which fields it has (docs/events.md). */
export interface PostOfficeEvent {
  id: number;
  type: string;
  email_id: string;
  at: string;
  status: string;
  backend: string;
  code: string | null;
  message: string | null;
  [field: string]: unknown;
}

/** The request did not come from a sidecar holding the secret, or came too late (a replay). */
export class EventSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventSignatureError';
  }
}

export interface VerifyOptions {
  /** How far the header's time may be from now; 0 turns the check off. Default 300. */
  toleranceSeconds?: number;
  /** Now, in unix seconds (tests). */
  now?: number;
}

/** Checks the signature of a raw body and returns the parsed event; throws EventSignatureError. */
export function verifyEvent(body: string | Uint8Array, header: string | null | undefined, secret: string, options: VerifyOptions = {}): PostOfficeEvent {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts = new Map<string, string[]>();
  for (const item of (header ?? '').split(',')) {
    const [key, ...value] = item.trim().split('=');
    if (key !== undefined && value.length > 0) parts.set(key, [...(parts.get(key) ?? []), value.join('=')]);
  }
  const timestamp = parts.get('t')?.[0];
  const signatures = parts.get('v1') ?? [];
  if (timestamp === undefined || !/^\d+$/.test(timestamp) || signatures.length === 0) {
    throw new EventSignatureError('the Post-Office-Signature header is missing or not "t=<seconds>, v1=<hex>"');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (tolerance > 0 && Math.abs(now - Number(timestamp)) > tolerance) {
    throw new EventSignatureError(`the signature's time is more than ${tolerance} s from now (a replay, or a clock off)`);
  }
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest();
  // Several v1 values let a secret be rotated: any one that matches is enough.
  const matches = signatures.some((hex) => {
    const given = /^[0-9a-f]{64}$/i.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(0);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new EventSignatureError('the signature does not match the body and the secret');
  return JSON.parse(raw.toString('utf8')) as PostOfficeEvent;
}
