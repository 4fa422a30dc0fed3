// Attachments are stored once, content-addressed by SHA-256, and reach the provider intact;
// a content_id makes one inline (a related part with that Content-ID).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defer } from '../helpers/cleanup.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { connect, eventually, postJson, postmarkBackend, startSidecar } from '../helpers/sidecar.ts';

// A 1×1 PNG.
const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==';
const pdf = Buffer.from('%PDF-1.4 not really a pdf, but bytes all the same').toString('base64');

const email = (subject: string) => ({
  from: 'shop@example.com',
  to: 'bob@example.com',
  subject,
  html: '<p>Hello <img src="cid:logo"></p>',
  attachments: [
    { filename: 'logo.png', content: png, content_id: 'logo' },
    { filename: 'invoice.pdf', content: pdf },
  ],
});

test('two emails with the same attachments store each content once, and providers get it back', async () => {
  const provider = new MockProvider();
  defer(() => provider.stop());
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl, { POST_OFFICE_BACKENDS: postmarkBackend(await provider.start()) });
  const db = await connect(databaseUrl);

  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails/batch`, { emails: [email('one'), email('two')] })).status, 202);
  assert.equal((await postJson(`${sidecar.apiUrl}/v1/emails`, email('three'))).status, 202);
  const blobs = (await db.query('SELECT sha256, size FROM attachment_blobs ORDER BY size')).rows;
  assert.deepEqual(blobs.map((blob) => blob.sha256).sort(), [png, pdf].map((b64) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex')).sort());
  assert.equal(Number((await db.query('SELECT count(*) FROM email_attachments')).rows[0].count), 6);
  const stored = (await db.query(`SELECT message->'attachments' AS attachments FROM emails LIMIT 1`)).rows[0].attachments;
  assert.ok(stored.every((attachment: Record<string, unknown>) => !('content' in attachment)), 'email rows keep references, not content');

  await eventually('the provider to get all three', () => provider.requests.length === 3);
  for (const request of provider.requests) {
    const { Attachments } = JSON.parse(request.body) as { Attachments: Record<string, string>[] };
    assert.deepEqual(Attachments, [
      { Name: 'logo.png', Content: png, ContentType: 'image/png', ContentID: 'cid:logo' },
      { Name: 'invoice.pdf', Content: pdf, ContentType: 'application/pdf' },
    ]);
  }
});

test('an inline image reaches the .eml as a related part with its Content-ID', async () => {
  const databaseUrl = await createTestDatabase();
  const sidecar = await startSidecar(databaseUrl);
  const { body } = await postJson(`${sidecar.apiUrl}/v1/emails`, email('inline'));
  let sent: { status: string; provider_message_id: string } | undefined;
  await eventually('the email to be written', async () => {
    sent = (await (await fetch(`${sidecar.apiUrl}/v1/emails/${String(body.id)}`)).json()) as typeof sent;
    return sent?.status === 'sent';
  });
  const eml = await readFile(path.resolve(sent!.provider_message_id), 'utf8');
  assert.match(eml, /Content-Type: multipart\/related/);
  assert.match(eml, /Content-Type: image\/png; name=logo\.png[\s\S]*?Content-ID: <logo>/);
  assert.match(eml, /Content-Disposition: attachment; filename=invoice\.pdf/);
  assert.ok(eml.replace(/\r?\n/g, '').includes(png.replace(/=+$/, '')), 'the image bytes are in the message');
});
