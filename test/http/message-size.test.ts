// Message size limits per backend, checked at enqueue: an email its provider would refuse for
// its size gets 413 MESSAGE_TOO_LARGE naming the field and both sizes, and nothing is stored;
// `max_message_bytes` overrides the provider's documented limit either way. Also the content type
// an attachment gets when it names none.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type pg from 'pg';
import type { Service } from '../../src/service.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { connect, postJson, startSidecar } from '../helpers/sidecar.ts';

const postmark = { provider: 'postmark', server_token: 'pm-token-0123456789', base_url: 'http://127.0.0.1:9' };
const databaseUrl = await createTestDatabase();
const api: Service = await startSidecar(databaseUrl, {
  POST_OFFICE_DISPATCHER: 'off',
  POST_OFFICE_BACKENDS: JSON.stringify({
    default: postmark,
    tiny: { ...postmark, max_message_bytes: 20_000 },
    roomy: { ...postmark, max_message_bytes: 20_000_000 },
    files: { provider: 'outbox' },
  }),
});
const db: pg.Client = await connect(databaseUrl);

async function stored(): Promise<{ emails: number; blobs: number; keys: number }> {
  const { rows } = await db.query<{ emails: string; blobs: string; keys: string }>(`SELECT
    (SELECT count(*) FROM emails) AS emails, (SELECT count(*) FROM attachment_blobs) AS blobs,
    (SELECT count(*) FROM idempotency_keys) AS keys`);
  return { emails: Number(rows[0]!.emails), blobs: Number(rows[0]!.blobs), keys: Number(rows[0]!.keys) };
}

const email = (extra: Record<string, unknown> = {}) => ({ from: 'sender@example.com', to: 'bob@example.com', subject: 'report', text: 'attached', ...extra });
const attachment = (bytes: number) => ({ filename: 'report.pdf', content: randomBytes(bytes).toString('base64') });
// 7.6 MB of file is about 10.4 MB as MIME (base64 and its line breaks): over Postmark's 10 MB.
const tooBigForPostmark = attachment(7_600_000);
// 7.2 MB is about 9.9 MB: under it.
const fitsPostmark = attachment(7_200_000);

test('over the provider limit: 413 naming the field and both sizes, and nothing stored', async () => {
  const before = await stored();
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({ attachments: [tooBigForPostmark] }), { 'idempotency-key': 'too-big' });
  assert.equal(response.status, 413);
  assert.equal(response.body.code, 'MESSAGE_TOO_LARGE');
  assert.match(String(response.body.message), /^attachments: the message would be 10\.\d MB; backend 'default' \(postmark\) accepts at most 10 MB$/);
  assert.deepEqual(await stored(), before, 'no email, no attachment blob, no idempotency key');
});

test('in a batch, the message names the email, and none of the batch is stored', async () => {
  const before = await stored();
  const response = await postJson(`${api.apiUrl}/v1/emails/batch`, { emails: [email(), email({ attachments: [tooBigForPostmark] })] });
  assert.equal(response.status, 413);
  assert.equal(response.body.code, 'MESSAGE_TOO_LARGE');
  assert.match(String(response.body.message), /^emails\[1\]\.attachments: the message would be 10\.\d MB; backend 'default'/);
  assert.deepEqual(await stored(), before);
});

test('under the provider limit: accepted', async () => {
  const before = await stored();
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({ attachments: [fitsPostmark] }));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  assert.deepEqual(await stored(), { ...before, emails: before.emails + 1, blobs: before.blobs + 1 });
});

test('max_message_bytes lowers the limit, and the heaviest part is named', async () => {
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({ backend: 'tiny', html: `<p>${'x'.repeat(30_000)}</p>` }));
  assert.equal(response.status, 413);
  assert.match(String(response.body.message), /^html: the message would be \d+(\.\d)? KB; backend 'tiny' \(postmark\) accepts at most 20 KB$/);
  assert.equal((await postJson(`${api.apiUrl}/v1/emails`, email({ backend: 'tiny', html: '<p>short</p>' }))).status, 202);
});

test('max_message_bytes raises the limit', async () => {
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({ backend: 'roomy', attachments: [tooBigForPostmark] }));
  assert.equal(response.status, 202, JSON.stringify(response.body));
});

test('the outbox has no limit of its own', async () => {
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({ backend: 'files', attachments: [attachment(20_000_000)] }));
  assert.equal(response.status, 202, JSON.stringify(response.body));
});

test('an attachment without content_type is stored with the type its file name says, or application/octet-stream', async () => {
  const response = await postJson(`${api.apiUrl}/v1/emails`, email({
    attachments: [{ filename: 'report.pdf', content: 'aGVsbG8=' }, { filename: 'notes.unknown-kind', content: 'aGVsbG8=' }, { filename: 'logo.svg', content: 'aGVsbG8=', content_type: 'image/png' }],
  }));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const { rows } = await db.query<{ types: string[] }>(
    `SELECT array(SELECT a->>'content_type' FROM jsonb_array_elements(message->'attachments') a) AS types FROM emails WHERE id = $1`, [response.body.id]);
  assert.deepEqual(rows[0]?.types, ['application/pdf', 'application/octet-stream', 'image/png']);
});
