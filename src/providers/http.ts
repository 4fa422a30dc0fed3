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

/**
 * Collects one reply straight from the Agent's dispatch: the body's chunks, at most
 * MAX_REPLY_BYTES of them, with no stream, async iterator or AsyncResource per send — at
 * thousands of sends a second those were a large share of a worker thread's time and garbage.
 */
class ReplyCollector implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: HttpReply['headers'] = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private capped = false;
  private readonly resolve: (reply: HttpReply) => void;
  private readonly reject: (err: unknown) => void;

  constructor(resolve: (reply: HttpReply) => void, reject: (err: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  onRequestStart(): void {
    // Nothing to keep: the Agent's timeouts bound the exchange.
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx answers (100 Continue) come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.capped) return;
    if (this.size + chunk.length >= MAX_REPLY_BYTES) {
      this.chunks.push(chunk.subarray(0, MAX_REPLY_BYTES - this.size));
      this.size = MAX_REPLY_BYTES;
      // Ends the exchange here; the connection is closed rather than drained.
      this.capped = true;
      controller.abort(new Error('reply larger than MAX_REPLY_BYTES'));
      this.done();
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.capped) this.reject(err);
  }

  private done(): void {
    const body = this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks, this.size).toString('utf8');
    this.resolve({ status: this.status, headers: this.headers, body });
  }
}

/** A provider URL split the way the Agent takes it; a backend uses one or two, so they are kept. */
const targets = new Map<string, { origin: string; path: string }>();
function target(url: string): { origin: string; path: string } {
  let found = targets.get(url);
  if (found === undefined) {
    const parsed = new URL(url);
    found = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // Adapters whose URL carries a per-message part (none today) must not grow this for ever.
    if (targets.size >= 1000) targets.clear();
    targets.set(url, found);
  }
  return found;
}

/** Sends and reads the reply (capped); a network failure or timeout becomes a retryable outcome. */
export async function exchange(
  context: SendContext,
  url: string,
  options: { method?: Dispatcher.HttpMethod; headers: Record<string, string>; body: Body },
): Promise<HttpReply | SendOutcome> {
  try {
    const { origin, path } = target(url);
    return await new Promise<HttpReply>((resolve, reject) => {
      context.agent.dispatch({
        origin,
        path,
        method: options.method ?? 'POST',
        headers: Object.assign({}, context.headers, options.headers),
        body: options.body as Dispatcher.DispatchOptions['body'],
        headersTimeout: context.timeoutMs,
        bodyTimeout: context.timeoutMs,
      }, new ReplyCollector(resolve, reject));
    });
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
