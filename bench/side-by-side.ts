// `npm run bench -- --peers`: the raw limit, the pg-boss peer and the sidecar, one after another
// in one invocation against the same mock, then one table (Markdown, so a run can be quoted as is).
import { pgBossPeer, rawLimit, sidecar, type Contender, type Setup } from './contenders.ts';
import { percentile } from './load.ts';
import { measureRun, type RunResult } from './run.ts';
import type { Target } from './targets.ts';

const whole = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function row(result: RunResult, raw: RunResult): string {
  const latency = result.enqueue === undefined
    ? '–'
    : `${percentile(result.enqueue.latencies, 50).toFixed(0)} / ${percentile(result.enqueue.latencies, 99).toFixed(0)} ms`;
  return `| ${[
    result.name,
    whole(result.emailsPerSecond),
    ratio(result.emailsPerSecond, raw.emailsPerSecond),
    `${whole(result.idleRssMiB)} MiB`,
    `${whole(result.peakRssMiB)} MiB`,
    whole(result.cpu.mainMicros),
    whole(result.cpu.processMicros),
    String(result.providerSockets),
    latency,
  ].join(' | ')} |`;
}

export function printTable(results: { raw: RunResult; peer: RunResult; sidecar: RunResult }): void {
  const { raw, peer, sidecar } = results;
  console.log('');
  console.log('| run | emails/s | of raw | idle RSS | peak RSS | main thread µs/email | all threads µs/email | provider sockets | enqueue p50 / p99 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const result of [raw, peer, sidecar]) console.log(row(result, raw));
  console.log('');
  console.log(`sidecar ÷ pg-boss peer: ${ratio(sidecar.emailsPerSecond, peer.emailsPerSecond)}   sidecar ÷ raw limit: ${ratio(sidecar.emailsPerSecond, raw.emailsPerSecond)}`);
}

/** Starts, measures and stops each contender in turn, so no idle one competes for the CPU. */
export async function sideBySide(setup: Setup, target: Target): Promise<void> {
  const measure = async (start: (setup: Setup) => Promise<Contender>): Promise<RunResult> => {
    const contender = await start(setup);
    try {
      console.log(`${contender.name} …`);
      return await measureRun(contender, target, setup.load.emails);
    } finally {
      await contender.stop();
    }
  };
  const raw = await measure(rawLimit);
  const peer = await measure(pgBossPeer);
  const result = await measure(sidecar);
  printTable({ raw, peer, sidecar: result });
}
