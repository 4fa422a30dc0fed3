// Each test file gets a database of its own on the shared test server, migrated and dropped
// when the file's tests end.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { defer } from './cleanup.ts';
import pg from 'pg';
import { migrate } from '../../src/database/migrate.ts';

export function serverUrl(): string {
  const url = process.env.POST_OFFICE_TEST_DATABASE_URL;
  if (!url) throw new Error('POST_OFFICE_TEST_DATABASE_URL is unset: run tests with npm test (its global setup starts PostgreSQL)');
  return url;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

async function connectionsTo(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1', [database]);
  return rows[0]!.count;
}

/** A fresh, migrated database; dropped after the calling file's tests. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<string> {
  const name = `po_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  defer(() => admin(async (client) => {
    // A pool's end() resolves while its connections may still be closing; terminating one then
    // makes it raise "terminating connection due to administrator command" with nobody left to
    // listen, which fails the file. So wait (a second at most) for them to go, then force.
    for (let waited = 0; waited < 1000 && (await connectionsTo(client, name)) > 0; waited += 20) await delay(20);
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  if (options.migrated !== false) await migrate(url.toString());
  return url.toString();
}
