// End-to-end benchmark: N emails through the HTTP API (batch or single) of a real sidecar
// process to a provider on loopback — a mock Postmark over HTTP, or a real SMTP server —
// measured from the first POST to the provider's receipt of the last email. With --peers, the
// raw limit and a pg-boss 12 + undici peer run first against the same mock, side by side.
//
//   npm run bench -- --peers --mode batch      (10,000 emails in batches of 500)
//   npm run bench -- --peers --mode single     (5,000 single enqueues from 64 clients)
//   npm run bench -- --emails 20000 --mode batch --provider smtp
//   npm run bench -- --help                    (every option and its default)
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { migrate } from '../src/database/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { BenchArgsError, parseBenchArgs, usage, type BenchArgs } from './args.ts';
import { sidecar, type Setup } from './contenders.ts';
import { percentile } from './load.ts';
import { measureRun } from './run.ts';
import { sideBySide } from './side-by-side.ts';
import { httpTarget, smtpTarget, type Target } from './targets.ts';

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof BenchArgsError)) throw error;
  console.error(error.message);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const { emails, mode, batchSize, concurrency, threads, connections } = args;

// The sidecar runs as production does: the built JavaScript (npm run build), the image's command.
const built = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (built.status !== 0) {
  console.error('npm run build failed: the benchmark measures the built sidecar');
  process.exit(1);
}

/** The sidecar alone, with the detail of its enqueue path. */
async function sidecarOnly(setup: Setup, target: Target): Promise<void> {
  const contender = await sidecar(setup);
  try {
    const result = await measureRun(contender, target, emails);
    const { latencies, enqueueMs } = result.enqueue!;
    console.log(`enqueue:        ${(emails / (enqueueMs / 1000)).toFixed(0)} emails/s accepted (${latencies.length} requests)`);
    console.log(`enqueue latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms per request`);
    console.log(`end to end:     ${result.emailsPerSecond.toFixed(0)} emails/s (${emails} emails in ${result.seconds.toFixed(2)} s, first POST to last provider receipt)`);
    const peak = result.peakSockets === undefined ? '' : `, at most ${result.peakSockets} at once`;
    console.log(`provider:       ${target.received()} emails in ${result.providerRequests} requests over ${result.providerSockets} connections${peak} (limit ${threads} × ${connections} = ${threads * connections})`);
    console.log(`sidecar:        idle RSS ${result.idleRssMiB.toFixed(0)} MiB, peak RSS ${result.peakRssMiB.toFixed(0)} MiB; CPU ${result.cpu.mainMicros.toFixed(0)} µs/email on the main thread, ${result.cpu.processMicros.toFixed(0)} µs/email in all threads`);
    console.log(`machine:        PostgreSQL ${result.postgresMicros.toFixed(0)} µs/email, this benchmark process (load and mock) ${result.benchMicros.toFixed(0)} µs/email`);
  } finally {
    await contender.stop();
  }
}

const logger = createLogger('warn');
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-bench-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, logger);
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
await migrate(databaseUrl);
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();

// For SMTP, --connections sizes each worker's SMTP pool, so both targets get the same budget.
const target = args.provider === 'smtp' ? await smtpTarget(connections) : await httpTarget({ batch: args.provider === 'postmark-batch', latencyMs: args.latencyMs });
const setup: Setup = {
  db,
  databaseUrl,
  backends: target.backends,
  providerUrl: target.url,
  threads,
  connections,
  load: { mode, emails, batchSize, concurrency },
  history: args.history,
};

// Other work on the machine skews every figure; the load average says how much there was.
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');
console.log(`post-office bench → ${target.name}: ${emails} emails, ${mode}${mode === 'batch' ? ` of ${batchSize}` : ''}, ${concurrency} concurrent requests, ${threads} threads × ${connections} connections${args.history > 0 ? `, after ${args.history} sent emails` : ''}${args.latencyMs > 0 ? `, the provider answering after ${args.latencyMs} ms` : ''}; load average ${load()}`);
try {
  if (args.peers) await sideBySide(setup, target, args.rounds);
  else await sidecarOnly(setup, target);
  console.log(`load average after the run: ${load()}`);
} finally {
  await target.stop();
  await db.end();
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
