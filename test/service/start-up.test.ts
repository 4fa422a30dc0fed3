// The first minutes with `npm start`: a busy port, a second start in the same folder, a sidecar
// killed and started again, all on the embedded PostgreSQL (no DATABASE_URL), as a newcomer runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { eventually, postJson, spawnSidecar } from '../helpers/sidecar.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'post-office-start-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Environment of a sidecar on its own embedded PostgreSQL in `dir`. */
function embeddedEnv(dir: string, env: Record<string, string> = {}): Record<string, string> {
  return { POST_OFFICE_DATA_DIR: dir, POST_OFFICE_PORT: '0', POST_OFFICE_ADMIN_PORT: '0', POST_OFFICE_ADMIN_HOST: '127.0.0.1', POST_OFFICE_THREADS: '1', ...env };
}

/** `node src/main.ts` run to its end (stopped at once should it get ready): exit code, stdout and stderr. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('"post office ready"')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

/** A port held by this process on 127.0.0.1 until the file's tests end. */
async function busyPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

for (const variable of ['POST_OFFICE_PORT', 'POST_OFFICE_ADMIN_PORT']) {
  test(`${variable} in use: one line naming it, exit 78, before the database starts`, async () => {
    const dir = await dataDir();
    const port = await busyPort();
    const run = await runToExit(embeddedEnv(dir, { POST_OFFICE_HOST: '127.0.0.1', [variable]: String(port) }));

    assert.equal(run.code, 78, run.stderr);
    assert.equal(run.stderr, `post-office: configuration error: ${variable}: 127.0.0.1:${port} is already in use\n`);
    assert.equal(run.stdout, '');
    assert.ok(!existsSync(path.join(dir, 'pgdata')), 'the embedded PostgreSQL was never initialised');
  });
}

test('in Kubernetes without DATABASE_URL, one warning line says queued mail dies with the pod', async () => {
  const port = await busyPort();
  const run = await runToExit(embeddedEnv(await dataDir(), { KUBERNETES_SERVICE_HOST: '10.96.0.1', POST_OFFICE_PORT: String(port), POST_OFFICE_HOST: '127.0.0.1' }));
  const warnings = run.stdout.split('\n').filter((line) => line.includes('"level":40'));
  assert.equal(warnings.length, 1, run.stdout);
  assert.match(warnings[0]!, /DATABASE_URL is unset: queued mail lives in this pod's embedded PostgreSQL and is lost with the pod/);
});

test('a second `npm start` in the same data folder refuses with one line and leaves the first running', async () => {
  const dir = await dataDir();
  const first = await spawnSidecar(embeddedEnv(dir));

  // On the first one's own ports, as a second `npm start` with the defaults would be: the folder is named, not a port.
  const second = await runToExit(embeddedEnv(dir, { POST_OFFICE_PORT: new URL(first.apiUrl).port, POST_OFFICE_ADMIN_PORT: new URL(first.adminUrl).port }));
  assert.equal(second.code, 78, second.stderr);
  assert.equal(second.stderr,
    `post-office: configuration error: POST_OFFICE_DATA_DIR: ${dir} is in use by another running sidecar (pid ${first.child.pid}); stop it, or give this one another POST_OFFICE_DATA_DIR\n`);
  assert.equal(second.stdout, '');

  assert.equal((await fetch(`${first.adminUrl}/readyz`)).status, 200);
  const queued = await postJson(`${first.apiUrl}/v1/emails`, { from: 'a@example.com', to: 'b@example.com', subject: 'still here', text: 'hi' });
  assert.equal(queued.status, 202);
  await eventually('the email to be written to the outbox', async () =>
    ((await (await fetch(`${first.apiUrl}/v1/emails/${String(queued.body.id)}`)).json()) as { status: string }).status === 'sent');

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.ok(!existsSync(path.join(dir, 'sidecar.pid')), 'a clean stop gives the folder up');
});

test('a sidecar killed with SIGKILL: the next start in its folder takes over the orphaned database', async () => {
  const dir = await dataDir();
  const first = await spawnSidecar(embeddedEnv(dir));
  first.child.kill('SIGKILL');
  await first.exited;

  const next = await spawnSidecar(embeddedEnv(dir));
  assert.ok(next.log.some((line) => line.includes('stopping the embedded PostgreSQL a previous run left behind')), next.log.join('\n'));
  assert.equal((await fetch(`${next.adminUrl}/readyz`)).status, 200);
  next.child.kill('SIGTERM');
  assert.equal(await next.exited, 0);
});
