// Fleet-wide rate limits (docs/rate-limits.md): the rate_limit setting's rules; the reservation
// SQL under concurrency (slots never overlap, a day's allowance is never exceeded); two sidecars
// on one database pacing one backend under its per-second limit as the provider sees it; and a
// per-day limit that leaves the rest queued for tomorrow, not failed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { RateLimitStore, type SlotRequest } from '../../src/store/rate-limit-store.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, startSidecar } from '../helpers/sidecar.ts';

const backends = (value: unknown) => ({ POST_OFFICE_BACKENDS: JSON.stringify(value) });
const outbox = (rateLimit: unknown) => backends({ default: { provider: 'outbox', rate_limit: rateLimit } });

test('config: rate_limit is read for every provider kind and kept apart from its settings', () => {
  const config = loadConfig(backends({
    mail: { provider: 'postmark', server_token: 'pm-token', rate_limit: { per_second: 14, per_day: 50_000 } },
    files: { provider: 'outbox', rate_limit: { per_day: 10 } },
    slow: { provider: 'mailgun', api_key: 'key-abc', domain: 'mg.example.com', rate_limit: { per_second: 0.5 } },
    // Without a limit; also the "default" alias every configuration needs.
    default: { provider: 'outbox' },
  }));
  assert.deepEqual(config.backends.mail, {
    provider: 'postmark', server_token: 'pm-token', message_stream: 'outbound', base_url: 'https://api.postmarkapp.com',
    rate_limit: { per_second: 14, per_day: 50_000 },
  });
  assert.deepEqual(config.backends.files?.rate_limit, { per_day: 10 });
  assert.deepEqual(config.backends.slow?.rate_limit, { per_second: 0.5 });
  assert.equal(config.backends.default?.rate_limit, undefined);
  assert.ok(!('rate_limit' in config.backends.default!));
});

const rules: { rule: string; rateLimit: unknown; message: RegExp }[] = [
  { rule: 'is an object', rateLimit: 14, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit must be an object like \{"per_second": 14, "per_day": 50000\}$/ },
  { rule: 'sets at least one limit', rateLimit: {}, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit must set per_second, per_day or both$/ },
  { rule: 'has no unknown settings', rateLimit: { per_hour: 100 }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_hour is not a setting \(known: per_second, per_day\)$/ },
  { rule: 'per_second is a number', rateLimit: { per_second: 'fast' }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_second must be a number of emails per second above 0 and at most 100000 \(got "fast"\)$/ },
  { rule: 'per_second is above 0', rateLimit: { per_second: 0 }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_second must be .* \(got 0\)$/ },
  { rule: 'per_second is at most 100000', rateLimit: { per_second: 100_001 }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_second must be .*at most 100000/ },
  { rule: 'per_day is an integer', rateLimit: { per_day: 1.5 }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_day must be an integer from 1 to 1000000000 \(got 1\.5\)$/ },
  { rule: 'per_day is at least 1', rateLimit: { per_second: 14, per_day: 0 }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_day must be an integer from 1/ },
  { rule: 'per_day is not a string', rateLimit: { per_day: '5000' }, message: /^POST_OFFICE_BACKENDS\.default\.rate_limit\.per_day must be an integer .*\(got "5000"\)$/ },
];
for (const { rule, rateLimit, message } of rules) {
  test(`config rule: rate_limit ${rule}`, () => {
    assert.throws(() => loadConfig(outbox(rateLimit)), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  });
}

async function rateLimitStore(): Promise<{ store: RateLimitStore; db: pg.Client }> {
  const databaseUrl = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  defer(() => pool.end());
  return { store: new RateLimitStore(pool), db: await connect(databaseUrl) };
}

test('concurrent reservations hand out slots that never overlap and never reach past the horizon', async () => {
  const { store } = await rateLimitStore();
  const request: SlotRequest = { backend: 'ses', count: 3, intervalSeconds: 0.05, perDay: null, horizonSeconds: 1 };
  const grants = await Promise.all(Array.from({ length: 40 }, () => store.reserve(request)));
  const slots: number[] = [];
  const nows: number[] = [];
  for (const grant of grants) {
    const now = grant.firstSlotAt - grant.firstSlotMs; // the database's clock at that reservation
    nows.push(now);
    for (let k = 0; k < grant.granted; k++) {
      const slot = grant.firstSlotAt + k * 50;
      assert.ok(slot >= now - 0.001, 'no slot in the past');
      assert.ok(slot < now + 1000, 'no slot beyond the horizon');
      slots.push(slot);
    }
  }
  // 120 slots asked for at once: a second's worth (20), plus what came within the horizon as the
  // reservations went on.
  const span = Math.max(...nows) - Math.min(...nows);
  assert.ok(slots.length >= 20 && slots.length <= Math.ceil((span + 1000) / 50), `${slots.length} slots granted in ${span} ms`);
  slots.sort((a, b) => a - b);
  for (let i = 1; i < slots.length; i++) {
    assert.ok(slots[i]! - slots[i - 1]! >= 50 - 0.001, `slots ${i - 1} and ${i} are ${slots[i]! - slots[i - 1]!} ms apart`);
  }
  // Those refused are told where the line ends: past every slot given out.
  for (const grant of grants.filter((g) => g.granted < 3)) {
    assert.ok(grant.lineStart.getTime() >= Math.floor(grant.firstSlotAt + grant.granted * 50) - 1);
    assert.equal(grant.dayFull, false);
  }
});

test('concurrent reservations never exceed the day; refunds and a new UTC day give allowance back', async () => {
  const { store, db } = await rateLimitStore();
  const request: SlotRequest = { backend: 'brevo', count: 3, intervalSeconds: 0, perDay: 50, horizonSeconds: 1 };
  const grants = await Promise.all(Array.from({ length: 40 }, () => store.reserve(request)));
  assert.equal(grants.reduce((sum, grant) => sum + grant.granted, 0), 50, 'exactly the day\'s allowance');
  const { rows: [clock] } = await db.query<{ today: string }>(`SELECT (now() AT TIME ZONE 'UTC')::date::text AS today`);
  for (const grant of grants) {
    assert.equal(grant.day, clock!.today);
    assert.equal(grant.firstSlotMs, 0, 'without a per-second limit every slot is now');
    if (grant.granted < 3) {
      assert.equal(grant.dayFull, true);
      assert.equal(grant.nextDay.getTime(), Date.parse(`${grant.day}T00:00:00Z`) + 86_400_000, 'the next UTC midnight');
    }
  }

  assert.equal((await store.reserve(request)).granted, 0);
  await store.refund('brevo', grants[0]!.day, 2);
  assert.equal((await store.reserve(request)).granted, 2, 'refunded allowance is reserved again');
  await store.refund('brevo', '2000-01-01', 5);
  assert.equal((await store.reserve(request)).granted, 0, 'a refund for another day changes nothing');

  await db.query(`UPDATE backend_rate_limits SET day = day - 1 WHERE backend = 'brevo'`);
  assert.equal((await store.reserve(request)).granted, 3, 'yesterday\'s count does not hold today');
});

const email = (subject: string) => ({ from: 'a@example.com', to: 'b@example.com', subject, text: 'hi' });
const count = async (db: pg.Client, where: string) => Number((await db.query(`SELECT count(*) FROM emails WHERE ${where}`)).rows[0].count);

async function metric(adminUrl: string, pattern: RegExp): Promise<number> {
  const match = pattern.exec(await (await fetch(`${adminUrl}/metrics`)).text());
  return match === null ? 0 : Number(match[1]);
}

test('two sidecars on one database keep a backend under per_second in every one-second window', async () => {
  const provider = new MockProvider();
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const limit = 20;
  const env = {
    POST_OFFICE_BACKENDS: JSON.stringify({
      default: { provider: 'postmark', server_token: 'test-server-token', base_url: await provider.start(), rate_limit: { per_second: limit } },
    }),
    // One thread of 16 sends each: either sidecar alone could go well past the limit.
    POST_OFFICE_THREADS: '1',
  };
  const sidecars = [await startSidecar(databaseUrl, env), await startSidecar(databaseUrl, env)];
  const total = 100;
  await Promise.all(sidecars.map(async (sidecar, n) => {
    const emails = Array.from({ length: total / 2 }, (_, i) => email(`sidecar ${n} email ${i}`));
    assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  }));
  const db = await connect(databaseUrl);
  await eventually('every email to be sent', async () => (await count(db, `status = 'sent'`)) === total, 60_000);

  const subjects = provider.subjects();
  assert.equal(subjects.length, total);
  assert.equal(new Set(subjects).size, total, 'no email was sent twice');
  assert.equal(await count(db, `status <> 'sent'`), 0, 'nothing failed or is left');
  const attempts = (await db.query('SELECT DISTINCT attempts FROM emails')).rows.map((row) => row.attempts);
  assert.deepEqual(attempts, [1], 'waiting for a slot spent no attempt');

  // Every window [at, at + 1 s) that starts at a request, as the provider saw them.
  const arrivals = provider.requests.map((request) => request.at).sort((a, b) => a - b);
  const windows = arrivals.map((start, i) => arrivals.slice(i).filter((at) => at < start + 1000).length);
  const busiest = Math.max(...windows);
  assert.ok(busiest <= limit, `${busiest} requests within one second (limit ${limit}); per window: ${windows.join(',')}`);
  // The limit, not something else, set the pace: the busiest second came close to it.
  assert.ok(busiest >= limit * 0.75, `the busiest second had only ${busiest} requests`);

  // Both sidecars sent, so the limit held across them, and both held emails back.
  for (const sidecar of sidecars) {
    assert.ok(await metric(sidecar.adminUrl, /^postoffice_emails_finished_total\{backend="default",status="sent"\} (\d+)$/m) > 0);
  }
  const heldBack = await Promise.all(sidecars.map((sidecar) => metric(sidecar.adminUrl, /^postoffice_backend_rate_limited_total\{backend="default"\} (\d+)$/m)));
  assert.ok(heldBack[0]! + heldBack[1]! > 0, 'emails were held back by the limit');
});

test('per_day: what is over the day waits in the queue for the next UTC day, not failed', async () => {
  const provider = new MockProvider();
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({
      default: { provider: 'postmark', server_token: 'test-server-token', base_url: await provider.start(), rate_limit: { per_day: 5 } },
    }),
    POST_OFFICE_THREADS: '1',
  });
  const emails = Array.from({ length: 8 }, (_, i) => email(`email ${i}`));
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);

  const db = await connect(databaseUrl);
  const tomorrow = `((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'`;
  await eventually('5 sent and 3 queued for tomorrow', async () =>
    (await count(db, `status = 'sent'`)) === 5 && (await count(db, `status = 'queued' AND run_at = ${tomorrow}`)) === 3);
  assert.equal(provider.requests.length, 5);
  assert.equal(await count(db, `status IN ('failed', 'expired', 'sending')`), 0);
  assert.equal(await count(db, `status = 'queued' AND attempts = 0`), 3, 'the waiting emails spent no attempt');
  assert.equal(await metric(sidecar.adminUrl, /^postoffice_backend_rate_limited_total\{backend="default"\} (\d+)$/m), 3);
  const { rows: [usage] } = await db.query(`SELECT day_used FROM backend_rate_limits WHERE backend = 'default'`);
  assert.equal(usage.day_used, 5);
});

test('stopping a sidecar returns emails waiting for a slot to the queue, their allowance refunded', async () => {
  const provider = new MockProvider();
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, {
    POST_OFFICE_BACKENDS: JSON.stringify({
      // One email every ~2 s: after the first, the next slot is reserved up to a second ahead.
      default: { provider: 'postmark', server_token: 'test-server-token', base_url: await provider.start(), rate_limit: { per_second: 0.5, per_day: 100 } },
    }),
    POST_OFFICE_THREADS: '1',
  });
  const emails = Array.from({ length: 5 }, (_, i) => email(`email ${i}`));
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  const db = await connect(databaseUrl);
  await eventually('one email sent and the next one holding a slot', async () =>
    (await count(db, `status = 'sent'`)) === 1 && (await count(db, `status = 'sending'`)) === 1);

  await sidecar.stop();
  const sent = await count(db, `status = 'sent'`);
  assert.equal(provider.requests.length, sent);
  assert.equal(await count(db, `status = 'sending'`), 0, 'nothing is left leased');
  assert.equal(await count(db, `status = 'queued' AND attempts = 0`), 5 - sent, 'the rest wait, attempts unspent');
  const { rows: [usage] } = await db.query(`SELECT day_used FROM backend_rate_limits WHERE backend = 'default'`);
  assert.equal(usage.day_used, sent, 'the day counts only what was sent');
});
