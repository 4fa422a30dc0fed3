// Every code a failed send can carry, with how it is classified and what it means. Each code is
// documented in docs/providers.md ("What a failure means"); test/providers/outcome-codes.test.ts
// fails when one is not. SendOutcome (./provider.ts) accepts a code only with an outcome listed
// here, so a code cannot be retryable in one adapter and permanent in another by accident.

type Classification = 'retryable' | 'permanent';

export const outcomeCodes = {
  // Provider failures, classified by the adapters.
  NETWORK: { outcomes: ['retryable'], meaning: 'connection refused, reset or dropped; DNS failure' },
  TIMEOUT: { outcomes: ['retryable'], meaning: 'no reply within the send timeout: the provider may have accepted the email' },
  RATE_LIMITED: { outcomes: ['retryable'], meaning: "HTTP 429 or the provider's own throttling or quota signal" },
  PROVIDER_UNAVAILABLE: { outcomes: ['retryable'], meaning: 'HTTP 408 or 5xx, or the provider says it is down' },
  // Permanent only where the reply proves base_url is wrong (Mailgun's API root).
  INVALID_RESPONSE: { outcomes: ['retryable', 'permanent'], meaning: 'a reply the adapter cannot read' },
  IDEMPOTENCY_CONFLICT: { outcomes: ['retryable'], meaning: 'the provider is still processing an earlier attempt with the same key' },
  ACCOUNT_PAUSED: { outcomes: ['retryable'], meaning: 'sending is paused on the account until an operator resumes it' },
  RECIPIENT_DEFERRED: { outcomes: ['retryable'], meaning: 'every recipient is temporarily unavailable' },
  DEFERRED: { outcomes: ['retryable'], meaning: 'SMTP 4xx reply (and 503)' },
  TLS_FAILED: { outcomes: ['retryable'], meaning: 'SMTP TLS handshake or certificate failure, or require_tls without STARTTLS' },
  AUTH_FAILED: { outcomes: ['permanent'], meaning: 'the credentials are wrong or may not send' },
  REJECTED: { outcomes: ['permanent'], meaning: 'the provider refused the email' },
  RECIPIENT_REJECTED: { outcomes: ['permanent'], meaning: 'no recipient was accepted' },
  SENDER_REJECTED: { outcomes: ['permanent'], meaning: 'the From address or domain is not verified' },
  ACCOUNT_DISABLED: { outcomes: ['permanent'], meaning: 'the account may not send' },
  // Failures of the sidecar's own delivery path.
  OUTBOX_WRITE_FAILED: { outcomes: ['retryable'], meaning: 'the outbox provider could not write the .eml file' },
  ADAPTER_ERROR: { outcomes: ['retryable'], meaning: 'an adapter threw instead of returning an outcome' },
  WORKER_ERROR: { outcomes: ['retryable'], meaning: 'the worker thread failed to run the send task' },
  UNKNOWN_BACKEND: { outcomes: ['permanent'], meaning: "the email's backend is not configured in this sidecar" },
  TEMPLATE_RENDER_FAILED: { outcomes: ['permanent'], meaning: 'the template of an email rendered on delivery does not render' },
  UNKNOWN_TEMPLATE: { outcomes: ['permanent'], meaning: 'the template of an email rendered on delivery no longer exists' },
  SUPPRESSED: { outcomes: ['permanent'], meaning: 'every recipient is on the suppression list: no provider was called' },
} as const satisfies Record<string, { outcomes: readonly Classification[]; meaning: string }>;

export type OutcomeCode = keyof typeof outcomeCodes;

type CodeFor<C extends Classification> = {
  [Code in OutcomeCode]: C extends (typeof outcomeCodes)[Code]['outcomes'][number] ? Code : never;
}[OutcomeCode];

/** The codes a retryable outcome may carry. */
export type RetryableCode = CodeFor<'retryable'>;
/** The codes a permanent outcome may carry. */
export type PermanentCode = CodeFor<'permanent'>;

/** The outcome of an adapter that threw: retryable, since a bug or a library's surprise says nothing about the email. */
export function adapterError(err: unknown): { outcome: 'retryable'; code: 'ADAPTER_ERROR'; message: string } {
  return { outcome: 'retryable', code: 'ADAPTER_ERROR', message: err instanceof Error ? err.message : String(err) };
}
