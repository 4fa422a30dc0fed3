// The webhook listener and what the events do, through a real sidecar with a Postmark backend:
// routing and refusals, unmatched events, the order of a recipient's statuses, partial
// suppression at send time, the suppression list API, the list filter and the metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { defer } from '../helpers/cleanup.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, startSidecar } from '../helpers/sidecar.ts';

const databaseUrl = await createTestDatabase();
const db = await connect(databaseUrl);
const mock = new MockProvider();
const base = await mock.start();
defer(() => mock.stop());
const sidecar = await startSidecar(databaseUrl, {
  POST_OFFICE_BACKENDS: JSON.stringify({
    default: { provider: 'postmark', server_token: 'server-token-0123456789', base_url: base, webhook: { username: 'hooks', password: 'hook-password-0123456789' } },
    plain: { provider: 'postmark', server_token: 'server-token-0123456789', base_url: base },
  }),
});
const hooks = `${sidecar.webhookUrl}/webhooks/default`;
const auth = { authorization: `Basic ${Buffer.from('hooks:hook-password-0123456789').toString('base64')}`, 'content-type': 'application/json' };
const api = (path: string, init?: RequestInit) => fetch(`${sidecar.apiUrl}${path}`, init);

async function webhook(record: Record<string, unknown>, url = hooks) {
  const response = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(record) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sends one email and returns its id and Postmark message id once it is sent. */
async function sentEmail(to: string[]): Promise<{ id: string; messageId: string }> {
  const { body } = await postJson(`${sidecar.apiUrl}/v1/emails`, { from: 'app@example.com', to, subject: 'hi', text: 'hi' });
  const id = String(body.id);
  let messageId = '';
  await eventually('the email is sent', async () => {
    const email = (await (await api(`/v1/emails/${id}`)).json()) as { status: string; provider_message_id: string };
    messageId = email.provider_message_id;
    return email.status === 'sent';
  });
  return { id, messageId };
}

const recipients = async (id: string) =>
  ((await (await api(`/v1/emails/${id}`)).json()) as { recipients: { address: string; status: string }[] }).recipients.map((r) => [r.address, r.status]);

test('an alias that is unknown or has no webhook settings answers 404; other routes too', async () => {
  assert.equal((await webhook({}, `${sidecar.webhookUrl}/webhooks/nope`)).status, 404);
  assert.equal((await webhook({}, `${sidecar.webhookUrl}/webhooks/plain`)).status, 404);
  assert.equal((await fetch(`${sidecar.webhookUrl}/v1/emails`)).status, 404);
  // Mandrill checks the URL with HEAD when the webhook is saved, Unisender Go with GET.
  assert.equal((await fetch(hooks, { method: 'HEAD' })).status, 200);
  assert.equal((await fetch(hooks)).status, 200);
  assert.equal((await fetch(`${sidecar.webhookUrl}/webhooks/plain`, { method: 'HEAD' })).status, 404);
});

test('a malformed body with good credentials answers 400 and stores nothing; bad credentials 401', async () => {
  const bad = await fetch(hooks, { method: 'POST', headers: auth, body: 'not json' });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /^body: /);
  assert.equal((await webhook({ RecordType: 'Delivery', Recipient: 'a@example.com' })).status, 400, 'MessageID missing');
  const unauthorized = await fetch(hooks, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(unauthorized.status, 401);
  assert.equal(Number((await db.query('SELECT count(*) FROM delivery_events')).rows[0].count), 0);
});

test('an event for an unknown message is stored unmatched and counted, not an error', async () => {
  const reply = await webhook({ RecordType: 'Delivery', MessageID: 'not-ours', Recipient: 'x@example.com', DeliveredAt: '2026-11-05T16:33:54Z' });
  assert.equal(reply.status, 200);
  const row = await db.query("SELECT email_id FROM delivery_events WHERE provider_message_id = 'not-ours'");
  assert.equal(row.rows[0].email_id, null);
  const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  assert.match(metrics, /postoffice_webhook_events_total\{backend="default",result="unmatched"\} 1/);
  assert.match(metrics, /postoffice_webhook_requests_total\{backend="default",result="unauthorized"\} [1-9]/);
});

test("a recipient's status moves forward only: delivered after deferred, a late delivered never hides a bounce", async () => {
  const { id, messageId } = await sentEmail(['one@example.com', 'Two <two@example.com>']);
  const delivery = (recipient: string, at: string) => ({ RecordType: 'Delivery', MessageID: messageId, Recipient: recipient, DeliveredAt: at });
  const bounce = (recipient: string, type: string, bouncedId: number, at: string) => ({
    RecordType: 'Bounce', ID: bouncedId, Type: type, MessageID: messageId, Email: recipient, BouncedAt: at, Description: 'mailbox says no',
  });
  assert.equal((await webhook(bounce('one@example.com', 'Transient', 1, '2026-11-05T10:00:00Z'))).status, 200);
  assert.deepEqual(await recipients(id), [['one@example.com', 'deferred'], ['two@example.com', 'sent']]);
  assert.equal((await webhook(delivery('one@example.com', '2026-11-05T10:05:00Z'))).status, 200);
  assert.equal((await webhook(bounce('two@example.com', 'HardBounce', 2, '2026-11-05T10:01:00Z'))).status, 200);
  assert.equal((await webhook(delivery('two@example.com', '2026-11-05T10:02:00Z'))).status, 200);
  assert.deepEqual(await recipients(id), [['one@example.com', 'delivered'], ['two@example.com', 'bounced']]);
  // Each event is a log entry of the email.
  const logs = ((await (await api(`/v1/emails/${id}`)).json()) as { logs: { status: string; message: string }[] }).logs;
  assert.deepEqual(logs.filter((log) => log.status !== 'sent').map((log) => log.status), ['deferred', 'delivered', 'bounced', 'delivered']);
  assert.match(logs.find((log) => log.status === 'bounced')!.message, /^two@example\.com \(hard bounce\): mailbox says no$/);
  // Only the hard bounce suppresses; the list filter finds the email by its bounced recipient.
  assert.equal((await api('/v1/suppressions/one@example.com')).status, 404);
  assert.equal((await api('/v1/suppressions/two@example.com')).status, 200);
  const listed = (await (await api('/v1/emails?recipient_status=bounced')).json()) as { emails: { id: string }[] };
  assert.deepEqual(listed.emails.map((email) => email.id), [id]);
  assert.equal((await api('/v1/emails?recipient_status=nonsense')).status, 400);
});

test('a suppressed recipient is dropped from an email that has others: they alone get it', async () => {
  const put = await api('/v1/suppressions/Dropped@Example.com', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"detail":"asked us"}' });
  assert.equal(put.status, 201);
  const before = mock.requests.length;
  const { id } = await sentEmail(['kept@example.com', 'Dropped <dropped@example.com>']);
  const request = mock.requests.slice(before).find((r) => r.body.includes('kept@example.com'));
  assert.ok(request);
  assert.equal(JSON.parse(request.body).To, 'kept@example.com');
  assert.deepEqual(await recipients(id), [['kept@example.com', 'sent'], ['dropped@example.com', 'suppressed']]);
  const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  assert.match(metrics, /postoffice_recipients_suppressed_total\{backend="default"\} 1/);
});

test('the suppression list API: put, get, list by cursor, delete; addresses checked', async () => {
  const json = { 'content-type': 'application/json' };
  for (const address of ['a1@example.com', 'a2@example.com', 'a3@example.com']) {
    assert.equal((await api(`/v1/suppressions/${address}`, { method: 'PUT', headers: json, body: '{}' })).status, 201);
  }
  const again = await api('/v1/suppressions/a1@example.com', { method: 'PUT', headers: json, body: '{"reason":"complained"}' });
  assert.equal(again.status, 200);
  assert.equal(((await again.json()) as { reason: string }).reason, 'complained');
  const first = (await (await api('/v1/suppressions?limit=2')).json()) as { suppressions: { address: string }[]; next_cursor: string };
  assert.deepEqual(first.suppressions.map((s) => s.address), ['a1@example.com', 'a2@example.com']);
  const rest = (await (await api(`/v1/suppressions?limit=100&cursor=${first.next_cursor}`)).json()) as { suppressions: { address: string }[]; next_cursor: null };
  assert.equal(rest.suppressions[0]!.address, 'a3@example.com');
  assert.equal(rest.next_cursor, null);
  assert.equal((await api('/v1/suppressions/a2@example.com', { method: 'DELETE' })).status, 204);
  assert.equal((await api('/v1/suppressions/a2@example.com', { method: 'DELETE' })).status, 404);
  const invalid = await api('/v1/suppressions/not-an-address', { method: 'PUT', headers: json, body: '{}' });
  assert.equal(invalid.status, 400);
  assert.match(((await invalid.json()) as { message: string }).message, /^address: /);
  assert.equal((await api('/v1/suppressions/a3@example.com', { method: 'PUT', headers: json, body: '{"reason":"whim"}' })).status, 400);
});
