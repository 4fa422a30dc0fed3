// Delivery's statements read only the rows they take, whatever the statistics say. Planned from
// statistics taken while few emails were queued or in flight (an idle queue, or a history of
// sent emails), the claim used to read and sort every queued email of a burst on each call, and
// a completion read every email the whole fleet had in flight. auto_explain reports the plan of
// every statement they run, those inside the functions of migration 0008 included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { LeaseStore } from '../../src/store/lease-store.ts';
import { TemplateStore } from '../../src/store/template-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const databaseUrl = await createTestDatabase();
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
defer(() => client.end());

interface PlanNode {
  'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows': number; 'Rows Removed by Filter'?: number; Plans?: PlanNode[];
}
/** Rows a scan read per loop: those it returned and those its filter dropped. */
const read = (node: PlanNode) => node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0);
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

// Every plan of this session, with its actual row counts, arrives as a notice.
const plans: PlanNode[][] = [];
client.on('notice', (notice) => {
  const start = notice.message?.indexOf('{') ?? -1;
  if (start === -1) return;
  const explained = JSON.parse(notice.message!.slice(start)) as { Plan: PlanNode };
  plans.push(nodes(explained.Plan));
});
const explaining = ['auto_explain.log_min_duration = 0', 'auto_explain.log_analyze = on', 'auto_explain.log_nested_statements = on',
  'auto_explain.log_format = json', 'auto_explain.log_level = notice'];

// The store on this one connection, so the session's auto_explain sees its statements.
const leases = new LeaseStore(client as unknown as pg.Pool, new TemplateStore(client as unknown as pg.Pool));

const insert = (count: number, status: 'queued' | 'sending' | 'sent') => client.query(
  `INSERT INTO emails (id, status, priority, backend, message, max_attempts, run_at, attempts, locked_by, locked_until)
   SELECT gen_random_uuid(), $2, i % 4, 'default', '{"to":[],"cc":[],"bcc":[],"attachments":[]}', 3, now() - interval '1 minute',
     CASE WHEN $2 = 'queued' THEN 0 ELSE 1 END, CASE WHEN $2 = 'sending' THEN 'another-sidecar' END,
     CASE WHEN $2 = 'sending' THEN now() + interval '1 minute' END
   FROM generate_series(1, $1) i`,
  [count, status],
);

// LOAD of a library outside $libdir/plugins needs a superuser: the embedded test server's user is one.
const { rows: [role] } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
const skip = role?.rolsuper === true ? false : 'auto_explain needs a superuser; DATABASE_URL names another role';

/** The plans of every statement `run` makes, with their actual row counts. */
async function explained(run: () => Promise<unknown>): Promise<PlanNode[]> {
  await client.query("LOAD 'auto_explain'");
  for (const setting of explaining) await client.query(`SET ${setting}`);
  plans.length = 0;
  try {
    await run();
  } finally {
    await client.query('RESET ALL');
  }
  return plans.flat();
}

const scansOfEmails = (plan: PlanNode[]) => plan.filter((node) => node['Relation Name'] === 'emails' && node['Node Type'].includes('Scan'));

/** A fresh table whose statistics saw `history` sent emails and nothing else. */
async function quietQueue(history: number): Promise<void> {
  await client.query('TRUNCATE emails, email_logs CASCADE');
  if (history > 0) await insert(history, 'sent');
  // The statistics of a quiet queue, as autovacuum leaves them; then the burst arrives.
  await client.query('ANALYZE emails');
}

for (const [history, before] of [[0, 'an empty queue'], [20_000, 'a queue of 20,000 sent emails']] as const) {
  test(`a claim of 10 from a burst of 5,000 reads at most 10 rows of each priority and sorts none, after ANALYZE saw ${before}`, { skip }, async () => {
    await quietQueue(history);
    await insert(5000, 'queued');
    const plan = await explained(async () => assert.equal((await leases.claim('me', 10, 60)).length, 10));
    const scans = scansOfEmails(plan);
    // The UPDATE finds each chosen email by its key, one row per lookup.
    for (const lookup of scans.filter((node) => node['Index Name'] === 'emails_pkey')) assert.ok(read(lookup) <= 1);
    const claimScans = scans.filter((node) => node['Index Name'] !== 'emails_pkey');
    assert.ok(claimScans.length > 0, `the claim's plans scan emails for due rows (${plans.length} plans)`);
    for (const scan of claimScans) {
      assert.equal(scan['Node Type'], 'Index Scan', `an ordered index scan, not a ${scan['Node Type']} (${scan['Index Name'] ?? ''})`);
      assert.equal(scan['Index Name'], 'emails_claim_idx');
      assert.ok(read(scan) <= 10, `a scan read ${read(scan)} rows`);
    }
    const sorted = plan.filter((node) => node['Node Type'] === 'Sort' && node['Actual Rows'] > 10);
    assert.deepEqual(sorted, [], 'no queued rows are sorted');
  });

  test(`completing 10 emails while the fleet has 5,000 in flight finds each of the 10 by its key, after ANALYZE saw ${before}`, { skip }, async () => {
    await quietQueue(history);
    await insert(5000, 'sending');
    await insert(10, 'queued');
    const mine = await leases.claim('me', 10, 60);
    const plan = await explained(async () => {
      const finished = await leases.complete('me', mine.map((email) => ({
        id: email.id, attempt: email.attempt, via: 'default', status: 'sent' as const, providerMessageId: 'pm', code: null, message: null, retryInSeconds: 0,
      })));
      assert.equal(finished.length, 10);
    });
    const scans = scansOfEmails(plan);
    assert.ok(scans.length > 0, `the completion's plans scan emails (${plans.length} plans)`);
    for (const scan of scans) {
      assert.equal(scan['Node Type'], 'Index Scan', `a lookup by key, not a ${scan['Node Type']} (${scan['Index Name'] ?? ''})`);
      assert.ok(read(scan) <= 1, `a scan of ${scan['Index Name']} read ${read(scan)} rows per lookup`);
    }
  });
}
