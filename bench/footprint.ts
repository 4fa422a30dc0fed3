// Idle memory of the built sidecar (the image's command) for a few thread counts: VmRSS of the
// whole process a few seconds after it is ready, with no load. Prints a Markdown table: with the
// default, the worker threads start with the first task and stop when idle, so an idle sidecar
// runs none; with POST_OFFICE_THREAD_IDLE_SECONDS=0 they start with the sidecar and stay.
//
//   npm run bench:footprint                     (enqueue-only, 1, 2 and 4 threads)
//
// Then the default sidecar once more, through a burst of 10,000 emails to a mock Postmark: its
// peak, and what it keeps once the burst is sent and its threads have stopped again.
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { createLogger } from '../src/logger.ts';
import { postmarkBackend, sidecarEnv, spawnImageSidecar } from '../test/helpers/sidecar-process.ts';
import { enqueueAll, waitUntil } from './load.ts';
import { peakRssMiB, rssMiB } from './measure.ts';
import { httpTarget } from './targets.ts';

const SETTLE_MS = 5000;
const BURST = 10_000;
// Short for the benchmark, so it need not wait out the default minute.
const BURST_THREAD_IDLE_SECONDS = 2;
const configurations: Array<{ name: string; env: Record<string, string>; threads: boolean }> = [
  { name: 'enqueue only (POST_OFFICE_DISPATCHER=off)', env: { POST_OFFICE_DISPATCHER: 'off' }, threads: false },
  { name: '1 thread × 8 connections', env: { POST_OFFICE_THREADS: '1' }, threads: true },
  { name: '2 threads × 8 connections (default)', env: { POST_OFFICE_THREADS: '2' }, threads: true },
  { name: '4 threads × 8 connections', env: { POST_OFFICE_THREADS: '4' }, threads: true },
];

if (spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-footprint-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, createLogger('warn'));
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
/**
 * VmRSS of a sidecar started with `env`, once it has settled; with `used`, also once it has
 * settled again after enqueues by batch and one by one (its routes' schemas compiled).
 */
async function idleRss(env: Record<string, string>, used = false): Promise<string> {
  // A Postmark backend (nothing is sent): the provider kind most deployments use.
  const sidecar = await spawnImageSidecar(sidecarEnv(databaseUrl, { POST_OFFICE_BACKENDS: postmarkBackend('http://127.0.0.1:9'), ...env }));
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const idle = `${(await rssMiB(sidecar.child.pid!)).toFixed(0)} MiB`;
    if (!used) return idle;
    // Scheduled a year ahead, so that the sidecars measured after this one have nothing to send.
    const fields = { scheduled_at: new Date(Date.now() + 365 * 86_400_000).toISOString() };
    await enqueueAll(sidecar.apiUrl, { mode: 'batch', emails: 1000, batchSize: 500, concurrency: 2, fields });
    await enqueueAll(sidecar.apiUrl, { mode: 'single', emails: 100, batchSize: 1, concurrency: 4, fields });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return `${idle} (${(await rssMiB(sidecar.child.pid!)).toFixed(0)} MiB after 1,000 emails by batch and 100 one by one)`;
  } finally {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
  }
}

/** The default sidecar through a burst: its peak, and its RSS once the threads have stopped. */
async function afterBurst(): Promise<void> {
  const target = await httpTarget({ batch: false });
  const sidecar = await spawnImageSidecar(sidecarEnv(databaseUrl, {
    POST_OFFICE_BACKENDS: target.backends,
    POST_OFFICE_THREAD_IDLE_SECONDS: String(BURST_THREAD_IDLE_SECONDS),
  }));
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = await rssMiB(sidecar.child.pid!);
    await enqueueAll(sidecar.apiUrl, { mode: 'batch', emails: BURST, batchSize: 500, concurrency: 4 });
    await waitUntil(target, BURST, () => target.received() >= BURST);
    await new Promise((resolve) => setTimeout(resolve, BURST_THREAD_IDLE_SECONDS * 1000 + SETTLE_MS));
    console.log(`\n2 threads × 8 connections, ${BURST.toLocaleString('en')} emails in batches of 500 (POST_OFFICE_THREAD_IDLE_SECONDS=${BURST_THREAD_IDLE_SECONDS}):`);
    console.log(`idle before ${before.toFixed(0)} MiB, peak ${(await peakRssMiB(sidecar.child.pid!)).toFixed(0)} MiB, idle after (threads stopped) ${(await rssMiB(sidecar.child.pid!)).toFixed(0)} MiB`);
  } finally {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
    await target.stop();
  }
}

console.log('| sidecar | idle RSS (default: no thread runs) | idle RSS, threads running (POST_OFFICE_THREAD_IDLE_SECONDS=0) |\n|---|---|---|');
try {
  for (const { name, env, threads } of configurations) {
    const running = threads ? await idleRss({ ...env, POST_OFFICE_THREAD_IDLE_SECONDS: '0' }) : '–';
    console.log(`| ${name} | ${await idleRss(env, !threads)} | ${running} |`);
  }
  await afterBurst();
} finally {
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
