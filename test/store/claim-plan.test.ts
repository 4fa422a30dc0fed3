// The claim's plan reads only the rows it takes, whatever the statistics say. Planned across the
// whole index, a claim after the statistics saw an empty queue read and sorted every queued row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { priorities } from '../../src/email/message.ts';
import { NEXT_DUE_IDS } from '../../src/store/lease-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
defer(() => pool.end());

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Actual Rows': number; 'Actual Loops': number; Plans?: PlanNode[] }
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

test('a claim of 10 from 5,000 queued emails reads at most 10 rows per priority, after ANALYZE saw an empty queue', async () => {
  await pool.query('ANALYZE emails');
  await pool.query(`INSERT INTO emails (id, status, priority, backend, message, max_attempts, run_at)
    SELECT gen_random_uuid(), 'queued', i % 4, 'default', '{}', 3, now() - interval '1 minute' FROM generate_series(1, 5000) i`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const sql = NEXT_DUE_IDS.replaceAll('$1', '10').replaceAll('$4', String(priorities.length - 1));
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
    await client.query('ROLLBACK');
    const plan = nodes(rows[0]!['QUERY PLAN'][0].Plan);
    const scans = plan.filter((node) => node['Relation Name'] === 'emails');
    assert.ok(scans.length > 0, 'the plan scans emails');
    for (const scan of scans) {
      assert.equal(scan['Node Type'], 'Index Scan', 'an ordered index scan, not a bitmap scan of every queued row');
      assert.ok(scan['Actual Rows'] <= 10, `the scan read ${scan['Actual Rows']} rows per loop`);
    }
    assert.ok(!plan.some((node) => node['Node Type'] === 'Sort'), 'nothing is sorted');
  } finally {
    client.release();
  }
});
