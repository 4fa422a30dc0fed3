// The layers of src/ as docs/architecture.md draws them: every import points down. A file may
// import files of its own folder and of any layer below, never one above, and two folders of the
// same layer never import each other. Read from the source text, so a new arrow fails here first.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const src = path.resolve(import.meta.dirname, '../src');

/** Top to bottom; each entry is one layer, its units being folders of src/ or files at its root. */
export const layers: readonly (readonly string[])[] = [
  ['main.ts', 'cli'],
  ['service.ts'],
  ['http'],
  ['enqueue'],
  ['delivery', 'retention', 'app-events'],
  ['worker'],
  ['metrics'],
  ['database'],
  ['config.ts', 'port-check.ts'],
  ['store'],
  ['providers', 'templates'],
  ['email'],
  ['errors.ts', 'error-log.ts', 'logger.ts', 'version.ts', 'lazy-builtins.ts'],
];

const rank = new Map(layers.flatMap((units, index) => units.map((unit) => [unit, layers.length - index] as const)));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const unitOf = (file: string) => path.relative(src, file).split(path.sep)[0]!;
// `import … from '…'`, `export … from '…'` and `import('…')`, type-only ones included.
const specifiers = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g;

test('every unit of src/ has a layer', () => {
  const units = new Set(files(src).map(unitOf));
  for (const unit of units) assert.ok(rank.has(unit), `src/${unit} is in no layer of test/architecture.test.ts (and docs/architecture.md)`);
});

test('every import in src/ points down the layers', () => {
  const upward: string[] = [];
  for (const file of files(src)) {
    const from = unitOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(specifiers)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), specifier);
      if (path.relative(src, target).startsWith('..')) continue; // ../package.json
      const to = unitOf(target);
      if (to === from) continue;
      if (!(rank.get(from)! > rank.get(to)!)) upward.push(`${path.relative(src, file)} → ${specifier}`);
    }
  }
  assert.deepEqual(upward, [], 'imports that point up or sideways');
});
