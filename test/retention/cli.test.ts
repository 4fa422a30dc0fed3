// `npm run cleanup` end to end: the real script as a child process against a test database.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded.ts';
import { migrate } from '../../src/database/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { RetentionStore } from '../../src/store/retention-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { count, insertBlob, insertEmail, insertEmails, insertIdempotencyKey } from '../helpers/history.ts';
import { connect, eventually } from '../helpers/sidecar.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cleanup(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['src/cli/cleanup.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Five old finished emails (one with an attachment of its own), an old queued one, a recent one, an old key. */
async function seed(databaseUrl: string) {
  const db = await connect(databaseUrl);
  const blob = await insertBlob(db, 'an invoice', 7200);
  const sent = await insertEmails(db, 2, { status: 'sent', ageDays: 45, logs: 2 });
  await insertEmail(db, { status: 'sent', ageDays: 45, logs: 1, blobs: [blob] });
  await insertEmail(db, { status: 'failed', ageDays: 45, logs: 6 });
  await insertEmail(db, { status: 'cancelled', ageDays: 45, logs: 1 });
  await insertEmail(db, { status: 'queued', ageDays: 45, logs: 1 });
  await insertEmail(db, { status: 'sent', ageDays: 3, logs: 1 });
  await insertIdempotencyKey(db, 'order-1234', 45, sent);
  return db;
}

test('npm run cleanup -- --days 30 deletes old finished mail, printing each batch and a summary', async () => {
  const databaseUrl = await createTestDatabase();
  const db = await seed(databaseUrl);

  const run = cleanup(['--days', '30', '--batch-size', '2'], { DATABASE_URL: databaseUrl });
  assert.equal(await run.exited, 0, run.stderr());

  const lines = run.stdout().trim().split('\n');
  assert.match(lines[0]!, /^deleting sent, failed, expired and cancelled emails and idempotency keys older than 30 days, and unreferenced attachments, in batches of 2$/);
  assert.deepEqual(lines.slice(1, -1), [
    'emails: deleted 2 (2 so far)',
    'emails: deleted 2 (4 so far)',
    'emails: deleted 1 (5 so far)',
    'attachments: deleted 1 (1 so far)',
    'idempotency keys: deleted 1 (1 so far)',
  ]);
  assert.match(lines.at(-1)!, /^done in \d+\.\d s: deleted 5 emails \(with their logs and attachment links\), 1 attachments, 1 idempotency keys, 0 unmatched delivery events$/);
  assert.equal(run.stderr(), '');
  const left = (await db.query<{ status: string }>('SELECT status FROM emails ORDER BY status')).rows.map((row) => row.status);
  assert.deepEqual(left, ['queued', 'sent']);
  assert.equal(await count(db, 'SELECT count(*) FROM email_logs'), 2);
  assert.equal(await count(db, 'SELECT count(*) FROM attachment_blobs'), 0);
  assert.equal(await count(db, 'SELECT count(*) FROM idempotency_keys'), 0);
});

test('--dry-run prints what would be deleted and deletes nothing', async () => {
  const databaseUrl = await createTestDatabase();
  const db = await seed(databaseUrl);
  const before = await count(db, 'SELECT count(*) FROM emails');

  const run = cleanup(['--days', '30', '--dry-run'], { DATABASE_URL: databaseUrl });
  assert.equal(await run.exited, 0, run.stderr());

  assert.equal(run.stdout(), 'dry run: would delete 5 emails older than 30 days (sent 3, failed 1, expired 0, cancelled 1) ' +
    'with 12 log entries, 1 attachments and 1 idempotency keys; nothing was deleted\n');
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), before);
  assert.equal(await count(db, 'SELECT count(*) FROM attachment_blobs'), 1);
});

test('while a sidecar holds the retention lock, the CLI says so and stops (exit 75); with --wait it waits its turn', async () => {
  const databaseUrl = await createTestDatabase();
  const db = await seed(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  defer(() => pool.end());
  const session = await new RetentionStore(pool).tryLock();
  assert.ok(session !== null);

  const refused = cleanup(['--days', '30'], { DATABASE_URL: databaseUrl });
  assert.equal(await refused.exited, 75, refused.stderr());
  assert.match(refused.stdout(), /^another sidecar is cleaning up right now; nothing was deleted \(run again later, or pass --wait to wait for it\)\n$/);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 7);

  const waiting = cleanup(['--days', '30', '--wait'], { DATABASE_URL: databaseUrl });
  await eventually('the CLI to wait for the lock', () => waiting.stdout().includes('waiting for it to finish'));
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 7, 'nothing deleted while the lock is held');
  await session.release();
  assert.equal(await waiting.exited, 0, waiting.stderr());
  assert.match(waiting.stdout(), /deleted 5 emails/);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 2);
});

test('without DATABASE_URL and no embedded database, or with bad arguments, it stops with one clear line', async () => {
  const empty = await mkdtemp(path.join(tmpdir(), 'post-office-cli-empty-'));
  defer(() => rm(empty, { recursive: true, force: true }));
  const unset = cleanup(['--days', '30'], { POST_OFFICE_DATA_DIR: empty });
  assert.equal(await unset.exited, 78);
  assert.equal(unset.stderr(), `cleanup: DATABASE_URL is not set and POST_OFFICE_DATA_DIR (${empty}) holds no embedded database: ` +
    'set DATABASE_URL to the PostgreSQL the sidecars use, or POST_OFFICE_DATA_DIR to the folder npm start uses\n');

  const secret = 'hunter2-password';
  const bad = cleanup(['--days', '30'], { DATABASE_URL: `mysql://app:${secret}@db/mail` });
  assert.equal(await bad.exited, 78);
  assert.match(bad.stderr(), /^cleanup: DATABASE_URL must use the postgres:\/\/ or postgresql:\/\/ scheme\n$/);
  assert.ok(!bad.stderr().includes(secret) && !bad.stdout().includes(secret));

  const missing = cleanup([], { DATABASE_URL: 'postgres://127.0.0.1:1/none' });
  assert.equal(await missing.exited, 64);
  assert.match(missing.stderr(), /^cleanup: --days is required\nusage: npm run cleanup -- --days N/);

  const zero = cleanup(['--days', '0'], { DATABASE_URL: 'postgres://127.0.0.1:1/none' });
  assert.equal(await zero.exited, 64);
  assert.match(zero.stderr(), /--days must be an integer from 1 to 36500 \(got "0"\)/);

  const unknown = cleanup(['--days', '30', '--everything'], { DATABASE_URL: 'postgres://127.0.0.1:1/none' });
  assert.equal(await unknown.exited, 64);
  assert.match(unknown.stderr(), /Unknown option '--everything'/);
});

test('--help says what it deletes, every option, which database and the exit codes', async () => {
  const run = cleanup(['--help'], {});
  assert.equal(await run.exited, 0);
  const help = run.stdout();
  assert.match(help, /^usage: npm run cleanup -- --days N \[--dry-run\] \[--wait\] \[--batch-size N\]\n/);
  for (const option of ['--days N', '--dry-run', '--wait', '--batch-size N', '--help']) assert.match(help, new RegExp(`^  ${option} `, 'm'));
  assert.match(help, /Queued and sending emails are never touched/);
  assert.match(help, /when it is unset, the embedded PostgreSQL in POST_OFFICE_DATA_DIR/);
  assert.match(help, /Exit codes: 0 done, 1 failed, 64 bad arguments, 75 .*\n?.*78 no database to use, 130 stopped by Ctrl-C\.\n$/);
});

test('without DATABASE_URL it cleans the embedded database npm start uses, running or not', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-cli-embedded-'));
  defer(() => rm(dataDir, { recursive: true, force: true }));
  // This process stands in for the sidecar: it owns the folder while its database runs.
  const running = await startEmbeddedPostgres(dataDir, createLogger('silent'));
  await migrate(running.url);
  const db = await seed(running.url);
  const whileRunning = cleanup(['--days', '30'], { POST_OFFICE_DATA_DIR: dataDir });
  assert.equal(await whileRunning.exited, 0, whileRunning.stderr());
  assert.match(whileRunning.stdout(), new RegExp(`^DATABASE_URL is not set: using the embedded PostgreSQL in ${dataDir} \\(the running sidecar's\\)\n`));
  assert.match(whileRunning.stdout(), /deleted 5 emails/);
  assert.equal(await count(db, 'SELECT count(*) FROM emails'), 2);
  await insertEmail(db, { status: 'sent', ageDays: 45, logs: 1 });
  await db.end();
  await running.stop();

  const stopped = cleanup(['--days', '30'], { POST_OFFICE_DATA_DIR: dataDir });
  assert.equal(await stopped.exited, 0, stopped.stderr());
  assert.match(stopped.stdout(), /\(started for this run\)\n/);
  assert.match(stopped.stdout(), /deleted 1 emails/);
  const again = await startEmbeddedPostgres(dataDir, createLogger('silent'));
  defer(() => again.stop());
  const after = await connect(again.url);
  assert.equal(await count(after, 'SELECT count(*) FROM emails'), 2, 'the run stopped its database and kept what it did');
});
