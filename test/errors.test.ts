// Every API error code is documented in the README's error table, with its HTTP status, and
// the table documents no code the code does not have.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { errorStatus } from '../src/errors.ts';

test('README documents every error code with its status, and only those', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('## Delivery'));
  const documented = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]));
  assert.deepEqual(Object.fromEntries(documented), { ...errorStatus });
});
