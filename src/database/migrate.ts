// Forward-only numbered migrations (src/database/migrations/NNNN_name.sql), all pending ones
// applied in one transaction that first takes a transaction-level advisory lock, so twenty
// sidecars starting at once migrate once. The lock lives and dies with that transaction, on the
// one connection that runs it: behind a transaction pooler (PgBouncer) a session lock would be
// taken on one server connection and "released" on another, and stay held by an idle one.
// A start that finds the lock taken says so in the log, retries, and gives up after a bound.
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from 'pino';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// An arbitrary constant that identifies this project's migration lock (one-key space).
const LOCK_ID = 0x706f7374;
const RETRY_MS = 250;
const LOG_EVERY_MS = 10_000;

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export interface MigrateOptions {
  /** How long to wait for a migration lock another sidecar holds (POST_OFFICE_MIGRATION_LOCK_SECONDS). */
  lockWaitSeconds?: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** The migration lock stayed taken for the whole wait: not worth retrying at once. */
export class MigrationLockTimeout extends Error {}

/** The migrations in `dir`, in order; two files with one number are refused, naming both. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.slice(0, 4) === files[i - 1]!.slice(0, 4)) throw new Error(`migrations ${files[i - 1]} and ${files[i]} share the number ${Number(files[i]!.slice(0, 4))}`);
  }
  return Promise.all(
    files.map(async (file) => ({
      id: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: await readFile(new URL(file, dir), 'utf8'),
    })),
  );
}

/** Inside the locked transaction: applies what is missing, returns the names applied. */
async function applyPending(client: pg.Client): Promise<string[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS post_office_migrations (
    id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const done = new Set((await client.query<{ id: number }>('SELECT id FROM post_office_migrations')).rows.map((row) => row.id));
  const applied: string[] = [];
  for (const migration of await loadMigrations()) {
    if (done.has(migration.id)) continue;
    try {
      await client.query(migration.sql);
      await client.query('INSERT INTO post_office_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
    } catch (err) {
      throw new Error(`migration ${migration.id}_${migration.name} failed: ${(err as Error).message}`, { cause: err });
    }
    applied.push(`${migration.id}_${migration.name}`);
  }
  return applied;
}

/** Who holds the migration lock: a PostgreSQL backend, and what it is doing. */
async function lockHolder(client: pg.Client): Promise<{ pid: number | null; state: string | null }> {
  const result = await client.query<{ pid: number; state: string | null }>(
    `SELECT l.pid, a.state FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1::bigint::oid AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     LIMIT 1`,
    [LOCK_ID],
  );
  return { pid: result.rows[0]?.pid ?? null, state: result.rows[0]?.state ?? null };
}

/** Applies what is missing; returns the names applied. */
export async function migrate(connectionString: string, options: MigrateOptions = {}): Promise<string[]> {
  const { lockWaitSeconds = 120, logger } = options;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const startedAt = Date.now();
    let loggedAt: number | undefined;
    for (;;) {
      let holder: Awaited<ReturnType<typeof lockHolder>>;
      await client.query('BEGIN');
      try {
        const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOCK_ID]);
        if (locked.rows[0]?.locked === true) {
          const applied = await applyPending(client);
          await client.query('COMMIT');
          if (loggedAt !== undefined) logger?.info({ waitedSeconds: Math.round((Date.now() - startedAt) / 1000) }, 'migration lock taken');
          return applied;
        }
        holder = await lockHolder(client);
        await client.query('ROLLBACK');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      const waited = Date.now() - startedAt;
      // An idle holder is not migrating: most likely a session lock an older version left on a
      // pooled server connection. Ending that backend frees it.
      const hint = holder.state === 'idle' ? `; it is idle, so nothing is migrating: SELECT pg_terminate_backend(${holder.pid}) frees it` : '';
      if (waited >= lockWaitSeconds * 1000) {
        throw new MigrationLockTimeout(`gave up after ${lockWaitSeconds} s waiting for the migration lock held by PostgreSQL backend ` +
          `${holder.pid ?? '(gone)'} (${holder.state ?? 'unknown state'})${hint}; POST_OFFICE_MIGRATION_LOCK_SECONDS sets how long to wait`);
      }
      if (loggedAt === undefined || Date.now() - loggedAt >= LOG_EVERY_MS) {
        // A fleet starting together waits a moment as a matter of course; still waiting 10 s
        // later is worth a warning.
        const level = loggedAt === undefined ? 'info' : 'warn';
        loggedAt = Date.now();
        logger?.[level]({ holderPid: holder.pid, holderState: holder.state, waitedSeconds: Math.round(waited / 1000), giveUpAfterSeconds: lockWaitSeconds },
          `waiting for the migration lock held by another sidecar${hint}`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * (0.5 + Math.random())));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
