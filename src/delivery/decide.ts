// What one send's outcome means for its email: sent, failed, expired, or queued for a retry
// with backoff. A plain function, so the whole policy is tested without a database or a pool.
import type { SendOutcome } from '../providers/provider.ts';
import type { ClaimedEmail, Completion } from '../store/lease-store.ts';
import { retryDelaySeconds } from './retry-policy.ts';

/** Turns one send outcome into what is recorded. */
export function decide(email: ClaimedEmail, result: SendOutcome, retryBaseSeconds: number, now = Date.now()): Completion {
  const base = { id: email.id, attempt: email.attempt, via: email.via, providerMessageId: null, retryInSeconds: 0 };
  if (result.outcome === 'ok') {
    return { ...base, status: 'sent', providerMessageId: result.providerMessageId, code: null, message: null, ...(result.subject === undefined ? {} : { subject: result.subject }) };
  }
  if (result.outcome === 'permanent') return { ...base, status: 'failed', code: result.code, message: result.message };
  if (email.attempt >= email.maxAttempts) {
    return { ...base, status: 'failed', code: result.code, message: `gave up after ${email.attempt} attempts: ${result.message}` };
  }
  const delay = retryDelaySeconds(email.attempt, retryBaseSeconds, result.retryAfterSeconds);
  if (email.expiresAt !== null && now + delay * 1000 >= email.expiresAt.getTime()) {
    return { ...base, status: 'expired', code: result.code, message: `expires before the next attempt: ${result.message}` };
  }
  return { ...base, status: 'queued', code: result.code, message: `retry in ${Math.ceil(delay)}s: ${result.message}`, retryInSeconds: delay };
}
