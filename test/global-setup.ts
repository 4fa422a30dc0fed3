// Runs once before every test file: provides a PostgreSQL server. Uses DATABASE_URL when it is
// set; otherwise starts an embedded PostgreSQL in a temporary folder and stops it afterwards.
// Test files create their own database on it (test/helpers/database.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/logger.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded.ts';

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.POST_OFFICE_TEST_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-test-'));
  embedded = await startEmbeddedPostgres(dataDir, createLogger('warn'));
  process.env.POST_OFFICE_TEST_DATABASE_URL = embedded.url;
}

export async function globalTeardown(): Promise<void> {
  await embedded?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
}
