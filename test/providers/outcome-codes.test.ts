// Every delivery outcome code is documented in docs/providers.md ("What a failure means") with
// how it is classified, and the table documents no code the code does not have.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { adapterError, outcomeCodes } from '../../src/providers/outcome-codes.ts';

test('docs/providers.md documents every outcome code with its classification, and only those', async () => {
  const doc = await readFile(new URL('../../docs/providers.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## What a failure means');
  assert.notEqual(start, -1, 'docs/providers.md has a "What a failure means" section');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const documented = [...section.matchAll(/^\| `([A-Z_]+)` \| ([a-z ]+) \|/gm)].map((match) => [match[1], match[2]]);
  const codes = Object.entries(outcomeCodes).map(([code, { outcomes }]) => [code, outcomes.join(' or ')]);
  assert.deepEqual(Object.fromEntries(documented), Object.fromEntries(codes));
  assert.equal(documented.length, codes.length, 'no code is documented twice');
});

test('every code has a one-line meaning', () => {
  for (const [code, { meaning }] of Object.entries(outcomeCodes)) {
    assert.match(meaning, /^[^\n]{10,}$/, `${code} has a one-line meaning`);
  }
});

test('an adapter that throws is ADAPTER_ERROR, retryable, with the error message', () => {
  assert.deepEqual(adapterError(new TypeError('payload.to is not iterable')), { outcome: 'retryable', code: 'ADAPTER_ERROR', message: 'payload.to is not iterable' });
  assert.deepEqual(adapterError('a string thrown'), { outcome: 'retryable', code: 'ADAPTER_ERROR', message: 'a string thrown' });
});
