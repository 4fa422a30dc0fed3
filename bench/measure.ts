// What a process costs, read from Linux's /proc: resident memory now and at its peak, and the
// CPU time of its main thread and of the whole process (worker threads included).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

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

/** utime + stime (fields 14 and 15) of a stat file, in microseconds. */
async function cpuMicros(file: string): Promise<number> {
  const stat = await readFile(file, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces; count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
  return (ticks / clockTicks) * 1e6;
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
