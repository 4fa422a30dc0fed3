// Runs one of the benchmark's own scripts (the raw limit, a peer) as a child process, so its
// memory and CPU can be read from /proc like the sidecar's. Each script prints JSON lines on
// stdout; the first with "ready" means it is up.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ChildScript {
  child: ChildProcess;
  pid: number;
  /** The script's "ready" line. */
  ready: Record<string, unknown>;
  /** Resolves with the first later line holding `key`. */
  line(key: string): Promise<Record<string, unknown>>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

export async function startChildScript(script: string, env: Record<string, string>): Promise<ChildScript> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  const log: string[] = [];
  const waiting: { key: string; resolve: (entry: Record<string, unknown>) => void }[] = [];
  // Whatever a script complains about during the run is shown, not kept for a failure only.
  createInterface({ input: child.stderr! }).on('line', (text) => {
    log.push(text);
    console.error(`[${path.basename(script)}] ${text}`);
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    log.push(text);
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const index = waiting.findIndex((wait) => wait.key in entry);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(entry);
  });
  const line = (key: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    waiting.push({ key, resolve });
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before it printed "${key}":\n${log.join('\n')}`)));
  });
  const ready = await line('ready');
  return {
    child,
    pid: child.pid!,
    ready,
    line,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
