// Closing a pool before stopping the database it talks to. pg-pool's end() resolves once it has
// asked every connection to close, not once they have: a database stopped right after cuts those
// still closing, and each reports "terminating connection due to administrator command" as an
// error, after the work was done. So a pool's connections are followed from the start, and the
// database is stopped only once the last one is gone.
import type pg from 'pg';

export interface OpenConnections {
  /** Resolves once no connection the pool opened is open, or `timeoutMs` later. */
  closed(timeoutMs?: number): Promise<void>;
}

/** Call before the pool's first connection. */
export function followConnections(pool: pg.Pool): OpenConnections {
  const open = new Set<pg.PoolClient>();
  const waiting = new Set<() => void>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => {
      open.delete(client);
      if (open.size > 0) return;
      for (const wake of waiting) wake();
    });
  });
  return {
    closed: (timeoutMs = 5000) => new Promise<void>((resolve) => {
      if (open.size === 0) return resolve();
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      waiting.add(wake);
    }),
  };
}
