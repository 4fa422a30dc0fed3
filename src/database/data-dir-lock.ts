// One sidecar per data folder when it runs the embedded PostgreSQL: a second `npm start` in the
// same folder must not stop the database the first one is using. The owner writes its PID to
// POST_OFFICE_DATA_DIR/sidecar.pid; a later start refuses while that process lives, and takes
// the folder over (orphaned database included) only once it is gone.
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.ts';

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The command line of a process, where the platform shows it (/proc on Linux); undefined
 * elsewhere, and callers then trust the PID alone.
 */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Throws a ConfigError naming POST_OFFICE_DATA_DIR while another live sidecar owns `dataDir`;
 * returns the PID a dead owner left, if any. Reads only, so start-up can ask before anything else.
 */
export async function assertDataDirFree(dataDir: string): Promise<number | undefined> {
  const owner = await readPid(path.join(dataDir, 'sidecar.pid'));
  // A PID reused by something that is not Node (a container restart reuses low PIDs) is no owner.
  const live = owner !== undefined && owner !== process.pid && isAlive(owner) && (commandLine(owner)?.includes('node') ?? true);
  if (live) {
    throw new ConfigError(
      `POST_OFFICE_DATA_DIR: ${dataDir} is in use by another running sidecar (pid ${owner}); stop it, or give this one another POST_OFFICE_DATA_DIR`,
    );
  }
  return owner;
}

/** Takes `dataDir` for this process; throws like assertDataDirFree while another sidecar owns it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, 'sidecar.pid');
  const owner = await assertDataDirFree(dataDir);
  if (owner !== undefined) await rm(file, { force: true });
  try {
    // Exclusive create: of two sidecars starting at the same moment, one gets the folder.
    await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new ConfigError(`POST_OFFICE_DATA_DIR: ${dataDir} is being taken by another sidecar starting at the same time`);
  }
  return {
    async release() {
      // Only our own lock: never remove one a later sidecar has written.
      if ((await readPid(file)) === process.pid) await rm(file, { force: true });
    },
  };
}
