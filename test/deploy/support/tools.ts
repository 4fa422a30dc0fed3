// Finding the external tools the deploy tests drive (helm, promtool, prometheus). A missing tool
// skips the test on a developer's machine, with the script that installs it; in CI (CI set) it
// fails the test instead, because a green run that proved nothing would hide the gap.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

export interface Tool {
  /** Absolute path, when found. */
  path: string | undefined;
  /** Value for node:test's `skip` option: false when found or in CI, else the reason. */
  skip: string | false;
  /** Throws in CI when the tool is missing; call first thing in each test that needs it. */
  require(): string;
}

function tool(name: string, installScript: string, candidates: string[]): Tool {
  const found = candidates.find(executable) ?? onPath(name);
  const reason = `${name} not found: run ${installScript}`;
  return {
    path: found,
    skip: found === undefined && !process.env.CI ? reason : false,
    require() {
      if (found === undefined) throw new Error(`${reason} (CI must install it before npm test)`);
      return found;
    },
  };
}

export const helm = tool('helm', '.ci/install-helm.sh', [path.join(repoRoot, '.tools/bin/helm')]);
export const promtool = tool('promtool', '.ci/install-prometheus.sh', []);
export const prometheus = tool('prometheus', '.ci/install-prometheus.sh', []);

/** Skip reason for tests that need the PostgreSQL the global setup starts. */
export const databaseSkip: string | false = process.env.POST_OFFICE_TEST_DATABASE_URL
  ? false
  : 'POST_OFFICE_TEST_DATABASE_URL is unset: run through npm test (test/global-setup.ts starts PostgreSQL)';
