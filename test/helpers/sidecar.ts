// Running a whole sidecar from a test: in this process (startService, ports 0) or as a child
// process running exactly what `npm start` runs, for signal and crash tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { defer } from './cleanup.ts';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export type Env = Record<string, string>;

/** Environment for a sidecar on ports 0 with its own data folder, for the given database. */
export function sidecarEnv(databaseUrl: string, env: Env = {}): Env {
  return {
    DATABASE_URL: databaseUrl,
    POST_OFFICE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'post-office-sidecar-')),
    POST_OFFICE_PORT: '0',
    POST_OFFICE_ADMIN_PORT: '0',
    POST_OFFICE_ADMIN_HOST: '127.0.0.1',
    POST_OFFICE_POLL_SECONDS: '0.2',
    ...env,
  };
}

/** A sidecar in this process; stopped after the calling file's tests unless stopped before. */
export async function startSidecar(databaseUrl: string, env: Env = {}): Promise<Service> {
  const service = await startService(loadConfig(sidecarEnv(databaseUrl, env)), createLogger('silent'));
  defer(() => service.stop());
  return service;
}

export interface SidecarProcess {
  child: ChildProcess;
  apiUrl: string;
  adminUrl: string;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | string>;
  log: string[];
}

/** `node src/main.ts` as a child process; resolves once it logs that it is ready. */
export async function spawnSidecar(env: Env): Promise<SidecarProcess> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const ready = await new Promise<{ api: string; admin: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      const entry = JSON.parse(line) as { msg?: string; api?: string; admin?: string };
      if (entry.msg === 'post office ready') resolve({ api: entry.api!, admin: entry.admin! });
    });
    void exited.then((code) => reject(new Error(`sidecar exited (${code}) before it was ready:\n${log.join('\n')}`)));
  });
  return { child, apiUrl: ready.api, adminUrl: ready.admin, exited, log };
}

/** A client for assertions straight on the database. */
export async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  defer(() => client.end());
  return client;
}

/** Polls `check` until it returns true; fails after `timeoutMs` with `what` in the message. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** A Postmark backend pointed at the mock provider. */
export function postmarkBackend(baseUrl: string): string {
  return JSON.stringify({ default: { provider: 'postmark', server_token: 'test-server-token', base_url: baseUrl } });
}
