// Child processes for the deploy tests: run a command to completion, or keep a server running
// and stop it by its own PID when the test file ends.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { defer } from '../../helpers/cleanup.ts';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (callers assert on it). */
export function run(command: string, args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Server {
  child: ChildProcess;
  /** Everything it printed, both streams, for failure messages. */
  output: () => string;
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string>;
  running: () => boolean;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves with how it ended. */
  stop: (graceMs?: number) => Promise<number | string>;
}

/** Starts a long-running process; it is stopped after the calling file's tests at the latest. */
export function startServer(command: string, args: string[], options: SpawnOptions): Server {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 30_000) => {
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };
  defer(() => stop(5_000));
  return { child, output: () => chunks.join(''), exited, running, stop };
}

export { freePort } from '../../../src/database/embedded.ts';

export interface WaitOptions {
  timeoutMs: number;
  /** Extra context for the failure message, e.g. the server's output. */
  describe?: () => string;
  /** Gives up at once, e.g. when the server being polled has exited. */
  server?: Server;
}

/** Polls until `check` returns a value other than undefined; fails naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const describe = () => (options.describe ?? options.server?.output)?.() ?? '';
  for (;;) {
    if (options.server !== undefined && !options.server.running()) {
      throw new Error(`gave up waiting for ${what}: the process exited (${String(await options.server.exited)})\n${describe()}`);
    }
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
