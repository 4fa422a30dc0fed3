// A scripted email provider on 127.0.0.1, port 0. It speaks enough of Postmark's and Mailgun's
// APIs for the adapters, records every request with the TCP connection that carried it, and
// answers whatever the test scripts: a status, a delay, a reset socket.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Which TCP connection carried it (1, 2, ...). */
  connection: number;
  /** Arrival time, ms since the epoch. */
  at: number;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { reset: true };

/** Decides the reply to each request; the default accepts everything like Postmark does. */
export type Script = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export const accept: Script = (request) => ({
  status: 200,
  body: request.path.includes('/messages')
    ? { id: `<mock-${Date.now()}@mailgun>`, message: 'Queued. Thank you.' }
    : { ErrorCode: 0, Message: 'OK', MessageID: `mock-${Math.random().toString(36).slice(2)}` },
});

export class MockProvider {
  readonly requests: RecordedRequest[] = [];
  script: Script;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  constructor(script: Script = accept) {
    this.script = script;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket: Socket & { connectionId?: number }) => {
      socket.connectionId = ++this.connections;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** TCP connections accepted so far. */
  get connectionsOpened(): number {
    return this.connections;
  }

  /** Forgets the requests and connections seen so far (between benchmark runs on one mock). */
  reset(): void {
    this.requests.length = 0;
    this.connections = 0;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
      connection: (req.socket as Socket & { connectionId?: number }).connectionId ?? 0,
      at: Date.now(),
    };
    const index = this.requests.push(request) - 1;
    const reply = await this.script(request, index);
    if ('reset' in reply) {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  /** Subjects of the Postmark requests answered so far, in arrival order. */
  subjects(): string[] {
    return this.requests.map((request) => String((JSON.parse(request.body) as { Subject?: string }).Subject));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
