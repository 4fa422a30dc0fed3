// Idle memory of the built sidecar (the image's command) for a few thread counts: VmRSS of the
// whole process a few seconds after it is ready, with no load. Prints a Markdown table.
//
//   npm run bench:footprint                     (enqueue-only, 1, 2 and 4 threads)
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { createLogger } from '../src/logger.ts';
import { imageCommand, postmarkBackend, sidecarEnv, spawnSidecarProcess } from '../test/helpers/sidecar-process.ts';
import { rssMiB } from './measure.ts';

const SETTLE_MS = 5000;
const configurations: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'enqueue only (POST_OFFICE_DISPATCHER=off)', env: { POST_OFFICE_DISPATCHER: 'off' } },
  { name: '1 thread × 8 connections', env: { POST_OFFICE_THREADS: '1' } },
  { name: '2 threads × 8 connections (default)', env: { POST_OFFICE_THREADS: '2' } },
  { name: '4 threads × 8 connections', env: { POST_OFFICE_THREADS: '4' } },
];

if (spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-footprint-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, createLogger('warn'));
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
console.log('| sidecar | idle RSS |\n|---|---|');
try {
  for (const { name, env } of configurations) {
    // A Postmark backend (nothing is sent): the provider kind most deployments use.
    const sidecar = await spawnSidecarProcess(sidecarEnv(databaseUrl, { POST_OFFICE_BACKENDS: postmarkBackend('http://127.0.0.1:9'), ...env }), imageCommand());
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    console.log(`| ${name} | ${(await rssMiB(sidecar.child.pid!)).toFixed(0)} MiB |`);
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
  }
} finally {
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
