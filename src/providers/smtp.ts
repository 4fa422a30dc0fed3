// SMTP through nodemailer's pooled transport. The pool follows the Agent's rule: one per
// worker thread (per backend), created when the worker loads its adapters, reused for every
// email, closed with a QUIT when the worker stops.
//
// maxRequeues is 0: when a connection drops mid-send, nodemailer would otherwise quietly send
// the message again on a new connection, behind the queue's back. Here the drop comes back as
// a retryable outcome, and the queue — which counts attempts and honours backoff — decides.
import type { EmailMessage } from '../email/message.ts';
import { buildMime, messageId } from '../email/mime.ts';
import { nodemailerDkim, optionalDkim, type DkimSettings } from './dkim.ts';
import { bare } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { SettingsError, onlyFields, optionalBoolean, optionalInteger, requiredString } from './settings.ts';

export interface SmtpSettings {
  provider: 'smtp';
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  require_tls: boolean;
  auth?: { user: string; pass: string };
  tls_reject_unauthorized: boolean;
  max_connections: number;
  /** Idle pooled connections are closed (with QUIT) after this long, before servers drop them. */
  idle_timeout_seconds: number;
  /** Signs every message (nodemailer's DKIM, applied by the transport). */
  dkim?: DkimSettings;
  base_url?: undefined;
}

const MAX_DETAIL = 500;

function authOf(raw: Record<string, unknown>): SmtpSettings['auth'] {
  const auth = raw.auth;
  if (auth === undefined) return undefined;
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) throw new SettingsError('auth must be an object {"user": "...", "pass": "..."}');
  const fields = auth as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'user' && key !== 'pass') throw new SettingsError(`unknown setting "auth.${key}" (known: auth.user, auth.pass)`);
  }
  try {
    return { user: requiredString(fields, 'user'), pass: requiredString(fields, 'pass') };
  } catch (err) {
    throw new SettingsError(`auth.${(err as Error).message}`);
  }
}

interface SmtpError {
  code?: string;
  /** The Node.js code under nodemailer's own, e.g. DEPTH_ZERO_SELF_SIGNED_CERT under ESOCKET. */
  originalCode?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** SMTP replies: 4yz transient, 5yz permanent (503 is a session-state error, so transient). */
function classifySmtpError(err: unknown): SendOutcome {
  const e = (err ?? {}) as SmtpError;
  const code = e.code ?? 'UNKNOWN';
  const cause = e.originalCode === undefined ? code : `${code} (${e.originalCode})`;
  const text = `${cause}: ${e.response ?? e.message ?? String(err)}`.slice(0, MAX_DETAIL);
  if (code === 'EABORT') {
    // The deadline passed mid-conversation; if the final "." was already sent the server may
    // have accepted the message. Without an SMTP idempotency key, this is the one duplicate risk.
    return { outcome: 'retryable', code: 'TIMEOUT', message: `outcome unknown: ${text}` };
  }
  // Failures of the session itself, whatever reply code came with them.
  if (code === 'EAUTH') return { outcome: 'permanent', code: 'AUTH_FAILED', message: text };
  const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS|^ERR_SSL/.test(e.originalCode ?? '');
  if (code === 'ETLS' || code === 'EREQUIRETLS' || certificate) return { outcome: 'retryable', code: 'TLS_FAILED', message: text };
  const reply = e.responseCode;
  if (reply !== undefined && reply >= 400) {
    if (reply >= 500 && reply !== 503) {
      return { outcome: 'permanent', code: code === 'EENVELOPE' ? 'RECIPIENT_REJECTED' : 'REJECTED', message: text };
    }
    return { outcome: 'retryable', code: 'DEFERRED', message: text };
  }
  if (code === 'ETIMEDOUT') return { outcome: 'retryable', code: 'TIMEOUT', message: text };
  if (code === 'EENVELOPE') return { outcome: 'permanent', code: 'REJECTED', message: text };
  // ECONNECTION, ESOCKET, EDNS, EPROTOCOL and the unknown: the server may be back later.
  return { outcome: 'retryable', code: 'NETWORK', message: text };
}

/** The pool's connections, which nodemailer keeps internal; used only to say QUIT on close. */
interface PoolResource {
  available: boolean;
  connection?: { quit(): void };
  once(event: 'close', listener: () => void): void;
  prependOnceListener(event: 'available', listener: () => void): void;
}

const QUIT_WAIT_MS = 2000;

export const smtp: ProviderKind<SmtpSettings> = {
  parse(raw) {
    onlyFields(raw, ['host', 'port', 'secure', 'require_tls', 'auth', 'tls_reject_unauthorized', 'max_connections', 'idle_timeout_seconds', 'dkim']);
    const port = optionalInteger(raw, 'port', 1, 65535);
    const secure = optionalBoolean(raw, 'secure') ?? port === 465;
    const settings: SmtpSettings = {
      provider: 'smtp',
      host: requiredString(raw, 'host'),
      port: port ?? (secure ? 465 : 587),
      secure,
      require_tls: optionalBoolean(raw, 'require_tls') ?? false,
      auth: authOf(raw),
      tls_reject_unauthorized: optionalBoolean(raw, 'tls_reject_unauthorized') ?? true,
      max_connections: optionalInteger(raw, 'max_connections', 1, 100) ?? 2,
      // Shorter than common server idle limits, so the pool closes first instead of racing a send.
      idle_timeout_seconds: optionalInteger(raw, 'idle_timeout_seconds', 1, 3600) ?? 30,
      // Present only when configured, so settings without it read the same as before.
      ...optionalDkim(raw),
    };
    if (settings.secure && settings.require_tls) throw new SettingsError('require_tls is for STARTTLS; it cannot be combined with secure: true');
    return settings;
  },
  secrets: (settings) => [settings.auth?.pass, settings.dkim?.private_key],
  create(settings) {
    // Loaded here, in the worker threads that send through SMTP: the main thread only parses
    // the settings and never pays for nodemailer.
    const pooled = import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({
      pool: true,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.require_tls,
      auth: settings.auth,
      tls: { rejectUnauthorized: settings.tls_reject_unauthorized },
      maxConnections: settings.max_connections,
      maxRequeues: 0,
      idleTimeout: settings.idle_timeout_seconds * 1000,
      dkim: settings.dkim === undefined ? undefined : nodemailerDkim(settings.dkim),
    }));
    return {
      async send(message: EmailMessage, context) {
        // The Bcc header stays out of the bytes; the envelope carries every recipient.
        const raw = await buildMime({ ...message, bcc: [] }, { messageIdDomain: context.messageIdDomain });
        const envelope = { from: bare(message.from), to: [...message.to, ...message.cc, ...message.bcc].map(bare) };
        const deadline = new AbortController();
        const timer = setTimeout(() => deadline.abort(), context.timeoutMs);
        try {
          const transport = await pooled;
          await transport.sendMail({ raw, envelope, signal: deadline.signal });
          return { outcome: 'ok', providerMessageId: messageId(message, context.messageIdDomain) };
        } catch (err) {
          return classifySmtpError(err);
        } finally {
          clearTimeout(timer);
        }
      },
      async close() {
        // nodemailer's close() ends idle sockets without a word; RFC 5321 asks for QUIT first.
        // A connection still finishing a message says QUIT as soon as it is released, ahead of
        // the pool's own listener, which would otherwise end it silently.
        const transport = await pooled;
        const resources = (transport.transporter as { _connections?: PoolResource[] })._connections ?? [];
        const closed = resources.map((resource) => new Promise<void>((resolve) => {
          resource.once('close', resolve);
          const quit = (): void => {
            resource.available = false;
            resource.connection?.quit();
          };
          if (resource.available) quit();
          else resource.prependOnceListener('available', quit);
        }));
        transport.close();
        let timer: NodeJS.Timeout | undefined;
        const giveUp = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, QUIT_WAIT_MS);
        });
        await Promise.race([Promise.all(closed), giveUp]);
        clearTimeout(timer);
        // Whatever did not say goodbye in time (a stalled server) is cut off.
        transport.close({ force: true });
      },
    };
  },
};
