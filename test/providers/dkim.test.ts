// DKIM for the raw-MIME adapters: the message the SMTP server receives and the raw MIME in the
// SES request carry a DKIM-Signature that verifies against the public key. The verifier below
// is written from RFC 6376 (relaxed/relaxed, rsa-sha256) rather than borrowed from nodemailer,
// so the test does not check the signer against itself.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import type { EmailMessage } from '../../src/email/message.ts';
import type { Provider, SendContext } from '../../src/providers/provider.ts';
import { parseBackends } from '../../src/providers/registry.ts';
import { createProvider } from '../../src/providers/kinds.ts';
import { MockProvider } from '../helpers/mock-provider.ts';
import { message } from '../helpers/provider-fixtures.ts';
import { TestSmtpServer } from '../helpers/provider-smtp-server.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const dkim = { domain_name: 'example.com', key_selector: 'po2024' };

const smtpServer = new TestSmtpServer();
const mock = new MockProvider();
const agent = new Agent({ connections: 1 });
const open: Provider[] = [];
let smtpPort: number;
let mockUrl: string;

before(async () => {
  smtpPort = await smtpServer.start();
  mockUrl = await mock.start();
});

after(async () => {
  for (const provider of open) await provider.close?.();
  await smtpServer.stop();
  await mock.stop();
  await agent.close();
});

function adapter(settings: Record<string, unknown>): Provider {
  const provider = createProvider(parseBackends(JSON.stringify({ signed: settings }), '/nonexistent').signed!);
  open.push(provider);
  return provider;
}

const context: SendContext = { agent, headers: {}, timeoutMs: 5000 };

interface Verified {
  tags: Record<string, string>;
}

/** Splits an RFC 5322 header block into unfolded-as-is fields ("Name: value\r\n continued"). */
function headerFields(block: string): string[] {
  const fields: string[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  return fields;
}

const nameOf = (field: string) => field.slice(0, field.indexOf(':')).trim().toLowerCase();

/** RFC 6376 §3.4.2: lower-case name, unfold, runs of WSP to one SP, no WSP around the colon or at the end. */
function relaxedHeader(field: string): string {
  const value = field.slice(field.indexOf(':') + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${nameOf(field)}:${value}`;
}

/** RFC 6376 §3.4.4: WSP runs to one SP, none at line ends, no trailing empty lines, one final CRLF. */
function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
}

/** Verifies the message's one DKIM-Signature with `publicKey`; returns its tags. */
function verifyDkim(raw: string, publicKey: KeyObject): Verified {
  const split = raw.indexOf('\r\n\r\n');
  assert.ok(split > 0, 'the message has a header block');
  const fields = headerFields(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const signatures = fields.filter((field) => nameOf(field) === 'dkim-signature');
  assert.equal(signatures.length, 1, 'exactly one DKIM-Signature header');
  const signature = signatures[0]!;
  const tags = Object.fromEntries(
    relaxedHeader(signature).slice('dkim-signature:'.length).split(';').map((tag) => tag.trim()).filter(Boolean).map((tag) => {
      const eq = tag.indexOf('=');
      return [tag.slice(0, eq).trim(), tag.slice(eq + 1).replace(/\s+/g, '')];
    }),
  ) as Record<string, string>;
  assert.equal(tags.v, '1');
  assert.equal(tags.a, 'rsa-sha256');
  assert.equal(tags.c, 'relaxed/relaxed');

  const bodyHash = createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64');
  assert.equal(tags.bh, bodyHash, 'bh= is the hash of the canonical body');

  // §5.4.2: each name in h= takes the next instance of that header from the bottom up.
  const unused = fields.filter((field) => field !== signature);
  const signedHeaders = (tags.h ?? '').split(':').map((name) => {
    const index = unused.map(nameOf).lastIndexOf(name.trim().toLowerCase());
    if (index === -1) return null; // a listed header that is absent signs as nothing
    const [field] = unused.splice(index, 1);
    return `${relaxedHeader(field!)}\r\n`;
  }).filter((line) => line !== null);
  // The signature header itself, with the b= value emptied and no final CRLF (§3.7).
  const withoutB = relaxedHeader(signature).replace(/(^dkim-signature:|;)(\s*b\s*=)[^;]*/, '$1$2');
  const data = Buffer.from(signedHeaders.join('') + withoutB, 'latin1');
  assert.ok(verify('sha256', data, publicKey, Buffer.from(tags.b ?? '', 'base64')), 'the RSA signature verifies');
  return { tags };
}

test('SMTP: the server receives a message with a DKIM-Signature that verifies', async () => {
  const provider = adapter({ provider: 'smtp', host: '127.0.0.1', port: smtpPort, dkim: { ...dkim, private_key: privatePem } });
  const before = smtpServer.messages.length;
  assert.equal((await provider.send(message, context)).outcome, 'ok');
  const received = smtpServer.messages[before];
  assert.ok(received !== undefined);
  const { tags } = verifyDkim(received.data, rsa.publicKey);
  assert.equal(tags.d, 'example.com');
  assert.equal(tags.s, 'po2024');
  assert.match(tags.h ?? '', /from/i);
  assert.match(tags.h ?? '', /message-id/i);
});

test('SMTP: a tampered message no longer verifies (the verifier is not a rubber stamp)', async () => {
  const provider = adapter({ provider: 'smtp', host: '127.0.0.1', port: smtpPort, dkim: { ...dkim, private_key: privatePem } });
  const before = smtpServer.messages.length;
  assert.equal((await provider.send(message, context)).outcome, 'ok');
  const data = smtpServer.messages[before]!.data;
  assert.throws(() => verifyDkim(data.replace('plain body', 'plain b0dy'), rsa.publicKey), /bh= is the hash/);
  assert.throws(() => verifyDkim(data.replace('Subject: Conformance check', 'Subject: Conformance chek'), rsa.publicKey), /RSA signature verifies/);
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assert.throws(() => verifyDkim(data, other.publicKey), /RSA signature verifies/);
});

test('SMTP without dkim sends no signature', async () => {
  const provider = adapter({ provider: 'smtp', host: '127.0.0.1', port: smtpPort });
  const before = smtpServer.messages.length;
  assert.equal((await provider.send(message, context)).outcome, 'ok');
  assert.doesNotMatch(smtpServer.messages[before]!.data, /^DKIM-Signature:/im);
});

test('SES: the raw MIME in the request carries a DKIM-Signature that verifies', async () => {
  mock.script = () => ({ status: 200, body: { MessageId: '0100018f-ses-id' } });
  const provider = adapter({
    provider: 'ses', region: 'eu-west-1', access_key_id: 'AKIDEXAMPLE', secret_access_key: 'ses-secret-access-key', base_url: mockUrl,
    dkim: { ...dkim, private_key: privatePem },
  });
  const signedMessage: EmailMessage = { ...message, id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c' };
  assert.deepEqual(await provider.send(signedMessage, { ...context, messageIdDomain: 'ids.example.net' }), { outcome: 'ok', providerMessageId: '0100018f-ses-id' });
  const body = JSON.parse(mock.requests.at(-1)!.body) as { Content: { Raw: { Data: string } } };
  const mime = Buffer.from(body.Content.Raw.Data, 'base64').toString('latin1');
  const { tags } = verifyDkim(mime, rsa.publicKey);
  assert.equal(tags.d, 'example.com');
  assert.equal(tags.s, 'po2024');
  assert.match(mime, new RegExp(`^Message-ID: <${signedMessage.id}@ids\\.example\\.net>$`, 'm'), 'signed with the configured Message-ID');
  assert.doesNotMatch(mime, /^Bcc:/im);
});

test('dkim settings are checked at start-up, and the key is never echoed', () => {
  const parse = (settings: unknown, provider: Record<string, unknown> = { provider: 'smtp', host: 'mail' }) =>
    parseBackends(JSON.stringify({ relay: { ...provider, dkim: settings } }), '/nonexistent');
  const secretLooking = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-not-a-key-SECRET\n-----END PRIVATE KEY-----\n';
  const rejects = (settings: unknown, pattern: RegExp) => assert.throws(() => parse(settings), (err: Error) => {
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('SECRET') && !err.message.includes('BEGIN'), `"${err.message}" echoes the key`);
    return true;
  });
  rejects('yes', /^POST_OFFICE_BACKENDS\.relay: dkim must be an object/);
  rejects({ ...dkim }, /^POST_OFFICE_BACKENDS\.relay: dkim\.private_key must be a non-empty string$/);
  rejects({ ...dkim, private_key: secretLooking }, /^POST_OFFICE_BACKENDS\.relay: dkim\.private_key must be an unencrypted PEM private key \(it does not parse\)$/);
  rejects({ ...dkim, private_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() }, /dkim\.private_key must be an unencrypted PEM private key/);
  const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass-phrase' }).toString();
  rejects({ ...dkim, private_key: encrypted }, /dkim\.private_key must be an unencrypted PEM private key/);
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  rejects({ ...dkim, private_key: ed25519 }, /dkim\.private_key must be an RSA key: nodemailer signs rsa-sha256 only \(got ed25519\)$/);
  const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  rejects({ ...dkim, private_key: small }, /dkim\.private_key must be at least 1024 bits \(got 512\)$/);
  rejects({ key_selector: 's1', private_key: privatePem }, /dkim\.domain_name must be a non-empty string/);
  rejects({ ...dkim, domain_name: 'example.com;x=y', private_key: privatePem }, /dkim\.domain_name must be a domain name/);
  rejects({ ...dkim, key_selector: 'a b', private_key: privatePem }, /dkim\.key_selector must be DNS labels/);
  rejects({ ...dkim, private_key: privatePem, privateKey: privatePem }, /unknown setting "dkim\.privateKey" \(known: dkim\.domain_name, dkim\.key_selector, dkim\.private_key\)/);

  assert.deepEqual(parse({ ...dkim, private_key: privatePem }).relay, {
    provider: 'smtp', host: 'mail', port: 587, secure: false, require_tls: false, auth: undefined, tls_reject_unauthorized: true,
    max_connections: 2, idle_timeout_seconds: 30, dkim: { ...dkim, private_key: privatePem },
  });
  const ses = parse({ ...dkim, private_key: privatePem }, { provider: 'ses', region: 'eu-west-1', access_key_id: 'AKID', secret_access_key: 'secret' }).relay;
  assert.deepEqual((ses as { dkim?: unknown }).dkim, { ...dkim, private_key: privatePem });
  assert.throws(() => parse({ ...dkim, private_key: privatePem }, { provider: 'postmark', server_token: 't' }), /unknown setting "dkim"/, 'HTTP JSON providers sign on their side');
});
