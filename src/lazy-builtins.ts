// Fastify (lib/server.js) and prom-client (lib/pushgateway.js) require node:https and node:http2
// when they load, for features this sidecar never uses: TLS and HTTP/2 servers, a Pushgateway.
// Loading them costs 1–3 MiB of RSS (OpenSSL's TLS state, nghttp2; README § Sizing). These hooks
// give every importer a stand-in that loads the real module the first time anything of it is
// used, so a configuration that does use one works exactly as before.
//
// main.ts imports this module first, so the hooks are in place before Fastify loads. Worker
// threads do not inherit them: their undici needs TLS anyway.
import { registerHooks } from 'node:module';

const LAZY = new Map([
  ['https', 'node:https'], ['node:https', 'node:https'],
  ['http2', 'node:http2'], ['node:http2', 'node:http2'],
]);
const SCHEME = 'post-office-lazy-builtin:';

/** CommonJS source of a module whose every property is read from `builtin`, loaded on first use. */
function standIn(builtin: string): string {
  return `let real;
const load = () => (real ??= process.getBuiltinModule(${JSON.stringify(builtin)}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
    return descriptor && { ...descriptor, configurable: true };
  },
});`;
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const builtin = LAZY.get(specifier);
    return builtin === undefined ? nextResolve(specifier, context) : { url: SCHEME + builtin, format: 'commonjs', shortCircuit: true };
  },
  load(url, context, nextLoad) {
    return url.startsWith(SCHEME) ? { format: 'commonjs', source: standIn(url.slice(SCHEME.length)), shortCircuit: true } : nextLoad(url, context);
  },
});
