// A real SMTP server (smtp-server from the nodemailer project) on 127.0.0.1, port 0, that
// records every message it accepts, every DATA it starts, every TCP connection and the raw
// commands clients send, and answers whatever the test scripts: a 4xx, a 5xx, a connection
// dropped on connect or mid-DATA, or a stall.
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  data: string;
}

export type SmtpScript =
  | { kind: 'accept' }
  | { kind: 'reject-rcpt'; code: number; text: string }
  | { kind: 'reject-data'; code: number; text: string }
  | { kind: 'drop-mid-data' }
  | { kind: 'drop-on-connect' }
  | { kind: 'stall' };

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export class TestSmtpServer {
  readonly messages: ReceivedMessage[] = [];
  /** DATA commands the server began to read, complete or not. */
  dataStarted = 0;
  connections = 0;
  /** Everything clients wrote, per connection, to see commands such as QUIT. */
  readonly transcripts: string[] = [];
  script: SmtpScript = { kind: 'accept' };
  private readonly server: SMTPServer;
  private readonly sockets = new Set<Socket>();

  constructor(options: Partial<SMTPServerOptions> = {}) {
    this.server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      ...options,
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        if (this.script.kind === 'reject-rcpt') return callback(smtpError(this.script.code, `${this.script.text} <${address.address}>`));
        callback();
      },
      onData: (stream, session, callback) => {
        this.dataStarted += 1;
        const script = this.script;
        const chunks: Buffer[] = [];
        if (script.kind === 'drop-mid-data') {
          stream.once('data', () => this.dropAll());
        }
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (script.kind === 'stall') return; // never answer; the client must give up
          if (script.kind === 'reject-data') return callback(smtpError(script.code, script.text));
          if (script.kind === 'drop-mid-data') return;
          this.messages.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            data: Buffer.concat(chunks).toString(),
          });
          callback();
        });
      },
    });
    this.server.server.on('connection', (socket: Socket) => {
      const index = this.connections++;
      this.transcripts[index] = '';
      this.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        this.transcripts[index] += chunk.toString('latin1');
      });
      socket.on('close', () => this.sockets.delete(socket));
      if (this.script.kind === 'drop-on-connect') socket.destroy();
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as AddressInfo).port;
  }

  /** Drops every client connection, as a crashed server or a broken network would. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Resolves once every client has closed its connection. */
  async idle(): Promise<void> {
    await Promise.all([...this.sockets].map((socket) => new Promise((resolve) => (socket.destroyed ? resolve(null) : socket.once('close', resolve)))));
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
