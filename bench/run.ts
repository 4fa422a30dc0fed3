// One measured run of one contender against the shared target: memory before the load, CPU
// across it, throughput from the first POST to the provider's receipt of the last email.
import type { Contender } from './contenders.ts';
import type { LoadResult } from './load.ts';
import { waitUntil } from './load.ts';
import { benchMicros, cpuPerEmail, cpuSample, peakRssMiB, postgresMicros, rssMiB, type CpuSample } from './measure.ts';
import type { Target } from './targets.ts';

export interface RunResult {
  name: string;
  emails: number;
  /** First POST (or the raw limit's start) to the last email's arrival. */
  seconds: number;
  emailsPerSecond: number;
  enqueue: LoadResult | undefined;
  /** RSS once started, before any load (MiB). */
  idleRssMiB: number;
  /** VmHWM at the end of the run (MiB). */
  peakRssMiB: number;
  /** CPU time per email, µs, from just before the load until everything is recorded. */
  cpu: CpuSample;
  /** Over the same span, per email, µs: every PostgreSQL process on the machine, and this benchmark process (load and mock). */
  postgresMicros: number;
  benchMicros: number;
  /** TCP connections the provider accepted during the run. */
  providerSockets: number;
  providerRequests: number;
  peakSockets: number | undefined;
}

export async function measureRun(contender: Contender, target: Target, emails: number): Promise<RunResult> {
  target.reset();
  const idleRss = await rssMiB(contender.pid);
  const before = await cpuSample(contender.pid);
  const postgresBefore = await postgresMicros();
  const benchBefore = benchMicros();
  const started = Date.now();
  const enqueue = await contender.load();
  // Until the contender has recorded every email as done, so its CPU covers the whole job.
  await waitUntil(target, emails, async () => target.received() >= emails && (await contender.drained()));
  const after = await cpuSample(contender.pid);
  const benchAfter = benchMicros();
  const postgresAfter = await postgresMicros();
  const seconds = (target.lastReceipt() - started) / 1000;
  return {
    name: contender.name,
    emails,
    seconds,
    emailsPerSecond: emails / seconds,
    enqueue,
    idleRssMiB: idleRss,
    peakRssMiB: await peakRssMiB(contender.pid),
    cpu: cpuPerEmail(before, after, emails),
    postgresMicros: (postgresAfter - postgresBefore) / emails,
    benchMicros: (benchAfter - benchBefore) / emails,
    providerSockets: target.connectionsOpened(),
    providerRequests: target.requests(),
    peakSockets: target.peakConnections?.(),
  };
}
