// Events to the application end to end: a real sidecar, real PostgreSQL and a local HTTP server
// as the app. Events arrive signed and in order per email; a 500 gets the event again; a restart
// loses none; two sidecars keep one email's order; with the URL unset nothing is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyEvent } from '../../clients/node/src/index.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { EventsApp, type EventScript, type ReceivedEvent } from '../helpers/events-app.ts';
import { MockProvider, accept } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

const SECRET = 'whsec-test-0123456789abcdef';

async function setUp(script?: EventScript) {
  const databaseUrl = await createTestDatabase();
  const provider = new MockProvider();
  defer(() => provider.stop());
  const app = new EventsApp(script);
  defer(() => app.stop());
  const env = {
    POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()),
    POST_OFFICE_EVENTS_URL: await app.start(),
    POST_OFFICE_EVENTS_SECRET: SECRET,
    POST_OFFICE_RETRY_BASE_SECONDS: '0.05',
    POST_OFFICE_POLL_SECONDS: '0.1',
  };
  return { databaseUrl, provider, app, env, db: await connect(databaseUrl) };
}

const email = (subject: string, extra: Record<string, unknown> = {}) => ({ from: 'a@example.com', to: 'b@example.com', subject, text: 'hi', ...extra });

/** The delivered events of each email, in the order the app took them. */
function byEmail(events: ReceivedEvent['event'][]): Map<string, ReceivedEvent['event'][]> {
  const map = new Map<string, ReceivedEvent['event'][]>();
  for (const event of events) map.set(event.email_id, [...(map.get(event.email_id) ?? []), event]);
  return map;
}

test('status changes arrive signed, with the contract payload, in order per email', async () => {
  const { databaseUrl, provider, app, env, db } = await setUp();
  // "retry me" fails once retryably, "refuse me" permanently; the rest are accepted.
  const seen = new Map<string, number>();
  provider.script = (request, index) => {
    const subject = String((JSON.parse(request.body) as { Subject: string }).Subject);
    seen.set(subject, (seen.get(subject) ?? 0) + 1);
    if (subject === 'refuse me') return { status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } };
    if (subject === 'retry me' && seen.get(subject) === 1) return { status: 503, body: { Message: 'busy' } };
    return accept(request, index);
  };
  const service = await startSidecar(databaseUrl, env);
  const sent = (await postJson(`${service.apiUrl}/v1/emails`, email('hello'))).body.id as string;
  const retried = (await postJson(`${service.apiUrl}/v1/emails`, email('retry me'))).body.id as string;
  const refused = (await postJson(`${service.apiUrl}/v1/emails`, email('refuse me'))).body.id as string;
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const cancelled = (await postJson(`${service.apiUrl}/v1/emails`, email('cancel me', { scheduled_at: later }))).body.id as string;
  assert.equal((await postJson(`${service.apiUrl}/v1/emails/${cancelled}/cancel`, {})).status, 200);

  await eventually('five events', () => app.delivered().length >= 5);
  for (const received of app.received) {
    assert.equal(received.headers['content-type'], 'application/json');
    assert.match(String(received.headers['user-agent']), /^post-office\/\d+\.\d+\.\d+/);
    assert.equal(received.headers['post-office-event-id'], String(received.event.id));
    assert.match(String(received.headers['post-office-signature']), /^t=\d+, v1=[0-9a-f]{64}$/);
    assert.deepEqual(verifyEvent(received.body, String(received.headers['post-office-signature']), SECRET), received.event);
    assert.throws(() => verifyEvent(received.body, String(received.headers['post-office-signature']), 'another-secret-0123456789'), /does not match/);
  }
  const events = byEmail(app.delivered());
  const sentEvent = events.get(sent)![0]!;
  assert.deepEqual(Object.keys(sentEvent).slice(0, 4), ['id', 'type', 'email_id', 'at']);
  assert.equal(sentEvent.type, 'email.sent');
  assert.equal(sentEvent.status, 'sent');
  assert.equal(sentEvent.backend, 'default');
  assert.equal(sentEvent.attempt, 1);
  assert.equal(sentEvent.code, null);
  assert.match(String(sentEvent.provider_message_id), /^mock-/);
  assert.ok(Math.abs(Date.parse(String(sentEvent.at)) - Date.now()) < 60_000, `at is ${String(sentEvent.at)}`);
  assert.match(String(sentEvent.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(events.get(retried)!.map((e) => [e.type, e.status, e.attempt]), [['email.retrying', 'queued', 1], ['email.sent', 'sent', 2]]);
  assert.ok(events.get(retried)![0]!.id < events.get(retried)![1]!.id);
  assert.deepEqual(events.get(refused)!.map((e) => [e.type, e.status]), [['email.failed', 'failed']]);
  assert.deepEqual(events.get(cancelled)!.map((e) => [e.type, e.code]), [['email.cancelled', 'CANCELLED']]);

  // Requeued, it is sent on its way again: requeued comes before the new outcome.
  assert.equal((await postJson(`${service.apiUrl}/v1/emails/${cancelled}/requeue`, {})).status, 200);
  await eventually('the requeue event', () => (byEmail(app.delivered()).get(cancelled)?.length ?? 0) >= 2);
  assert.deepEqual(byEmail(app.delivered()).get(cancelled)!.map((e) => e.type), ['email.cancelled', 'email.requeued']);
  await eventually('no event left', async () => Number((await db.query('SELECT count(*) FROM app_events')).rows[0].count) === 0);
  const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text();
  assert.match(metrics, /postoffice_app_events_total\{result="delivered"\} [6-9]/);
  assert.match(metrics, /postoffice_app_events_pending 0/);
});

test('an app answering 500 gets the event again until it answers 200 (at least once)', async () => {
  const attempts = new Map<number, number>();
  const { databaseUrl, app, env, db } = await setUp((received) => {
    const count = (attempts.get(received.event.id) ?? 0) + 1;
    attempts.set(received.event.id, count);
    return { status: count <= 2 ? 500 : 200 };
  });
  const service = await startSidecar(databaseUrl, env);
  const first = (await postJson(`${service.apiUrl}/v1/emails`, email('one'))).body.id as string;
  await eventually('the third try to be taken', () => app.delivered().length === 1, 30_000);
  const tries = app.received.filter((r) => r.event.email_id === first);
  assert.deepEqual(tries.map((r) => r.answered), [500, 500, 200]);
  assert.ok(tries.every((r) => r.body === tries[0]!.body), 'each try carries the same event');
  // The app answered; the sender deletes the row once the answer reaches it.
  await eventually('the delivered event to be deleted', async () => Number((await db.query('SELECT count(*) FROM app_events')).rows[0].count) === 0);
  const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text();
  assert.match(metrics, /postoffice_app_events_total\{result="failed"\} 2\n/);
  assert.match(metrics, /postoffice_app_events_total\{result="delivered"\} 1\n/);
});

test('a sidecar stopped with events pending loses none: the next one on the database sends them', async () => {
  const EMAILS = 60;
  // 8 POSTs in flight at 300 ms each: the 60 events take over 2 s, the stop comes before.
  const { databaseUrl, app, env, db } = await setUp(() => ({ status: 200, delayMs: 300 }));
  const short = { ...env, POST_OFFICE_SHUTDOWN_GRACE_SECONDS: '0.2' };
  const first = await startSidecar(databaseUrl, short);
  const emails = Array.from({ length: EMAILS }, (_, i) => email(`email ${i}`));
  assert.equal((await postJson(`${first.apiUrl}/v1/emails/batch`, { emails })).status, 202);
  await eventually('every email to be sent', async () => Number((await db.query("SELECT count(*) FROM emails WHERE status = 'sent'")).rows[0].count) === EMAILS);
  await eventually('some events to arrive', () => app.delivered().length > 0);
  await first.stop();
  const pending = Number((await db.query('SELECT count(*) FROM app_events').then((r) => r.rows[0].count)));
  assert.ok(pending > 0, 'the stop left events to send');
  assert.equal(Number((await db.query('SELECT count(*) FROM app_events WHERE locked_by IS NOT NULL')).rows[0].count), 0, 'every lease was released');

  await startSidecar(databaseUrl, env);
  await eventually('every email to have its event', () => new Set(app.delivered().map((e) => e.email_id)).size === EMAILS, 30_000);
  assert.deepEqual([...new Set(app.delivered().map((e) => e.type))], ['email.sent']);
  await eventually('the table to be empty', async () => Number((await db.query('SELECT count(*) FROM app_events')).rows[0].count) === 0);
});

test('two sidecars send each email\'s events in id order', async () => {
  const EMAILS = 12;
  const PER_EMAIL = 8;
  // Random delays let a later event overtake an earlier one, were they ever sent together.
  const { databaseUrl, app, env, db } = await setUp(() => ({ status: 200, delayMs: Math.floor(Math.random() * 15) }));
  await db.query(
    `INSERT INTO app_events (email_id, payload)
     SELECT e.id, jsonb_build_object('type', 'email.retrying', 'email_id', e.id, 'at', now(), 'status', 'queued', 'attempt', n)
     FROM generate_series(1, $2) AS n, (SELECT gen_random_uuid() AS id FROM generate_series(1, $1)) AS e
     ORDER BY n, e.id`,
    [EMAILS, PER_EMAIL],
  );
  await Promise.all([startSidecar(databaseUrl, env), startSidecar(databaseUrl, env)]);
  await eventually('every event', () => app.delivered().length === EMAILS * PER_EMAIL, 30_000);
  const events = byEmail(app.delivered());
  assert.equal(events.size, EMAILS);
  for (const [emailId, list] of events) {
    assert.deepEqual(list.map((e) => e.attempt), Array.from({ length: PER_EMAIL }, (_, i) => i + 1), `the events of ${emailId} in order`);
  }
  assert.equal(app.received.length, EMAILS * PER_EMAIL, 'none was sent twice');
});

test('with POST_OFFICE_EVENTS_URL unset no event row is written', async () => {
  const { databaseUrl, env, db } = await setUp();
  const off: Record<string, string> = { ...env };
  delete off.POST_OFFICE_EVENTS_URL;
  delete off.POST_OFFICE_EVENTS_SECRET;
  const service = await startSidecar(databaseUrl, off);
  await postJson(`${service.apiUrl}/v1/emails`, email('sent'));
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const cancelled = (await postJson(`${service.apiUrl}/v1/emails`, email('cancelled', { scheduled_at: later }))).body.id as string;
  assert.equal((await postJson(`${service.apiUrl}/v1/emails/${cancelled}/cancel`, {})).status, 200);
  assert.equal((await postJson(`${service.apiUrl}/v1/emails/${cancelled}/requeue`, {})).status, 200);
  await eventually('the email to be sent', async () => Number((await db.query("SELECT count(*) FROM emails WHERE status = 'sent'")).rows[0].count) === 1);
  assert.equal(Number((await db.query('SELECT count(*) FROM app_events')).rows[0].count), 0);
  assert.doesNotMatch(await (await fetch(`${service.adminUrl}/metrics`)).text(), /postoffice_app_events/);
});

test("a provider's bounce reaches the app as recipient.bounced, after the email's own events", async () => {
  const { databaseUrl, app, env } = await setUp();
  const { default: backend } = JSON.parse(env.POST_OFFICE_BACKENDS) as { default: Record<string, unknown> };
  const service = await startSidecar(databaseUrl, {
    ...env,
    POST_OFFICE_BACKENDS: JSON.stringify({ default: { ...backend, webhook: { username: 'hooks', password: 'hook-password-0123456789' } } }),
  });
  const id = (await postJson(`${service.apiUrl}/v1/emails`, email('bounce me', { to: 'Gone <gone@example.com>' }))).body.id as string;
  await eventually('the sent event', () => app.delivered().some((event) => event.email_id === id && event.type === 'email.sent'));
  const messageId = app.delivered().find((event) => event.email_id === id)!.provider_message_id as string;
  const bounce = await fetch(`${service.webhookUrl}/webhooks/default`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('hooks:hook-password-0123456789').toString('base64')}` },
    body: JSON.stringify({ RecordType: 'Bounce', ID: 42, Type: 'HardBounce', MessageID: messageId, Email: 'gone@example.com', BouncedAt: '2026-11-05T16:33:54Z', Description: 'no such user' }),
  });
  assert.equal(bounce.status, 200);
  await eventually('the bounce event', () => app.delivered().some((event) => event.email_id === id && event.type === 'recipient.bounced'));
  const events = app.delivered().filter((event) => event.email_id === id);
  assert.deepEqual(events.map((event) => event.type), ['email.sent', 'recipient.bounced']);
  const bounced = events[1]!;
  assert.deepEqual(
    [bounced.recipient, bounced.event, bounced.bounce, bounced.status, bounced.backend, bounced.code, bounced.message, bounced.at],
    ['gone@example.com', 'bounced', 'hard', 'bounced', 'default', 'HardBounce', 'no such user', '2026-11-05T16:33:54.000Z'],
  );
});
