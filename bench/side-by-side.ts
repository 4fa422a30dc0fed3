// `npm run bench -- --peers`: the raw limit, the pg-boss peer and the sidecar, one after another
// in one invocation against the same mock, then one table (Markdown, so a run can be quoted as is).
// With --rounds, the three take turns that many times and each row is that contender's median run:
// on a shared machine one run can be twice as fast as the next.
import { availableParallelism } from 'node:os';
import { pgBossPeer, rawLimit, sidecar, type Contender, type Setup } from './contenders.ts';
import { percentile } from './load.ts';
import { measureRun, type RunResult } from './run.ts';
import type { Target } from './targets.ts';

const whole = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** A contender's runs, and the median of them by emails/s (the lower middle one for an even count). */
interface Runs {
  median: RunResult;
  all: RunResult[];
}

function runs(all: RunResult[]): Runs {
  const sorted = [...all].sort((a, b) => a.emailsPerSecond - b.emailsPerSecond);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, all: sorted };
}

function row({ median, all }: Runs, raw: RunResult): string {
  const range = all.length === 1 ? '' : ` (${whole(all[0]!.emailsPerSecond)}–${whole(all.at(-1)!.emailsPerSecond)})`;
  const latency = median.enqueue === undefined
    ? '–'
    : `${percentile(median.enqueue.latencies, 50).toFixed(0)} / ${percentile(median.enqueue.latencies, 99).toFixed(0)} ms`;
  return `| ${[
    median.name,
    whole(median.emailsPerSecond) + range,
    ratio(median.emailsPerSecond, raw.emailsPerSecond),
    `${whole(median.idleRssMiB)} MiB`,
    `${whole(median.peakRssMiB)} MiB`,
    whole(median.cpu.mainMicros),
    whole(median.cpu.processMicros),
    whole(median.postgresMicros),
    whole(median.benchMicros),
    String(median.providerSockets),
    latency,
  ].join(' | ')} |`;
}

export function printTable(results: { raw: Runs; peer: Runs; sidecar: Runs }): void {
  const { raw, peer, sidecar } = results;
  const rounds = raw.all.length;
  console.log('');
  if (rounds > 1) console.log(`median of ${rounds} rounds (range of emails/s in brackets)`);
  console.log('| run | emails/s | of raw | idle RSS | peak RSS | main thread µs/email | all threads µs/email | PostgreSQL µs/email | load + mock µs/email | provider sockets | enqueue p50 / p99 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const result of [raw, peer, sidecar]) console.log(row(result, raw.median));
  console.log('');
  const rate = (r: Runs) => r.median.emailsPerSecond;
  console.log(`sidecar ÷ pg-boss peer: ${ratio(rate(sidecar), rate(peer))}   sidecar ÷ raw limit: ${ratio(rate(sidecar), rate(raw))}`);
  // Everything shares the machine's cores: the CPU each email costs all of it bounds the rate.
  const cores = availableParallelism();
  const machine = (r: Runs) => r.median.cpu.processMicros + r.median.postgresMicros + r.median.benchMicros;
  console.log(`CPU per email, contender + PostgreSQL + load and mock (the bound with ${cores} cores busy): ${[raw, peer, sidecar]
    .map((r) => `${r.median.name} ${whole(machine(r))} µs (${whole((cores * 1e6) / machine(r))} emails/s)`).join(', ')}`);
}

/** Starts, measures and stops each contender in turn, so no idle one competes for the CPU. */
export async function sideBySide(setup: Setup, target: Target, rounds: number): Promise<void> {
  const measure = async (start: (setup: Setup) => Promise<Contender>): Promise<RunResult> => {
    const contender = await start(setup);
    try {
      return await measureRun(contender, target, setup.load.emails);
    } finally {
      await contender.stop();
    }
  };
  const results = { raw: [] as RunResult[], peer: [] as RunResult[], sidecar: [] as RunResult[] };
  for (let round = 1; round <= rounds; round++) {
    results.raw.push(await measure(rawLimit));
    results.peer.push(await measure(pgBossPeer));
    results.sidecar.push(await measure(sidecar));
    const rates = [results.raw, results.peer, results.sidecar].map((list) => `${list.at(-1)!.name} ${whole(list.at(-1)!.emailsPerSecond)}`);
    console.log(`round ${round}/${rounds}: ${rates.join(', ')} emails/s`);
  }
  printTable({ raw: runs(results.raw), peer: runs(results.peer), sidecar: runs(results.sidecar) });
}
