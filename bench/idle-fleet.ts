// What an idle fleet costs PostgreSQL: N sidecar processes (the image's command, dispatcher on,
// polling, nothing to send) on one PostgreSQL, and for each fleet size the database's
// transactions per second (pg_stat_database.xact_commit + xact_rollback, no extension needed),
// the CPU of every PostgreSQL process (/proc/<pid>/stat of the postmaster and its children),
// its connections, and each sidecar's RSS and CPU. Prints a Markdown table.
//
//   npm run bench:fleet                                   (10 and 50 sidecars, straight to PostgreSQL)
//   npm run bench:fleet -- --sidecars 10,50 --seconds 30 --pgbouncer
//   npm run bench:fleet -- --env POST_OFFICE_POLL_SECONDS=5
//
// It starts its own embedded PostgreSQL with max_connections 600; --pgbouncer puts a PgBouncer in
// transaction mode (test/helpers/pgbouncer.ts) between the sidecars and it, with LISTEN off.
import { spawnSync } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded.ts';
import { migrate } from '../src/database/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { startPgBouncer, type PgBouncer } from '../test/helpers/pgbouncer.ts';
import { postmarkBackend, sidecarEnv, spawnImageSidecar, type SidecarProcess } from '../test/helpers/sidecar-process.ts';
import { cpuSample, rssMiB } from './measure.ts';

const { values } = parseArgs({
  options: {
    sidecars: { type: 'string', default: '10,50' },
    seconds: { type: 'string', default: '20' },
    pgbouncer: { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const sizes = values.sidecars.split(',').map(Number);
const seconds = Number(values.seconds);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0)) {
  console.error('--sidecars must be a comma-separated list of positive integers and --seconds a positive number');
  process.exit(2);
}
const extraEnv = Object.fromEntries(values.env.map((pair) => {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`--env ${pair}: expected NAME=value`);
    process.exit(2);
  }
  return [pair.slice(0, at), pair.slice(at + 1)];
}));
const WARM_UP_MS = 5000;

/** The postmaster and every process it started (backends, checkpointer, WAL writer, …). */
async function postgresPids(dataDir: string): Promise<number[]> {
  const postmaster = Number((await readFile(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pids = [postmaster];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(entry));
  }
  return pids;
}

/** CPU microseconds of all `pids` (a process that ended meanwhile counts as 0). */
async function cpuOf(pids: readonly number[]): Promise<Map<number, number>> {
  return new Map(await Promise.all(pids.map(async (pid) => [pid, (await cpuSample(pid).catch(() => ({ processMicros: 0 }))).processMicros] as const)));
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, micros] of after) sum += micros - (before.get(pid) ?? micros);
  return sum;
}

async function transactions(db: pg.Client): Promise<number> {
  const result = await db.query<{ n: string }>('SELECT sum(xact_commit + xact_rollback) AS n FROM pg_stat_database');
  return Number(result.rows[0]!.n);
}

if (spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-idle-fleet-'));
let embedded: EmbeddedDatabase | undefined = await startEmbeddedPostgres(dataDir, createLogger('warn'));
let pgbouncer: PgBouncer | undefined;
const sidecars: SidecarProcess[] = [];
try {
  // Enough connections for 50+ sidecars straight to the server (each holds a few).
  const port = Number(new URL(embedded.url).port);
  const admin = new pg.Client({ connectionString: embedded.url });
  await admin.connect();
  await admin.query('ALTER SYSTEM SET max_connections = 600');
  await admin.end();
  await embedded.stop();
  embedded = await startEmbeddedPostgres(dataDir, createLogger('warn'), port);
  await migrate(embedded.url);
  pgbouncer = values.pgbouncer ? await startPgBouncer(embedded.url, { poolSize: 20 }) : undefined;
  const sidecarUrl = pgbouncer?.url(embedded.url) ?? embedded.url;
  const db = new pg.Client({ connectionString: embedded.url });
  await db.connect();

  console.log(`idle fleet, ${values.pgbouncer ? 'through PgBouncer (transaction mode, LISTEN off)' : 'straight to PostgreSQL'}, ` +
    `${seconds} s per size${values.env.length > 0 ? `, ${values.env.join(' ')}` : ''}\n`);
  console.log(`| sidecars | transactions/s | per sidecar | PostgreSQL CPU | per sidecar | server connections | RSS per sidecar | sidecar CPU each |${pgbouncer ? ' PgBouncer CPU |' : ''}`);
  console.log(`|---|---|---|---|---|---|---|---|${pgbouncer ? '---|' : ''}`);
  for (const size of sizes) {
    while (sidecars.length < size) {
      const batch = Math.min(10, size - sidecars.length);
      sidecars.push(...await Promise.all(Array.from({ length: batch }, () => spawnImageSidecar(sidecarEnv(sidecarUrl, {
        POST_OFFICE_BACKENDS: postmarkBackend('http://127.0.0.1:9'),
        POST_OFFICE_THREADS: '1',
        POST_OFFICE_POLL_SECONDS: '1',
        ...(values.pgbouncer ? { POST_OFFICE_LISTEN: 'off' } : {}),
        ...extraEnv,
      })))));
    }
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
    const pids = await postgresPids(dataDir);
    const sidecarPids = sidecars.map((sidecar) => sidecar.child.pid!);
    const bouncerPids = pgbouncer === undefined ? [] : [pgbouncer.pid];
    const [pgBefore, sidecarBefore, bouncerBefore, txBefore] = [await cpuOf(pids), await cpuOf(sidecarPids), await cpuOf(bouncerPids), await transactions(db)];
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = (performance.now() - startedAt) / 1000;
    const [pgAfter, sidecarAfter, bouncerAfter, txAfter] = [await cpuOf(await postgresPids(dataDir)), await cpuOf(sidecarPids), await cpuOf(bouncerPids), await transactions(db)];
    const bouncerCpu = cpuDelta(bouncerBefore, bouncerAfter) / 1e6 / elapsed * 100;
    // Minus this script's own two statistics queries.
    const txPerSecond = (txAfter - txBefore - 2) / elapsed;
    const pgCpu = cpuDelta(pgBefore, pgAfter) / 1e6 / elapsed * 100;
    const sidecarCpu = cpuDelta(sidecarBefore, sidecarAfter) / 1e6 / elapsed * 100 / size;
    const connections = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`)).rows[0]!.n) - 1;
    const rss = (await Promise.all(sidecarPids.map((pid) => rssMiB(pid)))).reduce((sum, mib) => sum + mib, 0) / size;
    console.log(`| ${size} | ${txPerSecond.toFixed(1)} | ${(txPerSecond / size).toFixed(2)} | ${pgCpu.toFixed(1)} % of a core | ` +
      `${(pgCpu / size).toFixed(3)} % | ${connections} | ${rss.toFixed(0)} MiB | ${sidecarCpu.toFixed(2)} % of a core |` +
      `${pgbouncer ? ` ${bouncerCpu.toFixed(1)} % of a core |` : ''}`);
  }
  await db.end();
} finally {
  await Promise.all(sidecars.map(async (sidecar) => {
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
  }));
  await pgbouncer?.stop();
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
