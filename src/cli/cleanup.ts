// Retention on demand: `npm run cleanup -- --days N [--dry-run] [--wait] [--batch-size N]`.
// Does what the sidecars' retention job does (src/retention/cleanup-job.ts), once, against
// DATABASE_URL (unset: the embedded database in POST_OFFICE_DATA_DIR, as `npm start` uses it),
// printing each batch and a summary. It takes the same fleet-wide lock; when a
// sidecar holds it, it says so and stops (exit 75, "try again later") unless --wait is given.
// A dry run only counts, so it needs no lock. It does not migrate: point it at a database the
// sidecars have migrated.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dataDirectory, databaseUrl } from '../config.ts';
import { openDataDirDatabase, type DataDirDatabase } from '../database/data-dir-database.ts';
import { followConnections } from '../database/open-connections.ts';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { RetentionStore, type RetentionSession } from '../store/retention-store.ts';
import { cleanUp, DEFAULT_BATCH_SIZE, DEFAULT_BLOB_MARGIN_SECONDS, type CleanupCounts } from '../retention/cleanup-job.ts';

const USAGE = 'usage: npm run cleanup -- --days N [--dry-run] [--wait] [--batch-size N]';
const HELP = `${USAGE}

Deletes what the sidecars' retention job deletes, once: sent, failed, expired and cancelled
emails older than N days (with their logs and attachment links) and idempotency keys older than
N days, then attachments no email uses any more. Queued and sending emails are never touched.

  --days N          age in days, 1-36500 (required)
  --dry-run         count what would be deleted, delete nothing (takes no lock)
  --wait            when a sidecar is cleaning up, wait for it instead of exiting 75
  --batch-size N    rows per statement, 1-10000 (default ${DEFAULT_BATCH_SIZE})
  --help            this text

Database: DATABASE_URL; when it is unset, the embedded PostgreSQL in POST_OFFICE_DATA_DIR
(default ./.post-office) that npm start uses: the running sidecar's, or started for this run.
It does not migrate: point it at a database a sidecar has migrated.

Exit codes: 0 done, 1 failed, 64 bad arguments, 75 another sidecar is cleaning up (try again
later), 78 no database to use, 130 stopped by Ctrl-C.`;
// sysexits.h, as main.ts uses EX_CONFIG: scripts can tell "try later" from "broken".
const EX_USAGE = 64;
const EX_TEMPFAIL = 75;
const EX_CONFIG = 78;

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
function fail(line: string, code: number): never {
  process.stderr.write(`cleanup: ${line}\n`);
  process.exit(code);
}

function positiveInteger(name: string, raw: string | undefined, fallback: number | undefined, max: number): number {
  if (raw === undefined) {
    if (fallback === undefined) fail(`--${name} is required\n${USAGE}`, EX_USAGE);
    return fallback;
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max) fail(`--${name} must be an integer from 1 to ${max} (got "${raw}")`, EX_USAGE);
  return value;
}

const options = {
  days: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  'batch-size': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

function parse() {
  try {
    return parseArgs({ options }).values;
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, EX_USAGE);
  }
}
const args = parse();
if (args.help) {
  print(HELP);
  process.exit(0);
}
const days = positiveInteger('days', args.days, undefined, 36_500);
const batchSize = positiveInteger('batch-size', args['batch-size'], DEFAULT_BATCH_SIZE, 10_000);

let connectionString: string | undefined;
try {
  connectionString = databaseUrl(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  fail(err.message, EX_CONFIG); // never echoes the URL: it carries a password
}
let embedded: DataDirDatabase | undefined;
if (connectionString === undefined) {
  try {
    embedded = await openDataDirDatabase(dataDirectory(process.env), createLogger('silent'));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(err.message, EX_CONFIG);
  }
  connectionString = embedded.url;
  print(`DATABASE_URL is not set: using the embedded PostgreSQL in ${dataDirectory(process.env)} (${embedded.origin})`);
}

const pool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: 10_000 });
const connections = followConnections(pool);
// A connection lost while idle must become a clear failure, not an unhandled 'error' event.
pool.on('error', (err) => fail(`database connection lost: ${err.message}`, 1));
const store = new RetentionStore(pool);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const nouns: Record<keyof CleanupCounts, string> = { emails: 'emails', attachments: 'attachments', idempotency_keys: 'idempotency keys', unmatched_events: 'unmatched delivery events' };

async function dryRun(): Promise<number> {
  const preview = await store.preview(days, DEFAULT_BLOB_MARGIN_SECONDS);
  const total = Object.values(preview.emails).reduce((sum, n) => sum + n, 0);
  const byStatus = Object.entries(preview.emails).map(([status, n]) => `${status} ${n}`).join(', ');
  print(`dry run: would delete ${total} emails older than ${days} days (${byStatus}) with ${preview.logs} log entries, ` +
    `${preview.attachments} attachments and ${preview.idempotencyKeys} idempotency keys; nothing was deleted`);
  return 0;
}

async function clean(): Promise<number> {
  let session: RetentionSession | null = await store.tryLock();
  if (session === null) {
    if (!args.wait) {
      print('another sidecar is cleaning up right now; nothing was deleted (run again later, or pass --wait to wait for it)');
      return EX_TEMPFAIL;
    }
    print('another sidecar is cleaning up right now; waiting for it to finish …');
    session = await store.lock();
  }
  // Ctrl-C ends the run after the batch under way, so the summary still tells what was done.
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    print('interrupted: stopping after the current batch');
  });
  print(`deleting sent, failed, expired and cancelled emails and idempotency keys older than ${days} days, ` +
    `and unreferenced attachments, in batches of ${batchSize}`);
  try {
    const { deleted, complete } = await cleanUp(session, { days, batchSize, blobMarginSeconds: DEFAULT_BLOB_MARGIN_SECONDS }, {
      stopping: () => interrupted,
      onBatch: ({ kind, deleted: count, total }) => print(`${nouns[kind]}: deleted ${count} (${total} so far)`),
    });
    await session.release();
    print(`${complete ? 'done' : 'stopped early'} in ${elapsed()}: deleted ${deleted.emails} emails (with their logs and attachment links), ` +
      `${deleted.attachments} attachments, ${deleted.idempotency_keys} idempotency keys, ${deleted.unmatched_events} unmatched delivery events`);
    return complete ? 0 : 130;
  } catch (err) {
    await session.release(err);
    throw err;
  }
}

let code: number;
try {
  code = args['dry-run'] ? await dryRun() : await clean();
} catch (err) {
  process.stderr.write(`cleanup: failed: ${(err as Error).message}\n`);
  code = 1;
}
await pool.end();
await connections.closed();
await embedded?.stop();
process.exit(code);
