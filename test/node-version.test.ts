// The Node.js the project needs, said once (package.json "engines") and checked before `npm
// start` (scripts/check-node.mjs), so an old Node gets one line instead of ERR_UNKNOWN_FILE_EXTENSION.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { nodeProblem } from '../scripts/check-node.mjs';

const repoRoot = path.resolve(import.meta.dirname, '..');
const json = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };
const pkg = json('package.json');

test('an older Node gets one line naming the version needed and where to get it', () => {
  for (const version of ['20.20.2', '22.18.0', '22.12.1']) {
    const problem = nodeProblem(version);
    assert.equal(problem,
      `post-office: Node.js ${version} is too old: it needs Node.js ${pkg.engines.node} (24 LTS recommended), from https://nodejs.org/en/download or a version manager (nvm install 24)`);
  }
  for (const version of ['22.19.0', '22.20.1', '24.0.0', '25.1.0']) assert.equal(nodeProblem(version), undefined, version);
});

test('engines asks for what the dependencies need: undici is the strictest', () => {
  const undici = json('node_modules/undici/package.json').engines.node;
  const lowest = (range: string) => /(\d+(?:\.\d+){0,2})/.exec(range)![1]!;
  assert.equal(nodeProblem(lowest(pkg.engines.node), undici), undefined, `engines ${pkg.engines.node} lets in a Node undici (${undici}) does not support`);
  assert.equal(nodeProblem(lowest(undici)), undefined, `engines ${pkg.engines.node} refuses a Node undici (${undici}) supports`);
});

test('npm start, npm run cleanup and CI run the check first', () => {
  assert.match(pkg.scripts.start!, /^node scripts\/check-node\.mjs && npm run build && node (?:--[\w-]+=\w+ )*dist\/src\/main\.js$/);
  assert.match(pkg.scripts.cleanup!, /^node scripts\/check-node\.mjs && node src\/cli\/cleanup\.ts$/);
  assert.match(readFileSync(path.join(repoRoot, '.ci/run'), 'utf8'), /^if ! node scripts\/check-node\.mjs 2>\/dev\/null; then$/m);
});

test('on this Node the check says nothing and exits 0', () => {
  const run = spawnSync(process.execPath, ['scripts/check-node.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  assert.deepEqual([run.status, run.stdout, run.stderr], [0, '', '']);
});
