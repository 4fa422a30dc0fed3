// Each test file gets a database of its own on the shared test server, migrated and dropped
// when the file's tests end.
import { randomBytes } from 'node:crypto';
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

/** A fresh, migrated database; dropped after the calling file's tests. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<string> {
  const name = `po_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  defer(() => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  if (options.migrated !== false) await migrate(url.toString());
  return url.toString();
}
