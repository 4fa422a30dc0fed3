// The claim reads only the rows it takes, whatever the statistics say. Planned from statistics
// that saw an empty queue, it read and sorted every queued row on every call.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import pg from 'pg';
import { LeaseStore } from '../../src/store/lease-store.ts';
import { TemplateStore } from '../../src/store/template-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
defer(() => pool.end());

/** The statements the store sends, recorded on their way to the real pool. */
const sent: Array<{ text: string; values: unknown[] }> = [];
const recording = {
  query: (text: string, values: unknown[]) => {
    sent.push({ text, values });
    return pool.query(text, values);
  },
} as unknown as pg.Pool;
const leases = new LeaseStore(recording, new TemplateStore(recording));

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows': number; Plans?: PlanNode[] }
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

/** The scans of `emails` in the plan of `statement`, run and rolled back. */
async function emailScans(statement: { text: string; values: unknown[] }): Promise<{ scans: PlanNode[]; sorted: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, statement.values);
    const plan = nodes(rows[0]!['QUERY PLAN'][0].Plan);
    return { scans: plan.filter((node) => node['Relation Name'] === 'emails' && node['Node Type'].includes('Scan')), sorted: plan.some((node) => node['Node Type'] === 'Sort' && node['Actual Rows'] > 10) };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

function assertByIndex(scans: PlanNode[], most: number): void {
  assert.ok(scans.length > 0, 'the plan scans emails');
  for (const scan of scans) {
    assert.equal(scan['Node Type'], 'Index Scan', `an index scan of emails, not a ${scan['Node Type']} (${scan['Index Name'] ?? ''})`);
    assert.ok(scan['Actual Rows'] <= most, `a scan of ${scan['Index Name']} read ${scan['Actual Rows']} rows per loop`);
  }
}

beforeEach(async () => {
  await pool.query('TRUNCATE emails, email_logs CASCADE');
  // The statistics of an empty queue, as autovacuum leaves them after a quiet hour.
  await pool.query('ANALYZE emails');
  sent.length = 0;
});

const insert = (count: number, status: 'queued' | 'sending') => pool.query(
  `INSERT INTO emails (id, status, priority, backend, message, max_attempts, run_at, attempts, locked_by)
   SELECT gen_random_uuid(), $2, i % 4, 'default', '{"to":[],"cc":[],"bcc":[],"attachments":[]}', 3, now() - interval '1 minute',
     CASE WHEN $2 = 'sending' THEN 1 ELSE 0 END, CASE WHEN $2 = 'sending' THEN 'another-sidecar' END
   FROM generate_series(1, $1) i`,
  [count, status],
);

test('a claim of 10 from 5,000 queued emails reads at most 10 rows of each priority and sorts none', async () => {
  await insert(5000, 'queued');
  assert.equal((await leases.claim('me', 10, 60)).length, 10);
  const claim = sent.find((statement) => statement.text.includes('FOR UPDATE SKIP LOCKED'))!;
  const { scans, sorted } = await emailScans(claim);
  assertByIndex(scans, 10);
  assert.ok(!sorted, 'no queued rows are sorted');
});
