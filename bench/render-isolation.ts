// Does a heavy template render hold up ordinary enqueues? A built sidecar gets a template with
// CSS to inline over a large HTML body; four previews of it run back to back, all the time,
// while one client sends ordinary single enqueues one after another. Prints the enqueue latency
// percentiles with and without the renders running, and how long one render takes (a render
// past the render limit, docs/contract.md § Render limits, is cut off after 1 s and counted).
//
//   npm run bench:render                         (--elements 30000, 300 enqueues each way)
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { createLogger } from '../src/logger.ts';
import { postmarkBackend, sidecarEnv, spawnImageSidecar } from '../test/helpers/sidecar-process.ts';
import { percentile } from './load.ts';

const { values } = parseArgs({ options: { elements: { type: 'string', default: '30000' }, enqueues: { type: 'string', default: '300' } } });
const elements = Number(values.elements);
const enqueues = Number(values.enqueues);
for (const [name, value] of [['--elements', elements], ['--enqueues', enqueues]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive integer (got "${name === '--elements' ? values.elements : values.enqueues}")`);
    process.exit(2);
  }
}

if (spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-render-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, createLogger('warn'));
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
// No sending: a backend nothing listens on, and the dispatcher's threads only render here.
const sidecar = await spawnImageSidecar(sidecarEnv(databaseUrl, { POST_OFFICE_BACKENDS: postmarkBackend('http://127.0.0.1:9') }));

let cutOff = 0;

/** The request's time in ms; a preview may instead be cut off by the render limit (a 400, counted). */
async function post(route: string, body: unknown, method = 'POST'): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${sidecar.apiUrl}${route}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status === 400 && route.endsWith('/preview') && text.includes('render limit exceeded')) cutOff++;
  else if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return performance.now() - started;
}

async function enqueueLatencies(): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < enqueues; i++) latencies.push(await post('/v1/emails', { from: 'a@example.com', to: `u${i}@example.com`, subject: 's', text: 't' }));
  return latencies.sort((a, b) => a - b);
}

const line = (label: string, sorted: number[]) =>
  console.log(`${label}: enqueue p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);

try {
  const html = `<style>.c { color: red; } td { padding: 2px; }</style><table>${'<tr><td class="c">{{ name }}</td></tr>'.repeat(elements / 2)}</table>`;
  await post('/v1/templates/heavy', { subject: 'Hi {{ name }}', html, inline_css: true, example_context: { name: 'Ann' } }, 'PUT');
  line('quiet', await enqueueLatencies());
  let rendering = true;
  const renders: number[] = [];
  const renderers = Array.from({ length: 4 }, async () => {
    while (rendering) renders.push(await post('/v1/templates/heavy/preview', {}));
  });
  line(`with 4 previews of ${elements} elements running`, await enqueueLatencies());
  rendering = false;
  await Promise.all(renderers);
  console.log(`one preview took ${percentile(renders.sort((a, b) => a - b), 50).toFixed(0)} ms (median of ${renders.length}; ${cutOff} cut off by the render limit)`);
} finally {
  sidecar.child.kill('SIGTERM');
  await sidecar.exited;
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
