// The parsing of POST_OFFICE_BACKENDS (alias → settings), on the main thread; the kinds it
// parses for are kinds.ts's.
import { ConfigError } from '../errors.ts';
import { checkFallbacks } from './fallback.ts';
import { isProviderName, kindOf, kinds, type BackendSettings, type ProviderName, type ProviderSettings, type RateLimitSettings } from './kinds.ts';
import { outbox } from './outbox.ts';
import { webhookKinds, type AnyWebhookKind } from './webhooks/kinds.ts';

const VARIABLE = 'POST_OFFICE_BACKENDS';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `rate_limit` is the same for every provider kind, so it is read here, not by each kind. */
function parseRateLimit(value: unknown, name: string): RateLimitSettings {
  if (!isObject(value)) throw new ConfigError(`${name} must be an object like {"per_second": 14, "per_day": 50000}`);
  const known = ['per_second', 'per_day'];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`${name}.${key} is not a setting (known: ${known.join(', ')})`);
  }
  const { per_second: perSecond, per_day: perDay } = value;
  if (perSecond === undefined && perDay === undefined) throw new ConfigError(`${name} must set per_second, per_day or both`);
  // Fractions are allowed: 0.5 is one email every 2 seconds, 100 / 3600 is 100 an hour.
  if (perSecond !== undefined && (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 100_000)) {
    throw new ConfigError(`${name}.per_second must be a number of emails per second above 0 and at most 100000 (got ${JSON.stringify(perSecond)})`);
  }
  if (perDay !== undefined && (typeof perDay !== 'number' || !Number.isInteger(perDay) || perDay < 1 || perDay > 1_000_000_000)) {
    throw new ConfigError(`${name}.per_day must be an integer from 1 to 1000000000 (got ${JSON.stringify(perDay)})`);
  }
  return {
    ...(perSecond !== undefined && { per_second: perSecond }),
    ...(perDay !== undefined && { per_day: perDay }),
  };
}

/** `max_message_bytes`: whole bytes, at least 1 KiB, at most POST_OFFICE_MAX_BODY_BYTES's ceiling (1 GiB). */
function parseMaxMessageBytes(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1024 || value > 1_073_741_824) {
    throw new ConfigError(`${name} must be an integer number of bytes from 1024 to 1073741824 (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** `batch`: a boolean, and only for a provider that has a batch endpoint. */
function parseBatch(value: unknown, name: string, provider: ProviderName): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(value)})`);
  if (value && kinds[provider].batch === undefined) {
    const batching = Object.entries(kinds).filter(([, other]) => other.batch !== undefined).map(([named]) => named);
    throw new ConfigError(`${name}: provider ${provider} has no batch endpoint (batching providers: ${batching.join(', ')})`);
  }
  return value;
}

/** `fallback`: an alias; that it names another backend, and no cycle, is checked once all are read. */
function parseFallback(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name} must be the alias of another backend (got ${JSON.stringify(value)})`);
  return value;
}

/** `webhook`: the provider's webhook settings, checked by its webhook kind. */
function parseWebhook(value: unknown, name: string, provider: ProviderName): Record<string, unknown> {
  const kind = webhookKinds[provider];
  if (kind === undefined) {
    throw new ConfigError(`${name}: the sidecar reads no webhooks of provider ${provider} (providers with webhooks: ${Object.keys(webhookKinds).join(', ')})`);
  }
  if (!isObject(value)) throw new ConfigError(`${name} must be an object of the provider's webhook secrets (docs/webhooks.md)`);
  try {
    return kind.parse(value);
  } catch (err) {
    throw new ConfigError(`${name}.${(err as Error).message}`);
  }
}

/** The webhook kind of a backend with `webhook` settings, and those settings. */
export function webhookOf(settings: BackendSettings): { kind: AnyWebhookKind; settings: Readonly<Record<string, unknown>> } | undefined {
  const kind = webhookKinds[settings.provider];
  return kind === undefined || settings.webhook === undefined ? undefined : { kind, settings: settings.webhook };
}

export function parseBackends(raw: string | undefined, outboxDir: string): Record<string, BackendSettings> {
  if (raw === undefined) return { default: outbox.parse({}, { outboxDir }) };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // The value carries API keys: name the rule, never echo the text.
    throw new ConfigError(`${VARIABLE} must be a JSON object of alias → provider settings (it is not valid JSON)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new ConfigError(`${VARIABLE} must be a non-empty JSON object of alias → provider settings`);
  }
  const backends: Record<string, BackendSettings> = {};
  for (const [alias, settings] of Object.entries(value)) {
    if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(alias)) {
      throw new ConfigError(`${VARIABLE}: alias "${alias}" must be 1-64 letters, digits, "_", "." or "-"`);
    }
    if (!isObject(settings)) {
      throw new ConfigError(`${VARIABLE}.${alias} must be an object with a "provider" field`);
    }
    const name = settings.provider;
    if (!isProviderName(name)) {
      throw new ConfigError(`${VARIABLE}.${alias}.provider must be one of ${Object.keys(kinds).join(', ')} (got ${JSON.stringify(name)})`);
    }
    // The settings every kind takes are read here; the kind sees only its own.
    const {
      rate_limit: rawRateLimit, max_message_bytes: rawMaxBytes, batch: rawBatch, webhook: rawWebhook, fallback: rawFallback, ...providerSettings
    } = settings;
    let parsed: ProviderSettings;
    try {
      parsed = kindOf(name).parse(providerSettings, { outboxDir });
    } catch (err) {
      throw new ConfigError(`${VARIABLE}.${alias}: ${(err as Error).message}`);
    }
    const setting = (field: string) => `${VARIABLE}.${alias}.${field}`;
    backends[alias] = {
      ...parsed,
      ...(rawRateLimit !== undefined && { rate_limit: parseRateLimit(rawRateLimit, setting('rate_limit')) }),
      ...(rawMaxBytes !== undefined && { max_message_bytes: parseMaxMessageBytes(rawMaxBytes, setting('max_message_bytes')) }),
      ...(rawBatch !== undefined && { batch: parseBatch(rawBatch, setting('batch'), name) }),
      ...(rawWebhook !== undefined && { webhook: parseWebhook(rawWebhook, setting('webhook'), name) }),
      ...(rawFallback !== undefined && { fallback: parseFallback(rawFallback, setting('fallback')) }),
    };
  }
  checkFallbacks(backends, VARIABLE);
  return backends;
}
