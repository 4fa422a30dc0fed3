// The three things the benchmark can measure, each a process of its own sending to the same
// target: the sidecar, the pg-boss peer, and the raw limit. Each starts fresh (an empty queue),
// says how to put the load on it and when it is done, and stops.
import path from 'node:path';
import type pg from 'pg';
import { sidecarEnv, spawnImageSidecar } from '../test/helpers/sidecar-process.ts';
import { startChildScript } from './child-script.ts';
import { enqueueAll, type LoadOptions, type LoadResult } from './load.ts';

export interface Contender {
  name: string;
  pid: number;
  /** Puts the load on it; the enqueue latencies where there is an API to enqueue to. */
  load(): Promise<LoadResult | undefined>;
  /** True once every email has been delivered and recorded as done. */
  drained(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface Setup {
  db: pg.Client;
  databaseUrl: string;
  /** POST_OFFICE_BACKENDS for the sidecar. */
  backends: string;
  /** The mock Postmark's base URL, for the raw limit and the peer. */
  providerUrl: string;
  threads: number;
  connections: number;
  load: LoadOptions;
  /** Sent emails (completed jobs for the peer) written and analyzed before each queued run (--history). */
  history: number;
}

const PEER_SCHEMA = 'pgboss_bench';

async function count(db: pg.Client, sql: string): Promise<number> {
  return Number((await db.query<{ count: string }>(sql)).rows[0]!.count);
}

/**
 * `count` sent emails with a log entry each, then ANALYZE: the statistics autovacuum leaves on a
 * production table, which say that almost nothing is queued when a burst arrives.
 */
async function writeHistory(db: pg.Client, count: number): Promise<void> {
  await db.query(
    `WITH sent AS (
       INSERT INTO emails (id, status, priority, backend, message, attempts, max_attempts, run_at, sent_at, created_at, updated_at)
       SELECT gen_random_uuid(), 'sent', 2, 'default',
         jsonb_build_object('from', 'bench@example.com', 'to', jsonb_build_array('user' || i || '@example.com'), 'cc', '[]'::jsonb,
           'bcc', '[]'::jsonb, 'reply_to', '[]'::jsonb, 'subject', 'history ' || i, 'text', 'Hello from the benchmark.',
           'headers', '{}'::jsonb, 'attachments', '[]'::jsonb, 'tags', '[]'::jsonb, 'metadata', '{}'::jsonb),
         1, 3, now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
       FROM generate_series(1, $1) i
       RETURNING id
     )
     INSERT INTO email_logs (email_id, attempt, status, code) SELECT id, 1, 'sent', NULL FROM sent`,
    [count],
  );
  await db.query('ANALYZE emails');
}

/** The peer's history: `count` completed jobs in its queue (kept 7 days by pg-boss's default), then ANALYZE. */
async function writePeerHistory(db: pg.Client, count: number): Promise<void> {
  await db.query(
    `INSERT INTO ${PEER_SCHEMA}.job (name, data, state, created_on, started_on, completed_on)
     SELECT 'email', jsonb_build_object('from', 'bench@example.com', 'to', 'user' || i || '@example.com', 'subject', 'history ' || i,
       'text', 'Hello from the benchmark.'), 'completed', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
     FROM generate_series(1, $1) i`,
    [count],
  );
  await db.query(`ANALYZE ${PEER_SCHEMA}.job`);
}

export async function sidecar(setup: Setup): Promise<Contender> {
  await setup.db.query('TRUNCATE emails, email_logs, idempotency_keys, app_events CASCADE');
  if (setup.history > 0) await writeHistory(setup.db, setup.history);
  // Start each queued run with no dirty pages left over from the previous one.
  await setup.db.query('CHECKPOINT');
  // What production runs: the built JavaScript with the image's flags (end-to-end.ts builds it).
  const running = await spawnImageSidecar(sidecarEnv(setup.databaseUrl, {
    POST_OFFICE_BACKENDS: setup.backends,
    POST_OFFICE_THREADS: String(setup.threads),
    POST_OFFICE_HTTP_CONNECTIONS: String(setup.connections),
    // Events to an app (docs/events.md) when the benchmark's environment sets them, to measure their cost.
    ...Object.fromEntries(['POST_OFFICE_EVENTS_URL', 'POST_OFFICE_EVENTS_SECRET'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
  }));
  return {
    name: 'sidecar',
    pid: running.child.pid!,
    load: () => enqueueAll(running.apiUrl, setup.load),
    drained: async () => (await count(setup.db, `SELECT count(*) FROM emails WHERE status = 'sent'`)) >= setup.load.emails,
    async stop() {
      running.child.kill('SIGTERM');
      await running.exited;
    },
  };
}

export async function pgBossPeer(setup: Setup): Promise<Contender> {
  await setup.db.query(`DROP SCHEMA IF EXISTS ${PEER_SCHEMA} CASCADE`);
  await setup.db.query('CHECKPOINT');
  const peer = await startChildScript(path.join(import.meta.dirname, 'peers/pgboss.ts'), {
    DATABASE_URL: setup.databaseUrl,
    PEER_SCHEMA,
    POSTMARK_URL: setup.providerUrl,
    PEER_CONNECTIONS: String(setup.threads * setup.connections),
  });
  // Its queue exists once it is ready: the same history, as completed jobs pg-boss keeps.
  if (setup.history > 0) await writePeerHistory(setup.db, setup.history);
  return {
    name: 'pg-boss 12 + undici',
    pid: peer.pid,
    load: () => enqueueAll(String(peer.ready.url), setup.load),
    drained: async () => (await count(setup.db, `SELECT count(*) FROM ${PEER_SCHEMA}.job WHERE name = 'email' AND state = 'completed'`)) >= setup.history + setup.load.emails,
    async stop() {
      await peer.stop();
      // So its jobs' autovacuum does not run during the next contender's run.
      await setup.db.query(`DROP SCHEMA ${PEER_SCHEMA} CASCADE`);
    },
  };
}

export async function rawLimit(setup: Setup): Promise<Contender> {
  const raw = await startChildScript(path.join(import.meta.dirname, 'raw-limit.ts'), {
    POSTMARK_URL: setup.providerUrl,
    RAW_CONNECTIONS: String(setup.threads * setup.connections),
    RAW_EMAILS: String(setup.load.emails),
  });
  let done = false;
  return {
    name: 'raw limit (undici, no queue)',
    pid: raw.pid,
    async load() {
      const finished = raw.line('done');
      raw.child.stdin!.write('go\n');
      await finished;
      done = true;
      return undefined;
    },
    drained: async () => done,
    stop: () => raw.stop(),
  };
}
