// Spawning a real sidecar process (exactly what `npm start` runs), without test hooks, so the
// benchmark can use it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

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
    POST_OFFICE_WEBHOOK_PORT: '0',
    POST_OFFICE_WEBHOOK_HOST: '127.0.0.1',
    POST_OFFICE_POLL_SECONDS: '0.2',
    ...env,
  };
}

export interface SidecarProcess {
  child: ChildProcess;
  apiUrl: string;
  adminUrl: string;
  /** The webhook listener, when a backend has `webhook` settings. */
  webhookUrl: string | undefined;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | string>;
  log: string[];
}

/**
 * The image's command, read from the Dockerfile's CMD (node, its flags, dist/src/main.js): what
 * production runs, for the production-path test and the benchmark. Needs `npm run build` first.
 */
export function imageCommand(): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  if (cmd === null) throw new Error('the Dockerfile has no CMD in exec form');
  const [node, ...args] = JSON.parse(cmd[1]!) as string[];
  if (node !== 'node') throw new Error(`the Dockerfile's CMD runs ${node}, not node`);
  return args;
}

/**
 * The image's environment, read from the ENV instructions of the Dockerfile's last stage
 * (NODE_ENV, MALLOC_ARENA_MAX, ...), so a process started with imageCommand() runs as the image does.
 */
export function imageEnv(): Env {
  const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Env = {};
  for (const [, pairs] of runtimeStage.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of pairs!.trim().split(/\s+/)) {
      const [name, value] = pair.split(/=(.*)/s);
      if (value === undefined) throw new Error(`the Dockerfile's ENV ${pair} is not NAME=value`);
      env[name!] = value;
    }
  }
  return env;
}

/** A sidecar running exactly as the image runs it: its command and its environment, then `env`. */
export function spawnImageSidecar(env: Env): Promise<SidecarProcess> {
  return spawnSidecarProcess({ ...imageEnv(), ...env }, imageCommand());
}

/**
 * A sidecar as a child process — `node src/main.ts`, or with `args` another command line such as
 * imageCommand() — resolving once it logs that it is ready.
 */
export async function spawnSidecarProcess(env: Env, args: readonly string[] = ['src/main.ts']): Promise<SidecarProcess> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const ready = await new Promise<{ api: string; admin: string; webhooks?: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      if (!line.includes('"post office ready"')) return;
      const entry = JSON.parse(line) as { api: string; admin: string; webhooks?: string };
      resolve(entry);
    });
    void exited.then((code) => reject(new Error(`sidecar exited (${code}) before it was ready:\n${log.join('\n')}`)));
  });
  return { child, apiUrl: ready.api, adminUrl: ready.admin, webhookUrl: ready.webhooks, exited, log };
}

/** A Postmark backend pointed at the mock provider. */
export function postmarkBackend(baseUrl: string): string {
  return JSON.stringify({ default: { provider: 'postmark', server_token: 'test-server-token', base_url: baseUrl } });
}
