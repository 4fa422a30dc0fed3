// The application's end of POST_OFFICE_EVENTS_URL on 127.0.0.1, port 0: records every POST
// (raw body, headers, parsed event) and answers what the test scripts (a status, a delay).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  body: string;
  headers: http.IncomingHttpHeaders;
  event: { id: number; type: string; email_id: string; status: string; [field: string]: unknown };
  /** The status it was answered with, once answered. */
  answered?: number;
}

export type EventScript = (received: ReceivedEvent, index: number) => { status: number; delayMs?: number };

export class EventsApp {
  readonly received: ReceivedEvent[] = [];
  script: EventScript;
  private readonly server: http.Server;

  constructor(script: EventScript = () => ({ status: 200 })) {
    this.script = script;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/post-office/events`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The events taken (answered 2xx), in the order they arrived. */
  delivered(): ReceivedEvent['event'][] {
    return this.received.filter((r) => r.answered !== undefined && r.answered < 300).map((r) => r.event);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const received: ReceivedEvent = { body, headers: req.headers, event: JSON.parse(body) as ReceivedEvent['event'] };
    const index = this.received.push(received) - 1;
    const reply = this.script(received, index);
    if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    received.answered = reply.status;
    res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.status < 300 ? 'ok' : 'not now');
  }
}
