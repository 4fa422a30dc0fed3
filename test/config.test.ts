// One test per configuration rule (src/config.ts, src/providers/registry.ts and the provider
// settings readers): each bad value stops start-up with a ConfigError whose message names the
// variable and the rule, and never echoes a secret.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';
import { defaultMaxMessageBytes } from '../src/providers/limits.ts';

type Env = Record<string, string>;

const repoRoot = path.resolve(import.meta.dirname, '..');

/** Asserts loadConfig(env) throws a ConfigError naming `variable`, matching `rule`, without `secrets`. */
function assertRejected(env: Env, variable: string, rule: RegExp, secrets: string[] = []): void {
  assert.throws(() => loadConfig(env), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(err.message.startsWith(variable), `"${err.message}" does not start with ${variable}`);
    assert.match(err.message, rule);
    assert.doesNotMatch(err.message, /[\r\n]/, 'one line');
    for (const secret of secrets) assert.ok(!err.message.includes(secret), `"${err.message}" echoes a secret`);
    return true;
  });
}

const backends = (value: unknown) => ({ POST_OFFICE_BACKENDS: JSON.stringify(value) });

const cases: { rule: string; env: Env; variable: string; message: RegExp; secrets?: string[] }[] = [
  // Integers.
  { rule: 'an integer variable rejects words', env: { POST_OFFICE_THREADS: 'two' }, variable: 'POST_OFFICE_THREADS', message: /must be an integer from 1 to 64 \(got "two"\)/ },
  { rule: 'an integer variable rejects fractions', env: { POST_OFFICE_MAX_ATTEMPTS: '1.5' }, variable: 'POST_OFFICE_MAX_ATTEMPTS', message: /must be an integer from 1 to 100/ },
  { rule: 'an integer variable rejects trailing garbage', env: { POST_OFFICE_BATCH_SIZE: '200x' }, variable: 'POST_OFFICE_BATCH_SIZE', message: /must be an integer from 1 to 10000/ },
  { rule: 'threads below the range', env: { POST_OFFICE_THREADS: '0' }, variable: 'POST_OFFICE_THREADS', message: /from 1 to 64/ },
  { rule: 'threads above the range', env: { POST_OFFICE_THREADS: '65' }, variable: 'POST_OFFICE_THREADS', message: /from 1 to 64/ },
  { rule: 'HTTP connections above the range', env: { POST_OFFICE_HTTP_CONNECTIONS: '257' }, variable: 'POST_OFFICE_HTTP_CONNECTIONS', message: /from 1 to 256/ },
  { rule: 'a pool of one connection is too small', env: { POST_OFFICE_DB_POOL_MAX: '1' }, variable: 'POST_OFFICE_DB_POOL_MAX', message: /from 2 to 100/ },
  { rule: 'API port above 65535', env: { POST_OFFICE_PORT: '65536' }, variable: 'POST_OFFICE_PORT', message: /from 0 to 65535/ },
  { rule: 'admin port below 0', env: { POST_OFFICE_ADMIN_PORT: '-1' }, variable: 'POST_OFFICE_ADMIN_PORT', message: /from 0 to 65535/ },
  { rule: 'lease shorter than 5 seconds', env: { POST_OFFICE_LEASE_SECONDS: '4', POST_OFFICE_SEND_TIMEOUT_SECONDS: '1' }, variable: 'POST_OFFICE_LEASE_SECONDS', message: /from 5 to 86400/ },
  { rule: 'max attempts of zero', env: { POST_OFFICE_MAX_ATTEMPTS: '0' }, variable: 'POST_OFFICE_MAX_ATTEMPTS', message: /from 1 to 100/ },
  { rule: 'a body limit under 1 KiB', env: { POST_OFFICE_MAX_BODY_BYTES: '1023' }, variable: 'POST_OFFICE_MAX_BODY_BYTES', message: /from 1024 to 1073741824/ },
  // Seconds.
  { rule: 'a seconds variable rejects words', env: { POST_OFFICE_RETRY_BASE_SECONDS: 'ten' }, variable: 'POST_OFFICE_RETRY_BASE_SECONDS', message: /must be a number of seconds from 0 to 86400 \(got "ten"\)/ },
  { rule: 'a seconds variable rejects negatives', env: { POST_OFFICE_SHUTDOWN_GRACE_SECONDS: '-1' }, variable: 'POST_OFFICE_SHUTDOWN_GRACE_SECONDS', message: /from 0 to 3600/ },
  { rule: 'a grace period above an hour', env: { POST_OFFICE_SHUTDOWN_GRACE_SECONDS: '3601' }, variable: 'POST_OFFICE_SHUTDOWN_GRACE_SECONDS', message: /from 0 to 3600/ },
  { rule: 'a poll interval under 50 ms', env: { POST_OFFICE_POLL_SECONDS: '0.01' }, variable: 'POST_OFFICE_POLL_SECONDS', message: /from 0.05 to 60/ },
  { rule: 'a send timeout of zero', env: { POST_OFFICE_SEND_TIMEOUT_SECONDS: '0' }, variable: 'POST_OFFICE_SEND_TIMEOUT_SECONDS', message: /from 1 to 600/ },
  { rule: 'the send timeout must be shorter than the lease', env: { POST_OFFICE_LEASE_SECONDS: '30', POST_OFFICE_SEND_TIMEOUT_SECONDS: '30' }, variable: 'POST_OFFICE_SEND_TIMEOUT_SECONDS', message: /must be shorter than POST_OFFICE_LEASE_SECONDS \(30 >= 30\)/ },
  { rule: 'a send timeout set beside a short lease must still be shorter', env: { POST_OFFICE_LEASE_SECONDS: '5', POST_OFFICE_SEND_TIMEOUT_SECONDS: '30' }, variable: 'POST_OFFICE_SEND_TIMEOUT_SECONDS', message: /shorter than POST_OFFICE_LEASE_SECONDS \(30 >= 5\)/ },
  // Logging.
  { rule: 'LOG_LEVEL is one of pino\'s levels', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL', message: /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)$/ },
  // On/off.
  { rule: 'the dispatcher switch is on or off', env: { POST_OFFICE_DISPATCHER: 'maybe' }, variable: 'POST_OFFICE_DISPATCHER', message: /must be "on" or "off" \(got "maybe"\)/ },
  { rule: 'the LISTEN switch is on or off', env: { POST_OFFICE_LISTEN: 'yes' }, variable: 'POST_OFFICE_LISTEN', message: /must be "on" or "off"/ },
  // Secrets.
  { rule: 'the API token is at least 16 characters', env: { POST_OFFICE_API_TOKEN: 'short-secret' }, variable: 'POST_OFFICE_API_TOKEN', message: /at least 16 characters/, secrets: ['short-secret'] },
  { rule: 'DATABASE_URL must parse as a URL', env: { DATABASE_URL: 'postgres://app:hunter2-password@db:port/mail' }, variable: 'DATABASE_URL', message: /must be a URL like postgres:\/\//, secrets: ['hunter2-password'] },
  { rule: 'DATABASE_URL without a scheme', env: { DATABASE_URL: 'app:hunter2-password@db:5432/mail' }, variable: 'DATABASE_URL', message: /postgres:\/\/ or postgresql:\/\/ scheme/, secrets: ['hunter2-password'] },
  { rule: 'DATABASE_URL must use the postgres scheme', env: { DATABASE_URL: 'mysql://app:hunter2-password@db:3306/mail' }, variable: 'DATABASE_URL', message: /postgres:\/\/ or postgresql:\/\/ scheme$/, secrets: ['hunter2-password', 'app:'] },
  { rule: 'DATABASE_URL without a scheme is not echoed', env: { DATABASE_URL: 'app:hunter2-password@db:5432/mail' }, variable: 'DATABASE_URL', message: /scheme$/, secrets: ['hunter2-password', 'app'] },
  { rule: 'POST_OFFICE_DEFAULT_FROM must be an address', env: { POST_OFFICE_DEFAULT_FROM: 'sender@' }, variable: 'POST_OFFICE_DEFAULT_FROM', message: /must be an address/ },
  { rule: 'POST_OFFICE_CIRCUIT_FAILURES is an integer', env: { POST_OFFICE_CIRCUIT_FAILURES: '-1' }, variable: 'POST_OFFICE_CIRCUIT_FAILURES', message: /integer from 0 to 1000/ },
  { rule: 'POST_OFFICE_CIRCUIT_PAUSE_SECONDS is a number of seconds', env: { POST_OFFICE_CIRCUIT_PAUSE_SECONDS: 'soon' }, variable: 'POST_OFFICE_CIRCUIT_PAUSE_SECONDS', message: /number of seconds/ },
  // Staging safety and connections.
  { rule: 'POST_OFFICE_OVERRIDE_RECIPIENTS is a list of addresses', env: { POST_OFFICE_OVERRIDE_RECIPIENTS: 'qa@example.com, dev@' }, variable: 'POST_OFFICE_OVERRIDE_RECIPIENTS', message: /must be a comma-separated list of addresses .*\(item 2, "dev@", is not one\)$/ },
  { rule: 'POST_OFFICE_OVERRIDE_RECIPIENTS has no empty items', env: { POST_OFFICE_OVERRIDE_RECIPIENTS: 'qa@example.com,' }, variable: 'POST_OFFICE_OVERRIDE_RECIPIENTS', message: /\(item 2, "", is not one\)/ },
  { rule: 'POST_OFFICE_MESSAGE_ID_DOMAIN is a domain name', env: { POST_OFFICE_MESSAGE_ID_DOMAIN: 'mail.example.com>' }, variable: 'POST_OFFICE_MESSAGE_ID_DOMAIN', message: /must be a domain name like "mail\.example\.com" \(got "mail\.example\.com>"\)/ },
  { rule: 'POST_OFFICE_MESSAGE_ID_DOMAIN labels do not start with a hyphen', env: { POST_OFFICE_MESSAGE_ID_DOMAIN: '-mail.example.com' }, variable: 'POST_OFFICE_MESSAGE_ID_DOMAIN', message: /must be a domain name/ },
  { rule: 'POST_OFFICE_THREAD_IDLE_SECONDS is at most a day', env: { POST_OFFICE_THREAD_IDLE_SECONDS: '86401' }, variable: 'POST_OFFICE_THREAD_IDLE_SECONDS', message: /number of seconds from 0 to 86400 \(got "86401"\)/ },
  { rule: 'POST_OFFICE_HTTP_IDLE_SECONDS is at least one second', env: { POST_OFFICE_HTTP_IDLE_SECONDS: '0.5' }, variable: 'POST_OFFICE_HTTP_IDLE_SECONDS', message: /number of seconds from 1 to 3600/ },
  // Retention.
  { rule: 'POST_OFFICE_RETENTION_DAYS is a whole number of days', env: { POST_OFFICE_RETENTION_DAYS: '7.5' }, variable: 'POST_OFFICE_RETENTION_DAYS', message: /must be an integer from 0 to 36500 \(got "7\.5"\)/ },
  { rule: 'POST_OFFICE_RETENTION_DAYS is not negative', env: { POST_OFFICE_RETENTION_DAYS: '-1' }, variable: 'POST_OFFICE_RETENTION_DAYS', message: /from 0 to 36500/ },
  { rule: 'POST_OFFICE_RETENTION_DAYS is at most 100 years', env: { POST_OFFICE_RETENTION_DAYS: '36501' }, variable: 'POST_OFFICE_RETENTION_DAYS', message: /from 0 to 36500/ },
  { rule: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS is at least one second', env: { POST_OFFICE_RETENTION_INTERVAL_SECONDS: '0' }, variable: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS', message: /must be a number of seconds from 1 to 604800 \(got "0"\)/ },
  { rule: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS is at most a week', env: { POST_OFFICE_RETENTION_INTERVAL_SECONDS: '604801' }, variable: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS', message: /from 1 to 604800/ },
  { rule: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS rejects words', env: { POST_OFFICE_RETENTION_INTERVAL_SECONDS: 'hourly' }, variable: 'POST_OFFICE_RETENTION_INTERVAL_SECONDS', message: /number of seconds/ },
  // Events to the application.
  { rule: 'POST_OFFICE_EVENTS_URL must parse as a URL, and is not echoed', env: { POST_OFFICE_EVENTS_URL: 'https://app:hunter2-password@app:port/events', POST_OFFICE_EVENTS_SECRET: '0123456789abcdef' }, variable: 'POST_OFFICE_EVENTS_URL', message: /must be an http:\/\/ or https:\/\/ URL/, secrets: ['hunter2-password'] },
  { rule: 'POST_OFFICE_EVENTS_URL is http or https', env: { POST_OFFICE_EVENTS_URL: 'ftp://app:hunter2-password@app/events', POST_OFFICE_EVENTS_SECRET: '0123456789abcdef' }, variable: 'POST_OFFICE_EVENTS_URL', message: /http:\/\/ or https:\/\/ scheme$/, secrets: ['hunter2-password'] },
  { rule: 'POST_OFFICE_EVENTS_SECRET is required with the URL', env: { POST_OFFICE_EVENTS_URL: 'http://127.0.0.1:3000/events' }, variable: 'POST_OFFICE_EVENTS_SECRET', message: /must be set when POST_OFFICE_EVENTS_URL is set/ },
  { rule: 'POST_OFFICE_EVENTS_SECRET is at least 16 characters', env: { POST_OFFICE_EVENTS_URL: 'http://127.0.0.1:3000/events', POST_OFFICE_EVENTS_SECRET: 'short-secret' }, variable: 'POST_OFFICE_EVENTS_SECRET', message: /at least 16 characters/, secrets: ['short-secret'] },
  // POST_OFFICE_BACKENDS.
  { rule: 'backends must be valid JSON, and the text is not echoed', env: { POST_OFFICE_BACKENDS: '{"default":{"provider":"mailgun","api_key":"key-3ax6xnjp29jd6fds4gc373sgvjxteol0",' }, variable: 'POST_OFFICE_BACKENDS', message: /not valid JSON/, secrets: ['key-3ax6xnjp29jd6fds4gc373sgvjxteol0', 'mailgun'] },
  { rule: 'backends must be an object', env: backends([{ provider: 'outbox' }]), variable: 'POST_OFFICE_BACKENDS', message: /non-empty JSON object/ },
  { rule: 'backends must not be empty', env: backends({}), variable: 'POST_OFFICE_BACKENDS', message: /non-empty JSON object/ },
  { rule: 'backends need a "default" alias, the one emails naming no backend use', env: backends({ postmark: { provider: 'postmark', server_token: 'pm-secret-token-5678' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS must have a "default" alias: emails that name no backend use it \(aliases: postmark\)$/, secrets: ['pm-secret-token-5678'] },
  { rule: 'an alias is letters, digits, "_", "." or "-"', env: backends({ 'bad alias!': { provider: 'outbox' } }), variable: 'POST_OFFICE_BACKENDS', message: /alias "bad alias!" must be 1-64 letters/ },
  { rule: 'an alias is at most 64 characters', env: backends({ ['a'.repeat(65)]: { provider: 'outbox' } }), variable: 'POST_OFFICE_BACKENDS', message: /must be 1-64 letters/ },
  { rule: 'a backend is an object', env: backends({ default: 'postmark' }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default must be an object with a "provider" field/ },
  { rule: 'the provider must be known', env: backends({ default: { provider: 'pigeon' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.provider must be one of outbox, postmark, mailgun\b.* \(got "pigeon"\)$/ },
  { rule: 'postmark needs a server_token', env: backends({ default: { provider: 'postmark' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default: server_token must be a non-empty string/ },
  { rule: 'an empty server_token is missing', env: backends({ tx: { provider: 'postmark', server_token: ' ' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.tx: server_token must be a non-empty string/ },
  { rule: 'mailgun needs a domain', env: backends({ default: { provider: 'mailgun', api_key: 'key-secret-value-1234' } }), variable: 'POST_OFFICE_BACKENDS', message: /default: domain must be a non-empty string/, secrets: ['key-secret-value-1234'] },
  { rule: 'mailgun regions are us or eu', env: backends({ default: { provider: 'mailgun', api_key: 'key-secret-value-1234', domain: 'mg.example.com', region: 'ap' } }), variable: 'POST_OFFICE_BACKENDS', message: /default: region must be .*"us".*"eu".*\(got "ap"\)/, secrets: ['key-secret-value-1234'] },
  { rule: 'an unknown setting is a typo, not ignored', env: backends({ default: { provider: 'postmark', server_token: 'pm-secret-token-5678', message_steam: 'broadcast' } }), variable: 'POST_OFFICE_BACKENDS', message: /default: unknown setting "message_steam" \(known: .*message_stream.*\)/, secrets: ['pm-secret-token-5678'] },
  { rule: 'outbox takes only dir', env: backends({ default: { provider: 'outbox', base_url: 'http://127.0.0.1:1' } }), variable: 'POST_OFFICE_BACKENDS', message: /unknown setting "base_url" \(known: [^)]*dir/ },
  { rule: 'base_url must be a URL', env: backends({ default: { provider: 'postmark', server_token: 'pm-secret-token-5678', base_url: 'not a url' } }), variable: 'POST_OFFICE_BACKENDS', message: /default: base_url must be an http or https URL/, secrets: ['pm-secret-token-5678'] },
  { rule: 'a DKIM private key must parse, and is not echoed', env: backends({ relay: { provider: 'smtp', host: 'mail', dkim: { domain_name: 'example.com', key_selector: 's1', private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQ-dkim-key-material-SECRET\n-----END PRIVATE KEY-----' } } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.relay: dkim\.private_key must be an unencrypted PEM private key/, secrets: ['dkim-key-material-SECRET', 'BEGIN'] },
  { rule: 'max_message_bytes is a whole number of bytes', env: backends({ default: { provider: 'postmark', server_token: 'pm-secret-token-5678', max_message_bytes: '10MB' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.max_message_bytes must be an integer number of bytes from 1024 to 1073741824 \(got "10MB"\)$/, secrets: ['pm-secret-token-5678'] },
  { rule: 'max_message_bytes is at least 1 KiB', env: backends({ relay: { provider: 'smtp', host: 'mail', max_message_bytes: 1000 } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.relay\.max_message_bytes must be an integer number of bytes from 1024/ },
  { rule: 'batch is true or false', env: backends({ default: { provider: 'postmark', server_token: 'pm-secret-token-5678', batch: 'yes' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.batch must be true or false \(got "yes"\)$/, secrets: ['pm-secret-token-5678'] },
  { rule: 'batch needs a provider with a batch endpoint', env: backends({ relay: { provider: 'smtp', host: 'mail', batch: true } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.relay\.batch: provider smtp has no batch endpoint \(batching providers: postmark, resend\)$/ },
  { rule: 'fallback is an alias', env: backends({ default: { provider: 'outbox', fallback: 2 } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.fallback must be the alias of another backend \(got 2\)$/ },
  { rule: 'fallback names a configured backend', env: backends({ default: { provider: 'outbox', fallback: 'spare' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.fallback: no backend "spare" \(aliases: default\)$/ },
  { rule: 'a backend cannot fall back to itself', env: backends({ default: { provider: 'outbox', fallback: 'default' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.fallback: a backend cannot fall back to itself$/ },
  { rule: 'fallbacks must not make a cycle', env: backends({ default: { provider: 'outbox', fallback: 'b' }, b: { provider: 'outbox', fallback: 'default' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.default\.fallback: cycle default → b → default$/ },
  { rule: 'a cycle further along a chain is named from its first member', env: backends({ default: { provider: 'outbox', fallback: 'b' }, b: { provider: 'outbox', fallback: 'c' }, c: { provider: 'outbox', fallback: 'b' } }), variable: 'POST_OFFICE_BACKENDS', message: /^POST_OFFICE_BACKENDS\.b\.fallback: cycle b → c → b$/ },
  { rule: 'base_url must be http or https', env: backends({ default: { provider: 'mailgun', api_key: 'key-secret-value-1234', domain: 'mg.example.com', base_url: 'ftp://mail.example.com' } }), variable: 'POST_OFFICE_BACKENDS', message: /base_url must be an http or https URL/, secrets: ['key-secret-value-1234'] },
];

for (const { rule, env, variable, message, secrets } of cases) {
  test(`config rule: ${rule}`, () => assertRejected(env, variable, message, secrets));
}

test('defaults: every variable unset', () => {
  const config = loadConfig({});
  assert.ok(Object.isFrozen(config));
  const dataDir = path.resolve('./.post-office');
  assert.deepEqual({ ...config }, {
    databaseUrl: undefined,
    dataDir,
    host: '127.0.0.1',
    port: 8587,
    adminHost: '0.0.0.0',
    adminPort: 9587,
    webhookHost: '0.0.0.0',
    webhookPort: 8588,
    backends: { default: { provider: 'outbox', dir: path.join(dataDir, 'outbox') } },
    threads: 2,
    threadIdleSeconds: 60,
    httpConnections: 8,
    dbPoolMax: 4,
    dispatcher: true,
    listen: true,
    pollSeconds: 1,
    idlePollSeconds: 10,
    migrationLockSeconds: 120,
    apiToken: undefined,
    leaseSeconds: 60,
    retryBaseSeconds: 10,
    maxAttempts: 6,
    shutdownGraceSeconds: 20,
    batchSize: 200,
    defaultFrom: undefined,
    maxBodyBytes: 48 * 1024 * 1024,
    sendTimeoutSeconds: 30,
    circuitFailures: 5,
    circuitPauseSeconds: 5,
    overrideRecipients: [],
    messageIdDomain: undefined,
    httpIdleSeconds: 30,
    retentionDays: 30,
    retentionIntervalSeconds: 3600,
    logLevel: 'info',
    events: undefined,
  });
});

test('events: the URL and its secret, or nothing when the URL is unset', () => {
  const config = loadConfig({ POST_OFFICE_EVENTS_URL: ' https://app.internal/post-office/events ', POST_OFFICE_EVENTS_SECRET: 'whsec-0123456789abcdef' });
  assert.deepEqual(config.events, { url: 'https://app.internal/post-office/events', secret: 'whsec-0123456789abcdef' });
  assert.equal(loadConfig({ POST_OFFICE_EVENTS_SECRET: 'whsec-0123456789abcdef' }).events, undefined);
});

test('a fallback chain of three is read as written', () => {
  const { backends: read } = loadConfig(backends({ default: { provider: 'outbox', fallback: 'b' }, b: { provider: 'outbox', fallback: 'c' }, c: { provider: 'outbox' } }));
  assert.deepEqual(Object.fromEntries(Object.entries(read).map(([alias, settings]) => [alias, settings.fallback])), { default: 'b', b: 'c', c: undefined });
});

test('the default body limit lets the largest message a provider documents through, with room for the JSON', () => {
  const largest = Math.max(...Object.values(defaultMaxMessageBytes).filter((limit) => limit !== null));
  assert.equal(largest, 40_000_000, 'SES and Resend: 40 MB');
  assert.ok(loadConfig({}).maxBodyBytes >= largest * 1.2, `${loadConfig({}).maxBodyBytes} bytes leave too little room around a ${largest}-byte message`);
});

test('the send timeout defaults to half the lease, at most 30 seconds', () => {
  assert.equal(loadConfig({ POST_OFFICE_LEASE_SECONDS: '30' }).sendTimeoutSeconds, 15);
  assert.equal(loadConfig({ POST_OFFICE_LEASE_SECONDS: '5' }).sendTimeoutSeconds, 2.5);
  assert.equal(loadConfig({ POST_OFFICE_LEASE_SECONDS: '300' }).sendTimeoutSeconds, 30);
  assert.equal(loadConfig({ POST_OFFICE_LEASE_SECONDS: '5', POST_OFFICE_SEND_TIMEOUT_SECONDS: '4' }).sendTimeoutSeconds, 4);
});

test('LOG_LEVEL takes each of pino\'s levels', () => {
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
    assert.equal(loadConfig({ LOG_LEVEL: level }).logLevel, level);
  }
});

test('an empty (or blank) variable means the same as an unset one', () => {
  const names = [
    'DATABASE_URL', 'POST_OFFICE_DATA_DIR', 'POST_OFFICE_HOST', 'POST_OFFICE_PORT', 'POST_OFFICE_ADMIN_HOST',
    'POST_OFFICE_ADMIN_PORT', 'POST_OFFICE_BACKENDS', 'POST_OFFICE_THREADS', 'POST_OFFICE_HTTP_CONNECTIONS',
    'POST_OFFICE_THREAD_IDLE_SECONDS', 'POST_OFFICE_DB_POOL_MAX', 'POST_OFFICE_DISPATCHER', 'POST_OFFICE_LISTEN', 'POST_OFFICE_POLL_SECONDS',
    'POST_OFFICE_API_TOKEN', 'POST_OFFICE_LEASE_SECONDS', 'POST_OFFICE_RETRY_BASE_SECONDS', 'POST_OFFICE_MAX_ATTEMPTS',
    'POST_OFFICE_SHUTDOWN_GRACE_SECONDS', 'POST_OFFICE_BATCH_SIZE', 'POST_OFFICE_DEFAULT_FROM',
    'POST_OFFICE_MAX_BODY_BYTES', 'POST_OFFICE_SEND_TIMEOUT_SECONDS', 'POST_OFFICE_CIRCUIT_FAILURES', 'POST_OFFICE_CIRCUIT_PAUSE_SECONDS',
    'POST_OFFICE_OVERRIDE_RECIPIENTS', 'POST_OFFICE_MESSAGE_ID_DOMAIN', 'POST_OFFICE_HTTP_IDLE_SECONDS',
    'POST_OFFICE_RETENTION_DAYS', 'POST_OFFICE_RETENTION_INTERVAL_SECONDS', 'LOG_LEVEL', 'POST_OFFICE_EVENTS_URL', 'POST_OFFICE_EVENTS_SECRET',
  ];
  const defaults = loadConfig({});
  assert.deepEqual(loadConfig(Object.fromEntries(names.map((name) => [name, '']))), defaults);
  assert.deepEqual(loadConfig(Object.fromEntries(names.map((name) => [name, '  ']))), defaults);
});

test('valid values are taken, trimmed and typed', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgresql://app:secret@db.internal:5432/mail',
    POST_OFFICE_THREADS: ' 64 ',
    POST_OFFICE_PORT: '0',
    POST_OFFICE_DISPATCHER: 'off',
    POST_OFFICE_LISTEN: 'false',
    POST_OFFICE_POLL_SECONDS: '0.05',
    POST_OFFICE_API_TOKEN: '0123456789abcdef',
    POST_OFFICE_LEASE_SECONDS: '5',
    POST_OFFICE_SEND_TIMEOUT_SECONDS: '4.5',
    POST_OFFICE_DEFAULT_FROM: 'Post Office <noreply@example.com>',
    POST_OFFICE_OVERRIDE_RECIPIENTS: ' qa@example.com ,QA Team <qa-team@example.com>',
    POST_OFFICE_MESSAGE_ID_DOMAIN: 'mail.example.com',
    POST_OFFICE_HTTP_IDLE_SECONDS: '1.5',
    POST_OFFICE_THREAD_IDLE_SECONDS: '0',
    POST_OFFICE_RETENTION_DAYS: '0',
    POST_OFFICE_RETENTION_INTERVAL_SECONDS: '90.5',
    POST_OFFICE_BACKENDS: JSON.stringify({
      default: { provider: 'postmark', server_token: 'pm-token', base_url: 'http://127.0.0.1:9999///' },
      'eu.marketing-2': { provider: 'mailgun', api_key: 'key-abc', domain: 'mg.example.com', region: 'eu' },
    }),
  });
  assert.equal(config.databaseUrl, 'postgresql://app:secret@db.internal:5432/mail');
  assert.equal(config.threads, 64);
  assert.equal(config.port, 0);
  assert.equal(config.dispatcher, false);
  assert.equal(config.listen, false);
  assert.equal(config.pollSeconds, 0.05);
  assert.equal(config.apiToken, '0123456789abcdef');
  assert.equal(config.sendTimeoutSeconds, 4.5);
  assert.equal(config.defaultFrom, 'Post Office <noreply@example.com>');
  assert.deepEqual(config.overrideRecipients, ['qa@example.com', 'QA Team <qa-team@example.com>']);
  assert.ok(Object.isFrozen(config.overrideRecipients));
  assert.equal(config.messageIdDomain, 'mail.example.com');
  assert.equal(config.httpIdleSeconds, 1.5);
  assert.equal(config.threadIdleSeconds, 0, '0 keeps the worker threads running');
  assert.equal(config.retentionDays, 0, '0 turns the retention job off');
  assert.equal(config.retentionIntervalSeconds, 90.5);
  assert.deepEqual(config.backends, {
    default: { provider: 'postmark', server_token: 'pm-token', message_stream: 'outbound', base_url: 'http://127.0.0.1:9999' },
    'eu.marketing-2': { provider: 'mailgun', api_key: 'key-abc', domain: 'mg.example.com', base_url: 'https://api.eu.mailgun.net' },
  });
});

test('a bad variable stops `node src/main.ts` with exit code 78 and one stderr line naming it', async () => {
  const secret = 're_live_0123456789abcdefSECRET';
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', POST_OFFICE_BACKENDS: `{"default":{"provider":"postmark","server_token":"${secret}"`, POST_OFFICE_PORT: '0', POST_OFFICE_ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));

  assert.equal(code, 78, `exit code; stderr:\n${stderr}`);
  const lines = stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${stderr}`);
  assert.match(lines[0]!, /^post-office: configuration error: POST_OFFICE_BACKENDS must be a JSON object .*not valid JSON/);
  assert.ok(!stderr.includes(secret) && !stdout.includes(secret), 'the secret is never printed');
  assert.equal(stdout, '', 'nothing else is printed');
});

test('LOG_LEVEL=verbose stops `node src/main.ts` with exit code 78 and one line, not a stack trace', async () => {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'verbose', POST_OFFICE_PORT: '0', POST_OFFICE_ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));

  assert.equal(code, 78, output);
  assert.equal(output, 'post-office: configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")\n');
});
