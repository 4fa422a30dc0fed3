// The load every contender with an HTTP API gets: the same emails, in the same requests (batches
// to /v1/emails/batch or one each to /v1/emails), from the same number of concurrent clients,
// each request timed from its POST to its 202.
import { Pool } from 'undici';
import type { Mode } from './args.ts';
import type { Target } from './targets.ts';

export interface LoadOptions {
  mode: Mode;
  emails: number;
  batchSize: number;
  concurrency: number;
  /** More fields for every email (e.g. a scheduled_at that keeps them from being sent). */
  fields?: Record<string, unknown>;
}

export interface LoadResult {
  /** Per-request latency, ms, sorted. */
  latencies: number[];
  /** ms from the first POST to the last 202. */
  enqueueMs: number;
}

const baseEmail = (i: number) => ({ from: 'bench@example.com', to: `user${i}@example.com`, subject: `bench ${i}`, text: 'Hello from the benchmark.' });

function requests(options: LoadOptions): { path: string; body: unknown }[] {
  const { emails, batchSize } = options;
  const email = (i: number) => ({ ...baseEmail(i), ...options.fields });
  if (options.mode === 'single') return Array.from({ length: emails }, (_, i) => ({ path: '/v1/emails', body: email(i) }));
  return Array.from({ length: Math.ceil(emails / batchSize) }, (_, b) => ({
    path: '/v1/emails/batch',
    body: { emails: Array.from({ length: Math.min(batchSize, emails - b * batchSize) }, (_, i) => email(b * batchSize + i)) },
  }));
}

/** Sends every request to `apiUrl`, `concurrency` at a time; each must answer 202. */
export async function enqueueAll(apiUrl: string, options: LoadOptions): Promise<LoadResult> {
  const pending = requests(options);
  const client = new Pool(apiUrl, { connections: options.concurrency });
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (next < pending.length) {
        const request = pending[next++]!;
        const t0 = performance.now();
        const response = await client.request({ method: 'POST', path: request.path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) });
        const text = await response.body.text();
        if (response.statusCode !== 202) throw new Error(`${request.path} answered ${response.statusCode}: ${text.slice(0, 300)}`);
        latencies.push(performance.now() - t0);
      }
    }));
  } finally {
    await client.close();
  }
  return { latencies: latencies.sort((a, b) => a - b), enqueueMs: performance.now() - started };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

// Nothing delivered for this long means the contender is stuck; the run fails instead of hanging.
const STALL_MS = 60_000;

/** Resolves once `done()` holds, printing progress; rejects if the target receives nothing new for a minute. */
export async function waitUntil(target: Target, total: number, done: () => Promise<boolean> | boolean): Promise<void> {
  let lastCount = target.received();
  let lastChange = Date.now();
  let lastProgress = Date.now();
  while (!(await done())) {
    const count = target.received();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new Error(`stalled: ${count}/${total} delivered and nothing new for ${STALL_MS / 1000} s`);
    }
    if (Date.now() - lastProgress > 2000) {
      lastProgress = Date.now();
      console.log(`  … ${count}/${total} delivered`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
