// The worker thread's one undici Agent, built here so tests can build exactly the same one.
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent } from 'undici';
import { createCachedLookup, type Resolve } from './dns-cache.ts';

// The Agent alone, not undici's index: the index also loads fetch, WebSocket, the mock and cache
// layers and the proxy agents — about 8 MiB in every worker thread that the Agent never uses.
// Sends go through the Agent's own dispatch (../providers/http.ts).
const Agent = createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
type Agent = UndiciAgent;

export interface WorkerAgentOptions {
  /** Connections per provider origin (POST_OFFICE_HTTP_CONNECTIONS). */
  connections: number;
  /** Idle keep-alive connections close after this long (POST_OFFICE_HTTP_IDLE_SECONDS). */
  idleMs: number;
  /** The resolver under the DNS cache; tests pass a counting one. */
  resolve?: Resolve;
}

export function createWorkerAgent(options: WorkerAgentOptions): Agent {
  return new Agent({
    connections: options.connections,
    pipelining: 1,
    // keepAliveTimeout applies when the server sends no hint; keepAliveMaxTimeout caps a hint
    // (Node's servers say `Keep-Alive: timeout=5`, some providers far more), so the idle limit
    // holds either way. undici also closes a little before the server's own hint expires.
    keepAliveTimeout: options.idleMs,
    keepAliveMaxTimeout: options.idleMs,
    connect: { lookup: createCachedLookup({ resolve: options.resolve }) },
  });
}
