// The parts of delivery on their own, each against a real PostgreSQL: the pacer's slot spacing
// and release of what finds no slot, the completer's batched write and its retry of a failed
// one, and the lease keeper's heartbeat and rescue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { Completer } from '../../src/delivery/completer.ts';
import { LeaseKeeper } from '../../src/delivery/lease-keeper.ts';
import { Pacer } from '../../src/delivery/pacer.ts';
import { JITTER_MS, RateLimiter } from '../../src/delivery/rate-limiter.ts';
import { validateEmail } from '../../src/email/validate.ts';
import { createMainMetrics } from '../../src/metrics/main-metrics.ts';
import type { ClaimedEmail, Finished } from '../../src/store/lease-store.ts';
import { RateLimitStore } from '../../src/store/rate-limit-store.ts';
import { QueueStore } from '../../src/store/store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/sidecar.ts';

const url = await createTestDatabase();
const pool = new pg.Pool({ connectionString: url, max: 4 });
defer(() => pool.end());
const store = new QueueStore(pool);
const metrics = createMainMetrics(store);
const logger = pino({ level: 'silent' });

/** Inserts `count` emails of one backend and claims them for `owner`. */
async function claimed(owner: string, count: number, leaseSeconds = 60): Promise<ClaimedEmail[]> {
  const emails = Array.from({ length: count }, (_, i) => validateEmail(
    { from: 'a@example.com', to: `to${i}@example.com`, subject: `s${i}`, text: 't', backend: 'paced' },
    { defaultFrom: undefined, backends: ['paced'] },
  ));
  await store.insertEmails(emails, 3);
  return store.leases.claim(owner, count, leaseSeconds);
}

const statusOf = async (id: string) => (await pool.query<{ status: string; locked_until: Date | null; run_at: Date }>(
  'SELECT status, locked_until, run_at FROM emails WHERE id = $1', [id])).rows[0]!;

test('pacer: slots an interval apart, the rest released to the queue due later', async () => {
  const perSecond = 10;
  const limiter = new RateLimiter({ paced: { per_second: perSecond } }, new RateLimitStore(pool));
  const emails = await claimed('pacer', 20);
  const sent: Array<{ id: string; at: number }> = [];
  // On a busy machine a timer can fire later than its slot allows: such an email asks again.
  const late: ClaimedEmail[] = [];
  let released = 0;
  const pacer = new Pacer('pacer', { limiter, leases: store.leases, metrics, logger }, {
    send: (email) => sent.push({ id: email.id, at: Date.now() }),
    retry: (email) => late.push(email),
    holdBack: () => assert.fail('the circuit is closed'),
    allow: () => true,
    released: () => released++,
  });
  assert.ok(pacer.paces('paced') && !pacer.paces('other'));
  for (const email of emails) pacer.hold(email);
  assert.equal(pacer.size, 20, 'held emails count as load before their slots are known');
  const asked = Date.now();
  await pacer.reserve('paced', emails);
  assert.equal(released, 1, 'the ones without a slot went back in one release');
  const rows = await Promise.all(emails.map((email) => statusOf(email.id)));
  const back = emails.filter((_, i) => rows[i]!.status === 'queued');
  const granted = 20 - back.length;
  assert.ok(granted > 0 && granted < 20, `the 1 s horizon holds some of the 20, not all (${granted})`);
  for (const [i, email] of emails.entries()) {
    if (rows[i]!.status === 'queued') assert.ok(rows[i]!.run_at.getTime() > Date.now() - 2000, `${email.id}: due when its turn may come`);
  }
  await eventually('every slot to come', () => sent.length + late.length === granted, 5000);
  const interval = (1000 + 2 * JITTER_MS) / perSecond;
  const slotOf = (id: string) => emails.filter((_, i) => rows[i]!.status !== 'queued').findIndex((email) => email.id === id);
  for (const { id, at } of sent) {
    // A send never starts before its slot (a millisecond of timer rounding aside).
    assert.ok(at >= asked + slotOf(id) * interval - 2, `slot ${slotOf(id)} was sent ${asked + slotOf(id) * interval - at} ms early`);
  }
  for (const first of sent) {
    for (const later of sent) {
      if (slotOf(later.id) - slotOf(first.id) < perSecond) continue;
      assert.ok(later.at - first.at > 1000, `${perSecond + 1} sends within one second (slots ${slotOf(first.id)} and ${slotOf(later.id)})`);
    }
  }
  assert.equal(pacer.size, 0);
  assert.deepEqual(await pacer.cancelAll(), []);
});

test('completer: outcomes are written in one guarded batch; a failed write is kept and tried again', async () => {
  const [a, b] = await claimed('completer', 2);
  // A row lock from another connection makes the first write time out, a real failure.
  const blocker = await pool.connect();
  await blocker.query('BEGIN');
  await blocker.query('SELECT id FROM emails WHERE id = $1 FOR UPDATE', [a!.id]);
  const shortPool = new pg.Pool({ connectionString: url, max: 1, statement_timeout: 300 });
  defer(() => shortPool.end());
  const completer = new Completer({ owner: 'completer', retryBaseSeconds: 10, retryDelayMs: 50, gatherMs: 10 }, { leases: new QueueStore(shortPool).leases, metrics, logger });
  completer.record(a!, { outcome: 'ok', providerMessageId: 'pm-a' });
  completer.record(b!, { outcome: 'permanent', code: 'RECIPIENT_REJECTED', message: 'no such user' });
  assert.ok(completer.pending);
  await completer.flush();
  assert.equal((await statusOf(a!.id)).status, 'sending', 'the first write failed: nothing changed');
  await blocker.query('COMMIT');
  blocker.release();
  await completer.drain(20);
  assert.equal(completer.pending, false);
  assert.equal((await statusOf(a!.id)).status, 'sent');
  assert.equal((await statusOf(b!.id)).status, 'failed');
});

test('lease keeper: heartbeat extends what this sidecar holds; rescue returns what a dead one left', async () => {
  const [mine] = await claimed('alive', 1, 5);
  const [orphan] = await claimed('dead', 1, 0.05);
  const rescued: Finished[] = [];
  const keeper = new LeaseKeeper({ owner: 'alive', leaseSeconds: 60 }, { leases: store.leases, logger }, {
    held: () => [mine!.id],
    rescued: (finished) => rescued.push(...finished),
  });
  await keeper.heartbeat();
  const { locked_until: until } = await statusOf(mine!.id);
  assert.ok(until!.getTime() > Date.now() + 30_000, 'extended to a full lease');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await keeper.rescue();
  assert.deepEqual(rescued.map((row) => [row.id, row.status]), [[orphan!.id, 'queued']]);
  assert.equal((await statusOf(mine!.id)).status, 'sending', 'a live lease is not rescued');
});
