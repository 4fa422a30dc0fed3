// What the benchmark sends to: a mock Postmark over HTTP (one email per request, or its batch
// endpoint), or a real SMTP server (smtp-server, from the nodemailer project), all on 127.0.0.1.
// Each counts what it received and the TCP connections opened to it, and says which
// POST_OFFICE_BACKENDS points at it.
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { MockProvider } from '../test/helpers/mock-provider.ts';
import { postmarkBackend } from '../test/helpers/sidecar-process.ts';

export interface Target {
  readonly name: string;
  /** Where it listens: the mock's base URL, or smtp://host:port. */
  readonly url: string;
  /** POST_OFFICE_BACKENDS for a sidecar sending here. */
  readonly backends: string;
  /** Emails received so far. */
  received(): number;
  /** Requests (or SMTP transactions) that carried them. */
  requests(): number;
  connectionsOpened(): number;
  /** Most connections open at once, where it differs from those opened (SMTP rotates them). */
  peakConnections?(): number;
  /** When the last email arrived (ms since the epoch). */
  lastReceipt(): number;
  /** Zeroes every count, so one target serves several runs side by side. */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * `batch`: the backend sets "batch": true, so emails waiting together go to /email/batch.
 * `latencyMs`: each request is answered that long after it arrived.
 */
export async function httpTarget(options: { batch: boolean; latencyMs?: number }): Promise<Target> {
  const delay = options.latencyMs ? { delayMs: options.latencyMs } : {};
  const provider = new MockProvider();
  let last = 0;
  let received = 0;
  const accept = provider.script;
  provider.script = (request, index) => {
    last = Date.now();
    if (request.path !== '/email/batch') {
      received += 1;
      return { ...accept(request, index), ...delay };
    }
    const items = JSON.parse(request.body) as unknown[];
    received += items.length;
    return { status: 200, body: items.map((_, i) => ({ ErrorCode: 0, Message: 'OK', MessageID: `mock-${index}-${i}` })), ...delay };
  };
  const url = await provider.start();
  return {
    name: options.batch ? 'HTTP (mock Postmark, batch endpoint)' : 'HTTP (mock Postmark)',
    url,
    backends: options.batch
      ? JSON.stringify({ default: { provider: 'postmark', server_token: 'test-server-token', base_url: url, batch: true } })
      : postmarkBackend(url),
    received: () => received,
    requests: () => provider.requests.length,
    connectionsOpened: () => provider.connectionsOpened,
    lastReceipt: () => last,
    reset() {
      received = 0;
      last = 0;
      provider.reset();
    },
    stop: () => provider.stop(),
  };
}

/** `maxConnections`: the SMTP pool size per worker thread, the counterpart of HTTP connections. */
export async function smtpTarget(maxConnections: number): Promise<Target> {
  let received = 0;
  let connections = 0;
  let peak = 0;
  let last = 0;
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    // Plain SMTP on loopback: a TLS handshake per connection is not what is being measured.
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, callback) {
      // Drain the message without keeping it: 20,000 bodies would only measure this process's memory.
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        last = Date.now();
        callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    name: 'SMTP (smtp-server)',
    url: `smtp://127.0.0.1:${port}`,
    backends: JSON.stringify({ default: { provider: 'smtp', host: '127.0.0.1', port, max_connections: maxConnections } }),
    received: () => received,
    requests: () => received,
    connectionsOpened: () => connections,
    // nodemailer's pool ends a connection after 100 messages (maxMessages) and opens another.
    peakConnections: () => peak,
    lastReceipt: () => last,
    reset() {
      received = 0;
      connections = 0;
      peak = sockets.size;
      last = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
