// One HTTP exchange with the sidecar over Node's fetch, retried while the sidecar is briefly
// unavailable. Retried: 503 (database unreachable, sidecar draining), after the Retry-After
// header's seconds; and connections that fail before an answer (the app container may start
// before the sidecar listens). Not retried: timeouts (the caller's time budget is spent) and
// every other status. Enqueues carry an idempotency key, so a retry never stores an email twice.
import { setTimeout as sleep } from 'node:timers/promises';
import packageJson from '../package.json' with { type: 'json' };
import { PostOfficeError, errorFromResponse } from './errors.ts';
import type { Settings } from './settings.ts';

// Longest wait for one Retry-After, so a misbehaving proxy cannot park the caller for hours.
export const MAX_RETRY_AFTER_SECONDS = 60;

export interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  idempotencyKey?: string;
}

export interface Response {
  status: number;
  headers: Headers;
  body: unknown;
}

/** `Retry-After` as seconds: a number, or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  // Date.parse reads "-1" as a year: only text with a weekday or month name is taken as a date.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** Without a Retry-After: 0.5 s, 1 s, 2 s, 4 s, then 5 s. */
function backoffSeconds(attempt: number): number {
  return Math.min(0.5 * 2 ** attempt, 5);
}

function parseBody(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** What one attempt came to: an answer, or an error, whether to try again and after how long if the sidecar said. */
type Outcome = { response: Response } | { error: PostOfficeError; retry: boolean; waitSeconds?: number };

export class Transport {
  readonly #settings: Settings;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** Sends the request and returns its answer (the body as parsed JSON); throws PostOfficeError. */
  async request(request: Request): Promise<Response> {
    const url = new URL(this.#settings.url + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `post-office-client-node/${packageJson.version}` };
    // Serialized once: a retry sends the very same bytes, as idempotency requires.
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#settings.apiToken !== undefined) headers.authorization = `Bearer ${this.#settings.apiToken}`;
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;

    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.#attempt(request, url, { method: request.method, headers, body });
      if ('response' in outcome) return outcome.response;
      if (!outcome.retry || attempt >= this.#settings.maxRetries) throw outcome.error;
      await sleep(Math.min(outcome.waitSeconds ?? backoffSeconds(attempt), MAX_RETRY_AFTER_SECONDS) * 1000);
    }
  }

  async #attempt(request: Request, url: URL, init: RequestInit): Promise<Outcome> {
    const what = `${request.method} ${request.path}`;
    const { timeoutSeconds } = this.#settings;
    // One signal for the whole attempt, so a sidecar that sends headers and then stalls times out too.
    const signal = AbortSignal.timeout(timeoutSeconds * 1000);
    let response: globalThis.Response;
    let text: string;
    try {
      response = await fetch(url, { ...init, signal });
    } catch (error) {
      if (signal.aborted) return { error: new PostOfficeError('TIMEOUT', undefined, `${what}: no answer within ${timeoutSeconds} s`, { cause: error }), retry: false };
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      const failure = new PostOfficeError('CONNECTION_FAILED', undefined, `${what}: connection to ${this.#settings.url} failed: ${reason}`, { cause: error });
      return { error: failure, retry: true };
    }
    try {
      text = await response.text();
    } catch (error) {
      // The request may have been acted on: only the status line came back.
      const failure = signal.aborted
        ? new PostOfficeError('TIMEOUT', response.status, `${what}: no complete answer within ${timeoutSeconds} s`, { cause: error })
        : new PostOfficeError('CONNECTION_FAILED', response.status, `${what}: the connection broke during the answer`, { cause: error });
      return { error: failure, retry: false };
    }
    const parsed = parseBody(text);
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
    if (response.ok) {
      if (!parsed.ok) return { error: new PostOfficeError('UNEXPECTED_RESPONSE', response.status, `${what}: the answer is not JSON`), retry: false };
      return { response: { status: response.status, headers: response.headers, body: parsed.value } };
    }
    const error = errorFromResponse(response.status, parsed.ok ? parsed.value : undefined, retryAfterSeconds);
    return { error, retry: response.status === 503, waitSeconds: retryAfterSeconds };
  }
}
