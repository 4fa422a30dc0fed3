// src/lazy-builtins.ts: node:https and node:http2 load on first use, not when Fastify and
// prom-client require them, and whatever uses them then gets the real module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** Runs `script` (CommonJS, stdout JSON) in a fresh node with the hooks registered first. */
function withHooks(script: string): unknown {
  const child = spawnSync(process.execPath, ['--import', './src/lazy-builtins.ts', '--input-type=commonjs', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

const loaded = `const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);`;

test('Fastify and prom-client load without node:https, node:http2 or TLS', () => {
  const result = withHooks(`${loaded}
    require('fastify'); require('prom-client');
    console.log(JSON.stringify(['https', 'http2', 'tls'].map(loaded)));`);
  assert.deepEqual(result, [false, false, false]);
});

test('the stand-in is the real module once anything of it is used', () => {
  const result = withHooks(`${loaded}
    const https = require('node:https'); const { createSecureServer, constants } = require('http2');
    const before = loaded('https');
    const agent = new https.Agent({ keepAlive: true });
    console.log(JSON.stringify({
      before, after: loaded('https'), agent: agent instanceof process.getBuiltinModule('node:https').Agent,
      same: https.request === process.getBuiltinModule('node:https').request, keys: Object.keys(https).includes('globalAgent'),
      http2: typeof createSecureServer === 'function' && constants.HTTP2_HEADER_STATUS === ':status',
    }));`);
  assert.deepEqual(result, { before: false, after: true, agent: true, same: true, keys: true, http2: true });
});
