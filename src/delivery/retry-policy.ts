// When a retryable failure is tried again: exponential backoff from a base, with jitter so a
// fleet that failed together does not retry together, capped, and never sooner than the
// provider's own Retry-After.

export const MAX_BACKOFF_SECONDS = 3600;
const MAX_RETRY_AFTER_SECONDS = 86_400;

/** Seconds to wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
export function retryDelaySeconds(attempt: number, baseSeconds: number, retryAfterSeconds?: number, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": half fixed, half random, so the wait keeps growing with each attempt.
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(jittered, Math.min(retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS));
}
