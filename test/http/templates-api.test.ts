// Stored templates over HTTP: create, replace, read, delete and list; syntax errors with line and
// column; preview with a given and the example context; and enqueue with a template — rendered at
// enqueue (translations and fallback, escaping, strict variables, batches, errors that store
// nothing) or kept for delivery. An enqueue-only sidecar, so nothing changes behind a test's back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { connect, startSidecar } from '../helpers/sidecar.ts';

type Json = Record<string, unknown>;

const databaseUrl = await createTestDatabase();
const sidecar = await startSidecar(databaseUrl, { POST_OFFICE_DISPATCHER: 'off' });
const db = await connect(databaseUrl);

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sidecar.apiUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as Json };
}

const put = (name: string, body: Json, query = '') => call('PUT', `/v1/templates/${name}${query}`, body);
const enqueue = (email: Json) => call('POST', '/v1/emails', { from: 'shop@example.com', to: 'bob@example.com', ...email });

async function storedMessage(id: unknown): Promise<Json> {
  const { rows } = await db.query<{ message: Json }>('SELECT message FROM emails WHERE id = $1', [id]);
  assert.ok(rows[0], `email ${String(id)} is stored`);
  return rows[0].message;
}

const count = async (table: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

test('PUT creates (201) then replaces (200) a template; GET returns it', async () => {
  const created = await put('receipt', { subject: 'Receipt {{ order }}', text: 'Thanks for order {{ order }}', description: 'after payment' });
  assert.equal(created.status, 201);
  assert.deepEqual({ ...created.body, created_at: undefined, updated_at: undefined }, {
    name: 'receipt', language: '', description: 'after payment', subject: 'Receipt {{ order }}', text: 'Thanks for order {{ order }}',
    html: null, example_context: null, strict_variables: false, text_from_html: true, inline_css: false, created_at: undefined, updated_at: undefined,
  });
  const replaced = await put('receipt', { subject: 'Your receipt', html: '<p>{{ order }}</p>', inline_css: true, example_context: { order: 7 } });
  assert.equal(replaced.status, 200);
  assert.equal(replaced.body.text, null, 'PUT replaces the whole template');
  assert.equal(replaced.body.created_at, created.body.created_at);
  assert.ok(String(replaced.body.updated_at) > String(created.body.updated_at));
  const read = await call('GET', '/v1/templates/receipt');
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, replaced.body);
});

test('a translation is its own row: language in the body or the query, listed with the name', async () => {
  assert.equal((await put('invoice', { subject: 'Invoice', text: 'Invoice' })).status, 201);
  assert.equal((await put('invoice', { subject: 'Rechnung', text: 'Rechnung', language: 'de' })).status, 201);
  assert.equal((await put('invoice', { subject: 'Facture', text: 'Facture' }, '?language=fr')).status, 201);
  assert.equal((await call('GET', '/v1/templates/invoice?language=de')).body.subject, 'Rechnung');
  assert.equal((await call('GET', '/v1/templates/invoice?language=fr')).body.subject, 'Facture');
  assert.equal((await call('GET', '/v1/templates/invoice')).body.subject, 'Invoice');
  const conflict = await put('invoice', { subject: 'x', text: 'x', language: 'de' }, '?language=fr');
  assert.deepEqual([conflict.status, conflict.body.code, conflict.body.message], [400, 'VALIDATION_FAILED', "language: the query says 'fr' and the body 'de'"]);
  const list = await call('GET', '/v1/templates');
  const invoice = (list.body.templates as Json[]).find((entry) => entry.name === 'invoice');
  assert.deepEqual(invoice?.languages, ['', 'de', 'fr']);
});

test('DELETE removes one language (204), then answers 404; GET of a missing template is 404', async () => {
  await put('farewell', { subject: 'Bye', text: 'Bye' });
  await put('farewell', { subject: 'Tschüss', text: 'Tschüss' }, '?language=de');
  const deleted = await call('DELETE', '/v1/templates/farewell?language=de');
  assert.deepEqual([deleted.status, deleted.body], [204, null]);
  const again = await call('DELETE', '/v1/templates/farewell?language=de');
  assert.deepEqual([again.status, again.body.code, again.body.message], [404, 'NOT_FOUND', "name: no template 'farewell' in 'de'"]);
  assert.equal((await call('GET', '/v1/templates/farewell')).status, 200, 'the default language is still there');
  const missing = await call('GET', '/v1/templates/nope');
  assert.deepEqual([missing.status, missing.body.message], [404, "name: no template 'nope' in the default language"]);
});

test('saving checks the syntax and names the part, line and column; nothing is saved', async () => {
  const cases: [Json, string][] = [
    [{ subject: 'Hi', html: '<html>\n<body>\n  <p>{% if vip %}VIP\n</body>' }, 'html: line 3, column 6: tag {% if vip %} not closed'],
    [{ subject: 'Hi {{ name', text: 'x' }, 'subject: line 1, column 4: output "{{ name" not closed'],
    [{ subject: 'Hi', text: 'a\nb {% endfor %}' }, 'text: line 2, column 3: tag "endfor" not found'],
    [{ subject: 'Hi', text: '{{ name | upcaes }}' }, 'text: line 1, column 1: undefined filter: upcaes'],
    [{ subject: 'Hi', html: '{% include "secrets.txt" %}' }, 'html: line 1, column 1: {% include %} is not supported: a template cannot read other templates or files'],
  ];
  for (const [body, message] of cases) {
    const answer = await put('broken', body);
    assert.deepEqual([answer.status, answer.body.code, answer.body.message], [400, 'INVALID_TEMPLATE', message]);
  }
  assert.equal((await call('GET', '/v1/templates/broken')).status, 404);
});

test('bad template requests are 400 VALIDATION_FAILED naming the field', async () => {
  const cases: [string, Json | undefined, string][] = [
    ['/v1/templates/bad%20name', { subject: 'x', text: 'x' }, 'name: must match pattern'],
    [`/v1/templates/${'x'.repeat(129)}`, { subject: 'x', text: 'x' }, 'name: must match pattern'],
    ['/v1/templates/ok', { text: 'x' }, 'subject: is required'],
    ['/v1/templates/ok', { subject: 'x' }, 'text: a template needs text, html or both'],
    ['/v1/templates/ok', { subject: 'x', text: 'x', strict: true }, "body: unknown field 'strict'"],
    ['/v1/templates/ok', { subject: 'x', text: 'x', example_context: [] }, 'example_context: must be object'],
    ['/v1/templates/ok?language=de%0A', { subject: 'x', text: 'x' }, 'language: must match pattern'],
  ];
  for (const [path, body, message] of cases) {
    const answer = await call('PUT', path, body);
    assert.equal(answer.status, 400, path);
    assert.equal(answer.body.code, 'VALIDATION_FAILED', path);
    assert.ok(String(answer.body.message).startsWith(message), `${String(answer.body.message)} starts with ${message}`);
  }
});

test('preview renders with the given context, or the stored example context, with the fallback', async () => {
  await put('order', {
    subject: 'Order {{ order.id }}', html: '<p>{{ order.items | size }} items for {{ name }}</p>', strict_variables: true,
    example_context: { order: { id: 1, items: ['a'] }, name: 'Ada' },
  });
  await put('order', { subject: 'Bestellung {{ order.id }}', html: '<p>{{ name }}</p>', example_context: { order: { id: 2 }, name: 'Udo' } }, '?language=de');
  const example = await call('POST', '/v1/templates/order/preview', {});
  assert.deepEqual(example.body, { language: '', subject: 'Order 1', text: '1 items for Ada', html: '<p>1 items for Ada</p>' });
  const given = await call('POST', '/v1/templates/order/preview', { context: { order: { id: 9, items: [] }, name: '<Bob>' } });
  assert.deepEqual(given.body, { language: '', subject: 'Order 9', text: '0 items for <Bob>', html: '<p>0 items for &lt;Bob&gt;</p>' });
  assert.equal((await call('POST', '/v1/templates/order/preview', { language: 'de' })).body.subject, 'Bestellung 2');
  const fallback = await call('POST', '/v1/templates/order/preview', { language: 'it' });
  assert.deepEqual([fallback.body.language, fallback.body.subject], ['', 'Order 1']);
  assert.equal((await call('POST', '/v1/templates/order/preview')).body.subject, 'Order 1', 'no body at all');
  const failed = await call('POST', '/v1/templates/order/preview', { context: { order: { id: 3 } } });
  assert.deepEqual([failed.status, failed.body.code, failed.body.message],
    [400, 'TEMPLATE_RENDER_FAILED', "context: template 'order' (default language): undefined variable: order.items (in html, line 1, column 7)"]);
  const missing = await call('POST', '/v1/templates/none/preview', { language: 'de' });
  assert.deepEqual([missing.status, missing.body.message], [404, "name: no template 'none' in 'de' or the default language"]);
});

test('enqueue renders the template now: the translation asked for, else the default', async () => {
  await put('welcome', { subject: 'Welcome, {{ user.name }}', html: '<h1>Hi {{ user.name }}</h1>', text: 'Hi {{ user.name }}' });
  await put('welcome', { subject: 'Willkommen, {{ user.name }}', html: '<h1>Hallo {{ user.name }}</h1>' }, '?language=de');
  const german = await enqueue({ template: 'welcome', language: 'de', context: { user: { name: 'Bob' } } });
  assert.equal(german.status, 202);
  const message = await storedMessage(german.body.id);
  assert.deepEqual([message.subject, message.html, message.text], ['Willkommen, Bob', '<h1>Hallo Bob</h1>', 'HALLO BOB']);
  assert.equal(message.template, undefined, 'an email rendered at enqueue keeps no template reference');
  const french = await storedMessage((await enqueue({ template: 'welcome', language: 'fr', context: { user: { name: 'Zoé' } } })).body.id);
  assert.deepEqual([french.subject, french.text], ['Welcome, Zoé', 'Hi Zoé']);
  const plain = await storedMessage((await enqueue({ template: 'welcome', context: { user: { name: 'Al' } } })).body.id);
  assert.equal(plain.subject, 'Welcome, Al');
});

test('a context value is escaped in the HTML and left alone in the text and subject', async () => {
  await put('escape', { subject: 'Hi {{ name }}', text: 'Hi {{ name }}', html: '<p>Hi {{ name }}</p>' });
  const message = await storedMessage((await enqueue({ template: 'escape', context: { name: '<script>alert(1)</script>' } })).body.id);
  assert.equal(message.html, '<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>');
  assert.equal(message.text, 'Hi <script>alert(1)</script>');
  assert.equal(message.subject, 'Hi <script>alert(1)</script>');
});

test('strict variables: a missing variable is a 400 naming the template and the variable, and stores nothing', async () => {
  await put('strict', { subject: 'Hi {{ user.name }}', text: 'x', strict_variables: true }, '?language=de');
  await put('lenient', { subject: 'Hi {{ user.name }}!', text: 'x' });
  const before = await count('emails');
  const failed = await enqueue({ template: 'strict', language: 'de', context: { user: {} } });
  assert.deepEqual([failed.status, failed.body.code, failed.body.message],
    [400, 'TEMPLATE_RENDER_FAILED', "context: template 'strict' (de): undefined variable: user.name (in subject, line 1, column 7)"]);
  assert.equal(await count('emails'), before);
  const lenient = await enqueue({ template: 'lenient', context: {} });
  assert.equal((await storedMessage(lenient.body.id)).subject, 'Hi !');
});

test('template errors at enqueue: unknown template, template with subject or bodies, template fields without one', async () => {
  const before = await count('emails');
  const unknown = await enqueue({ template: 'missing', language: 'de' });
  assert.deepEqual([unknown.status, unknown.body.code, unknown.body.message], [400, 'UNKNOWN_TEMPLATE', "template: no template 'missing' in 'de' or the default language"]);
  const onDelivery = await enqueue({ template: 'missing', render_on_delivery: true });
  assert.deepEqual([onDelivery.status, onDelivery.body.code], [400, 'UNKNOWN_TEMPLATE']);
  for (const extra of [{ subject: 'x' }, { text: 'x' }, { html: 'x' }]) {
    const both = await enqueue({ template: 'welcome', ...extra });
    assert.deepEqual([both.status, both.body.code, both.body.message],
      [400, 'VALIDATION_FAILED', 'template: cannot be combined with subject, text or html: they come from the template']);
  }
  const orphan = await enqueue({ subject: 'x', text: 'x', context: { a: 1 } });
  assert.deepEqual([orphan.status, orphan.body.message], [400, 'template: is required with language, context or render_on_delivery']);
  const badContext = await enqueue({ template: 'welcome', context: 'Bob' });
  assert.deepEqual([badContext.status, badContext.body.message], [400, 'context: must be object']);
  assert.equal(await count('emails'), before);
});

test('a batch renders each email with its own template and context; one failure stores none', async () => {
  await put('a', { subject: 'A {{ n }}', text: 'a' });
  await put('b', { subject: 'B {{ n }}', text: 'b', strict_variables: true });
  const emails = [
    { to: 'x@example.com', from: 'shop@example.com', template: 'a', context: { n: 1 } },
    { to: 'x@example.com', from: 'shop@example.com', subject: 'plain', text: 'plain' },
    { to: 'x@example.com', from: 'shop@example.com', template: 'b', context: { n: 2 } },
    { to: 'x@example.com', from: 'shop@example.com', template: 'a', context: { n: 3 } },
    { to: 'x@example.com', from: 'shop@example.com', template: 'b', language: 'de', context: { n: 4 }, render_on_delivery: true },
  ];
  const accepted = await call('POST', '/v1/emails/batch', { emails });
  assert.equal(accepted.status, 202);
  const messages: Json[] = [];
  for (const email of accepted.body.emails as Json[]) messages.push(await storedMessage(email.id));
  assert.deepEqual(messages.map((message) => message.subject), ['A 1', 'plain', 'B 2', 'A 3', '']);
  assert.deepEqual(messages[4]?.template, { name: 'b', language: 'de', context: { n: 4 } });
  const before = await count('emails');
  const failed = await call('POST', '/v1/emails/batch', { emails: [emails[0], { ...emails[2], context: {} }] });
  assert.deepEqual([failed.status, failed.body.code, failed.body.message],
    [400, 'TEMPLATE_RENDER_FAILED', "emails[1].context: template 'b' (default language): undefined variable: n (in subject, line 1, column 6)"]);
  const unknown = await call('POST', '/v1/emails/batch', { emails: [emails[0], { ...emails[0], template: 'zzz' }] });
  assert.deepEqual([unknown.status, unknown.body.message], [400, "emails[1].template: no template 'zzz' in the default language"]);
  assert.equal(await count('emails'), before);
});

test('render_on_delivery stores the template name, language and context with the email', async () => {
  const accepted = await enqueue({ template: 'welcome', language: 'de', context: { user: { name: 'Eve' } }, render_on_delivery: true, tags: ['t'] });
  assert.equal(accepted.status, 202);
  const message = await storedMessage(accepted.body.id);
  assert.deepEqual(message.template, { name: 'welcome', language: 'de', context: { user: { name: 'Eve' } } });
  assert.deepEqual([message.subject, message.text, message.html], ['', undefined, undefined]);
  const shown = await call('GET', `/v1/emails/${String(accepted.body.id)}`);
  assert.equal(shown.body.subject, '');
});

test('with POST_OFFICE_API_TOKEN the template routes need the bearer token; /openapi.json lists them', async () => {
  const token = 'tpl_0123456789abcdef0123';
  const guarded = await startSidecar(databaseUrl, { POST_OFFICE_DISPATCHER: 'off', POST_OFFICE_API_TOKEN: token });
  const refused = await fetch(`${guarded.apiUrl}/v1/templates`);
  assert.equal(refused.status, 401);
  const listed = await fetch(`${guarded.apiUrl}/v1/templates`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(listed.status, 200);
  const openapi = (await (await fetch(`${guarded.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Json> };
  assert.deepEqual(Object.keys(openapi.paths).filter((path) => path.includes('templates')).sort(),
    ['/v1/templates', '/v1/templates/{name}', '/v1/templates/{name}/preview']);
  assert.deepEqual(Object.keys(openapi.paths['/v1/templates/{name}'] ?? {}).sort(), ['delete', 'get', 'put']);
});
