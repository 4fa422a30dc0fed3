// The SMTP adapter against a real SMTP server on loopback: replies are classified by their
// class, a dropped connection is reported and never silently re-sent, the pool reuses its
// connections, and close() says QUIT.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, test } from 'node:test';
import { Agent } from 'undici';
import { messageId } from '../../src/email/mime.ts';
import type { Provider, SendContext, SendOutcome } from '../../src/providers/provider.ts';
import { parseBackends } from '../../src/providers/registry.ts';
import { createProvider } from '../../src/providers/kinds.ts';
import { message } from '../helpers/provider-fixtures.ts';
import { TestSmtpServer } from '../helpers/provider-smtp-server.ts';

const server = new TestSmtpServer();
// SMTP needs no Agent, but the context carries one; it is never used, so nothing opens.
const agent = new Agent();
let port: number;
const open: Provider[] = [];

before(async () => {
  port = await server.start();
});

afterEach(async () => {
  for (const provider of open.splice(0)) await provider.close?.();
  await server.idle();
  server.script = { kind: 'accept' };
});

after(async () => {
  await server.stop();
  await agent.close();
});

function adapter(settings: Record<string, unknown> = {}): Provider {
  const backends = parseBackends(JSON.stringify({ default: { provider: 'smtp', host: '127.0.0.1', port, ...settings } }), '/nonexistent');
  const provider = createProvider(backends.default!);
  open.push(provider);
  return provider;
}

function context(timeoutMs = 5000): SendContext {
  return { agent, headers: {}, timeoutMs };
}

function failure(outcome: SendOutcome): { outcome: string; code: string; message: string } {
  assert.notEqual(outcome.outcome, 'ok', 'the send failed');
  return outcome as { outcome: string; code: string; message: string };
}

test('delivers one message to every recipient, Bcc only in the envelope, reusing one connection', async () => {
  const provider = adapter({ max_connections: 1 });
  const before = { messages: server.messages.length, connections: server.connections };
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await provider.send(message, context()), { outcome: 'ok', providerMessageId: messageId(message) });
  }
  const received = server.messages.slice(before.messages);
  assert.equal(received.length, 3);
  assert.equal(server.connections - before.connections, 1, 'three emails, one pooled connection');
  const [first] = received;
  assert.equal(first?.from, 'sender@example.com');
  assert.deepEqual(first?.to, ['ann@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
  assert.match(first?.data ?? '', /^Subject: Conformance check$/m);
  assert.match(first?.data ?? '', new RegExp(`^Message-ID: <${message.id}@example.com>$`, 'm'));
  assert.doesNotMatch(first?.data ?? '', /^Bcc:/im, 'the Bcc header never reaches the recipients');
});

test('a 4xx reply is retryable', async () => {
  server.script = { kind: 'reject-data', code: 451, text: 'Requested action aborted: local error in processing' };
  const outcome = failure(await adapter().send(message, context()));
  assert.equal(outcome.outcome, 'retryable');
  assert.equal(outcome.code, 'DEFERRED');
  assert.match(outcome.message, /451/);
});

test('a 5xx reply to DATA is permanent', async () => {
  server.script = { kind: 'reject-data', code: 554, text: 'Transaction failed: message rejected as spam' };
  const outcome = failure(await adapter().send(message, context()));
  assert.equal(outcome.outcome, 'permanent');
  assert.equal(outcome.code, 'REJECTED');
  assert.match(outcome.message, /554/);
});

test('5xx for every recipient is a permanent RECIPIENT_REJECTED', async () => {
  server.script = { kind: 'reject-rcpt', code: 550, text: 'Mailbox unavailable' };
  const outcome = failure(await adapter().send(message, context()));
  assert.equal(outcome.outcome, 'permanent');
  assert.equal(outcome.code, 'RECIPIENT_REJECTED');
});

test('a connection dropped mid-DATA is retryable and never silently re-sent', async () => {
  server.script = { kind: 'drop-mid-data' };
  const before = { data: server.dataStarted, messages: server.messages.length, connections: server.connections };
  const outcome = failure(await adapter().send(message, context()));
  assert.equal(outcome.outcome, 'retryable');
  assert.equal(outcome.code, 'NETWORK');
  // nodemailer would re-queue 50 ms after the close; give it ten times that to prove it did not.
  // (A non-event can only be shown by waiting; this is the one sleep in the file.)
  await sleep(500);
  assert.equal(server.dataStarted - before.data, 1, 'one DATA, no second attempt behind the queue\'s back');
  assert.equal(server.connections - before.connections, 1, 'no reconnect to re-send');
  assert.equal(server.messages.length, before.messages, 'nothing was accepted');
});

test('a connection dropped before the message went out is reported, not retried behind the queue\'s back', async () => {
  // nodemailer would quietly reconnect and send (maxRequeues > 0); the queue must count the attempt instead.
  server.script = { kind: 'drop-on-connect' };
  const before = { data: server.dataStarted, connections: server.connections };
  const outcome = failure(await adapter().send(message, context()));
  assert.equal(outcome.outcome, 'retryable');
  assert.equal(outcome.code, 'NETWORK');
  assert.equal(server.connections - before.connections, 1, 'no second connection');
  assert.equal(server.dataStarted - before.data, 0);
});

test('a server that stalls past the deadline: retryable, outcome unknown', async () => {
  server.script = { kind: 'stall' };
  const outcome = failure(await adapter().send(message, context(300)));
  assert.equal(outcome.outcome, 'retryable');
  assert.equal(outcome.code, 'TIMEOUT');
  assert.match(outcome.message, /outcome unknown/);
});

test('a refused connection is retryable', async () => {
  const provider = adapter({ port: 1 });
  const outcome = failure(await provider.send(message, context()));
  assert.equal(outcome.outcome, 'retryable');
  assert.equal(outcome.code, 'NETWORK');
});

test('close() says QUIT on pooled connections', async () => {
  const provider = adapter();
  const first = server.connections;
  assert.equal((await provider.send(message, context())).outcome, 'ok');
  open.splice(open.indexOf(provider), 1);
  await provider.close?.();
  await server.idle();
  assert.match(server.transcripts[first] ?? '', /\r\nQUIT\r\n$/, 'the last command was QUIT');
});

test('bad credentials are AUTH_FAILED and the password never appears', async () => {
  const authServer = new TestSmtpServer({
    authOptional: false,
    allowInsecureAuth: true,
    onAuth: (_auth, _session, callback) => callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 })),
  });
  const authPort = await authServer.start();
  try {
    const provider = adapter({ port: authPort, auth: { user: 'app', pass: 'hunter2-very-secret' } });
    const outcome = failure(await provider.send(message, context()));
    assert.equal(outcome.outcome, 'permanent');
    assert.equal(outcome.code, 'AUTH_FAILED');
    assert.ok(!outcome.message.includes('hunter2-very-secret'));
    assert.equal(authServer.messages.length, 0);
  } finally {
    for (const provider of open.splice(0)) await provider.close?.();
    await authServer.stop();
  }
});

test('STARTTLS: require_tls refuses a server without it; tls_reject_unauthorized governs the certificate', async () => {
  const plain = failure(await adapter({ require_tls: true }).send(message, context()));
  assert.equal(plain.outcome, 'retryable');
  assert.equal(plain.code, 'TLS_FAILED');

  // smtp-server's default certificate is self-signed.
  const tlsServer = new TestSmtpServer({ disabledCommands: [] });
  const tlsPort = await tlsServer.start();
  try {
    const strict = failure(await adapter({ port: tlsPort, require_tls: true }).send(message, context()));
    assert.equal(strict.code, 'TLS_FAILED');
    const relaxed = await adapter({ port: tlsPort, require_tls: true, tls_reject_unauthorized: false }).send(message, context());
    assert.equal(relaxed.outcome, 'ok');
    assert.equal(tlsServer.messages.length, 1);
  } finally {
    for (const provider of open.splice(0)) await provider.close?.();
    await tlsServer.stop();
  }
});

test('settings are checked at start-up', () => {
  const parse = (settings: Record<string, unknown>) => parseBackends(JSON.stringify({ default: { provider: 'smtp', ...settings } }), '/nonexistent');
  assert.throws(() => parse({}), /default: host must be a non-empty string/);
  assert.throws(() => parse({ host: 'mail', port: 0 }), /port must be an integer from 1 to 65535/);
  assert.throws(() => parse({ host: 'mail', auth: { user: 'u' } }), /auth\.pass must be a non-empty string/);
  assert.throws(() => parse({ host: 'mail', secure: true, require_tls: true }), /require_tls is for STARTTLS/);
  assert.deepEqual(parse({ host: 'mail', port: 465 }).default, {
    provider: 'smtp', host: 'mail', port: 465, secure: true, require_tls: false, auth: undefined, tls_reject_unauthorized: true, max_connections: 2, idle_timeout_seconds: 30,
  });
});
