// The size estimate behind MESSAGE_TOO_LARGE against the bytes the sidecar really builds
// (nodemailer's MailComposer, as the outbox, SMTP and SES send them): never under, and close
// where attachments make up the message, which is where limits are reached.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { EmailMessage, StoredMessage } from '../../src/email/message.ts';
import { buildMime } from '../../src/email/mime.ts';
import { estimateMimeBytes, formatBytes } from '../../src/email/size.ts';
import { maxMessageBytes } from '../../src/providers/limits.ts';

const base: EmailMessage = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  from: 'Sender Name <sender@example.com>',
  to: ['Ann Example <ann@example.com>', 'bob@example.com'],
  cc: ['carol@example.com'],
  bcc: ['dave@example.com'],
  reply_to: ['replies@example.com'],
  subject: 'Größenprüfung 📎',
  headers: { 'X-Campaign': 'spring', 'X-Order': '1234' },
  attachments: [],
  tags: [],
  metadata: {},
};

function stored(message: EmailMessage): StoredMessage {
  return {
    ...message,
    attachments: message.attachments.map((a) => ({
      filename: a.filename,
      content_type: a.content_type ?? 'application/octet-stream',
      ...(a.content_id === undefined ? {} : { content_id: a.content_id }),
      sha256: '',
      size: Buffer.from(a.content, 'base64').length,
    })),
  };
}

async function compare(message: EmailMessage): Promise<{ actual: number; estimate: number }> {
  const actual = (await buildMime(message)).length;
  const parts = estimateMimeBytes(stored(message));
  return { actual, estimate: parts.headers + parts.text + parts.html + parts.attachments };
}

const cases: Array<[string, EmailMessage]> = [
  ['plain ASCII text', { ...base, text: 'Hello Bob.\n'.repeat(2000) }],
  ['non-ASCII text and HTML', { ...base, text: 'Grüße aus Köln — ✓ '.repeat(3000), html: `<p>${'Ünïcödé ☃ '.repeat(3000)}</p>` }],
  ['Latin text with accents (quoted-printable)', { ...base, text: 'Prüfung der Größe, déjà vu, naïve café. '.repeat(3000) }],
  ['Cyrillic and CJK text (base64)', { ...base, text: 'Привет, мир! 你好，世界。'.repeat(3000), html: `<p>${'こんにちは'.repeat(5000)}</p>` }],
  ['=, tabs and control characters', { ...base, text: 'a=b\tc\u0001d\r\n'.repeat(5000) }],
  ['long HTML lines', { ...base, html: `<table>${'<td style="padding:0">x</td>'.repeat(20_000)}</table>` }],
  ['attachments and an inline image', {
    ...base,
    text: 'see attached',
    html: '<img src="cid:logo">',
    attachments: [
      { filename: 'report.pdf', content: randomBytes(1_500_000).toString('base64'), content_type: 'application/pdf' },
      { filename: 'Übersicht März.xlsx', content: randomBytes(700_001).toString('base64') },
      { filename: 'logo.png', content: randomBytes(30_002).toString('base64'), content_type: 'image/png', content_id: 'logo' },
    ],
  }],
];

for (const [name, message] of cases) {
  test(`the estimate is never under the built message: ${name}`, async () => {
    const { actual, estimate } = await compare(message);
    assert.ok(estimate >= actual, `estimate ${estimate} < actual ${actual}`);
  });
}

test('with attachments, the estimate stays within a few percent of the built message', async () => {
  const { actual, estimate } = await compare(cases.find(([name]) => name.startsWith('attachments'))![1]);
  assert.ok(estimate <= actual * 1.03, `estimate ${estimate} is more than 3% over ${actual}`);
});

test('limits: the provider default, the backend override, none for the outbox', () => {
  assert.equal(maxMessageBytes({ provider: 'postmark' }), 10_000_000);
  assert.equal(maxMessageBytes({ provider: 'ses' }), 40_000_000);
  assert.equal(maxMessageBytes({ provider: 'postmark', max_message_bytes: 5_000_000 }), 5_000_000);
  assert.equal(maxMessageBytes({ provider: 'outbox' }), null);
  assert.equal(maxMessageBytes({ provider: 'outbox', max_message_bytes: 1_000_000 }), 1_000_000);
});

test('sizes round up and limits down, so a message just over never reads as the limit', () => {
  assert.equal(formatBytes(10_000_001, 'up'), '10.1 MB');
  assert.equal(formatBytes(10_000_000, 'down'), '10 MB');
  assert.equal(formatBytes(12_345_678, 'up'), '12.4 MB');
  assert.equal(formatBytes(20_000, 'down'), '20 KB');
  assert.equal(formatBytes(999, 'up'), '999 bytes');
});
