// The bad-input battery (docs/contract.md, invariant 8): every rejected request gets a clear 4xx with a
// stable code and a message naming the field, and stores nothing — not an email, not a log
// entry, not an idempotency key. Each POST case is sent twice: plain (group commit) and with an
// Idempotency-Key (the keyed insert).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import type { Service } from '../../src/service.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { connect, startSidecar } from '../helpers/sidecar.ts';

// Set up at the top level, not in before(): the cleanups (helpers/cleanup.ts) then run after
// every test of the file rather than at the end of a hook.
const databaseUrl = await createTestDatabase();
// No dispatcher and no POST_OFFICE_DEFAULT_FROM: "from" is required.
const api: Service = await startSidecar(databaseUrl, { POST_OFFICE_DISPATCHER: 'off' });
const smallBody: Service = await startSidecar(databaseUrl, { POST_OFFICE_DISPATCHER: 'off', POST_OFFICE_MAX_BODY_BYTES: '2048' });
const db: pg.Client = await connect(databaseUrl);
let keys = 0;
// Stored templates, so a context reaches the checks that come after the template lookup.
for (const [name, template] of Object.entries({
  welcome: { subject: 'Hi {{ user.name }}', text: 'Hello {{ user.name }}' },
  // Filters that make what the context did not hold: NUL from "%00", half of a surrogate pair (split by UTF-16 unit).
  decoded: { subject: 'Hi', text: '{{ v | url_decode }}' },
  split: { subject: 'Hi {{ v | split: "" | first }}', text: 'x' },
})) {
  const stored = await fetch(`${api.apiUrl}/v1/templates/${name}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(template),
  });
  if (stored.status !== 201) throw new Error(`storing the test template ${name} answered ${stored.status}`);
}

async function stored(): Promise<string> {
  const { rows } = await db.query(`SELECT (SELECT count(*) FROM emails) AS emails, (SELECT count(*) FROM email_logs) AS logs,
    (SELECT count(*) FROM idempotency_keys) AS keys, (SELECT count(*) FROM templates) AS templates`);
  return JSON.stringify(rows[0]);
}

interface Answer { status: number; body: { statusCode?: number; code?: string; message?: string } }

async function send(service: Service, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${service.apiUrl}${path}`, { method, headers, body });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const ok = { from: 'sender@example.com', to: 'alice@example.com', subject: 'hello', text: 'hi' };
const big = 'x'.repeat(4096);
const templated = { from: 'sender@example.com', to: 'alice@example.com', template: 'welcome' };
/** `levels` nested objects as JSON text, built without recursion (JSON.stringify would overflow). */
const nested = (levels: number, leaf = '"x"') => `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;
const nul = 'must not contain the NUL character (U+0000)';
const surrogate = 'must not contain a lone surrogate';

interface Case {
  name: string;
  /** A JSON value to send, or `raw` text. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  method?: 'GET' | 'POST' | 'PUT';
  path?: string;
  service?: () => Service;
  status: number;
  code: string;
  /** The message starts with this field name, or matches this pattern. */
  field: string | RegExp;
}

const cases: Case[] = [
  // Addresses, parsed by a real RFC 5322 parser.
  { name: 'invalid address in to[1]', body: { ...ok, to: ['alice@example.com', 'bob@'] }, status: 400, code: 'INVALID_ADDRESS', field: "to[1]: 'bob@' is not a valid address" },
  { name: 'invalid from', body: { ...ok, from: 'sender at example.com' }, status: 400, code: 'INVALID_ADDRESS', field: "from: 'sender at example.com' is not a valid address" },
  { name: 'invalid cc', body: { ...ok, cc: ['carol@@example.com'] }, status: 400, code: 'INVALID_ADDRESS', field: 'cc[0]' },
  { name: 'invalid bcc', body: { ...ok, bcc: 'dave' }, status: 400, code: 'INVALID_ADDRESS', field: 'bcc[0]' },
  { name: 'invalid reply_to', body: { ...ok, reply_to: ['ok@example.com', 'Dave <dave>'] }, status: 400, code: 'INVALID_ADDRESS', field: 'reply_to[1]' },
  { name: '"Name <bad>"', body: { ...ok, to: 'Bob <bad>' }, status: 400, code: 'INVALID_ADDRESS', field: 'to[0]' },
  { name: 'two addresses in one string', body: { ...ok, to: 'a@example.com, b@example.com' }, status: 400, code: 'INVALID_ADDRESS', field: 'to[0]' },
  { name: 'CR/LF inside an address', body: { ...ok, to: 'alice@example.com\r\nBcc: eve@example.com' }, status: 400, code: 'INVALID_ADDRESS', field: 'to[0]' },
  { name: 'no recipients at all', body: { from: 'sender@example.com', subject: 'hello' }, status: 400, code: 'NO_RECIPIENTS', field: 'to' },
  { name: 'empty recipient lists', body: { ...ok, to: [], cc: [], bcc: [] }, status: 400, code: 'NO_RECIPIENTS', field: 'to' },
  { name: 'no subject, no body, no template', body: { from: 'sender@example.com', to: 'alice@example.com' }, status: 400, code: 'EMPTY_EMAIL', field: /^subject: an email needs a subject, text, html, an attachment or a template$/ },
  { name: 'only empty strings', body: { ...ok, subject: '', text: '', html: '' }, status: 400, code: 'EMPTY_EMAIL', field: 'subject' },
  { name: 'a batch where only email 2 is empty', path: '/v1/emails/batch', body: { emails: [ok, ok, { from: 'sender@example.com', to: 'alice@example.com' }] }, status: 400, code: 'EMPTY_EMAIL', field: 'emails[2].subject' },
  { name: 'missing from without a default', body: { to: 'alice@example.com', subject: 'hello' }, status: 400, code: 'MISSING_FROM', field: 'from' },
  // Header injection.
  { name: 'CR/LF in the subject', body: { ...ok, subject: 'Hi\r\nBcc: eve@example.com' }, status: 400, code: 'INVALID_HEADER', field: 'subject' },
  { name: 'LF alone in the subject', body: { ...ok, subject: 'Hi\nthere' }, status: 400, code: 'INVALID_HEADER', field: 'subject' },
  { name: 'CR/LF in a header value', body: { ...ok, headers: { 'X-Campaign': 'spring\r\nBcc: eve@example.com' } }, status: 400, code: 'INVALID_HEADER', field: 'headers.X-Campaign' },
  { name: 'CR/LF in a header name', body: { ...ok, headers: { 'X-A\r\nBcc': 'eve@example.com' } }, status: 400, code: 'INVALID_HEADER', field: 'headers' },
  { name: 'a header name with a space and colon', body: { ...ok, headers: { 'X Bad:': 'x' } }, status: 400, code: 'INVALID_HEADER', field: 'headers' },
  { name: 'a reserved header', body: { ...ok, headers: { From: 'ceo@example.com' } }, status: 400, code: 'INVALID_HEADER', field: 'headers.From' },
  { name: 'a reserved header in lower case', body: { ...ok, headers: { 'reply-to': 'eve@example.com' } }, status: 400, code: 'INVALID_HEADER', field: 'headers.reply-to' },
  { name: 'CR/LF in a tag', body: { ...ok, tags: ['ok', 'a\nb'] }, status: 400, code: 'INVALID_HEADER', field: 'tags[1]' },
  { name: 'CR/LF in a metadata value', body: { ...ok, metadata: { order: '1\r\n2' } }, status: 400, code: 'INVALID_HEADER', field: 'metadata.order' },
  // Attachments.
  { name: 'non-base64 attachment content', body: { ...ok, attachments: [{ filename: 'a.txt', content: 'not base64!' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: 'attachments[0].content' },
  { name: 'base64 with bad padding', body: { ...ok, attachments: [{ filename: 'a.txt', content: 'aGVsbG8' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: 'attachments[0].content' },
  { name: 'bad attachment content_type', body: { ...ok, attachments: [{ filename: 'a.txt', content: 'aGVsbG8=', content_type: 'text' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: 'attachments[0].content_type' },
  { name: 'CR/LF in an attachment filename', body: { ...ok, attachments: [{ filename: 'a\r\n.txt', content: 'aGVsbG8=' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: 'attachments[0].filename' },
  { name: 'attachment without content', body: { ...ok, attachments: [{ filename: 'a.txt' }] }, status: 400, code: 'VALIDATION_FAILED', field: 'attachments[0].content: is required' },
  // Routing and schedule.
  { name: 'unknown backend alias', body: { ...ok, backend: 'marketing' }, status: 400, code: 'UNKNOWN_BACKEND', field: "backend: 'marketing' is not a configured backend" },
  { name: 'expires_at before scheduled_at', body: { ...ok, scheduled_at: '2030-01-02T00:00:00Z', expires_at: '2030-01-01T00:00:00Z' }, status: 400, code: 'INVALID_SCHEDULE', field: 'expires_at' },
  { name: 'expires_at equal to scheduled_at', body: { ...ok, scheduled_at: '2030-01-01T00:00:00Z', expires_at: '2030-01-01T01:00:00+01:00' }, status: 400, code: 'INVALID_SCHEDULE', field: 'expires_at' },
  { name: 'a date that is not RFC 3339', body: { ...ok, scheduled_at: 'tomorrow' }, status: 400, code: 'VALIDATION_FAILED', field: 'scheduled_at' },
  { name: 'a date without a time zone', body: { ...ok, expires_at: '2030-01-01T00:00:00' }, status: 400, code: 'VALIDATION_FAILED', field: 'expires_at' },
  { name: 'February 30th', body: { ...ok, scheduled_at: '2030-02-30T00:00:00Z' }, status: 400, code: 'VALIDATION_FAILED', field: 'scheduled_at' },
  { name: 'a leap second Date cannot hold', body: { ...ok, scheduled_at: '2016-12-31T23:59:60Z' }, status: 400, code: 'INVALID_SCHEDULE', field: 'scheduled_at' },
  { name: 'year 0000 in scheduled_at', body: { ...ok, scheduled_at: '0000-01-01T00:00:00Z' }, status: 400, code: 'INVALID_SCHEDULE', field: "scheduled_at: '0000-01-01T00:00:00Z' is outside the years 1970 to 9999" },
  { name: 'year 0000 in expires_at', body: { ...ok, expires_at: '0000-06-01T00:00:00Z' }, status: 400, code: 'INVALID_SCHEDULE', field: 'expires_at' },
  { name: 'a date before 1970', body: { ...ok, scheduled_at: '1969-12-31T23:59:59Z' }, status: 400, code: 'INVALID_SCHEDULE', field: 'scheduled_at' },
  { name: 'a date past 9999 in UTC', body: { ...ok, expires_at: '9999-12-31T23:00:00-05:00' }, status: 400, code: 'INVALID_SCHEDULE', field: 'expires_at' },
  // Text PostgreSQL cannot store: NUL (jsonb refuses it) and lone surrogates (UTF-8 cannot encode them).
  { name: 'NUL in the subject', body: { ...ok, subject: 'a\u0000b' }, status: 400, code: 'INVALID_HEADER', field: `subject: ${nul}` },
  { name: 'NUL in text', body: { ...ok, text: 'a\u0000b' }, status: 400, code: 'INVALID_TEXT', field: `text: ${nul}` },
  { name: 'NUL in html', body: { ...ok, html: '<p>\u0000</p>' }, status: 400, code: 'INVALID_TEXT', field: `html: ${nul}` },
  { name: 'NUL in a header value', body: { ...ok, headers: { 'X-A': 'a\u0000' } }, status: 400, code: 'INVALID_HEADER', field: `headers.X-A: ${nul}` },
  { name: 'NUL in a header name', body: { ...ok, headers: { 'X-\u0000': 'a' } }, status: 400, code: 'INVALID_HEADER', field: 'headers: "X-\\u0000" is not a valid header name' },
  { name: 'NUL in a tag', body: { ...ok, tags: ['ok', '\u0000'] }, status: 400, code: 'INVALID_HEADER', field: `tags[1]: ${nul}` },
  { name: 'NUL in a metadata value', body: { ...ok, metadata: { order: '1\u00002' } }, status: 400, code: 'INVALID_HEADER', field: `metadata.order: ${nul}` },
  { name: 'NUL in a metadata key', body: { ...ok, metadata: { 'or\u0000der': '1' } }, status: 400, code: 'INVALID_HEADER', field: `metadata: the key "or\\u0000der" ${nul}` },
  { name: 'NUL in an attachment filename', body: { ...ok, attachments: [{ filename: 'a\u0000.txt', content: 'aGVsbG8=' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: `attachments[0].filename: ${nul}` },
  { name: 'NUL in an attachment content_type', body: { ...ok, attachments: [{ filename: 'a.txt', content: 'aGVsbG8=', content_type: 'text/plain; name="\u0000"' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: `attachments[0].content_type: ${nul}` },
  { name: 'NUL in an attachment content_id', body: { ...ok, attachments: [{ filename: 'a.png', content: 'aGVsbG8=', content_id: 'logo\u0000' }] }, status: 400, code: 'INVALID_ATTACHMENT', field: `attachments[0].content_id: ${nul}` },
  { name: 'NUL in a display name', body: { ...ok, to: 'Bob\u0000 <bob@example.com>' }, status: 400, code: 'INVALID_ADDRESS', field: 'to[0]' },
  { name: 'NUL in a context value', body: { ...templated, render_on_delivery: true, context: { user: { name: 'a\u0000' } } }, status: 400, code: 'INVALID_TEXT', field: `context.user.name: ${nul}` },
  { name: 'NUL in a context key', body: { ...templated, render_on_delivery: true, context: { user: { 'na\u0000me': 'a' } } }, status: 400, code: 'INVALID_TEXT', field: `context.user: the key "na\\u0000me" ${nul}` },
  { name: 'NUL in a context rendered now', body: { ...templated, context: { list: [1, { name: '\u0000' }] } }, status: 400, code: 'INVALID_TEXT', field: `context.list[1].name: ${nul}` },
  { name: 'a lone surrogate in the subject', body: { ...ok, subject: 'a\ud800b' }, status: 400, code: 'INVALID_HEADER', field: `subject: ${surrogate}` },
  { name: 'a lone surrogate in text', body: { ...ok, text: 'a\udc00' }, status: 400, code: 'INVALID_TEXT', field: `text: ${surrogate}` },
  { name: 'a lone surrogate in html', body: { ...ok, html: '\ud83d' }, status: 400, code: 'INVALID_TEXT', field: `html: ${surrogate}` },
  { name: 'a lone surrogate in a display name', body: { ...ok, to: '\ud800 <bob@example.com>' }, status: 400, code: 'INVALID_ADDRESS', field: 'to[0]' },
  { name: 'a lone surrogate in a template context', body: { ...templated, render_on_delivery: true, context: { user: { name: 'a\ud800b' } } }, status: 400, code: 'INVALID_TEXT', field: `context.user.name: ${surrogate}` },
  { name: 'a lone surrogate in a context rendered now', body: { ...templated, context: { user: { name: 'a\ud800b' } } }, status: 400, code: 'INVALID_TEXT', field: `context.user.name: ${surrogate}` },
  { name: 'a NUL made by a template filter', body: { ...templated, template: 'decoded', context: { v: '%00' } }, status: 400, code: 'TEMPLATE_RENDER_FAILED', field: `context: template 'decoded' (default language): the rendered text ${nul}` },
  { name: 'a lone surrogate made by a template filter', body: { ...templated, template: 'split', context: { v: '\u{1F600}' } }, status: 400, code: 'TEMPLATE_RENDER_FAILED', field: `context: template 'split' (default language): the rendered subject ${surrogate}` },
  { name: 'a batch where only email 2 holds a NUL', path: '/v1/emails/batch', body: { emails: [ok, ok, { ...ok, text: '\u0000' }, ok] }, status: 400, code: 'INVALID_TEXT', field: `emails[2].text: ${nul}` },
  // Nesting: a context walked without recursion, at most 64 levels deep.
  { name: 'a 5,000-level context rendered on delivery', raw: JSON.stringify({ ...templated, render_on_delivery: true }).replace(/}$/, `,"context":${nested(5000)}}`), status: 400, code: 'VALIDATION_FAILED', field: 'context: nested deeper than 64 levels' },
  { name: 'a 65-level context rendered now', raw: JSON.stringify(templated).replace(/}$/, `,"context":${nested(65)}}`), status: 400, code: 'VALIDATION_FAILED', field: 'context: nested deeper than 64 levels' },
  { name: 'a 100,000-level context', raw: JSON.stringify(templated).replace(/}$/, `,"context":${nested(100_000)}}`), status: 400, code: 'VALIDATION_FAILED', field: 'context: nested deeper than 64 levels' },
  { name: 'a 100,000-level array in a context', raw: JSON.stringify(templated).replace(/}$/, `,"context":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`), status: 400, code: 'VALIDATION_FAILED', field: 'context: nested deeper than 64 levels' },
  { name: 'a 100,000-level batch email', path: '/v1/emails/batch', raw: `{"emails":[${JSON.stringify(ok)},${JSON.stringify(templated).replace(/}$/, `,"context":${nested(100_000)}}`)}]}`, status: 400, code: 'VALIDATION_FAILED', field: 'emails[1].context: nested deeper than 64 levels' },
  { name: 'a 100,000-level unknown field', raw: JSON.stringify(ok).replace(/}$/, `,"extra":${nested(100_000)}}`), status: 400, code: 'VALIDATION_FAILED', field: /^body: unknown field 'extra'$/ },
  { name: 'a 100,000-level body', raw: nested(100_000), status: 400, code: 'VALIDATION_FAILED', field: /^body: / },
  // Templates are stored too, and a preview renders as sending would.
  { name: 'NUL in a template subject', method: 'PUT', path: '/v1/templates/hostile', body: { subject: 'Hi\u0000', text: 'x' }, status: 400, code: 'INVALID_TEXT', field: `subject: ${nul}` },
  { name: 'a lone surrogate in a template html', method: 'PUT', path: '/v1/templates/hostile', body: { subject: 'Hi', html: '<p>\udfff</p>' }, status: 400, code: 'INVALID_TEXT', field: `html: ${surrogate}` },
  { name: 'NUL in a template description', method: 'PUT', path: '/v1/templates/hostile', body: { subject: 'Hi', text: 'x', description: '\u0000' }, status: 400, code: 'INVALID_TEXT', field: `description: ${nul}` },
  { name: 'NUL in a template example_context', method: 'PUT', path: '/v1/templates/hostile', body: { subject: 'Hi', text: 'x', example_context: { a: ['\u0000'] } }, status: 400, code: 'INVALID_TEXT', field: `example_context.a[0]: ${nul}` },
  { name: 'a 5,000-level template example_context', method: 'PUT', path: '/v1/templates/hostile', raw: `{"subject":"Hi","text":"x","example_context":${nested(5000)}}`, status: 400, code: 'VALIDATION_FAILED', field: 'example_context: nested deeper than 64 levels' },
  { name: 'a 100,000-level preview context', path: '/v1/templates/welcome/preview', raw: `{"context":${nested(100_000)}}`, status: 400, code: 'VALIDATION_FAILED', field: 'context: nested deeper than 64 levels' },
  // Shape and types.
  { name: 'unknown field (a typo)', body: { ...ok, sujbect: 'hello' }, status: 400, code: 'VALIDATION_FAILED', field: /^body: unknown field 'sujbect'$/ },
  { name: 'unknown attachment field', body: { ...ok, attachments: [{ filename: 'a.txt', content: 'aGVsbG8=', cid: 'x' }] }, status: 400, code: 'VALIDATION_FAILED', field: /^attachments\[0\]: unknown field 'cid'/ },
  { name: 'a number as the subject', body: { ...ok, subject: 42 }, status: 400, code: 'VALIDATION_FAILED', field: 'subject' },
  { name: 'a one-element array as the subject', body: { ...ok, subject: ['hello'] }, status: 400, code: 'VALIDATION_FAILED', field: 'subject' },
  { name: 'a string as tags', body: { ...ok, tags: 'welcome' }, status: 400, code: 'VALIDATION_FAILED', field: 'tags' },
  { name: 'a number as a recipient', body: { ...ok, to: 5 }, status: 400, code: 'VALIDATION_FAILED', field: 'to' },
  { name: 'a number as a header value', body: { ...ok, headers: { 'X-Count': 1 } }, status: 400, code: 'VALIDATION_FAILED', field: 'headers.X-Count' },
  { name: 'a string as headers', body: { ...ok, headers: 'X-A: 1' }, status: 400, code: 'VALIDATION_FAILED', field: 'headers' },
  { name: 'an array as the body', body: [ok], status: 400, code: 'VALIDATION_FAILED', field: 'body' },
  { name: 'invalid priority', body: { ...ok, priority: 'urgent' }, status: 400, code: 'VALIDATION_FAILED', field: 'priority: must be one of now, high, medium, low' },
  // Transport.
  { name: 'malformed JSON', raw: '{"from": "sender@example.com",', status: 400, code: 'INVALID_JSON', field: /^body: is not valid JSON at position 30 \(line 1, column 31\): Expected double-quoted property name$/ },
  { name: 'JSON cut short', raw: '{"from": ', status: 400, code: 'INVALID_JSON', field: /^body: is not valid JSON at position 9 \(line 1, column 10\): Unexpected end of JSON input$/ },
  { name: 'an unquoted word, on line 2', raw: '{"from": "sender@example.com",\n "to": bob}', status: 400, code: 'INVALID_JSON', field: /^body: is not valid JSON at position 38 \(line 2, column 8\): Unexpected token 'b'$/ },
  { name: 'an empty JSON body', raw: '', status: 400, code: 'VALIDATION_FAILED', field: 'body' },
  { name: 'a body over POST_OFFICE_MAX_BODY_BYTES', body: { ...ok, text: big }, service: () => smallBody, status: 413, code: 'BODY_TOO_LARGE', field: /^body: is larger than 2048 bytes, the limit POST_OFFICE_MAX_BODY_BYTES sets$/ },
  { name: 'text/plain', raw: JSON.stringify(ok), contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: /^body: must be sent as application\/json \(got content-type text\/plain\)$/ },
  { name: 'a form post', raw: 'from=sender%40example.com', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: /^body: must be sent as application\/json \(got content-type application\/x-www-form-urlencoded\)$/ },
  // Batches: all-or-nothing.
  { name: 'a batch of 1001', path: '/v1/emails/batch', body: { emails: Array.from({ length: 1001 }, () => ok) }, status: 400, code: 'VALIDATION_FAILED', field: 'emails: must NOT have more than 1000 items' },
  { name: 'an empty batch', path: '/v1/emails/batch', body: { emails: [] }, status: 400, code: 'VALIDATION_FAILED', field: 'emails' },
  { name: 'a batch without emails', path: '/v1/emails/batch', body: { email: [ok] }, status: 400, code: 'VALIDATION_FAILED', field: /^(emails: is required|body: unknown field 'email')$/ },
  { name: 'a batch where only email 3 is bad', path: '/v1/emails/batch', body: { emails: [ok, ok, ok, { ...ok, to: ['alice@example.com', 'bob@'] }, ok] }, status: 400, code: 'INVALID_ADDRESS', field: "emails[3].to[1]: 'bob@' is not a valid address" },
  { name: 'a batch where only email 3 has a typo', path: '/v1/emails/batch', body: { emails: [ok, ok, ok, { ...ok, sujbect: 'x' }] }, status: 400, code: 'VALIDATION_FAILED', field: /^emails\[3\]: unknown field 'sujbect'$/ },
  { name: 'a batch where only email 3 has CR/LF in a header', path: '/v1/emails/batch', body: { emails: [ok, ok, ok, { ...ok, headers: { 'X-A': 'a\r\nb' } }] }, status: 400, code: 'INVALID_HEADER', field: 'emails[3].headers.X-A' },
  // Reads and state changes.
  { name: 'an invalid cursor', method: 'GET', path: '/v1/emails?cursor=bm90LWEtY3Vyc29y', status: 400, code: 'INVALID_CURSOR', field: 'cursor' },
  { name: 'an unknown status filter', method: 'GET', path: '/v1/emails?status=lost', status: 400, code: 'VALIDATION_FAILED', field: 'status' },
  { name: 'a limit of zero', method: 'GET', path: '/v1/emails?limit=0', status: 400, code: 'VALIDATION_FAILED', field: 'limit' },
  { name: 'a limit that is not a number', method: 'GET', path: '/v1/emails?limit=ten', status: 400, code: 'VALIDATION_FAILED', field: 'limit' },
  { name: 'a non-uuid id', method: 'GET', path: '/v1/emails/42', status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { name: 'a urn:uuid id', method: 'GET', path: '/v1/emails/urn:uuid:01900000-0000-7000-8000-000000000000', status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { name: 'cancel with a non-uuid id', path: '/v1/emails/not-an-id/cancel', status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { name: 'requeue with a non-uuid id', path: '/v1/emails/not-an-id/requeue', status: 400, code: 'VALIDATION_FAILED', field: 'id' },
];

for (const c of cases) {
  const method = c.method ?? 'POST';
  const withBody = c.body !== undefined || c.raw !== undefined;
  test(`bad input: ${c.name}`, async () => {
    for (const keyed of method === 'POST' && withBody && !(c.path ?? '').startsWith('/v1/templates') ? [false, true] : [false]) {
      const headers: Record<string, string> = {};
      if (withBody) headers['content-type'] = c.contentType ?? 'application/json';
      if (keyed) headers['idempotency-key'] = `bad-input-${++keys}`;
      const before = await stored();
      const raw = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
      const answer = await send((c.service ?? (() => api))(), method, c.path ?? '/v1/emails', raw, headers);
      const label = `${c.name}${keyed ? ' (with an Idempotency-Key)' : ''}: ${JSON.stringify(answer.body)}`;

      assert.equal(answer.status, c.status, label);
      assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'message', 'statusCode'], label);
      assert.equal(answer.body.statusCode, c.status, label);
      assert.equal(answer.body.code, c.code, label);
      const message = answer.body.message ?? '';
      if (typeof c.field === 'string') assert.ok(message.startsWith(c.field), `message should name ${c.field}: ${label}`);
      else assert.match(message, c.field, label);
      assert.equal(await stored(), before, `nothing was stored: ${label}`);
    }
  });
}

test('a bad Idempotency-Key header is rejected and stores nothing', async () => {
  const before = await stored();
  const answer = await send(api, 'POST', '/v1/emails', JSON.stringify(ok), { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(256) });
  assert.equal(answer.status, 400);
  assert.equal(answer.body.code, 'VALIDATION_FAILED');
  assert.match(answer.body.message ?? '', /^idempotency-key: /);
  assert.equal(await stored(), before);
});

// The control: the counting above would notice a stored row.
test('a good request to the same sidecars is stored, so the battery can see a change', async () => {
  const before = JSON.parse(await stored()) as Record<string, string>;
  const plain = await send(api, 'POST', '/v1/emails', JSON.stringify(ok), { 'content-type': 'application/json' });
  const keyed = await send(smallBody, 'POST', '/v1/emails/batch', JSON.stringify({ emails: [ok, ok] }), { 'content-type': 'application/json', 'idempotency-key': 'control' });
  assert.equal(plain.status, 202);
  assert.equal(keyed.status, 202);
  const after = JSON.parse(await stored()) as Record<string, string>;
  assert.equal(Number(after.emails) - Number(before.emails), 3);
  assert.equal(Number(after.keys) - Number(before.keys), 1);
});

test('an email with only a subject, or only an attachment, is not empty', async () => {
  const headers = { 'content-type': 'application/json' };
  const subjectOnly = await send(api, 'POST', '/v1/emails', JSON.stringify({ from: 'sender@example.com', to: 'alice@example.com', subject: 'ping' }), headers);
  const attachmentOnly = await send(api, 'POST', '/v1/emails', JSON.stringify({
    from: 'sender@example.com', to: 'alice@example.com', attachments: [{ filename: 'a.txt', content: 'aGVsbG8=' }],
  }), headers);
  assert.equal(subjectOnly.status, 202, JSON.stringify(subjectOnly.body));
  assert.equal(attachmentOnly.status, 202, JSON.stringify(attachmentOnly.body));
});
