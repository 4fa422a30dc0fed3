// The worker thread's one undici Agent, built here so tests can build exactly the same one.
import { Agent } from 'undici';
import { createCachedLookup, type Resolve } from './dns-cache.ts';

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
