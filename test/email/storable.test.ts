// What PostgreSQL cannot store is refused by name (src/email/storable.ts); everything else that
// is legal mail content — however odd — is stored and read back exactly as sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { checkContext, MAX_CONTEXT_DEPTH, unstorableReason } from '../../src/email/storable.ts';
import { validateEmail } from '../../src/email/validate.ts';
import { PostOfficeError } from '../../src/errors.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

/** `levels` objects nested inside each other, built without recursion. */
function nested(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let level = 1; level < levels; level++) {
    const next: Record<string, unknown> = {};
    at.a = next;
    at = next;
  }
  at.a = 'leaf';
  return root;
}

const refusal = (code: string, message: string) => (err: unknown) => {
  assert.ok(err instanceof PostOfficeError, String(err));
  assert.equal(err.code, code);
  assert.equal(err.message, message);
  return true;
};

test('NUL and lone surrogates are unstorable; surrogate pairs and other odd characters are not', () => {
  for (const fine of ['', 'plain', '\u{1F600} pair', '\uFFFF', '\u0001\u001f\t', 'é ß 中']) assert.equal(unstorableReason(fine), null, JSON.stringify(fine));
  assert.equal(unstorableReason('a\u0000'), 'must not contain the NUL character (U+0000)');
  assert.equal(unstorableReason('ab\ud800c'), 'must not contain a lone surrogate (U+D800 at character 2), which UTF-8 cannot encode');
  assert.equal(unstorableReason('\udc00\ud800'), 'must not contain a lone surrogate (U+DC00 at character 0), which UTF-8 cannot encode');
  assert.equal(unstorableReason('\u{1F600}\ud83d'), 'must not contain a lone surrogate (U+D83D at character 2), which UTF-8 cannot encode');
});

test(`a context may nest ${MAX_CONTEXT_DEPTH} levels, itself included, and no more`, () => {
  checkContext('context', nested(MAX_CONTEXT_DEPTH));
  assert.throws(() => checkContext('context', nested(MAX_CONTEXT_DEPTH + 1)), refusal('VALIDATION_FAILED', 'context: nested deeper than 64 levels'));
  // Arrays are levels too; a 100,000-level value is refused without a stack overflow.
  const deepArray = JSON.parse(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`) as Record<string, unknown>;
  assert.throws(() => checkContext('emails[3].context', deepArray), refusal('VALIDATION_FAILED', 'emails[3].context: nested deeper than 64 levels'));
  assert.throws(() => checkContext('context', nested(100_000)), refusal('VALIDATION_FAILED', 'context: nested deeper than 64 levels'));
});

test('a refused context string or key is named by its path', () => {
  assert.throws(
    () => checkContext('context', { order: { items: [{ sku: 'a' }, { sku: 'b\u0000' }] } }),
    refusal('INVALID_TEXT', 'context.order.items[1].sku: must not contain the NUL character (U+0000)'),
  );
  assert.throws(
    () => checkContext('context', { list: ['ok', ['\ud800']] }),
    refusal('INVALID_TEXT', 'context.list[1][0]: must not contain a lone surrogate (U+D800 at character 0), which UTF-8 cannot encode'),
  );
  assert.throws(() => checkContext('context', { user: { '\u0000': 1 } }), refusal('INVALID_TEXT', 'context.user: the key "\\u0000" must not contain the NUL character (U+0000)'));
});

test('odd but legal content, a 64-level context and the edge years are stored exactly as sent', async () => {
  const databaseUrl = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  defer(() => pool.end());
  const store = new QueueStore(pool);
  const odd = 'emoji \u{1F600}, U+FFFF \uFFFF, controls \u0001\u001f, tab\t, right-to-left \u202e';
  const email = validateEmail({
    from: `${'\u{1F600}'} <sender@example.com>`, to: 'bob@example.com',
    template: 'welcome', render_on_delivery: true, context: { ...nested(MAX_CONTEXT_DEPTH), note: odd, [odd]: [odd] },
    headers: { 'X-Odd': odd.replace('\t', ' ') }, tags: [odd], metadata: { [odd]: odd },
    scheduled_at: '1970-01-01T00:00:00Z', expires_at: '9999-12-31T23:59:59.999Z',
  }, { defaultFrom: undefined, backends: ['default'] });

  await store.insertEmails([email], 3);

  const found = await store.getEmail(email.id);
  assert.deepEqual(found?.email.message, email.message);
  assert.equal(found?.email.scheduled_at?.toISOString(), '1970-01-01T00:00:00.000Z');
  assert.equal(found?.email.expires_at?.toISOString(), '9999-12-31T23:59:59.999Z');
});
