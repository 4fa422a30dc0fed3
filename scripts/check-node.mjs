// Runs before `npm start` and `npm run cleanup`, as plain JavaScript: a Node.js too old to strip
// types fails on src/main.ts with ERR_UNKNOWN_FILE_EXTENSION ".ts", which does not say that the
// fix is a newer Node. The version needed is package.json's "engines", read here, not repeated.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** ">=22.19" → [22, 19, 0]. */
function minimum(range) {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (match === null) throw new Error(`package.json engines.node must be ">=X.Y.Z" (got "${range}")`);
  return match.slice(1).map((part) => Number(part ?? 0));
}

/** The one line to print when `version` is older than `range`; undefined when it will do. */
export function nodeProblem(version, range = engines.node) {
  const have = version.split('.').map(Number);
  const need = minimum(range);
  for (let i = 0; i < 3; i++) {
    if (have[i] > need[i]) return undefined;
    if (have[i] < need[i]) {
      return `post-office: Node.js ${version} is too old: it needs Node.js ${range} (24 LTS recommended), ` +
        'from https://nodejs.org/en/download or a version manager (nvm install 24)';
    }
  }
  return undefined;
}

const problem = nodeProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
