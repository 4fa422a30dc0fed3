// The environment, parsed once at start-up into a frozen, typed object. Every default lives
// here; every rule's message names the variable and the rule it broke.
import path from 'node:path';
import { isDomainName, parseMailbox } from './email/addresses.ts';
import { ConfigError } from './errors.ts';
import { parseBackends } from './providers/registry.ts';
import type { BackendSettings } from './providers/kinds.ts';

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly adminHost: string;
  readonly adminPort: number;
  /** The listener for providers' delivery webhooks; started only when a backend has `webhook` settings. */
  readonly webhookHost: string;
  readonly webhookPort: number;
  readonly backends: Readonly<Record<string, BackendSettings>>;
  readonly threads: number;
  /** Worker threads stop after this long without a task and start with the next one; 0: they never stop. */
  readonly threadIdleSeconds: number;
  readonly httpConnections: number;
  readonly dbPoolMax: number;
  readonly dispatcher: boolean;
  readonly listen: boolean;
  readonly pollSeconds: number;
  /** The longest poll interval of an idle dispatcher whose LISTEN works (never below pollSeconds). */
  readonly idlePollSeconds: number;
  /** How long a start waits for the migration lock another sidecar holds before it gives up. */
  readonly migrationLockSeconds: number;
  readonly apiToken: string | undefined;
  readonly leaseSeconds: number;
  readonly retryBaseSeconds: number;
  readonly maxAttempts: number;
  readonly shutdownGraceSeconds: number;
  readonly batchSize: number;
  readonly defaultFrom: string | undefined;
  readonly maxBodyBytes: number;
  readonly sendTimeoutSeconds: number;
  /** Retryable failures in a row that pause a backend; 0 turns circuit breaking off. */
  readonly circuitFailures: number;
  readonly circuitPauseSeconds: number;
  /** Staging safety: when non-empty, every email goes to these addresses instead of its own. */
  readonly overrideRecipients: readonly string[];
  /** Right-hand side of generated Message-IDs; undefined: the From address's domain. */
  readonly messageIdDomain: string | undefined;
  /** Idle keep-alive connections of each worker's Agent close after this long. */
  readonly httpIdleSeconds: number;
  /** Finished emails older than this many days are deleted; 0 turns the retention job off. */
  readonly retentionDays: number;
  /** How often the retention job runs (± 10 % jitter). */
  readonly retentionIntervalSeconds: number;
  /** pino's level: fatal, error, warn, info, debug, trace or silent. */
  readonly logLevel: string;
  /** Where status changes are POSTed (docs/events.md); undefined: events are off, nothing is written. */
  readonly events: EventsConfig | undefined;
}

export interface EventsConfig {
  readonly url: string;
  /** The HMAC-SHA256 key of the Post-Office-Signature header. */
  readonly secret: string;
}

type Env = Record<string, string | undefined>;

/** An empty variable means the same as an unset one. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number of seconds from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be "on" or "off" (got "${raw}")`);
}

function port(env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, 0, 65535);
}

/** DATABASE_URL, checked (undefined when unset); the cleanup CLI reads it the same way. */
export function databaseUrl(env: Env): string | undefined {
  const raw = read(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Never echo the value: it usually carries a password.
    throw new ConfigError('DATABASE_URL must be a URL like postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    // No echo: "user:password@host" without a scheme parses with "user:" as its scheme.
    throw new ConfigError('DATABASE_URL must use the postgres:// or postgresql:// scheme');
  }
  return raw;
}

/** POST_OFFICE_DATA_DIR, absolute; the cleanup CLI finds the embedded database through it. */
export function dataDirectory(env: Env): string {
  return path.resolve(read(env, 'POST_OFFICE_DATA_DIR') ?? './.post-office');
}

/** Comma-separated mailboxes; each one parsed like an email's own addresses. */
function addressList(env: Env, name: string): readonly string[] {
  const raw = read(env, name);
  if (raw === undefined) return Object.freeze([]);
  const items = raw.split(',').map((item) => item.trim());
  items.forEach((item, index) => {
    if (parseMailbox(item) === null) {
      throw new ConfigError(`${name} must be a comma-separated list of addresses like "qa@example.com" (item ${index + 1}, "${item}", is not one)`);
    }
  });
  return Object.freeze(items);
}

function domainName(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw !== undefined && !isDomainName(raw)) {
    throw new ConfigError(`${name} must be a domain name like "mail.example.com" (got "${raw}")`);
  }
  return raw;
}

const MiB = 1024 * 1024;
// The largest message a provider documents is 40 MB (SES, Resend), attachments base64-encoded
// as in the JSON body; 48 MiB (50.3 MB) lets it through with room for the JSON around it.
export const DEFAULT_MAX_BODY_BYTES = 48 * MiB;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Env): string {
  const raw = read(env, 'LOG_LEVEL');
  if (raw === undefined) return 'info';
  if (!logLevels.includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')} (got "${raw}")`);
  return raw;
}

/** Emails that name no backend go to "default", so several aliases without one are refused. */
function backends(env: Env, dataDir: string): Readonly<Record<string, BackendSettings>> {
  const parsed = parseBackends(read(env, 'POST_OFFICE_BACKENDS'), path.join(dataDir, 'outbox'));
  if (!Object.hasOwn(parsed, 'default')) {
    throw new ConfigError(
      `POST_OFFICE_BACKENDS must have a "default" alias: emails that name no backend use it (aliases: ${Object.keys(parsed).join(', ')})`,
    );
  }
  return parsed;
}

/** POST_OFFICE_EVENTS_URL and its secret; the URL is never echoed (it may carry credentials). */
function events(env: Env): EventsConfig | undefined {
  const raw = read(env, 'POST_OFFICE_EVENTS_URL');
  const secret = read(env, 'POST_OFFICE_EVENTS_SECRET');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('POST_OFFICE_EVENTS_URL must be an http:// or https:// URL like https://app.internal/post-office/events');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('POST_OFFICE_EVENTS_URL must use the http:// or https:// scheme');
  }
  if (secret === undefined) throw new ConfigError('POST_OFFICE_EVENTS_SECRET must be set when POST_OFFICE_EVENTS_URL is set');
  if (secret.length < 16) throw new ConfigError('POST_OFFICE_EVENTS_SECRET must be at least 16 characters long');
  return Object.freeze({ url: raw, secret });
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = dataDirectory(env);
  const leaseSeconds = integer(env, 'POST_OFFICE_LEASE_SECONDS', 60, 5, 86_400);
  // Half the lease leaves the heartbeat (every lease/3) time to extend a claim whose send is slow.
  const sendTimeoutSeconds = seconds(env, 'POST_OFFICE_SEND_TIMEOUT_SECONDS', Math.min(30, leaseSeconds / 2), 1, 600);
  if (sendTimeoutSeconds >= leaseSeconds) {
    throw new ConfigError(
      `POST_OFFICE_SEND_TIMEOUT_SECONDS must be shorter than POST_OFFICE_LEASE_SECONDS (${sendTimeoutSeconds} >= ${leaseSeconds})`,
    );
  }
  const defaultFrom = read(env, 'POST_OFFICE_DEFAULT_FROM');
  if (defaultFrom !== undefined && parseMailbox(defaultFrom) === null) {
    throw new ConfigError(`POST_OFFICE_DEFAULT_FROM must be an address like "Name <sender@example.com>" (got "${defaultFrom}")`);
  }
  const apiToken = read(env, 'POST_OFFICE_API_TOKEN');
  if (apiToken !== undefined && apiToken.length < 16) {
    throw new ConfigError('POST_OFFICE_API_TOKEN must be at least 16 characters long');
  }
  const config: Config = {
    databaseUrl: databaseUrl(env),
    dataDir,
    host: read(env, 'POST_OFFICE_HOST') ?? '127.0.0.1',
    port: port(env, 'POST_OFFICE_PORT', 8587),
    adminHost: read(env, 'POST_OFFICE_ADMIN_HOST') ?? '0.0.0.0',
    adminPort: port(env, 'POST_OFFICE_ADMIN_PORT', 9587),
    webhookHost: read(env, 'POST_OFFICE_WEBHOOK_HOST') ?? '0.0.0.0',
    webhookPort: port(env, 'POST_OFFICE_WEBHOOK_PORT', 8588),
    backends: backends(env, dataDir),
    threads: integer(env, 'POST_OFFICE_THREADS', 2, 1, 64),
    threadIdleSeconds: seconds(env, 'POST_OFFICE_THREAD_IDLE_SECONDS', 60, 0, 86_400),
    httpConnections: integer(env, 'POST_OFFICE_HTTP_CONNECTIONS', 8, 1, 256),
    dbPoolMax: integer(env, 'POST_OFFICE_DB_POOL_MAX', 4, 2, 100),
    dispatcher: onOff(env, 'POST_OFFICE_DISPATCHER', true),
    listen: onOff(env, 'POST_OFFICE_LISTEN', true),
    pollSeconds: seconds(env, 'POST_OFFICE_POLL_SECONDS', 1, 0.05, 60),
    idlePollSeconds: Math.max(seconds(env, 'POST_OFFICE_IDLE_POLL_SECONDS', 10, 0.05, 3600), seconds(env, 'POST_OFFICE_POLL_SECONDS', 1, 0.05, 60)),
    migrationLockSeconds: seconds(env, 'POST_OFFICE_MIGRATION_LOCK_SECONDS', 120, 1, 3600),
    apiToken,
    leaseSeconds,
    retryBaseSeconds: seconds(env, 'POST_OFFICE_RETRY_BASE_SECONDS', 10, 0, 86_400),
    maxAttempts: integer(env, 'POST_OFFICE_MAX_ATTEMPTS', 6, 1, 100),
    shutdownGraceSeconds: seconds(env, 'POST_OFFICE_SHUTDOWN_GRACE_SECONDS', 20, 0, 3600),
    batchSize: integer(env, 'POST_OFFICE_BATCH_SIZE', 200, 1, 10_000),
    defaultFrom,
    maxBodyBytes: integer(env, 'POST_OFFICE_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 1024 * MiB),
    sendTimeoutSeconds,
    circuitFailures: integer(env, 'POST_OFFICE_CIRCUIT_FAILURES', 5, 0, 1000),
    circuitPauseSeconds: seconds(env, 'POST_OFFICE_CIRCUIT_PAUSE_SECONDS', 5, 0.1, 3600),
    overrideRecipients: addressList(env, 'POST_OFFICE_OVERRIDE_RECIPIENTS'),
    messageIdDomain: domainName(env, 'POST_OFFICE_MESSAGE_ID_DOMAIN'),
    httpIdleSeconds: seconds(env, 'POST_OFFICE_HTTP_IDLE_SECONDS', 30, 1, 3600),
    retentionDays: integer(env, 'POST_OFFICE_RETENTION_DAYS', 30, 0, 36_500),
    retentionIntervalSeconds: seconds(env, 'POST_OFFICE_RETENTION_INTERVAL_SECONDS', 3600, 1, 604_800),
    logLevel: logLevel(env),
    events: events(env),
  };
  return Object.freeze(config);
}
