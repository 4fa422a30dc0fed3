// A per-worker cache in front of getaddrinfo, handed to the Agent as its socket `lookup`.
//
// The seed's outage began with hundreds of simultaneous getaddrinfo calls: libuv runs them on
// a thread pool of four, so a burst of new connections queued every other file and DNS task
// behind them. Here a burst of connections to one host shares one lookup in flight, and its
// answer is reused for a while.
//
// Why not undici's DNS interceptor: it rewrites each request's origin to one resolved IP, so the
// Agent keeps a pool per IP — `connections` per address instead of per provider origin, breaking
// invariant 1 for any provider with several A records — and its `connect` events name the IP,
// not the provider's origin the connection metrics are labelled by. A lookup below the Agent
// keeps the pool per origin and changes nothing but how addresses are found.
import dns, { type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';

/** The resolver under the cache: dns.lookup with `all: true`, replaceable in tests. */
export type Resolve = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface DnsCacheOptions {
  /**
   * How long an answer is reused. getaddrinfo reports no TTL; this is undici's interceptor
   * default, short enough that a provider's DNS fail-over reaches new connections quickly.
   */
  ttlMs?: number;
  resolve?: Resolve;
}

export const DNS_CACHE_TTL_MS = 10_000;

type Waiter = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

function family(options: LookupOptions | number | undefined): number {
  const value = typeof options === 'number' ? options : options?.family;
  if (value === 'IPv4') return 4;
  if (value === 'IPv6') return 6;
  return value ?? 0;
}

/**
 * A `lookup` for net/tls.connect. Answers are cached per host name, family and hints; failures
 * are shared with the lookups waiting on the same call but never cached, so a resolver that
 * recovers is asked again at the next connection.
 */
export function createCachedLookup(options: DnsCacheOptions = {}): LookupFunction {
  const ttlMs = options.ttlMs ?? DNS_CACHE_TTL_MS;
  const resolve: Resolve = options.resolve ?? ((hostname, lookupOptions, callback) => dns.lookup(hostname, lookupOptions, callback));
  // Keys are the host names of configured backends: a fixed, small set, so no eviction is needed.
  const answers = new Map<string, { addresses: LookupAddress[]; expires: number }>();
  const inFlight = new Map<string, Waiter[]>();

  return (hostname, lookupOptions, callback) => {
    const opts = (typeof lookupOptions === 'object' && lookupOptions !== null ? lookupOptions : {}) as LookupOptions;
    const wanted = family(lookupOptions as LookupOptions | number | undefined);
    const key = `${wanted}/${opts.hints ?? 0}/${hostname}`;
    const answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void => {
      if (err !== null) return callback(err, '', 0);
      if (opts.all === true) return callback(null, addresses.map((address) => ({ ...address })));
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    };

    const cached = answers.get(key);
    if (cached !== undefined && cached.expires > Date.now()) {
      // dns.lookup never calls back synchronously; net relies on that to attach its listeners.
      process.nextTick(answer, null, cached.addresses);
      return;
    }
    const waiting = inFlight.get(key);
    if (waiting !== undefined) {
      waiting.push(answer);
      return;
    }
    inFlight.set(key, [answer]);
    resolve(hostname, { family: wanted as 0 | 4 | 6, hints: opts.hints, all: true }, (err, addresses) => {
      const waiters = inFlight.get(key) ?? [];
      inFlight.delete(key);
      let failure = err;
      if (failure === null && addresses.length === 0) {
        failure = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      }
      if (failure === null) answers.set(key, { addresses, expires: Date.now() + ttlMs });
      else answers.delete(key);
      for (const waiter of waiters) waiter(failure, addresses);
    });
  };
}
