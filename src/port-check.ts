// Both listeners' ports are tried before anything else starts: a port already in use must stop
// start-up with one line naming its variable, not after the embedded database and the worker
// threads are up (and then leave them to be torn down).
import net from 'node:net';
import { ConfigError } from './errors.ts';

interface Listener {
  variable: string;
  host: string;
  port: number;
}

function probe({ variable, host, port }: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'EADDRINUSE' ? 'is already in use'
        : err.code === 'EACCES' ? 'needs privileges this process does not have'
          : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : `cannot be bound (${err.code ?? err.message})`;
      reject(new ConfigError(`${variable}: ${host}:${port} ${reason}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Port 0 (any free port) always binds, so it is not tried. */
export async function assertPortsFree(listeners: Listener[]): Promise<void> {
  for (const listener of listeners) {
    if (listener.port !== 0) await probe(listener);
  }
}
