// Does the hot path stay fast as history grows? Measures enqueue (one multi-row INSERT of a
// batch) and claim+complete latency on an empty table, then again with a large history of
// finished emails (default one million), and prints the ratio.
//
//   npm run bench:history -- --history 1000000 --rounds 200 --batch 100
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { migrate } from '../src/database/migrate.ts';
import { followConnections } from '../src/database/open-connections.ts';
import { validateEmail } from '../src/email/validate.ts';
import { createLogger } from '../src/logger.ts';
import { QueueStore } from '../src/store/store.ts';

const { values: args } = parseArgs({
  options: {
    history: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '200' },
    batch: { type: 'string', default: '100' },
  },
});
const history = Number(args.history);
const rounds = Number(args.rounds);
const batch = Number(args.batch);

const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-history-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, createLogger('warn'));
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
await migrate(databaseUrl);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
const connections = followConnections(pool);
const store = new QueueStore(pool);
await pool.query('TRUNCATE emails, email_logs, idempotency_keys CASCADE');

const context = { defaultFrom: 'bench@example.com', backends: ['default'] };
const emails = () => Array.from({ length: batch }, (_, i) => validateEmail({ to: `user${i}@example.com`, subject: 'history bench', text: 'hello' }, context));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `rounds` × (enqueue a batch; claim it; record it sent), timing each step. */
async function measure(label: string) {
  const enqueue: number[] = [];
  const claim: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let t0 = performance.now();
    await store.insertEmails(emails(), 6);
    enqueue.push(performance.now() - t0);
    t0 = performance.now();
    const claimed = await store.leases.claim('bench', batch, 60);
    await store.leases.complete('bench', claimed.map((email) => ({
      id: email.id, attempt: email.attempt, via: email.via, status: 'sent', providerMessageId: 'x', code: null, message: null, retryInSeconds: 0,
    })));
    claim.push(performance.now() - t0);
  }
  const result = { enqueueP50: percentile(enqueue, 50), enqueueP99: percentile(enqueue, 99), claimP50: percentile(claim, 50), claimP99: percentile(claim, 99) };
  console.log(`${label.padEnd(28)} enqueue p50 ${result.enqueueP50.toFixed(2)} ms  p99 ${result.enqueueP99.toFixed(2)} ms | claim+complete p50 ${result.claimP50.toFixed(2)} ms  p99 ${result.claimP99.toFixed(2)} ms  (batches of ${batch})`);
  return result;
}

console.log(`post-office history bench: ${rounds} rounds of ${batch} emails, history ${history.toLocaleString('en')} finished emails`);
await measure('warm-up');
await pool.query('TRUNCATE emails, email_logs, idempotency_keys CASCADE');
const empty = await measure('empty table');

console.log(`writing ${history.toLocaleString('en')} finished emails with their logs …`);
const t0 = Date.now();
const chunk = 200_000;
for (let done = 0; done < history; done += chunk) {
  const n = Math.min(chunk, history - done);
  await pool.query(
    `WITH rows AS (
       INSERT INTO emails (id, status, priority, backend, message, attempts, max_attempts, run_at, created_at, updated_at, sent_at)
       SELECT gen_random_uuid(), (ARRAY['sent','sent','sent','failed','expired','cancelled'])[1 + (i % 6)], 2, 'default',
              '{"from":"a@example.com","to":["b@example.com"],"cc":[],"bcc":[],"reply_to":[],"subject":"old","headers":{},"attachments":[],"tags":[],"metadata":{}}'::jsonb,
              1, 6, now() - interval '40 days', now() - interval '40 days', now() - interval '40 days', now() - interval '40 days'
       FROM generate_series(1, $1) AS i
       RETURNING id, status)
     INSERT INTO email_logs (email_id, at, attempt, status) SELECT id, now() - interval '40 days', 1, status FROM rows`,
    [n],
  );
  process.stdout.write(`  … ${(done + n).toLocaleString('en')}\n`);
}
await pool.query('VACUUM ANALYZE emails');
await pool.query('VACUUM ANALYZE email_logs');
console.log(`  written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const full = await measure(`with ${history.toLocaleString('en')} finished`);

const ratio = (a: number, b: number) => `${((a / b - 1) * 100).toFixed(1)}%`;
console.log(`change vs empty: enqueue p50 ${ratio(full.enqueueP50, empty.enqueueP50)}, claim+complete p50 ${ratio(full.claimP50, empty.claimP50)}`);

await pool.end();
await connections.closed();
await embedded?.stop();
await rm(dataDir, { recursive: true, force: true });
