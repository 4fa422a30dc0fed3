// verifyEvent: a body signed with the secret passes; a changed body, another secret, a stale or
// future time, or a malformed header is refused.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { EventSignatureError, verifyEvent } from '../src/index.ts';

const secret = 'whsec-0123456789abcdef';
const body = JSON.stringify({ id: 7, type: 'email.sent', email_id: '0190c1d2-0000-7000-8000-000000000001', at: '2026-12-01T10:00:00.000Z', status: 'sent' });
const now = 1_800_000_000;

function header(t: number, text = body, key = secret): string {
  return `t=${t}, v1=${createHmac('sha256', key).update(`${t}.${text}`).digest('hex')}`;
}

test('a body signed with the secret is verified and parsed, as a string or as bytes', () => {
  assert.equal(verifyEvent(body, header(now), secret, { now }).type, 'email.sent');
  assert.equal(verifyEvent(new TextEncoder().encode(body), header(now - 299), secret, { now }).id, 7);
  assert.equal(verifyEvent(Buffer.from(body), header(now + 299), secret, { now }).status, 'sent');
});

test('another secret among several v1 values is enough (rotation)', () => {
  const rotated = `${header(now, body, 'old-secret-0123456789')}, v1=${header(now).split('v1=')[1]}`;
  assert.equal(verifyEvent(body, rotated, secret, { now }).id, 7);
});

test('a changed body, another secret or a bad header is refused', () => {
  const refused = (text: string | Uint8Array, value: string | undefined, message: RegExp) =>
    assert.throws(() => verifyEvent(text, value, secret, { now }), (err: unknown) => err instanceof EventSignatureError && message.test(err.message));
  refused(body.replace('sent', 'failed'), header(now), /does not match/);
  refused(body, header(now, body, 'another-secret-0123456'), /does not match/);
  refused(body, header(now).replace(/v1=../, 'v1=zz'), /does not match/);
  refused(body, header(now).slice(0, -2), /does not match/);
  refused(body, undefined, /missing or not/);
  refused(body, 'v1=abc', /missing or not/);
  refused(body, `t=${now}`, /missing or not/);
  refused(body, `t=soon, v1=${'0'.repeat(64)}`, /missing or not/);
});

test('a time outside the tolerance is refused (replay); 0 turns the check off', () => {
  assert.throws(() => verifyEvent(body, header(now - 301), secret, { now }), /more than 300 s from now/);
  assert.throws(() => verifyEvent(body, header(now + 61), secret, { now, toleranceSeconds: 60 }), /more than 60 s/);
  assert.equal(verifyEvent(body, header(now - 86_400), secret, { now, toleranceSeconds: 0 }).id, 7);
});
