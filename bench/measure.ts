// What a process costs, read from Linux's /proc: resident memory now and at its peak, and the
// CPU time of its main thread and of the whole process (worker threads included).
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

// Clock ticks per second, the unit of utime and stime in /proc/…/stat (proc(5)); normally 100.
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

async function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kib === undefined) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(kib);
}

/** Resident memory now, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  return (await statusKiB(pid, 'VmRSS')) / 1024;
}

/** The most resident memory the process has had (its high-water mark), in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  return (await statusKiB(pid, 'VmHWM')) / 1024;
}

/** The fields of a stat file after the command name (field 2, in parentheses, may hold spaces): index 0 is field 3. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime (fields 14 and 15) of a stat file, in microseconds. */
async function cpuMicros(file: string): Promise<number> {
  const fields = statFields(await readFile(file, 'utf8'));
  const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
  return (ticks / clockTicks) * 1e6;
}

/**
 * CPU time of every PostgreSQL process on this machine, in microseconds: utime + stime of each,
 * plus cutime + cstime (fields 16 and 17), so the backends that exited and were reaped by the
 * postmaster still count. Machine-wide, like the server the contenders share.
 */
export async function postgresMicros(): Promise<number> {
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat.includes(' (postgres) ')) continue;
    const fields = statFields(stat);
    ticks += [14, 15, 16, 17].reduce((sum, field) => sum + Number(fields[field - 3]), 0);
  }
  return (ticks / clockTicks) * 1e6;
}

/** CPU time of this (the benchmark's) process: the load it sends and the mock provider it runs, in microseconds. */
export function benchMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export interface CpuSample {
  /** The main thread only (its thread id is the process id): the event loop that serves the API. */
  mainMicros: number;
  /** Every thread of the process. */
  processMicros: number;
}

export async function cpuSample(pid: number): Promise<CpuSample> {
  return { mainMicros: await cpuMicros(`/proc/${pid}/task/${pid}/stat`), processMicros: await cpuMicros(`/proc/${pid}/stat`) };
}

/** Each sample's CPU time between `before` and `after`, per email, in microseconds. */
export function cpuPerEmail(before: CpuSample, after: CpuSample, emails: number): CpuSample {
  return {
    mainMicros: (after.mainMicros - before.mainMicros) / emails,
    processMicros: (after.processMicros - before.processMicros) / emails,
  };
}
