// What several providers' webhook checks share: constant-time comparison, HMAC digests, basic
// auth, reading a header or a JSON body, and a stable key for events that carry no id.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { onlyFields, requiredString } from '../settings.ts';
import { WebhookBodyError, type WebhookKind, type WebhookRequest } from './webhook.ts';

/** Equal strings, compared in constant time (a different length is simply unequal). */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The one value of a header, or undefined (a repeated header is refused: it is not what any provider sends). */
export function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

export function hmac(algorithm: 'sha1' | 'sha256' | 'sha512', key: string | Buffer, data: string | Buffer, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/** The request carries `Authorization: Basic` with exactly these credentials. */
export function basicAuthMatches(request: WebhookRequest, username: string, password: string): boolean {
  const given = header(request, 'authorization');
  if (given === undefined || !/^basic /i.test(given)) return false;
  const decoded = Buffer.from(given.slice(6).trim(), 'base64').toString('utf8');
  // Both compared, always, so the time taken says nothing about which one was wrong.
  const userOk = safeEqual(decoded.slice(0, decoded.indexOf(':')), username);
  const passwordOk = safeEqual(decoded.slice(decoded.indexOf(':') + 1), password);
  return decoded.includes(':') && userOk && passwordOk;
}

export type BasicAuthSettings = { username: string; password: string };

/** Settings and check of providers that authenticate by basic-auth credentials in the webhook URL (Postmark, Mailjet). */
export const basicAuth: Omit<WebhookKind<BasicAuthSettings>, 'read'> = {
  parse(raw) {
    onlyFields(raw, ['username', 'password']);
    return { username: requiredString(raw, 'username'), password: requiredString(raw, 'password') };
  },
  secrets: (settings) => [settings.password],
  verify: (request, settings) => basicAuthMatches(request, settings.username, settings.password),
};

/** The body as JSON; WebhookBodyError (400) when it is not. */
export function jsonBody(request: WebhookRequest): unknown {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new WebhookBodyError('the body is not valid JSON');
  }
}

/** A stable event key from the parts that identify an event, for providers whose events carry no id. */
export function eventKeyOf(...parts: ReadonlyArray<string | number | null | undefined>): string {
  return createHash('sha256').update(parts.map((part) => String(part ?? '')).join('\n')).digest('hex').slice(0, 40);
}

/** A date from the provider's timestamp (ISO text, or seconds / milliseconds since the epoch); `fallback` when absent or unreadable. */
export function eventTime(value: unknown, fallback: Date = new Date()): Date {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value < 1e12 ? value * 1000 : value);
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return eventTime(Number(value), fallback);
  if (typeof value === 'string' && value !== '') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return fallback;
}

/** A plain object, for walking provider JSON without casts. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string field or null. */
export const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null);

/**
 * A signing timestamp (seconds since the epoch, as text) within `toleranceSeconds` of now, either
 * way: an older one is a replay, a later one a forgery or a skewed clock.
 */
export function freshTimestamp(seconds: string | undefined, toleranceSeconds = 300, now = Date.now()): boolean {
  if (seconds === undefined || !/^\d{1,12}(\.\d+)?$/.test(seconds)) return false;
  return Math.abs(now / 1000 - Number(seconds)) <= toleranceSeconds;
}
