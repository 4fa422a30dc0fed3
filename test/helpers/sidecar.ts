// Running a whole sidecar from a test: in this process (startService, ports 0) or as a child
// process running exactly what `npm start` runs, for signal and crash tests.
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { defer } from './cleanup.ts';
import { sidecarEnv, spawnSidecarProcess, type Env, type SidecarProcess } from './sidecar-process.ts';

export { postmarkBackend, sidecarEnv, type Env, type SidecarProcess } from './sidecar-process.ts';

/** A sidecar in this process; stopped after the calling file's tests unless stopped before. */
export async function startSidecar(databaseUrl: string, env: Env = {}): Promise<Service> {
  const service = await startService(loadConfig(sidecarEnv(databaseUrl, env)), createLogger('silent'));
  defer(() => service.stop());
  return service;
}

/** `node src/main.ts` as a child process, killed after the calling file's tests if still running. */
export async function spawnSidecar(env: Env): Promise<SidecarProcess> {
  const sidecar = await spawnSidecarProcess(env);
  defer(() => {
    if (sidecar.child.exitCode === null && sidecar.child.signalCode === null) sidecar.child.kill('SIGKILL');
  });
  return sidecar;
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
