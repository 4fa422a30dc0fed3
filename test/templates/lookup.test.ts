// Templates are read in bulk: a request (one email or a batch) reads its distinct templates in
// one query, a request without templates reads none, and a claim brings the templates of the
// emails that render on delivery in one more query, with the language fallback applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { validateEmail, type EmailRequest } from '../../src/email/validate.ts';
import { QueueStore } from '../../src/store/store.ts';
import { applyTemplates } from '../../src/enqueue/templates.ts';
import { inlineRenderer } from '../../src/templates/renderer.ts';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';

const pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2 });
defer(() => pool.end());
// Counts the statements sent, to show how many round trips each step costs.
let queries = 0;
const query = pool.query.bind(pool);
pool.query = ((...args: Parameters<typeof query>) => {
  queries++;
  return query(...args);
}) as typeof pool.query;
const store = new QueueStore(pool);

const base = { name: '', language: '', description: null, text: 'x', html: null, example_context: null, strict_variables: true, text_from_html: true, inline_css: false };
await store.templates.put({ ...base, name: 'welcome', subject: 'Welcome {{ n }}' });
await store.templates.put({ ...base, name: 'welcome', language: 'de', subject: 'Willkommen {{ n }}' });
await store.templates.put({ ...base, name: 'receipt', subject: 'Receipt {{ n }}' });

const validation = { defaultFrom: 'shop@example.com', backends: ['default'] };
const items = (bodies: EmailRequest[]) =>
  bodies.map((body, index) => ({ email: validateEmail({ to: 'bob@example.com', ...body }, validation, `emails[${index}].`), prefix: `emails[${index}].` }));

async function counted<T>(run: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const before = queries;
  const result = await run();
  return { result, queries: queries - before };
}

test('a batch reads each distinct template once, in one query', async () => {
  const bodies: EmailRequest[] = Array.from({ length: 300 }, (_, n) => ({
    template: ['welcome', 'receipt'][n % 2], language: ['de', 'fr', ''][n % 3], context: { n },
  }));
  const { result: emails, queries: used } = await counted(() => applyTemplates(items(bodies), store.templates, inlineRenderer));
  assert.equal(used, 1);
  assert.equal(emails[0]?.message.subject, 'Willkommen 0', 'welcome in de');
  assert.equal(emails[1]?.message.subject, 'Receipt 1', 'receipt has no fr: the default');
  assert.equal(emails[3]?.message.subject, 'Receipt 3', 'receipt has no de: the default');
  assert.equal(emails[4]?.message.subject, 'Welcome 4', 'welcome has no fr: the default');
});

test('emails without a template cost no query', async () => {
  const { queries: used } = await counted(() => applyTemplates(items([{ subject: 'a', text: 'b' }, { subject: 'c', html: 'd' }]), store.templates, inlineRenderer));
  assert.equal(used, 0);
});

test('a claim brings the templates of emails rendered on delivery, in one more query', async () => {
  const bodies: EmailRequest[] = [
    { template: 'welcome', language: 'de', context: { n: 1 }, render_on_delivery: true },
    { template: 'welcome', language: 'it', context: { n: 2 }, render_on_delivery: true },
    { template: 'receipt', context: { n: 3 }, render_on_delivery: true },
    { subject: 'plain', text: 'plain' },
  ];
  await store.insertEmails(await applyTemplates(items(bodies), store.templates, inlineRenderer), 3);
  const { result: claimed, queries: used } = await counted(() => store.leases.claim('tester', 10, 60));
  assert.equal(used, 2, 'the claim and one template query (no attachments)');
  const bySubjectOrTemplate = new Map(claimed.map((email) => [email.message.template?.context.n ?? email.message.subject, email]));
  assert.deepEqual([bySubjectOrTemplate.get(1)?.template?.language, bySubjectOrTemplate.get(1)?.template?.subject], ['de', 'Willkommen {{ n }}']);
  assert.deepEqual([bySubjectOrTemplate.get(2)?.template?.language, bySubjectOrTemplate.get(2)?.template?.subject], ['', 'Welcome {{ n }}']);
  assert.equal(bySubjectOrTemplate.get(3)?.template?.name, 'receipt');
  assert.equal(bySubjectOrTemplate.get('plain')?.template, undefined);
  const plainClaim = await counted(() => store.leases.claim('tester', 10, 60));
  assert.equal(plainClaim.queries, 1, 'nothing left: a claim without templates reads none');
});

test('a template changed since the claim comes with a new version, so workers re-parse it', async () => {
  const [first] = (await store.templates.resolve([{ name: 'receipt', language: '' }])).values();
  await store.templates.put({ ...base, name: 'receipt', subject: 'Your receipt {{ n }}' });
  const [second] = (await store.templates.resolve([{ name: 'receipt', language: '' }])).values();
  assert.notEqual(first?.version, second?.version);
  assert.equal(second?.subject, 'Your receipt {{ n }}');
});
