// The one error the client throws: an answer of the sidecar with its stable code, or one of the
// client's own: no answer (CONNECTION_FAILED, TIMEOUT) or an answer that is not the API's JSON
// (UNEXPECTED_RESPONSE, e.g. a proxy's error page).
import type { ApiErrorCode } from './types.ts';

export type ErrorCode = ApiErrorCode | 'CONNECTION_FAILED' | 'TIMEOUT' | 'UNEXPECTED_RESPONSE';

export class PostOfficeError extends Error {
  /** The API's code (`INVALID_ADDRESS`, `NOT_FOUND`, …), or `CONNECTION_FAILED`, `TIMEOUT`, `UNEXPECTED_RESPONSE`. */
  readonly code: ErrorCode;
  /** The HTTP status; undefined when no response came. */
  readonly statusCode: number | undefined;
  /** The `Retry-After` header's seconds, when the response had one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, statusCode: number | undefined, message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PostOfficeError';
    this.code = code;
    this.statusCode = statusCode;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

function isApiError(body: unknown): body is { code: ApiErrorCode; message: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { code, message } = body as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string';
}

/** The error for a non-2xx answer. */
export function errorFromResponse(statusCode: number, body: unknown, retryAfterSeconds: number | undefined): PostOfficeError {
  if (isApiError(body)) return new PostOfficeError(body.code, statusCode, body.message, { retryAfterSeconds });
  return new PostOfficeError('UNEXPECTED_RESPONSE', statusCode, `HTTP ${statusCode} without an API error body`, { retryAfterSeconds });
}
