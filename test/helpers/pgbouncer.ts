// A real PgBouncer in transaction mode in front of a PostgreSQL, for the tests (and benchmarks)
// that check the sidecar behind a transaction pooler. It writes an ini and a userlist into a
// temporary folder, listens on a free loopback port and runs as a child process, stopped by
// PID. PgBouncer refuses to run as root, so as root it runs as `nobody`. Debian's package puts
// it in /usr/sbin; pgbouncerPath() is undefined when it is not installed (the tests then skip).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort } from '../../src/database/embedded.ts';

export const PGBOUNCER_MISSING = 'pgbouncer not installed: apt-get install pgbouncer';

/** The pgbouncer binary, or undefined when it is not installed. */
export function pgbouncerPath(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  return dirs.map((dir) => path.join(dir, 'pgbouncer')).find((file) => existsSync(file));
}

export interface PgBouncerOptions {
  /** Server connections per database and user (default_pool_size). */
  poolSize?: number;
  /** A fixed port (a restart on the same address); 0 picks a free one. */
  port?: number;
}

export interface PgBouncer {
  /** `serverUrl` with PgBouncer's host and port: the same database, through the pooler. */
  url(serverUrl: string): string;
  port: number;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL); resolves once it exited. */
  stop(): Promise<void>;
  /** Stops it and starts a new one on the same port and settings. */
  restart(): Promise<void>;
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** PgBouncer in transaction mode in front of the PostgreSQL `serverUrl` points at. */
export async function startPgBouncer(serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = pgbouncerPath();
  if (binary === undefined) throw new Error(PGBOUNCER_MISSING);
  const server = new URL(serverUrl);
  const dir = await mkdtemp(path.join(tmpdir(), 'post-office-pgbouncer-'));
  const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
  const user = decodeURIComponent(server.username);
  const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;
  await writeFile(path.join(dir, 'userlist.txt'), `${quote(user)} ${quote(decodeURIComponent(server.password))}\n`);
  await writeFile(path.join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=${server.hostname} port=${server.port}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    // The password PgBouncer logs in to PostgreSQL with comes from the userlist; the clients are
    // tests on loopback.
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize ?? 20}`,
    'max_client_conn = 5000',
    'ignore_startup_parameters = extra_float_digits,options',
    'server_reset_query =',
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n'));
  const asRoot = process.getuid?.() === 0;
  // `nobody` must be able to read the ini and the userlist.
  if (asRoot) await chmod(dir, 0o755);

  let child: ChildProcess | undefined;
  const log: string[] = [];
  const launch = async () => {
    const started = spawn(binary, [path.join(dir, 'pgbouncer.ini')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    started.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    child = started;
    for (let waited = 0; !(await reachable(port)); waited += 50) {
      if (started.exitCode !== null || waited > 10_000) throw new Error(`pgbouncer did not start:\n${log.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stopChild = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM'); // immediate shutdown; SIGINT would wait for every client to leave
    const timer = setTimeout(() => running.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  const bouncer: PgBouncer = {
    port,
    get pid() { return child?.pid ?? -1; },
    url(target: string) {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async stop() {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild();
      await launch();
    },
  };
  return bouncer;
}
