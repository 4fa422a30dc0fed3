// The database a command-line tool uses when DATABASE_URL is unset: the embedded PostgreSQL in
// POST_OFFICE_DATA_DIR, found as `npm start` finds it. While a sidecar runs there, its server is
// used (port from postmaster.pid, password from pg-password); otherwise the server is started
// for the command and stopped after it, holding the folder so no sidecar starts on it meanwhile.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.ts';
import { embeddedUrl, runningServer, startEmbeddedPostgres } from './embedded.ts';

export interface DataDirDatabase {
  url: string;
  /** "the running sidecar's" or "started for this run". */
  origin: string;
  /** Stops the server if this command started it. */
  stop(): Promise<void>;
}

export async function openDataDirDatabase(dataDir: string, logger: Logger): Promise<DataDirDatabase> {
  const databaseDir = path.join(dataDir, 'pgdata');
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    throw new ConfigError(
      `DATABASE_URL is not set and POST_OFFICE_DATA_DIR (${dataDir}) holds no embedded database: set DATABASE_URL to the PostgreSQL the sidecars use, or POST_OFFICE_DATA_DIR to the folder npm start uses`,
    );
  }
  const running = await runningServer(databaseDir);
  if (running !== undefined) {
    const password = (await readFile(path.join(dataDir, 'pg-password'), 'utf8')).trim();
    return { url: embeddedUrl(password, running.port), origin: 'the running sidecar\'s', stop: async () => undefined };
  }
  const started = await startEmbeddedPostgres(dataDir, logger);
  return { url: started.url, origin: 'started for this run', stop: () => started.stop() };
}
