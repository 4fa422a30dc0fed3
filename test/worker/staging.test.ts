// Staging safety through the real worker module in the real pool: with
// POST_OFFICE_OVERRIDE_RECIPIENTS every provider path (an HTTP API, raw-MIME SES, SMTP, the
// outbox) sends to the override list only — to, cc and bcc — and names the original recipients
// in X-Post-Office-Original-* headers; POST_OFFICE_MESSAGE_ID_DOMAIN sets the Message-ID domain.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import type { EmailMessage } from '../../src/email/message.ts';
import { WorkerPool } from '../../src/worker/pool.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { message } from '../helpers/provider-fixtures.ts';
import { TestSmtpServer } from '../helpers/provider-smtp-server.ts';

const OVERRIDE = 'qa@example.com, QA Lead <lead@example.com>';
const DOMAIN = 'ids.example.net';

const mock = new MockProvider((request) => ({
  status: 200,
  body: request.path.startsWith('/v2/') ? { MessageId: 'ses-id' } : { ErrorCode: 0, Message: 'OK', MessageID: 'pm-id' },
}));
const smtpServer = new TestSmtpServer();
let dataDir: string;
let mockUrl: string;
let smtpPort: number;
const pools: WorkerPool[] = [];

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-staging-'));
  mockUrl = await mock.start();
  smtpPort = await smtpServer.start();
});

after(async () => {
  for (const pool of pools) await pool.close();
  await smtpServer.stop();
  await mock.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function startPool(env: Record<string, string>): WorkerPool {
  const pool = new WorkerPool(loadConfig({
    POST_OFFICE_DATA_DIR: dataDir,
    POST_OFFICE_THREADS: '1',
    POST_OFFICE_BACKENDS: JSON.stringify({
      // Every task here names its backend; the sidecar still needs the one unnamed emails use.
      default: { provider: 'postmark', server_token: 'pm-token', base_url: mockUrl },
      postmark: { provider: 'postmark', server_token: 'pm-token', base_url: mockUrl },
      ses: { provider: 'ses', region: 'eu-west-1', access_key_id: 'AKIDEXAMPLE', secret_access_key: 'ses-secret', base_url: mockUrl },
      smtp: { provider: 'smtp', host: '127.0.0.1', port: smtpPort },
      outbox: { provider: 'outbox', dir: path.join(dataDir, env.POST_OFFICE_OVERRIDE_RECIPIENTS ? 'staging' : 'plain') },
    }),
    ...env,
  }));
  pools.push(pool);
  return pool;
}

function email(id: string): EmailMessage {
  // An app header claiming to be ours must not survive next to the real record.
  return { ...message, id, headers: { ...message.headers, 'x-post-office-original-to': 'forged@example.com' } };
}

const original = { to: 'ann@example.com, bob@example.com', cc: 'carol@example.com', bcc: 'dave@example.com' };

/** A MIME header's unfolded value, or undefined. */
function mimeHeader(mime: string, name: string): string | undefined {
  const head = mime.slice(0, mime.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const matches = head.split('\r\n').filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  assert.ok(matches.length <= 1, `at most one ${name} header`);
  return matches[0]?.slice(name.length + 1).trim();
}

function assertRedirectedMime(mime: string, id: string): void {
  assert.equal(mimeHeader(mime, 'To'), 'qa@example.com, QA Lead <lead@example.com>');
  assert.equal(mimeHeader(mime, 'Cc'), undefined);
  assert.equal(mimeHeader(mime, 'Bcc'), undefined);
  assert.equal(mimeHeader(mime, 'X-Post-Office-Original-To'), original.to);
  assert.equal(mimeHeader(mime, 'X-Post-Office-Original-Cc'), original.cc);
  assert.equal(mimeHeader(mime, 'X-Post-Office-Original-Bcc'), original.bcc);
  assert.equal(mimeHeader(mime, 'X-Campaign'), 'spring', 'the app\'s own headers stay');
  assert.equal(mimeHeader(mime, 'Message-ID'), `<${id}@${DOMAIN}>`);
}

test('with POST_OFFICE_OVERRIDE_RECIPIENTS every provider path sends to the override list only', async () => {
  const pool = startPool({ POST_OFFICE_OVERRIDE_RECIPIENTS: OVERRIDE, POST_OFFICE_MESSAGE_ID_DOMAIN: DOMAIN });

  await test('postmark (HTTP API): To is the list, no Cc or Bcc, originals in Headers', async () => {
    assert.deepEqual(await pool.run({ backend: 'postmark', message: email('0190a1b2-0000-7000-8000-000000000001') }), { outcome: 'ok', providerMessageId: 'pm-id' });
    const body = JSON.parse(mock.requests.at(-1)!.body) as Record<string, unknown>;
    assert.equal(body.To, OVERRIDE);
    assert.equal(body.Cc, undefined);
    assert.equal(body.Bcc, undefined);
    assert.deepEqual(body.Headers, [
      { Name: 'X-Campaign', Value: 'spring' },
      { Name: 'X-Post-Office-Original-To', Value: original.to },
      { Name: 'X-Post-Office-Original-Cc', Value: original.cc },
      { Name: 'X-Post-Office-Original-Bcc', Value: original.bcc },
    ]);
  });

  await test('ses (raw MIME): Destination and the MIME carry only the list', async () => {
    const id = '0190a1b2-0000-7000-8000-000000000002';
    assert.equal((await pool.run({ backend: 'ses', message: email(id) })).outcome, 'ok');
    const body = JSON.parse(mock.requests.at(-1)!.body) as { Destination: Record<string, unknown>; Content: { Raw: { Data: string } } };
    assert.deepEqual(body.Destination, { ToAddresses: ['qa@example.com', 'lead@example.com'] });
    assertRedirectedMime(Buffer.from(body.Content.Raw.Data, 'base64').toString(), id);
  });

  await test('smtp: the envelope and the message carry only the list', async () => {
    const id = '0190a1b2-0000-7000-8000-000000000003';
    const before = smtpServer.messages.length;
    assert.deepEqual(await pool.run({ backend: 'smtp', message: email(id) }), { outcome: 'ok', providerMessageId: `<${id}@${DOMAIN}>` });
    const received = smtpServer.messages[before]!;
    assert.deepEqual(received.to, ['qa@example.com', 'lead@example.com'], 'no original recipient in the envelope');
    assertRedirectedMime(received.data, id);
  });

  await test('outbox: the .eml names the list and the originals', async () => {
    const id = '0190a1b2-0000-7000-8000-000000000004';
    const outcome = await pool.run({ backend: 'outbox', message: email(id) });
    assert.equal(outcome.outcome, 'ok');
    assertRedirectedMime(await readFile(path.join(dataDir, 'staging', `${id}.eml`), 'utf8'), id);
  });
});

test('without the override, emails keep their recipients and the From domain names the Message-ID', async () => {
  const pool = startPool({});
  const id = '0190a1b2-0000-7000-8000-000000000005';
  const before = smtpServer.messages.length;
  assert.equal((await pool.run({ backend: 'smtp', message })).outcome, 'ok');
  assert.deepEqual(smtpServer.messages[before]!.to, ['ann@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
  assert.equal((await pool.run({ backend: 'outbox', message: { ...message, id } })).outcome, 'ok');
  const mime = await readFile(path.join(dataDir, 'plain', `${id}.eml`), 'utf8');
  assert.equal(mimeHeader(mime, 'Message-ID'), `<${id}@example.com>`);
  assert.equal(mimeHeader(mime, 'Cc'), 'carol@example.com');
  assert.equal(mimeHeader(mime, 'X-Post-Office-Original-To'), undefined);
});
