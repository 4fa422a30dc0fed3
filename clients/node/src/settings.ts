// Where the client's settings come from: the constructor's options, else the environment
// (POST_OFFICE_URL, POST_OFFICE_API_TOKEN, POST_OFFICE_TIMEOUT), else the defaults. An empty
// variable means the same as an unset one, as it does for the sidecar.

export const DEFAULT_URL = 'http://127.0.0.1:8587';
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const DEFAULT_MAX_RETRIES = 3;

export interface ClientOptions {
  /** The sidecar's API; default `POST_OFFICE_URL`, else `http://127.0.0.1:8587`. */
  url?: string;
  /** Sent as `Authorization: Bearer <token>`; default `POST_OFFICE_API_TOKEN`. */
  apiToken?: string;
  /** How long one attempt may take, answer included; default `POST_OFFICE_TIMEOUT`, else 10. */
  timeoutSeconds?: number;
  /** Retries after a 503 or a failed connection (0: none); default 3. */
  maxRetries?: number;
  /** Where the defaults are read from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface Settings {
  url: string;
  apiToken: string | undefined;
  timeoutSeconds: number;
  maxRetries: number;
}

function fromEnv(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: must be an http:// or https:// URL, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name}: must be an http:// or https:// URL, got '${value}'`);
  return value.replace(/\/+$/, '');
}

export function resolveSettings(options: ClientOptions = {}): Settings {
  const env = options.env ?? process.env;
  const url = options.url === undefined
    ? parseUrl(fromEnv(env, 'POST_OFFICE_URL') ?? DEFAULT_URL, 'POST_OFFICE_URL')
    : parseUrl(options.url, 'url');

  const rawTimeout = options.timeoutSeconds ?? fromEnv(env, 'POST_OFFICE_TIMEOUT');
  const timeoutName = options.timeoutSeconds === undefined ? 'POST_OFFICE_TIMEOUT' : 'timeoutSeconds';
  const timeoutSeconds = rawTimeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(rawTimeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`${timeoutName}: must be a positive number of seconds, got '${rawTimeout}'`);
  }

  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new Error(`maxRetries: must be an integer of 0 or more, got ${maxRetries}`);

  const apiToken = options.apiToken === undefined || options.apiToken === '' ? fromEnv(env, 'POST_OFFICE_API_TOKEN') : options.apiToken;
  return { url, apiToken, timeoutSeconds, maxRetries };
}
