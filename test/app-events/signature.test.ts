// The sender's pure parts: the signature the clients verify, the body's field order, the backoff.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { verifyEvent } from '../../clients/node/src/index.ts';
import { eventBody, retryDelaySeconds } from '../../src/app-events/sender.ts';
import { signatureHeader } from '../../src/app-events/signature.ts';

test('the signature is HMAC-SHA256 of "<t>.<body>" in hex, and the Node client verifies it', () => {
  const body = '{"id":1,"type":"email.sent"}';
  const header = signatureHeader('whsec-0123456789abcdef', body, 1_800_000_000);
  assert.equal(header, `t=1800000000, v1=${createHmac('sha256', 'whsec-0123456789abcdef').update(`1800000000.${body}`).digest('hex')}`);
  assert.equal(verifyEvent(body, header, 'whsec-0123456789abcdef', { now: 1_800_000_100 }).id, 1);
});

test('the body starts with id, type, email_id and at, the id a number', () => {
  const body = eventBody({ id: '42', attempts: 0, payload: { status: 'sent', at: '2026-12-01T00:00:00.000Z', email_id: 'e', type: 'email.sent', code: null } });
  assert.equal(body, '{"id":42,"type":"email.sent","email_id":"e","at":"2026-12-01T00:00:00.000Z","status":"sent","code":null}');
});

test('the backoff: 1 s doubling to the cap, jittered ± 20 %', () => {
  const exact = (attempts: number, max?: number) => retryDelaySeconds(attempts, max, () => 0.5);
  assert.deepEqual([1, 2, 3, 4, 10, 11, 1000].map((n) => exact(n)), [1, 2, 4, 8, 512, 600, 600]);
  assert.equal(exact(7, 60), 60);
  assert.ok(Math.abs(retryDelaySeconds(3, 600, () => 0) - 3.2) < 1e-9);
  assert.ok(Math.abs(retryDelaySeconds(3, 600, () => 1) - 4.8) < 1e-9);
});
