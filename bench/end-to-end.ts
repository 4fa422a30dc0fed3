// End-to-end benchmark: N emails through the HTTP API (batch or single) of a real sidecar
// process (node src/main.ts) to a provider on loopback — a mock Postmark over HTTP, or a real
// SMTP server — measured from the first POST to the provider's receipt of the last email.
//
//   npm run bench -- --emails 20000 --mode batch
//   npm run bench -- --emails 5000 --mode single --concurrency 64
//   npm run bench -- --provider smtp        (SMTP pool of --connections per worker thread)
//   npm run bench -- --provider postmark-batch   (the mock Postmark's /email/batch: "batch": true)
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { migrate } from '../src/database/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { sidecarEnv, spawnSidecarProcess } from '../test/helpers/sidecar-process.ts';
import { httpTarget, smtpTarget } from './targets.ts';

const { values: args } = parseArgs({
  options: {
    emails: { type: 'string', default: '20000' },
    mode: { type: 'string', default: 'batch' },
    'batch-size': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    provider: { type: 'string', default: 'http' },
  },
});
const providers = ['http', 'smtp', 'postmark-batch'];
if (!providers.includes(args.provider)) throw new Error(`--provider must be one of ${providers.join(', ')} (got "${args.provider}")`);
const total = Number(args.emails);
const mode = args.mode === 'single' ? 'single' : 'batch';
const batchSize = Number(args['batch-size']);
const concurrency = mode === 'single' ? Number(args.concurrency) : 4;
const threads = Number(args.threads);
const connections = Number(args.connections);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const logger = createLogger('warn');
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-bench-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, logger);
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
await migrate(databaseUrl);
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
await db.query('TRUNCATE emails, email_logs, idempotency_keys CASCADE');

// For SMTP, --connections sizes each worker's SMTP pool, so both targets get the same budget.
const target = args.provider === 'smtp' ? await smtpTarget(connections) : await httpTarget({ batch: args.provider === 'postmark-batch' });
const sidecar = await spawnSidecarProcess(sidecarEnv(databaseUrl, {
  POST_OFFICE_BACKENDS: target.backends,
  POST_OFFICE_THREADS: String(threads),
  POST_OFFICE_HTTP_CONNECTIONS: String(connections),
}));
const client = new Pool(sidecar.apiUrl, { connections: concurrency });

const email = (i: number) => ({ from: 'bench@example.com', to: `user${i}@example.com`, subject: `bench ${i}`, text: 'Hello from the benchmark.' });
const requests = mode === 'batch'
  ? Array.from({ length: Math.ceil(total / batchSize) }, (_, b) => ({
    path: '/v1/emails/batch',
    body: { emails: Array.from({ length: Math.min(batchSize, total - b * batchSize) }, (_, i) => email(b * batchSize + i)) },
  }))
  : Array.from({ length: total }, (_, i) => ({ path: '/v1/emails', body: email(i) }));

console.log(`post-office bench → ${target.name}: ${total} emails, ${mode}${mode === 'batch' ? ` of ${batchSize}` : ''}, ${concurrency} concurrent requests, ${threads} threads × ${connections} connections`);
const latencies: number[] = [];
const started = Date.now();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < requests.length) {
    const request = requests[next++]!;
    const t0 = performance.now();
    const response = await client.request({ method: 'POST', path: request.path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) });
    await response.body.text();
    if (response.statusCode !== 202) throw new Error(`enqueue answered ${response.statusCode}`);
    latencies.push(performance.now() - t0);
  }
}));
const enqueued = Date.now();
let lastProgress = 0;
while (target.received() < total) {
  if (Date.now() - lastProgress > 2000) {
    lastProgress = Date.now();
    console.log(`  … ${target.received()}/${total} delivered`);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const seconds = (target.lastReceipt() - started) / 1000;
latencies.sort((a, b) => a - b);
const sent = Number((await db.query(`SELECT count(*) FROM emails WHERE status = 'sent'`)).rows[0].count);

console.log(`enqueue:        ${(total / ((enqueued - started) / 1000)).toFixed(0)} emails/s accepted (${latencies.length} requests)`);
console.log(`enqueue latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms per request`);
console.log(`end to end:     ${(total / seconds).toFixed(0)} emails/s (${total} emails in ${seconds.toFixed(2)} s, first POST to last provider receipt)`);
const peak = target.peakConnections === undefined ? '' : `, at most ${target.peakConnections()} at once`;
console.log(`provider:       ${target.received()} emails in ${target.requests()} requests over ${target.connectionsOpened()} connections${peak} (limit ${threads} × ${connections} = ${threads * connections})`);
console.log(`sidecar:        peak RSS ${(await peakRssMiB(sidecar.child.pid!)).toFixed(0)} MiB; ${sent} recorded as sent so far`);

await client.close();
sidecar.child.kill('SIGTERM');
await sidecar.exited;
await target.stop();
await db.end();
await embedded?.stop();
await rm(dataDir, { recursive: true, force: true });
