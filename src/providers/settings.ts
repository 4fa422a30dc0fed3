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
    throw new SettingsError(`base_url must be an http or https URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(`base_url must be an http or https URL (got "${value}")`);
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
