// Sidecars in this process behind one PgBouncer, each with a logger the test can read: what
// the PgBouncer tests (test/pgbouncer/) and the fleet script (scripts/pgbouncer-fleets.ts) start.
import { loadConfig } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import { recordingLogger, type RecordingLogger } from './recording-logger.ts';
import { sidecarEnv, type Env } from './sidecar-process.ts';

export interface LoggedSidecar {
  service: Service;
  log: RecordingLogger;
}

/** A sidecar on `databaseUrl`; rejects after `timeoutMs` if it is not ready by then (a hung start fails, it does not hang). */
export async function startLoggedSidecar(databaseUrl: string, env: Env, timeoutMs = 30_000): Promise<LoggedSidecar> {
  const log = recordingLogger();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`sidecar not ready after ${timeoutMs} ms; its log:\n${log.lines().map((line) => line.msg).join('\n')}`)), timeoutMs);
  });
  try {
    const service = await Promise.race([startService(loadConfig(sidecarEnv(databaseUrl, env)), log.logger), timeout]);
    return { service, log };
  } finally {
    clearTimeout(timer);
  }
}
