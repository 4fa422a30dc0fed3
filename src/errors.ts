// Every error the API can answer, with a stable code. Each code is documented in
// README.md ("Error codes"); test/errors.test.ts fails when one is not.

export const errorStatus = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_ADDRESS: 400,
  INVALID_HEADER: 400,
  INVALID_ATTACHMENT: 400,
  INVALID_TEXT: 400,
  MISSING_FROM: 400,
  NO_RECIPIENTS: 400,
  EMPTY_EMAIL: 400,
  UNKNOWN_BACKEND: 400,
  INVALID_SCHEDULE: 400,
  INVALID_CURSOR: 400,
  INVALID_TEMPLATE: 400,
  UNKNOWN_TEMPLATE: 400,
  TEMPLATE_RENDER_FAILED: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  BODY_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
  DATABASE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class PostOfficeError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Sent as the Retry-After header on 503s. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PostOfficeError';
    this.code = code;
    this.statusCode = errorStatus[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A configuration rule was broken; the message names the variable and the rule. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// Connection-level failures (server gone, refused, timed out) as opposed to a bad query.
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03']);

/** True when a pg error means "the database cannot be reached right now". */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08'))) return true;
  return /timeout|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(err.message);
}
