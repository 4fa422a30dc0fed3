// The container image cannot be built here (no Docker engine), so this proves its production
// path instead: the build (`npm run build`, JavaScript in dist/), the runtime dependencies
// installed with `npm ci --omit=dev` into a clean folder next to a copy of dist/, then exactly the
// image's command, read from the Dockerfile's CMD. When the tests
// run as root (CI) and a shared database is given, it also runs as the image's uid 10001 with
// the app files read-only, as a Pod with readOnlyRootFilesystem would.
import assert from 'node:assert/strict';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { imageCommand, imageEnv } from '../helpers/sidecar-process.ts';
import { freePort, run, startServer, waitFor } from './support/processes.ts';
import { repoRoot } from './support/tools.ts';

const IMAGE_UID = 10001;

/** Whether a user who is neither owner nor group could execute `file` (every folder searchable). */
async function othersCanRun(file: string): Promise<boolean> {
  for (let at = file; ; at = path.dirname(at)) {
    if (((await stat(at)).mode & 0o001) === 0) return false;
    if (at === path.dirname(at)) return true;
  }
}

test('Dockerfile: multi-stage, type-checked, prod deps only, non-root, node as the command', async () => {
  const dockerfile = await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const names = stages.map((stage) => /^\S+\s+AS\s+(\S+)/i.exec(stage)?.[1]);
  assert.deepEqual(names, ['deps', 'build', 'prod-deps', 'runtime']);
  const stage = (name: string) => stages[names.indexOf(name)]!;
  assert.match(stage('deps'), /RUN npm ci\b/);
  assert.match(stage('build'), /RUN npx tsc --noEmit -p tsconfig\.json && npm run build/);
  assert.match(stage('prod-deps'), /RUN npm ci --omit=dev\b/);
  assert.match(dockerfile, /ARG NODE_IMAGE=node:24-[\w-]*slim/);

  // Instructions only: comments may mention what the image must never do.
  const runtime = stage('runtime').split('\n').filter((line) => !line.startsWith('#')).join('\n');
  assert.match(runtime, /^\$\{NODE_IMAGE\} AS runtime/);
  // Nothing from the full-deps stage reaches the final image; dist comes from the build stage
  // so that BuildKit cannot skip the type check.
  assert.match(runtime, /COPY --from=prod-deps \/app\/node_modules \.\/node_modules/);
  assert.match(runtime, /COPY --from=build \/app\/dist \.\/dist/);
  assert.doesNotMatch(runtime, /--from=deps/);
  assert.match(runtime, /^USER 10001:10001$/m);
  assert.match(runtime, /^EXPOSE 8587 8588 9587$/m);
  assert.match(runtime, /^CMD \["node", (?:"--[\w-]+=\w+", )*"dist\/src\/main\.js"\]$/m);
  assert.doesNotMatch(runtime, /npm (start|run)/);
  assert.deepEqual(imageEnv(), { NODE_ENV: 'production', POST_OFFICE_DATA_DIR: '/data', MALLOC_ARENA_MAX: '2' });

  // The build context is only what the image needs.
  const ignore = (await readFile(path.join(repoRoot, '.dockerignore'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
  assert.deepEqual(ignore, ['*', '!package.json', '!package-lock.json', '!tsconfig.json', '!tsconfig.build.json', '!src/']);
});

test('production path: npm run build, npm ci --omit=dev, the image\'s CMD, /readyz, one email sent, SIGTERM exits 0', { timeout: 600_000 }, async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'post-office-image-'));
  defer(() => rm(work, { recursive: true, force: true }));
  const app = path.join(work, 'app');
  const data = path.join(work, 'data');
  const scratch = path.join(work, 'tmp');
  await mkdir(app);
  await mkdir(data);
  await mkdir(scratch);
  for (const file of ['package.json', 'package-lock.json']) await cp(path.join(repoRoot, file), path.join(app, file));
  // The image's build stage: JavaScript in dist/, copied without src/.
  const build = await run('npm', ['run', 'build'], { cwd: repoRoot, env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` }, timeoutMs: 120_000 });
  assert.equal(build.code, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
  await cp(path.join(repoRoot, 'dist'), path.join(app, 'dist'), { recursive: true });
  // Exactly the image's command: the Dockerfile's CMD, node and its flags.
  const args = imageCommand();

  // npm runs on this very node, as the image's npm runs on the image's node.
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  const install = await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, env: { ...process.env, PATH }, timeoutMs: 480_000 });
  assert.equal(install.code, 0, `npm ci --omit=dev failed:\n${install.stdout}\n${install.stderr}`);
  const installed = await readdir(path.join(app, 'node_modules'));
  for (const devOnly of ['typescript', 'eslint', 'typescript-eslint', 'kubernetes-models']) {
    assert.ok(!installed.includes(devOnly), `${devOnly} is a devDependency but was installed`);
  }

  const testDatabase = process.env.POST_OFFICE_TEST_DATABASE_URL ? await createTestDatabase({ migrated: false }) : undefined;
  // As root, become the image's user (initdb would need a passwd entry for it, so only with a
  // shared database, and only if that user can reach this node binary); otherwise run as whoever
  // runs the tests.
  const asImageUser = process.getuid?.() === 0 && testDatabase !== undefined && (await othersCanRun(process.execPath));
  // Like / and /tmp in the image: traversable by anyone (the embedded PostgreSQL, as root, runs
  // as its own "postgres" user), and a sticky world-writable scratch folder.
  await chmod(work, 0o755);
  await chmod(scratch, 0o1777);
  if (asImageUser) {
    await run('chmod', ['-R', 'a-w', app]);
    await chown(data, IMAGE_UID, IMAGE_UID);
    await chown(scratch, IMAGE_UID, IMAGE_UID);
  }

  const port = await freePort();
  const adminPort = await freePort();
  // The image's ENV (NODE_ENV, MALLOC_ARENA_MAX, ...), then this machine's paths and ports.
  const env: Record<string, string> = {
    ...imageEnv(),
    PATH,
    TMPDIR: scratch,
    HOME: data,
    POST_OFFICE_DATA_DIR: data,
    POST_OFFICE_HOST: '127.0.0.1',
    POST_OFFICE_PORT: String(port),
    POST_OFFICE_ADMIN_HOST: '127.0.0.1',
    POST_OFFICE_ADMIN_PORT: String(adminPort),
  };
  if (testDatabase !== undefined) env.DATABASE_URL = testDatabase;
  const sidecar = startServer(process.execPath, args, {
    cwd: app,
    env,
    ...(asImageUser ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
  });
  const api = `http://127.0.0.1:${port}`;
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor('GET /readyz to answer 200', async () => ((await fetch(`${admin}/readyz`)).status === 200 ? true : undefined), {
    timeoutMs: 180_000,
    server: sidecar,
  });

  const response = await fetch(`${api}/v1/emails`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: 'a@example.com', to: 'b@example.com', subject: 'hi', text: 'hello' }),
  });
  const accepted = (await response.json()) as { id?: string };
  assert.equal(response.status, 202, JSON.stringify(accepted));
  assert.equal(typeof accepted.id, 'string');

  const email = await waitFor(
    `email ${accepted.id} to be sent`,
    async () => {
      const body = (await (await fetch(`${api}/v1/emails/${accepted.id}`)).json()) as { status?: string };
      return body.status === 'sent' ? body : undefined;
    },
    { timeoutMs: 60_000, server: sidecar },
  );
  assert.equal(email.status, 'sent');
  // The default backend, the outbox provider, wrote it under the data directory.
  const outbox = await readdir(path.join(data, 'outbox'), { recursive: true });
  const eml = outbox.find((file) => file.endsWith('.eml'));
  assert.ok(eml, `no .eml file in ${path.join(data, 'outbox')}: ${outbox.join(', ')}`);
  if (asImageUser) assert.equal((await stat(path.join(data, 'outbox', eml))).uid, IMAGE_UID, 'written by the image user');

  const exit = await sidecar.stop(60_000);
  assert.equal(exit, 0, `SIGTERM should drain and exit 0:\n${sidecar.output()}`);
});
