// Worker threads on demand, in the real pool: none run before the first task, they stop after
// POST_OFFICE_THREAD_IDLE_SECONDS without one, and the next task starts new ones. What stopped
// threads counted stays under their `worker` slots, so no counter of /metrics goes back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import { loadConfig } from '../../src/config.ts';
import { WorkerPool } from '../../src/worker/pool.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { eventually } from '../helpers/sidecar.ts';
import { message } from '../helpers/provider-fixtures.ts';

const mock = new MockProvider();
let dataDir: string;
let baseUrl: string;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-idle-threads-'));
  baseUrl = await mock.start();
});

after(async () => {
  await mock.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const poolWith = (idleSeconds: string) => new WorkerPool(loadConfig({
  POST_OFFICE_DATA_DIR: dataDir,
  POST_OFFICE_THREADS: '2',
  POST_OFFICE_HTTP_CONNECTIONS: '2',
  POST_OFFICE_THREAD_IDLE_SECONDS: idleSeconds,
  POST_OFFICE_BACKENDS: JSON.stringify({ default: { provider: 'postmark', server_token: 'pm-token', base_url: baseUrl } }),
}));

/** /metrics as the admin listener merges it: one value per series. */
async function series(pool: WorkerPool, name: string): Promise<Map<string, number>> {
  const merged = await AggregatorRegistry.aggregate(await pool.collectMetrics()).getMetricsAsJSON();
  const values = merged.find((metric) => metric.name === name)?.values ?? [];
  return new Map(values.map((value) => [JSON.stringify(value.labels), value.value]));
}

const total = (values: Map<string, number>) => [...values.values()].reduce((sum, value) => sum + value, 0);

/** The sending thread's id, from the User-Agent each worker sets. */
const threadOf = (index: number) => /\(thread (\d+)\)/.exec(String(mock.requests[index]!.headers['user-agent']))![1];

const sendSome = async (pool: WorkerPool, count: number) => {
  const outcomes = await Promise.all(Array.from({ length: count }, () => pool.run({ backend: 'default', message })));
  assert.deepEqual(new Set(outcomes.map((outcome) => outcome.outcome)), new Set(['ok']));
};

test('threads start with the first task, stop when idle and start again with the next; their counters carry on', async () => {
  const pool = poolWith('0.2');
  try {
    assert.equal(pool.running, false, 'no thread runs before the first task');
    assert.deepEqual(await pool.collectMetrics(), [], 'and no worker series');

    const start = mock.requests.length;
    await sendSome(pool, 30);
    const first = await series(pool, 'postoffice_worker_sends_total');
    assert.equal(total(first), 30);
    const firstThreads = new Set(Array.from({ length: 30 }, (_, i) => threadOf(start + i)));

    await eventually('the idle threads to stop', () => !pool.running);
    assert.deepEqual(await series(pool, 'postoffice_worker_sends_total'), first, "stopped threads' sends stay under their slots");
    const inflight = await series(pool, 'postoffice_worker_inflight_sends');
    assert.ok(inflight.size > 0 && total(inflight) === 0, 'gauges of stopped threads read 0');

    await sendSome(pool, 30);
    assert.equal(pool.running, true);
    const second = await series(pool, 'postoffice_worker_sends_total');
    assert.equal(total(second), 60);
    for (const [labels, value] of first) assert.ok(second.get(labels)! >= value, `${labels}: ${second.get(labels)} after ${value}`);
    const secondThreads = new Set(Array.from({ length: 30 }, (_, i) => threadOf(start + 30 + i)));
    assert.deepEqual([...secondThreads].filter((thread) => firstThreads.has(thread)), [], 'new threads sent the second burst');
    assert.ok([...second.keys()].every((labels) => /"worker":"[01]"/.test(labels)), 'the new threads took the same two slots');
  } finally {
    await pool.close();
  }
});

test('a task soon after idle threads began to stop (waiting for them if they still are) starts new ones; close refuses tasks after it', async () => {
  const pool = poolWith('0.05');
  try {
    await sendSome(pool, 4);
    await eventually('the idle threads to stop', () => !pool.running);
    // Soon after the stop began; if the threads are still closing their Agents, the task waits for them.
    await sendSome(pool, 4);
    assert.equal(total(await series(pool, 'postoffice_worker_sends_total')), 8);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run({ backend: 'default', message }), /the worker pool is closed/);
});
