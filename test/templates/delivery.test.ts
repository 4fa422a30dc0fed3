// render_on_delivery end to end: the dispatcher reads the stored template with the claim, the
// worker thread renders it just before the provider call, and a template that cannot be
// rendered (or no longer exists) fails the email permanently, logged, without calling the provider.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

type Json = Record<string, unknown>;
type Email = { status: string; subject: string; attempts: number; last_error: string | null; logs: { attempt: number; status: string; code: string | null; message: string | null }[] };

const provider = new MockProvider();
defer(() => provider.stop());
const sidecar = await startSidecar(await createTestDatabase(), { POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()), POST_OFFICE_THREADS: '1' });

async function putTemplate(name: string, body: Json, language = ''): Promise<void> {
  const response = await fetch(`${sidecar.apiUrl}/v1/templates/${name}?language=${language}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.ok(response.status === 200 || response.status === 201, `PUT ${name}: ${response.status} ${await response.text()}`);
}

async function send(to: string, email: Json): Promise<string> {
  const response = await postJson(`${sidecar.apiUrl}/v1/emails`, { from: 'shop@example.com', to, render_on_delivery: true, ...email });
  assert.equal(response.status, 202, JSON.stringify(response.body));
  return String(response.body.id);
}

async function settled(id: string): Promise<Email> {
  let email: Email | undefined;
  await eventually(`email ${id} to settle`, async () => {
    email = (await (await fetch(`${sidecar.apiUrl}/v1/emails/${id}`)).json()) as Email;
    return email.status !== 'queued' && email.status !== 'sending';
  });
  return email!;
}

/** What the provider received for one recipient (each test uses its own). */
const deliveredTo = (to: string) =>
  provider.requests.filter((request) => request.body.includes(to)).map((request) => JSON.parse(request.body) as Json);

const soon = () => new Date(Date.now() + 1500).toISOString();

test('the worker renders the translation at delivery, escaping the HTML and making the text part', async () => {
  await putTemplate('welcome', { subject: 'Welcome, {{ user.name }}', html: '<p>Hi {{ user.name }}</p>' });
  await putTemplate('welcome', { subject: 'Willkommen, {{ user.name }}', html: '<p>Hallo {{ user.name }}</p>' }, 'de');
  const id = await send('ok@example.com', { template: 'welcome', language: 'de', context: { user: { name: '<Bob>' } } });
  const email = await settled(id);
  assert.equal(email.status, 'sent', JSON.stringify(email.logs));
  const [request] = deliveredTo('ok@example.com');
  assert.deepEqual([request?.Subject, request?.HtmlBody, request?.TextBody], ['Willkommen, <Bob>', '<p>Hallo &lt;Bob&gt;</p>', 'Hallo <Bob>']);
  assert.equal(email.subject, 'Willkommen, <Bob>', 'GET shows the subject it was sent with, not the empty one stored at enqueue');
});

test('the template is rendered as it is at delivery, not at enqueue', async () => {
  await putTemplate('notice', { subject: 'Old {{ n }}', text: 'old' });
  const id = await send('changed@example.com', { template: 'notice', context: { n: 1 }, scheduled_at: soon() });
  await putTemplate('notice', { subject: 'New {{ n }}', text: 'new' });
  assert.equal((await settled(id)).status, 'sent');
  assert.deepEqual(deliveredTo('changed@example.com').map((request) => request.Subject), ['New 1']);
});

test('a render failure at delivery fails the email permanently, logs why, and never calls the provider', async () => {
  await putTemplate('strict', { subject: 'Hi {{ user.name }}', text: 'x', strict_variables: true });
  const email = await settled(await send('fails@example.com', { template: 'strict', context: { user: {} } }));
  assert.equal(email.status, 'failed');
  assert.equal(email.attempts, 1);
  const last = email.logs.at(-1);
  assert.equal(last?.code, 'TEMPLATE_RENDER_FAILED');
  assert.equal(last?.message, "template 'strict' (default language): undefined variable: user.name (in subject, line 1, column 7)");
  assert.equal(email.last_error, last?.message);
  assert.equal(deliveredTo('fails@example.com').length, 0);
});

test('a template deleted before delivery fails the email permanently as UNKNOWN_TEMPLATE', async () => {
  await putTemplate('doomed', { subject: 'Hi', text: 'x' });
  const id = await send('deleted@example.com', { template: 'doomed', language: 'de', scheduled_at: soon() });
  assert.equal((await fetch(`${sidecar.apiUrl}/v1/templates/doomed`, { method: 'DELETE' })).status, 204);
  const email = await settled(id);
  assert.equal(email.status, 'failed');
  assert.deepEqual([email.logs.at(-1)?.code, email.logs.at(-1)?.message],
    ['UNKNOWN_TEMPLATE', "template 'doomed' no longer exists in 'de' or the default language"]);
  assert.equal(deliveredTo('deleted@example.com').length, 0);
});
