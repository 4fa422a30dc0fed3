// decide(): what one outcome means for its email, for every branch of the policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../../src/delivery/decide.ts';
import type { ClaimedEmail } from '../../src/store/lease-store.ts';

const email = (overrides: Partial<ClaimedEmail> = {}): ClaimedEmail => ({
  id: 'e1', status: 'sending', priority: 'medium', backend: 'default', via: 'default', sentVia: null, attempt: 1, maxAttempts: 3, expiresAt: null,
  message: { id: 'e1', from: 'a@example.com', to: ['b@example.com'], cc: [], bcc: [], reply_to: [], subject: 's', headers: {}, attachments: [], tags: [], metadata: {} },
  ...overrides,
});
const retryable = { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE', message: '503 from the provider' } as const;

test('ok: sent, with the provider message id', () => {
  assert.deepEqual(decide(email(), { outcome: 'ok', providerMessageId: 'pm-1' }, 10), {
    id: 'e1', attempt: 1, via: 'default', status: 'sent', providerMessageId: 'pm-1', code: null, message: null, retryInSeconds: 0,
  });
});

test('ok for an email rendered on delivery: the subject it was sent with is recorded', () => {
  assert.equal(decide(email(), { outcome: 'ok', providerMessageId: null, subject: 'Hallo Ann' }, 10).subject, 'Hallo Ann');
  assert.ok(!('subject' in decide(email(), { outcome: 'ok', providerMessageId: null }, 10)));
});

test('permanent: failed at once, whatever attempts are left', () => {
  const result = decide(email(), { outcome: 'permanent', code: 'RECIPIENT_REJECTED', message: 'inactive recipient' }, 10);
  assert.equal(result.status, 'failed');
  assert.equal(result.code, 'RECIPIENT_REJECTED');
  assert.equal(result.message, 'inactive recipient');
});

test('retryable with attempts left: queued with exponential backoff', () => {
  const first = decide(email({ attempt: 1 }), retryable, 10);
  const second = decide(email({ attempt: 2 }), retryable, 10);
  assert.equal(first.status, 'queued');
  assert.ok(first.retryInSeconds > 0);
  assert.ok(second.retryInSeconds >= first.retryInSeconds, 'the second retry waits no less');
  assert.match(first.message!, /^retry in \d+s: 503 from the provider$/);
});

test('retryable with a Retry-After: waits at least that long', () => {
  const result = decide(email(), { ...retryable, code: 'RATE_LIMITED', retryAfterSeconds: 120 }, 1);
  assert.ok(result.retryInSeconds >= 120);
});

test('retryable on the last attempt: failed, saying it gave up', () => {
  const result = decide(email({ attempt: 3, maxAttempts: 3 }), retryable, 10);
  assert.equal(result.status, 'failed');
  assert.equal(result.message, 'gave up after 3 attempts: 503 from the provider');
});

test('retryable when the retry would come after expires_at: expired', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const result = decide(email({ expiresAt: new Date(now + 1000) }), retryable, 10, now);
  assert.equal(result.status, 'expired');
  assert.match(result.message!, /^expires before the next attempt/);
  assert.equal(decide(email({ expiresAt: new Date(now + 3_600_000) }), retryable, 10, now).status, 'queued');
});
