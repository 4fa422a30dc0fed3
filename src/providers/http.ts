// One HTTP exchange with a provider through the worker's Agent, and the classification of
// its failure modes that every HTTP provider shares: network errors, timeouts, 408, 429 and
// 5xx are retryable; 401/403 mean the credentials are wrong; any other 4xx is permanent.
import type { Dispatcher, FormData } from 'undici';
import type { PermanentCode, RetryableCode } from './outcome-codes.ts';
import type { SendContext, SendOutcome } from './provider.ts';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Body = string | FormData;

/**
 * The most of a provider's answer that is read: more is never needed to classify it (the largest,
 * a batch endpoint's answer of 500 outcomes, is under 100 KB), and a provider answering with
 * megabytes must not make each of the threads' in-flight sends hold them.
 */
export const MAX_REPLY_BYTES = 1_048_576;

/** The reply's body as text, at most MAX_REPLY_BYTES of it; the rest is not read. */
async function readCapped(response: Dispatcher.ResponseData): Promise<string> {
  const { body } = response;
  // The common case, a small answer of known length, read the fast way.
  const length = Number(response.headers['content-length']);
  if (Number.isInteger(length) && length <= MAX_REPLY_BYTES) return body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(size + buffer.length > MAX_REPLY_BYTES ? buffer.subarray(0, MAX_REPLY_BYTES - size) : buffer);
    size += buffer.length;
    if (size >= MAX_REPLY_BYTES) {
      // Ends the exchange here; the connection is closed rather than drained.
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Loaded in the worker threads on first send: the main thread only parses provider settings.
let undici: Promise<typeof import('undici')> | undefined;

/** Sends and reads the reply (capped); a network failure or timeout becomes a retryable outcome. */
export async function exchange(
  context: SendContext,
  url: string,
  options: { method?: Dispatcher.HttpMethod; headers: Record<string, string>; body: Body },
): Promise<HttpReply | SendOutcome> {
  try {
    const { request } = await (undici ??= import('undici'));
    const response = await request(url, {
      dispatcher: context.agent,
      method: options.method ?? 'POST',
      headers: { ...context.headers, ...options.headers },
      body: options.body,
      headersTimeout: context.timeoutMs,
      bodyTimeout: context.timeoutMs,
    });
    const body = await readCapped(response);
    return { status: response.statusCode, headers: response.headers, body };
  } catch (err) {
    return networkFailure(err);
  }
}

export function isReply(value: HttpReply | SendOutcome): value is HttpReply {
  return 'status' in value;
}

function networkFailure(err: unknown): SendOutcome {
  const code = (err as { code?: string }).code ?? 'UNKNOWN';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    // The request was written; the provider may have accepted it. Retrying is safe only
    // because the email id travels as the idempotency key where the provider supports one.
    return { outcome: 'retryable', code: 'TIMEOUT', message: `outcome unknown: ${message}` };
  }
  return { outcome: 'retryable', code: 'NETWORK', message: `${code}: ${message}` };
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(headers: HttpReply['headers'], now = Date.now()): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

const MAX_DETAIL = 500;

/** The outcome of a non-2xx reply; `detail` is the provider's own explanation, if parsed. */
export function failureFromStatus(reply: HttpReply, detail?: string): SendOutcome {
  const text = (detail ?? reply.body).slice(0, MAX_DETAIL);
  const message = `HTTP ${reply.status}: ${text}`;
  const { status } = reply;
  if (status === 429) {
    return { outcome: 'retryable', code: 'RATE_LIMITED', message, retryAfterSeconds: retryAfterSeconds(reply.headers) };
  }
  if (status === 408 || status >= 500) {
    return { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE', message, retryAfterSeconds: retryAfterSeconds(reply.headers) };
  }
  if (status === 401 || status === 403) return { outcome: 'permanent', code: 'AUTH_FAILED', message };
  return { outcome: 'permanent', code: 'REJECTED', message };
}

/** Parses a JSON reply body; null when it is not JSON (a proxy's HTML error page, say). */
export function parseJson(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function malformed(reply: HttpReply): SendOutcome {
  return {
    outcome: 'retryable',
    code: 'INVALID_RESPONSE',
    message: `HTTP ${reply.status} with an unreadable body: ${reply.body.slice(0, MAX_DETAIL)}`,
  };
}

/** What a provider's own error identifier means, where it says more than the HTTP status. */
export type ErrorClass = { outcome: 'retryable'; code: RetryableCode } | { outcome: 'permanent'; code: PermanentCode };

export function isSuccess(reply: HttpReply): boolean {
  return reply.status >= 200 && reply.status < 300;
}

/**
 * failureFromStatus, reclassified by the provider's table when it knows the error: a 200 that
 * carries an error (Postal), a 500 that means a bad key (Mandrill), a 400 that means throttling (SES).
 */
export function classified(reply: HttpReply, detail: string | undefined, errorClass: ErrorClass | undefined): SendOutcome {
  const base = failureFromStatus(reply, detail);
  if (errorClass === undefined || base.outcome === 'ok') return base;
  if (errorClass.outcome === 'permanent') return { outcome: 'permanent', code: errorClass.code, message: base.message };
  return {
    outcome: 'retryable',
    code: errorClass.code,
    message: base.message,
    retryAfterSeconds: retryAfterSeconds(reply.headers),
  };
}

/** One header as a string (undici gives arrays for repeated headers). */
export function header(reply: HttpReply, name: string): string | undefined {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The common request: JSON in, JSON out. */
export function postJson(
  context: SendContext,
  url: string,
  headers: Record<string, string>,
  payload: unknown,
): Promise<HttpReply | SendOutcome> {
  return exchange(context, url, {
    headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
}
