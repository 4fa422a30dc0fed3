// Small readers for provider settings; each failure names the field so the start-up error
// can say "POST_OFFICE_BACKENDS.default.server_token must be a non-empty string".

export class SettingsError extends Error {}

export function requiredString(raw: Record<string, unknown>, field: string): string {
  const value = raw[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SettingsError(`${field} must be a non-empty string`);
  }
  return value;
}

export function optionalString(raw: Record<string, unknown>, field: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SettingsError(`${field} must be a non-empty string when given`);
  }
  return value;
}

/** base_url: an http(s) URL without a trailing slash. */
export function baseUrl(raw: Record<string, unknown>, fallback: string): string {
  const value = optionalString(raw, 'base_url') ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError('base_url must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError('base_url must be an http or https URL');
  }
  return value.replace(/\/+$/, '');
}

/** Rejects fields the provider does not know, so a typo is not silently ignored. */
export function onlyFields(raw: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (key !== 'provider' && !allowed.includes(key)) {
      throw new SettingsError(`unknown setting "${key}" (known: ${allowed.join(', ')})`);
    }
  }
}

export function optionalBoolean(raw: Record<string, unknown>, field: string): boolean | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new SettingsError(`${field} must be true or false when given`);
  return value;
}

export function optionalInteger(raw: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`${field} must be an integer from ${min} to ${max} when given`);
  }
  return value;
}

/** A region name that picks a default base_url. */
export function region(raw: Record<string, unknown>, urls: Readonly<Record<string, string>>, fallback: string): string {
  const value = optionalString(raw, 'region') ?? fallback;
  const url = urls[value];
  if (url === undefined) {
    throw new SettingsError(`region must be one of ${Object.keys(urls).map((name) => `"${name}"`).join(', ')} (got "${value}")`);
  }
  return url;
}
