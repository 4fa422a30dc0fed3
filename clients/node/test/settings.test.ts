// Where the client's settings come from, and the one-line errors for bad ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../src/index.ts';
import { resolveSettings } from '../src/settings.ts';

test('defaults: the sidecar on loopback, no token, 10 s, 3 retries', () => {
  assert.deepStrictEqual(resolveSettings({ env: {} }), { url: 'http://127.0.0.1:8587', apiToken: undefined, timeoutSeconds: 10, maxRetries: 3 });
});

test('the environment fills what the options leave out; an empty variable is unset', () => {
  const env = { POST_OFFICE_URL: 'http://localhost:9000/', POST_OFFICE_API_TOKEN: 'env-token', POST_OFFICE_TIMEOUT: '2.5' };
  assert.deepStrictEqual(resolveSettings({ env }), { url: 'http://localhost:9000', apiToken: 'env-token', timeoutSeconds: 2.5, maxRetries: 3 });
  assert.deepStrictEqual(resolveSettings({ env: { POST_OFFICE_URL: '', POST_OFFICE_TIMEOUT: '' } }).url, 'http://127.0.0.1:8587');
  const given = resolveSettings({ env, url: 'https://mail.internal', apiToken: 'option-token', timeoutSeconds: 1, maxRetries: 0 });
  assert.deepStrictEqual(given, { url: 'https://mail.internal', apiToken: 'option-token', timeoutSeconds: 1, maxRetries: 0 });
  assert.equal(new Client({ env }).url, 'http://localhost:9000');
});

test('a bad setting is one error naming the option or the variable', () => {
  const cases: [Parameters<typeof resolveSettings>[0], RegExp][] = [
    [{ env: { POST_OFFICE_URL: 'ftp://example.com' } }, /^POST_OFFICE_URL: must be an http:\/\/ or https:\/\/ URL, got 'ftp:\/\/example.com'$/],
    [{ env: {}, url: 'localhost:8587' }, /^url: must be an http:\/\/ or https:\/\/ URL/],
    [{ env: {}, url: 'not a url' }, /^url: must be an http:\/\/ or https:\/\/ URL, got 'not a url'$/],
    [{ env: { POST_OFFICE_TIMEOUT: 'ten' } }, /^POST_OFFICE_TIMEOUT: must be a positive number of seconds, got 'ten'$/],
    [{ env: { POST_OFFICE_TIMEOUT: '0' } }, /^POST_OFFICE_TIMEOUT: /],
    [{ env: {}, timeoutSeconds: -1 }, /^timeoutSeconds: must be a positive number of seconds, got '-1'$/],
    [{ env: {}, maxRetries: 1.5 }, /^maxRetries: must be an integer of 0 or more, got 1.5$/],
  ];
  for (const [options, message] of cases) assert.throws(() => new Client(options), { message });
});
